// opea-dataprep (redis) against a loopback dataprep service that keeps what GenAIComps' redis dataprep keeps:
// one file per request (the last `files` part), links only when no file came, and a document's name refused
// when its index holds it already. Cited per release below.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEndpoint, Endpoint } from '../../core/clients/endpoint';
import { ingestRemote } from '../../core/clients/dataprep';
import { ingestInput, runDataprep } from '../../core/stages/dataprep';
import { parseMultipart } from '../support/protocol-server';

type Release = '1.5' | '1.1';

interface Stored {
  index: string;
  name: string;
  content: string;
}

/**
 * The redis dataprep of GenAIComps v1.5 (comps/dataprep/src/opea_dataprep_microservice.py, integrations/redis.py)
 * or v1.1 (comps/dataprep/redis/langchain/prepare_doc_redis.py).
 */
class DataprepService {
  readonly stored: Stored[] = [];
  /** Paths and file names of every request, in order. */
  readonly seen: { path: string; files: string[]; links?: string }[] = [];
  /** Requests whose number (1-based) is here get their connection closed without an answer. */
  readonly hangUpOn = new Set<number>();
  private server!: http.Server;
  url = '';

  constructor(private readonly release: Release) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.answer(req, Buffer.concat(chunks), res));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private answer(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const send = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
    const path = new URL(req.url ?? '/', this.url).pathname;
    const ingestPath = this.release === '1.5' ? '/v1/dataprep/ingest' : '/v1/dataprep'; // v1.5 l.100, v1.1 l.218
    const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/.exec(String(req.headers['content-type']));
    const form = boundary ? parseMultipart(body, boundary[1] ?? boundary[2]) : { fields: {}, files: [] };
    this.seen.push({ path, files: form.files.map((f) => f.filename), links: form.fields.link_list?.[0] });
    if (this.hangUpOn.has(this.seen.length)) {
      req.socket.destroy();
      return;
    }
    if (req.method !== 'POST' || path !== ingestPath) return send(404, { detail: 'Not Found' }); // FastAPI, no handler
    // v1.5 l.57-58: Starlette's form.get keeps the last value of a repeated field. v1.1 reads every file (l.239).
    const files = this.release === '1.5' ? form.files.slice(-1) : form.files;
    const linkList = form.fields.link_list?.slice(-1)[0];
    // v1.5 l.65-69 and redis.py:423: index_name, else INDEX_NAME; v1.1 takes none (l.150, l.241).
    const index = this.release === '1.5' ? (form.fields.index_name?.slice(-1)[0] ?? 'rag-redis') : 'rag-redis';
    const exists = (name: string) => this.stored.some((s) => s.index === index && s.name === name);
    if (files.length > 0) {
      // v1.5 redis.py:416-464, v1.1 l.234-297: each file refused when its name is taken, then the answer; links never read.
      for (const file of files) {
        if (exists(file.filename)) {
          const detail = this.release === '1.5' ? `Uploaded file ${file.filename} already exists. Please change file name or index name.` : `Uploaded file ${file.filename} already exists. Please change file name.`;
          return send(400, { detail });
        }
        this.stored.push({ index, name: file.filename, content: file.content });
      }
      return send(200, { status: 200, message: 'Data preparation succeeded' });
    }
    if (linkList) {
      // v1.5 redis.py:466-508: links in order, each refused when ingested before (the earlier ones stay).
      for (const link of JSON.parse(linkList) as string[]) {
        if (exists(`${link}.txt`)) return send(400, { detail: `Uploaded link ${link} already exists. Please change another link or index_name.` });
        this.stored.push({ index, name: `${link}.txt`, content: `(page at ${link})` });
      }
      return send(200, { status: 200, message: 'Data preparation succeeded' });
    }
    return send(400, { detail: 'Must provide either a file or a string list.' }); // v1.5 redis.py:510
  }
}

const endpointAt = (url: string): Endpoint => createEndpoint({ baseUrl: url, timeoutMs: 5000, retries: 0, backoffMs: 10, headers: {}, verifyTls: true });

const config = { backend: 'redis', chunkSize: 1500, chunkOverlap: 100, indexName: 'rag-redis', embedder: { backend: 'hashing', dimensions: 8 } };

for (const release of ['1.5', '1.1'] as Release[]) {
  describe(`dataprep (redis) against GenAIComps ${release}'s ingest`, () => {
    let service: DataprepService;
    let endpoint: Endpoint;

    beforeEach(async () => {
      service = await new DataprepService(release).start();
      endpoint = endpointAt(service.url);
    });
    afterEach(() => service.close());

    const ingest = (payload: unknown) => runDataprep(config, { endpoint }, ingestInput(payload));

    it('two ingests of different anonymous texts into one index both go in, under names from their content', async () => {
      const first = await ingest('Nike revenue in FY2023 was $51.2B.');
      const second = await ingest('OPEA is a set of composable GenAI microservices.');
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.deepEqual(service.stored.map((s) => s.content), ['Nike revenue in FY2023 was $51.2B.', 'OPEA is a set of composable GenAI microservices.']);
      const names = service.stored.map((s) => s.name);
      assert.notEqual(names[0], names[1]);
      for (const name of names) assert.match(name, /^text-[0-9a-f]{12}\.txt$/);
      // The same text is named the same in another run, so the service can tell it was ingested.
      assert.equal(ingestInput('Nike revenue in FY2023 was $51.2B.').files[0].name, names[0]);
    });

    it('every file of one message and its links are ingested, each file in a request of its own and the links in one more', async () => {
      const report = await ingest({ files: ['first text', { name: 'b.md', text: '# B' }, 'third text'], link_list: ['https://example.com/a'] });
      assert.equal(report.status, 200);
      assert.equal(report.message, 'Data preparation succeeded');
      assert.deepEqual(
        service.stored.map((s) => s.content),
        ['first text', '# B', 'third text', '(page at https://example.com/a)'],
      );
      const answered = service.seen.filter((s) => s.path !== '/v1/dataprep/ingest' || release === '1.5');
      assert.deepEqual(answered.map((s) => [s.files.length, s.links ?? null]), [[1, null], [1, null], [1, null], [0, '["https://example.com/a"]']]);
      assert.ok('results' in report);
      assert.deepEqual(
        report.results.map((r) => [r.file ?? r.links, r.outcome, r.status]),
        [
          [service.stored[0].name, 'ingested', 200],
          ['b.md', 'ingested', 200],
          [service.stored[2].name, 'ingested', 200],
          [['https://example.com/a'], 'ingested', 200],
        ],
      );
    });

    it('re-ingesting a text is reported as the service refuses it, per file, and the new file beside it still goes in', async () => {
      await ingest('already there');
      const report = await ingest(['already there', 'something new']);
      assert.ok('results' in report);
      assert.equal(report.status, 400);
      assert.doesNotMatch(report.message, /succeeded/);
      const [again, fresh] = report.results;
      assert.equal(again.outcome, 'refused');
      assert.equal(again.status, 400);
      assert.equal(again.message, `Uploaded file ${again.file} already exists. Please change file name${release === '1.5' ? ' or index name' : ''}.`);
      assert.deepEqual([fresh.outcome, fresh.status, fresh.message], ['ingested', 200, 'Data preparation succeeded']);
      assert.equal(report.ingested, 1);
      assert.match(report.message, /^1 of 2 ingested \(text-[0-9a-f]{12}\.txt\); refused text-[0-9a-f]{12}\.txt \(HTTP 400\): Uploaded file text-[0-9a-f]{12}\.txt already exists/);
      assert.deepEqual(service.stored.map((s) => s.content), ['already there', 'something new']);
    });

    it('a request that gets no answer stops the rest, and the report says which went in and which were not sent', async () => {
      const offset = release === '1.1' ? 1 : 0; // 1.1: the client's first request asks the 1.2+ path (404)
      service.hangUpOn.add(2 + offset);
      const report = await ingestRemote(endpoint, { files: [{ name: 'a.txt', content: 'A' }, { name: 'b.txt', content: 'B' }, { name: 'c.txt', content: 'C' }], links: ['https://example.com/x'], chunkSize: 100, chunkOverlap: 0 });
      assert.deepEqual(
        report.results.map((r) => [r.file ?? r.links, r.outcome]),
        [
          ['a.txt', 'ingested'],
          ['b.txt', 'failed'],
          ['c.txt', 'not sent'],
          [['https://example.com/x'], 'not sent'],
        ],
      );
      assert.equal(report.status, 0);
      assert.equal(report.requests, 2);
      assert.match(report.message, /^1 of 4 ingested \(a\.txt\); failed b\.txt: request failed/);
      assert.match(report.message, /not sent: c\.txt, link https:\/\/example\.com\/x$/);
      assert.deepEqual(service.stored.map((s) => s.name), ['a.txt']);
    });
  });
}
