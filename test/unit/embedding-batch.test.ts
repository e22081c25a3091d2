// Remote embedding in batches, against a loopback TEI whose router refuses more inputs per request than its
// --max-client-batch-size (default 32), and an OPEA embedding service that hands its whole list to that TEI.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createEndpoint, Endpoint, ServiceError } from '../../core/clients/endpoint';
import { embedRemote } from '../../core/clients/embedding';
import { IndexDirectory } from '../../core/embedded/index-directory';
import { runDataprep } from '../../core/stages/dataprep';
import { runEmbedding } from '../../core/stages/embedding';
import { makeEmbeddings } from '../../flowise/nodes/OpeaEmbeddings';
import { readSettings } from '../../nodes/shared/service-node';
import { closeServer, listenLoopback } from '../support/loopback';
import { fakeEmbedding } from '../support/protocol-server';

const DIMS = 8;

interface TeiOptions {
  /** --max-client-batch-size (text-embeddings-inference v1.5.0 router/src/main.rs:72-74, default 32). */
  maxClientBatchSize?: number;
  /** Validation errors: 413 up to TEI 1.8 (v1.5.0 router/src/http/server.rs:1796), 422 from 1.9 (v1.9.0 l.1898). */
  validationStatus?: 413 | 422;
  /** Request numbers (1-based) answered 503, as an overloaded or restarting server would. */
  failOn?: number[];
}

/**
 * POST /embed as TEI's router takes it (v1.5.0 router/src/http/server.rs:564-690: a batch is refused when empty
 * (l.612-622) or longer than max_client_batch_size (l.625-639)), and POST /v1/embeddings as GenAIComps v1.5's
 * OPEA embedding service: the whole `input` list in one TEI call (comps/embeddings/src/integrations/tei.py:62-72),
 * an error of TEI re-raised (opea_embedding_microservice.py:63-65), which FastAPI answers as HTTP 500.
 */
class FakeTei {
  /** Inputs per request, in order, per path. */
  readonly batches: { path: string; size: number }[] = [];
  private server!: http.Server;
  url = '';

  constructor(private readonly options: TeiOptions = {}) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.answer(req.url ?? '/', JSON.parse(Buffer.concat(chunks).toString('utf8')), res));
    });
    this.url = await listenLoopback(this.server);
    return this;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  /** TEI's answer to a list of inputs: the vectors, or its validation error. */
  private tei(inputs: string[]): { status: number; body: unknown } {
    const max = this.options.maxClientBatchSize ?? 32;
    const status = this.options.validationStatus ?? 413;
    if (inputs.length === 0) return { status, body: { error: '`inputs` cannot be empty', error_type: 'Validation' } };
    if (inputs.length > max) return { status, body: { error: `batch size ${inputs.length} > maximum allowed batch size ${max}`, error_type: 'Validation' } };
    return { status: 200, body: inputs.map((t) => fakeEmbedding(t, DIMS)) };
  }

  private answer(url: string, body: { inputs?: string | string[]; input?: string | string[] }, res: http.ServerResponse): void {
    const path = new URL(url, this.url).pathname;
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': typeof value === 'string' ? 'text/plain' : 'application/json' }).end(typeof value === 'string' ? value : JSON.stringify(value));
    };
    const list = (v: string | string[] | undefined) => (Array.isArray(v) ? v : [v ?? '']);
    const inputs = list(path === '/embed' ? body.inputs : body.input);
    this.batches.push({ path, size: inputs.length });
    if (this.options.failOn?.includes(this.batches.length)) return send(503, { error: 'Model is overloaded', error_type: 'overloaded' });
    const tei = this.tei(inputs);
    if (path === '/embed') return send(tei.status, tei.body);
    if (tei.status !== 200) return send(500, 'Internal Server Error');
    send(200, { object: 'list', model: 'BAAI/bge-base-en-v1.5', data: (tei.body as number[][]).map((embedding, index) => ({ object: 'embedding', index, embedding })), usage: { prompt_tokens: 1, total_tokens: 1 } });
  }
}

const endpointAt = (url: string): Endpoint => createEndpoint({ baseUrl: url, timeoutMs: 5000, retries: 0, backoffMs: 10, headers: {}, verifyTls: true });
const texts = (n: number) => Array.from({ length: n }, (_, i) => `document number ${i} about topic ${i % 7}`);

describe('remote embedding in batches', () => {
  let tei: FakeTei;
  afterEach(() => tei?.close());

  it('TEI: 70 texts go in requests of 32, 32 and 6, and the vectors come back in the texts\' order', async () => {
    tei = await new FakeTei().start();
    const input = texts(70);
    const vectors = await embedRemote(endpointAt(tei.url), 'tei', undefined, input);
    assert.deepEqual(tei.batches.map((b) => b.size), [32, 32, 6]);
    assert.deepEqual(vectors, input.map((t) => fakeEmbedding(t, DIMS)));
  });

  it('the OPEA embedding service, which passes its whole list to TEI: 40 texts in requests of 32 and 8', async () => {
    tei = await new FakeTei().start();
    const input = texts(40);
    const doc = await runEmbedding({ backend: 'opea', dimensions: 0 }, endpointAt(tei.url), input);
    assert.deepEqual(tei.batches, [{ path: '/v1/embeddings', size: 32 }, { path: '/v1/embeddings', size: 8 }]);
    assert.ok(Array.isArray(doc));
    assert.deepEqual(doc.map((d) => d.text), input);
    assert.deepEqual(doc.map((d) => d.embedding), input.map((t) => fakeEmbedding(t, DIMS)));
  });

  it('a server limited below the batch size: the batch size setting fits the requests to it', async () => {
    tei = await new FakeTei({ maxClientBatchSize: 5, validationStatus: 422 }).start();
    const input = texts(12);
    const vectors = await embedRemote(endpointAt(tei.url), 'tei', undefined, input, undefined, 5);
    assert.deepEqual(tei.batches.map((b) => b.size), [5, 5, 2]);
    assert.deepEqual(vectors, input.map((t) => fakeEmbedding(t, DIMS)));
    const one = await embedRemote(endpointAt(tei.url), 'tei', undefined, input.slice(0, 3), undefined, 1);
    assert.deepEqual(tei.batches.slice(3).map((b) => b.size), [1, 1, 1]);
    assert.deepEqual(one, vectors.slice(0, 3));
  });

  it('a refusal for too many inputs says to lower the batch size', async () => {
    tei = await new FakeTei({ maxClientBatchSize: 16 }).start();
    await assert.rejects(embedRemote(endpointAt(tei.url), 'tei', undefined, texts(20)), (err: unknown) => {
      assert.ok(err instanceof ServiceError);
      assert.equal(err.status, 413);
      assert.match(err.reason, /batch size 20 > maximum allowed batch size 16/);
      assert.match(err.hint, /--max-client-batch-size\), lower the batch size \(now 32\)/);
      return true;
    });
  });

  it('a failed batch names itself, and a memory dataprep embedding through TEI writes nothing', async () => {
    tei = await new FakeTei({ failOn: [2] }).start();
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-embed-batch-'));
    try {
      const indexes = new IndexDirectory(folder);
      const config = { backend: 'memory', chunkSize: 50, chunkOverlap: 0, indexName: 'docs', embedder: { backend: 'tei', dimensions: 0, batchSize: 4 } };
      const files = texts(10).map((t, i) => ({ name: `f${i}.txt`, content: t }));
      await assert.rejects(runDataprep(config, { indexes, embedderEndpoint: endpointAt(tei.url) }, { files, links: [], embedded: [] }), (err: unknown) => {
        assert.ok(err instanceof ServiceError);
        assert.match(err.reason, /^HTTP 503: .*Model is overloaded.* \(batch 2 of 3: texts 5-8 of 10\); nothing was written to index 'docs'$/);
        return true;
      });
      assert.deepEqual(tei.batches.map((b) => b.size), [4, 4]);
      assert.equal(indexes.find('docs'), undefined);
      assert.deepEqual(fs.readdirSync(folder), []);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('the memory dataprep embeds in batches of its embedBatchSize and stores every chunk', async () => {
    tei = await new FakeTei({ maxClientBatchSize: 3 }).start();
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-embed-batch-'));
    try {
      const indexes = new IndexDirectory(folder);
      const config = { backend: 'memory', chunkSize: 50, chunkOverlap: 0, indexName: 'docs', embedder: { backend: 'tei', dimensions: 0, batchSize: 3 } };
      const files = texts(7).map((t, i) => ({ name: `f${i}.txt`, content: t }));
      const report = await runDataprep(config, { indexes, embedderEndpoint: endpointAt(tei.url) }, { files, links: [], embedded: [] });
      assert.ok('chunks' in report);
      assert.equal(report.chunks, 7);
      assert.deepEqual(tei.batches.map((b) => b.size), [3, 3, 1]);
      assert.deepEqual(report.results.map((r) => [r.file, r.chunks]), files.map((f) => [f.name, 1]));
      assert.equal(indexes.find('docs')?.size, 7);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it('Flowise\'s OPEA Embeddings batches a vector store\'s documents with the default size', async () => {
    tei = await new FakeTei().start();
    const input = texts(33);
    const vectors = await makeEmbeddings({ backend: 'tei', dimensions: 0 }, endpointAt(tei.url), 'OPEA Embeddings').embedDocuments(input);
    assert.deepEqual(tei.batches.map((b) => b.size), [32, 1]);
    assert.deepEqual(vectors, input.map((t) => fakeEmbedding(t, DIMS)));
  });

  it('the node settings: batchSize on opea-embedding and embedBatchSize on opea-dataprep default to 32, at least 1', () => {
    assert.equal(readSettings('opea-embedding', { id: 'e', type: 'opea-embedding', backend: 'tei' }).settings.params.batchSize, 32);
    assert.equal(readSettings('opea-dataprep', { id: 'd', type: 'opea-dataprep', backend: 'memory' }).settings.params.embedBatchSize, 32);
    assert.deepEqual(readSettings('opea-embedding', { id: 'e', type: 'opea-embedding', backend: 'tei', batchSize: 0 }).problems, ['batchSize must be at least 1']);
    assert.deepEqual(readSettings('opea-dataprep', { id: 'd', type: 'opea-dataprep', backend: 'memory', embedBatchSize: '2.5' }).problems, ['embedBatchSize must be a whole number']);
  });
});
