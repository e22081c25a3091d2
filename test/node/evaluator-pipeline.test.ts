import assert from 'node:assert/strict';
import net from 'node:net';
import { helper, nextError, nextMessage, onEachRuntime, packNodes, Runtime, runtimeHooks } from '../support/runtimes';

const TAB = 'tab1';
// Ids unlike any property value: Node-RED takes a config node property equal to a node id for a reference.
const STORE = 'store-1';

/** The pack's node modules, each given the runtime's hooks as a real Node-RED gives them. */
function modules(runtime: Runtime): unknown[] {
  const withHooks = (register: (RED: Record<string, unknown>) => void) => (RED: Record<string, unknown>) => register(RED.hooks ? RED : Object.assign(RED, { hooks: runtimeHooks(runtime) }));
  return (packNodes() as ((RED: Record<string, unknown>) => void)[]).map(withHooks);
}

const DOCUMENTS = [
  { name: 'france.md', text: 'Paris is the capital of France. France is in western Europe.' },
  { name: 'hamlet.md', text: 'Hamlet is a tragedy. William Shakespeare wrote Hamlet around 1600.' },
  { name: 'tea.md', text: 'Green tea is steeped at low temperature. Black tea takes boiling water.' },
];

const ROWS = [
  { question: 'What is the capital of France?', reference: 'Paris is the capital of France.', reference_contexts: ['Paris is the capital of France. France is in western Europe.'] },
  { question: 'Who wrote Hamlet?', reference: 'William Shakespeare', reference_contexts: ['Hamlet is a tragedy. William Shakespeare wrote Hamlet around 1600.'] },
];

function pipeline(llm: Record<string, unknown>, evaluator: Record<string, unknown>) {
  return [
    { id: TAB, type: 'tab' },
    { id: STORE, type: 'opea-vectorstore', name: 'local store', folder: 'evaluator-pipeline' },
    { id: 'prep', type: 'opea-dataprep', z: TAB, backend: 'memory', store: STORE, chunkSize: 1500, chunkOverlap: 0, indexName: 'eval', embedBackend: 'hashing', dimensions: 256, wires: [['ingested']] },
    { id: 'ingested', type: 'helper', z: TAB },
    { id: 'ev', type: 'opea-evaluator', z: TAB, name: 'eval', source: 'msg', answers: 'pipeline', pipelineTimeout: 20, metrics: ['exact_match', 'rougeL', 'hits', 'mrr'], hitsK: 1, assertions: '[]', concurrency: 2, wires: [['scores'], ['embed']], ...evaluator },
    { id: 'scores', type: 'helper', z: TAB },
    { id: 'embed', type: 'opea-embedding', z: TAB, backend: 'hashing', dimensions: 256, wires: [['retrieve']] },
    { id: 'retrieve', type: 'opea-retriever', z: TAB, backend: 'memory', store: STORE, indexName: 'eval', searchK: 2, searchType: 'similarity', scoreThreshold: 0, fetchK: 20, lambdaMult: 0.5, wires: [['rerank-1']] },
    { id: 'rerank-1', type: 'opea-rerank', z: TAB, backend: 'bm25', topN: 1, wires: [['llm-1']] },
    { id: 'llm-1', type: 'opea-llm', z: TAB, name: 'llm', maxTokens: 40, temperature: 0.01, topP: 0.95, topK: 10, repetitionPenalty: 1.03, streaming: false, template: '', wires: [['ev'], []], ...llm },
  ];
}

async function ingest(): Promise<void> {
  const failed = nextError(helper.getNode('prep'), 5000).then((e) => { throw new Error(e); }, () => undefined);
  const done = Promise.race([nextMessage(helper.getNode('ingested')), failed]);
  helper.getNode('prep').receive({ payload: DOCUMENTS });
  await done;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

onEachRuntime('opea-evaluator asking the wired pipeline', (_userDir, runtime) => {
  it('sends each question through the pipeline and scores the answers and contexts that come back', async () => {
    await helper.load(modules(runtime), pipeline({ backend: 'extractive' }, {}));
    await ingest();
    const scores = nextMessage(helper.getNode('scores'), 15000);
    helper.getNode('ev').receive({ payload: ROWS });
    const msg = await scores;
    const [france, hamlet] = msg.payload.samples;
    // bm25 keeps the one best chunk; the extractive LLM answers with its best sentences.
    assert.deepEqual(france.contexts, ['Paris is the capital of France. France is in western Europe.']);
    assert.deepEqual(hamlet.contexts, ['Hamlet is a tragedy. William Shakespeare wrote Hamlet around 1600.']);
    assert.match(france.answer, /Paris is the capital of France/);
    assert.match(hamlet.answer, /William Shakespeare wrote Hamlet/);
    assert.equal(france.scores['hits@1'], 1);
    assert.equal(hamlet.scores.mrr, 1);
    assert.ok(france.scores.rougeL > 0.5, `rougeL ${france.scores.rougeL}`);
    assert.equal(msg.payload.aggregate['hits@1'].mean, 1);
  });

  it('stops at once with the failing node\'s error when a pipeline node fails a question', async () => {
    const port = await closedPort();
    await helper.load(modules(runtime), [
      ...pipeline({ backend: 'vllm', model: 'm', server: 'server-1' }, { pipelineTimeout: 60 }),
      { id: 'server-1', type: 'opea-server', name: 'down', baseUrl: `http://127.0.0.1:${port}`, timeout: 2, retries: 0, backoff: 10, headers: '', verifyTls: true },
    ]);
    await ingest();
    const started = Date.now();
    const error = nextError(helper.getNode('ev'), 10000);
    helper.getNode('ev').receive({ payload: ROWS.slice(0, 1) });
    const text = await error;
    assert.match(text, /^eval \(ev\): row 1: the pipeline failed: llm \(llm-1\): .*127\.0\.0\.1/);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });

  it('names the row and the wiring to fix when no answer comes back within the timeout', async () => {
    await helper.load(modules(runtime), pipeline({ backend: 'extractive', wires: [[], []] }, { pipelineTimeout: 1, concurrency: 1 }));
    await ingest();
    const error = nextError(helper.getNode('ev'), 5000);
    helper.getNode('ev').receive({ payload: ROWS });
    assert.match(await error, /row 1: no answer came back from the pipeline within 1 s: wire the end of the pipeline/);
  });
});
