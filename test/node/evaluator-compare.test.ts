/**
 * opea-evaluator with *Compare*: output 2 asks the candidate pipeline, output 3 the baseline, both
 * answer on the input; msg.comparison carries the paired bootstrap comparison. With *Keep results*,
 * each run is appended to <userDir>/opea-results/eval.jsonl and the status shows the previous run.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { helper, nextError, nextMessage, onEachRuntime, packNodes, Runtime, runtimeHooks } from '../support/runtimes';

const TAB = 'tab1';
const STORE = 'store-1';

function modules(runtime: Runtime): unknown[] {
  const withHooks = (register: (RED: Record<string, unknown>) => void) => (RED: Record<string, unknown>) => register(RED.hooks ? RED : Object.assign(RED, { hooks: runtimeHooks(runtime) }));
  return (packNodes() as ((RED: Record<string, unknown>) => void)[]).map(withHooks);
}

const DOCUMENTS = [
  { name: 'france.md', text: 'Paris is the capital of France. The capital of France has many old museums and busy streets.' },
  { name: 'hamlet.md', text: 'William Shakespeare wrote Hamlet. Shakespeare wrote Hamlet in London around the year 1600 for his company.' },
  { name: 'tea.md', text: 'Green tea is steeped at low temperature. Green tea steeped in boiling water for a long time turns bitter.' },
];

const ROWS = [
  { id: 'paris', question: 'What is the capital of France?', reference: 'Paris is the capital of France.' },
  { id: 'hamlet', question: 'Who wrote Hamlet?', reference: 'William Shakespeare wrote Hamlet.' },
  { id: 'tea', question: 'How is green tea steeped?', reference: 'Green tea is steeped at low temperature.' },
];

/** Two pipelines that differ in the LLM's word budget: `short` answers with one sentence, `long` adds the next ones. */
function flow(evaluator: Record<string, unknown>) {
  const llm = (id: string, maxTokens: number) => ({ id, type: 'opea-llm', z: TAB, name: `llm, ${maxTokens} words`, backend: 'extractive', maxTokens, temperature: 0.01, topP: 0.95, topK: 10, repetitionPenalty: 1.03, streaming: false, template: '', wires: [['ev'], []] });
  const path = (suffix: string, maxTokens: number) => [
    { id: `embed-${suffix}`, type: 'opea-embedding', z: TAB, backend: 'hashing', dimensions: 256, wires: [[`retrieve-${suffix}`]] },
    { id: `retrieve-${suffix}`, type: 'opea-retriever', z: TAB, backend: 'memory', store: STORE, indexName: 'eval', searchK: 3, searchType: 'similarity', scoreThreshold: 0, fetchK: 20, lambdaMult: 0.5, wires: [[`llm-${suffix}`]] },
    llm(`llm-${suffix}`, maxTokens),
  ];
  return [
    { id: TAB, type: 'tab' },
    { id: STORE, type: 'opea-vectorstore', name: 'local store', folder: 'evaluator-compare' },
    { id: 'prep', type: 'opea-dataprep', z: TAB, backend: 'memory', store: STORE, chunkSize: 1500, chunkOverlap: 0, indexName: 'eval', embedBackend: 'hashing', dimensions: 256, wires: [['ingested']] },
    { id: 'ingested', type: 'helper', z: TAB },
    { id: 'ev', type: 'opea-evaluator', z: TAB, name: 'eval', source: 'msg', answers: 'pipeline', pipelineTimeout: 20, metrics: ['f1'], hitsK: 1, assertions: '[]', concurrency: 1, compare: true, seed: 3, keepResults: true, wires: [['scores'], ['embed-short'], ['embed-long']], ...evaluator },
    { id: 'scores', type: 'helper', z: TAB },
    ...path('short', 8),
    ...path('long', 60),
  ];
}

async function ingest(): Promise<void> {
  const failed = nextError(helper.getNode('prep'), 5000).then((e) => { throw new Error(e); }, () => undefined);
  const done = Promise.race([nextMessage(helper.getNode('ingested')), failed]);
  helper.getNode('prep').receive({ payload: DOCUMENTS });
  await done;
}

onEachRuntime('opea-evaluator comparing two pipelines', (userDir, runtime) => {
  it('asks both pipelines every row, compares them, keeps each run and shows the previous one in its status', async () => {
    await helper.load(modules(runtime), flow({}));
    await ingest();
    const ev = helper.getNode('ev');
    const statuses: string[] = [];
    (ev as unknown as { on(e: 'call:status', f: (call: { args: [{ text?: string }] }) => void): void }).on('call:status', (call) => statuses.push(String(call.args[0].text ?? '')));

    const first = nextMessage(helper.getNode('scores'), 15000);
    ev.receive({ payload: ROWS });
    const msg = await first;
    // The short pipeline (output 2) quotes only the best sentence: the reference; the long one adds more.
    assert.deepEqual(msg.payload.samples.map((s: { scores: { f1: number } }) => s.scores.f1), [1, 1, 1], JSON.stringify(msg.payload.samples.map((s: { answer: string }) => s.answer)));
    assert.ok(msg.baseline.samples.every((s: { scores: { f1: number } }) => s.scores.f1 < 1), JSON.stringify(msg.baseline.samples.map((s: { answer: string }) => s.answer)));
    const f1 = msg.comparison.quality[0];
    assert.equal(f1.metric, 'f1');
    assert.deepEqual([f1.wins, f1.losses, f1.ties, f1.paired], [3, 0, 0, 3]);
    assert.equal(f1.better, 'candidate');
    assert.ok(f1.interval.low > 0);
    assert.equal(msg.comparison.bootstrap.seed, 3);
    assert.match(msg.report, /<h2>Comparison<\/h2>/);
    assert.match(msg.report, /1 run of this pipeline on this dataset/);

    const file = path.join(userDir(), 'opea-results', 'eval.jsonl');
    let records = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(records.map((r) => r.pipeline), ['opea-evaluator eval (ev) baseline', 'opea-evaluator eval (ev)']);
    assert.equal(records[1].metrics.f1, 1);
    assert.equal(records[1].settings.seed, 3);
    assert.match(records[1].datasetHash, /^[0-9a-f]{64}$/);

    const second = nextMessage(helper.getNode('scores'), 15000);
    ev.receive({ payload: ROWS });
    const again = await second;
    // The same rows, the same seed: the same comparison.
    assert.deepEqual(again.comparison.quality, msg.comparison.quality);
    assert.match(again.report, /2 runs of this pipeline on this dataset/);
    records = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(records.length, 4);
    const last = statuses.filter((s) => /rows/.test(s)).pop();
    assert.match(String(last), new RegExp(`^3 rows · f1 1\\.000 vs ${msg.baseline.aggregate.f1.mean.toFixed(3)} baseline · previous 1\\.000`));
  });

  it('says where it cannot keep the result, and how to go on', async () => {
    const dir = path.join(userDir(), 'opea-results');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.writeFileSync(dir, 'a file where the folder should be');
    try {
      await helper.load(modules(runtime), flow({ compare: false, wires: [['scores'], ['embed-short']] }));
      await ingest();
      const error = nextError(helper.getNode('ev'), 15000);
      helper.getNode('ev').receive({ payload: ROWS });
      assert.match(await error, new RegExp(`^eval \\(ev\\): cannot keep the result in ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(E[A-Z]+\\): make the folder writable, or untick Keep results`));
    } finally {
      fs.rmSync(dir, { force: true });
    }
  });

  it('stops both sides at once with an error naming the baseline when the baseline pipeline fails', async () => {
    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const nodes = flow({ pipelineTimeout: 60, keepResults: false }).map((n) => (n.id === 'llm-long' ? { ...n, backend: 'vllm', model: 'm', server: 'server-1' } : n));
    await helper.load(modules(runtime), [...nodes, { id: 'server-1', type: 'opea-server', name: 'down', baseUrl: `http://127.0.0.1:${port}`, timeout: 2, retries: 0, backoff: 10, headers: '', verifyTls: true }]);
    await ingest();
    const started = Date.now();
    const error = nextError(helper.getNode('ev'), 30000);
    helper.getNode('ev').receive({ payload: ROWS });
    assert.match(await error, /^eval \(ev\): baseline \(output 3\): row 1: the pipeline failed: llm, 60 words \(llm-long\): .*127\.0\.0\.1/);
    // Well before the 60 s pipeline timeout a waiting question would need.
    assert.ok(Date.now() - started < 30000, `took ${Date.now() - started} ms`);
  });

  it('refuses Compare without asking the pipeline, naming the setting', async () => {
    await helper.load(modules(runtime), flow({ answers: 'given' }));
    const error = nextError(helper.getNode('ev'), 5000);
    helper.getNode('ev').receive({ payload: ROWS });
    assert.match(await error, /^eval \(ev\): comparing needs the answers of two pipelines: set Answers to ask the wired pipeline/);
  });
});
