import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fakeEmbedding, ProtocolServer } from '../support/protocol-server';
import { helper, nextError, nextMessage, onEachRuntime, packNodes, TestNode } from '../support/runtimes';

const TAB = 'tab1';
const nodes = packNodes();

function server(id: string, url: string, extra: Record<string, unknown> = {}) {
  return { id, type: 'opea-server', name: 'loopback', baseUrl: url, timeout: 2, retries: 0, backoff: 10, headers: '', verifyTls: true, ...extra };
}

function stage(id: string, type: string, props: Record<string, unknown>, wires: string[][]) {
  return { id, type, z: TAB, name: '', configVersion: 1, wires, ...props };
}

const CORPUS = [
  '# Node-RED\nNode-RED is a flow-based programming tool for wiring devices and services. It runs on Node.js.',
  '# Paris\nParis is the capital of France. The Eiffel Tower stands in Paris.',
  '# Redis\nRedis is an in-memory data store. Redis Stack adds vector search.',
];

onEachRuntime('RAG nodes', (userDir) => {
  let srv: ProtocolServer;
  beforeEach(async () => {
    srv = await ProtocolServer.start({ embeddingDimensions: 8 });
  });
  afterEach(async () => {
    await srv.close();
  });

  it('ingest then answer offline: dataprep (memory) -> store <- embedding (hashing) -> retriever -> rerank (bm25) -> llm (extractive)', async () => {
    const flow = [
      { id: TAB, type: 'tab', label: 'offline' },
      { id: 'vs', type: 'opea-vectorstore', name: 'local', folder: 'offline-test' },
      stage('prep', 'opea-dataprep', { backend: 'memory', store: 'vs', chunkSize: 200, chunkOverlap: 20, indexName: 'docs', embedBackend: 'hashing', dimensions: 256 }, [['ingested']]),
      { id: 'ingested', type: 'helper', z: TAB },
      stage('emb', 'opea-embedding', { backend: 'hashing', dimensions: 256 }, [['ret']]),
      stage('ret', 'opea-retriever', { backend: 'memory', store: 'vs', indexName: 'docs', searchK: 2, searchType: 'similarity' }, [['rr']]),
      stage('rr', 'opea-rerank', { backend: 'bm25', topN: 1 }, [['llm']]),
      stage('llm', 'opea-llm', { backend: 'extractive', maxTokens: 50, streaming: false }, [['answer'], []]),
      { id: 'answer', type: 'helper', z: TAB },
    ];
    await helper.load(nodes, flow);
    const ingested = nextMessage(helper.getNode('ingested'));
    helper.getNode('prep').receive({ payload: CORPUS.map((text, i) => ({ name: `doc${i}.md`, text })) });
    const report = (await ingested).payload;
    assert.equal(report.status, 200);
    assert.equal(report.chunks, 3);
    assert.equal(report.index, 'docs');
    assert.ok(fs.existsSync(path.join(userDir(), 'opea-vectorstore', 'offline-test', 'docs.vstore')));

    const answered = nextMessage(helper.getNode('answer'));
    helper.getNode('emb').receive({ payload: 'What is the capital of France?' });
    const msg = await answered;
    assert.match(msg.payload.text, /Paris is the capital of France\./);
    assert.doesNotMatch(msg.payload.text, /Redis|Node-RED/);
    assert.equal(typeof msg.metrics.embedding.ms, 'number');
    assert.equal(msg.metrics.retriever.documents, 2);
    assert.equal(msg.metrics.llm.tokensFrom, 'chunks');
    const status = (helper.getNode('llm').status as unknown as { lastCall: { args: [{ text: string }] } }).lastCall.args[0];
    assert.match(status.text, /extractive/);
  });

  it('the store survives a redeploy: a new flow finds what an earlier one ingested', async () => {
    const store = { id: 'vs', type: 'opea-vectorstore', folder: 'persist-test' };
    await helper.load(nodes, [{ id: TAB, type: 'tab' }, store, stage('prep', 'opea-dataprep', { backend: 'memory', store: 'vs', embedBackend: 'hashing', dimensions: 64 }, [['out']]), { id: 'out', type: 'helper', z: TAB }]);
    const done = nextMessage(helper.getNode('out'));
    helper.getNode('prep').receive({ payload: 'Kubernetes schedules containers onto nodes.' });
    await done;
    await helper.unload();
    await helper.load(nodes, [{ id: TAB, type: 'tab' }, store, stage('ret', 'opea-retriever', { backend: 'memory', store: 'vs', k: 1 }, [['out']]), { id: 'out', type: 'helper', z: TAB }]);
    const found = nextMessage(helper.getNode('out'));
    const { hashingEmbed } = await import('../../core/embedded/hashing-embedder');
    helper.getNode('ret').receive({ payload: { text: 'containers', embedding: hashingEmbed('containers', 64) } });
    const msg = await found;
    assert.equal(msg.payload.retrieved_docs[0].text, 'Kubernetes schedules containers onto nodes.');
  });

  it('reads a retriever saved by config version 1 (k, which the editor could not save) as searchK', async () => {
    const store = { id: 'vs', type: 'opea-vectorstore', folder: 'migration-test' };
    const load = (retriever: Record<string, unknown>) =>
      helper.load(nodes, [
        { id: TAB, type: 'tab' },
        store,
        stage('prep', 'opea-dataprep', { backend: 'memory', store: 'vs', indexName: 'm', embedBackend: 'hashing', dimensions: 64 }, [['ingested']]),
        { id: 'ingested', type: 'helper', z: TAB },
        stage('ret', 'opea-retriever', { backend: 'memory', store: 'vs', indexName: 'm', scoreThreshold: 0, ...retriever }, [['out']]),
        { id: 'out', type: 'helper', z: TAB },
      ]);
    const { hashingEmbed } = await import('../../core/embedded/hashing-embedder');
    const search = async () => {
      const found = nextMessage(helper.getNode('out'));
      helper.getNode('ret').receive({ payload: { text: 'tea', embedding: hashingEmbed('tea', 64) } });
      return (await found).payload.retrieved_docs.length;
    };
    await load({ k: 1, configVersion: 1 });
    const ingested = nextMessage(helper.getNode('ingested'));
    helper.getNode('prep').receive({ payload: [{ name: 'a', text: 'Green tea.' }, { name: 'b', text: 'Black tea.' }, { name: 'c', text: 'Oolong tea.' }] });
    await ingested;
    assert.equal(await search(), 1);
    await helper.unload();
    await load({ searchK: 2, configVersion: 2 });
    assert.equal(await search(), 2);
  });

  it('runs the OPEA chain against real protocols: TEI embed, OPEA retrieval, TEI rerank, OPEA LLM streaming', async () => {
    const flow = [
      { id: TAB, type: 'tab' },
      server('s', srv.url),
      stage('emb', 'opea-embedding', { backend: 'tei', server: 's' }, [['ret']]),
      stage('ret', 'opea-retriever', { backend: 'redis', server: 's', searchK: 3 }, [['rr']]),
      stage('rr', 'opea-rerank', { backend: 'tei', server: 's', topN: 2 }, [['llm']]),
      stage('llm', 'opea-llm', { backend: 'opea', server: 's', streaming: true, maxTokens: 64 }, [['answer'], ['chunks']]),
      { id: 'answer', type: 'helper', z: TAB },
      { id: 'chunks', type: 'helper', z: TAB },
    ];
    await helper.load(nodes, flow);
    const parts: Record<string, any>[] = [];
    helper.getNode('chunks').on('input', (m: Record<string, any>) => parts.push(m));
    const answered = nextMessage(helper.getNode('answer'));
    helper.getNode('emb').receive({ payload: { text: 'What is Redis?' } });
    const msg = await answered;
    assert.equal(msg.payload.text, 'Hello, wörld 🌍!');
    assert.deepEqual(parts.map((p) => p.payload), ['Hello', ',', ' wörld', ' 🌍', '!', '']);
    assert.deepEqual(parts.map((p) => p.parts.index), [0, 1, 2, 3, 4, 5]);
    assert.equal(parts[5].parts.count, 6);
    assert.ok(parts.every((p) => p.parts.id === parts[0].parts.id));
    assert.ok(msg.metrics.llm.ttftMs > 0 && msg.metrics.llm.ttftMs <= msg.metrics.llm.totalMs);
    const paths = srv.requests.map((r) => r.path);
    assert.deepEqual(paths, ['/embed', '/v1/retrieval', '/rerank', '/v1/chat/completions']);
    const retrieval = srv.requests[1].body as Record<string, unknown>;
    assert.deepEqual(retrieval.embedding, fakeEmbedding('What is Redis?', 8));
    assert.equal(retrieval.k, 3);
    const llmBody = srv.requests[3].body as { query: string; documents: string[]; stream: boolean };
    assert.equal(llmBody.query, 'What is Redis?');
    assert.equal(llmBody.documents.length, 2);
    assert.equal(llmBody.stream, true);
  });

  for (const backend of ['vllm', 'openai', 'ollama', 'tgi'] as const) {
    it(`opea-llm ${backend}: streams, counts tokens from the server, and sends the key from credentials`, async () => {
      await srv.close();
      srv = await ProtocolServer.start({ apiKey: 'sk-test' });
      await helper.load(
        nodes,
        [{ id: TAB, type: 'tab' }, server('s', srv.url), stage('llm', 'opea-llm', { backend, server: 's', model: 'org/model', streaming: true, maxTokens: 3 }, [['answer'], []]), { id: 'answer', type: 'helper', z: TAB }],
        { s: { apiKey: 'sk-test' } },
      );
      const answered = nextMessage(helper.getNode('answer'));
      helper.getNode('llm').receive({ payload: { query: 'Say hello', documents: ['greetings'] } });
      const msg = await answered;
      assert.equal(msg.payload.text, 'Hello, wörld');
      assert.equal(msg.metrics.llm.completionTokens, 3);
      assert.equal(msg.metrics.llm.tokensFrom, backend === 'tgi' ? 'details' : 'usage');
      assert.equal(srv.requests[0].headers.authorization, 'Bearer sk-test');
      assert.match(msg.payload.prompt, /greetings[\s\S]*Say hello/);
    });
  }

  it('msg.model overrides the model; ${ENV} in the API key reads the environment', async () => {
    await srv.close();
    srv = await ProtocolServer.start({ apiKey: 'from-env' });
    process.env.OPEA_TEST_KEY = 'from-env';
    await helper.load(
      nodes,
      [{ id: TAB, type: 'tab' }, server('s', srv.url), stage('llm', 'opea-llm', { backend: 'openai', server: 's', model: 'a/b', streaming: false }, [['answer'], []]), { id: 'answer', type: 'helper', z: TAB }],
      { s: { apiKey: '${OPEA_TEST_KEY}' } },
    );
    const answered = nextMessage(helper.getNode('answer'));
    helper.getNode('llm').receive({ payload: 'hi', model: 'other/model' });
    await answered;
    assert.equal((srv.requests[0].body as { model: string }).model, 'other/model');
    delete process.env.OPEA_TEST_KEY;
  });

  const failures: { name: string; setup: (s: ProtocolServer) => void; expect: RegExp }[] = [
    { name: 'HTTP 500', setup: (s) => s.fault('/v1/chat/completions', { status: 500 }), expect: /HTTP 500.*check its logs/ },
    { name: 'malformed JSON', setup: (s) => s.fault('/v1/chat/completions', { malformedJson: true }), expect: /not (a )?JSON/ },
    { name: 'a truncated stream', setup: (s) => s.fault('/v1/chat/completions', { truncateStream: true }), expect: /ended before its end marker|broke off|middle of an event/ },
    { name: 'a timeout', setup: (s) => s.fault('/v1/chat/completions', { delayMs: 3000 }), expect: /no complete answer within 2000 ms \(the timeout\)|stalled/ },
    { name: 'a hang-up', setup: (s) => s.fault('/v1/chat/completions', { hangUp: true }), expect: /request failed|broke off|socket hang up|ECONNRESET/ },
    { name: 'HTTP 401', setup: () => undefined, expect: /HTTP 401.*API key/ },
  ];
  for (const failure of failures) {
    it(`${failure.name} ends the message in done(err) naming the node and the server, with a red status`, async () => {
      await srv.close();
      srv = await ProtocolServer.start(failure.name === 'HTTP 401' ? { apiKey: 'right' } : {});
      failure.setup(srv);
      await helper.load(nodes, [
        { id: TAB, type: 'tab' },
        server('s', srv.url),
        stage('llm', 'opea-llm', { name: 'answerer', backend: 'vllm', server: 's', model: 'm/m', streaming: true }, [['answer'], []]),
        { id: 'answer', type: 'helper', z: TAB },
      ]);
      const llm = helper.getNode('llm');
      let delivered = false;
      helper.getNode('answer').on('input', () => (delivered = true));
      const error = nextError(llm, 8000);
      llm.receive({ payload: 'question' });
      const message = await error;
      assert.match(message, /^answerer \(llm\): /);
      assert.ok(message.includes(`${srv.url}/v1/chat/completions`), message);
      assert.match(message, failure.expect);
      const status = (llm.status as unknown as { lastCall: { args: [{ fill: string }] } }).lastCall.args[0];
      assert.equal(status.fill, 'red');
      assert.equal(delivered, false);
    });
  }

  it('retries 503 with backoff and then succeeds', async () => {
    srv.fault('/embed', { status: 503, times: 2 });
    await helper.load(nodes, [{ id: TAB, type: 'tab' }, server('s', srv.url, { retries: 2, backoff: 5 }), stage('emb', 'opea-embedding', { backend: 'tei', server: 's' }, [['out']]), { id: 'out', type: 'helper', z: TAB }]);
    const got = nextMessage(helper.getNode('out'));
    helper.getNode('emb').receive({ payload: 'hello' });
    const msg = await got;
    assert.equal(msg.payload.embedding.length, 8);
    assert.equal(srv.requests.length, 3);
  });

  it('a refused connection names the server and says what to check', async () => {
    const url = srv.url;
    await srv.close();
    await helper.load(nodes, [{ id: TAB, type: 'tab' }, server('s', url), stage('emb', 'opea-embedding', { backend: 'openai', model: 'e/m', server: 's' }, [[]])]);
    const error = nextError(helper.getNode('emb'));
    helper.getNode('emb').receive({ payload: 'x' });
    assert.match(await error, new RegExp(`${url.replace(/[.]/g, '\\.')}/v1/embeddings: connection refused — is the server running`));
    srv = await ProtocolServer.start();
  });

  it('wrong input and wrong settings are explained, never crash the runtime', async () => {
    await helper.load(nodes, [
      { id: TAB, type: 'tab' },
      stage('ret', 'opea-retriever', { backend: 'memory', store: '' }, [[]]),
      stage('prep', 'opea-dataprep', { backend: 'memory', chunkSize: 100, chunkOverlap: 100 }, [[]]),
      stage('emb', 'opea-embedding', { backend: 'tei' }, [[]]),
    ]);
    const cases: [string, unknown, RegExp][] = [
      ['ret', 'plain text', /needs an EmbedDoc.*wire an opea-embedding node in front/],
      ['prep', 'text', /chunkOverlap \(100\) must be smaller than chunkSize \(100\)/],
      ['emb', { nothing: true }, /no text to embed/],
      ['emb', 'text', /tei embedding backend needs a server/],
    ];
    for (const [id, payload, expected] of cases) {
      const node: TestNode = helper.getNode(id);
      const error = nextError(node);
      node.receive({ payload });
      assert.match(await error, expected);
    }
  });
});
