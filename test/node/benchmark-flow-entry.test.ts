import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../support/reference';
import { runCli } from '../support/run-cli';

type FlowNode = Record<string, unknown> & { id: string; type: string };

const OFFLINE = path.join(REPO_ROOT, 'flows', 'chatqna-offline.json');

/**
 * The offline ChatQnA flow plus POST /bench → opea-benchmark → http response, the benchmark aimed at
 * the flow's own POST /v1/chatqna. The test helper does not serve http in nodes, so this runs in a
 * real Node-RED through `opea-flow run`, which posts the prompts to /bench.
 */
function flowWithBenchmark(entry: (chatqnaIn: FlowNode) => string): FlowNode[] {
  const flow = JSON.parse(fs.readFileSync(OFFLINE, 'utf8')) as FlowNode[];
  const chatqnaIn = flow.find((n) => n.type === 'http in' && n.url === '/v1/chatqna');
  if (!chatqnaIn) throw new Error('the offline example has no POST /v1/chatqna');
  const tab = { id: 'bench-tab', type: 'tab', label: 'Benchmark' };
  return [
    ...flow,
    tab,
    { id: 'bench-in', type: 'http in', z: tab.id, url: '/bench', method: 'post', upload: false, wires: [['bench-1']] },
    { id: 'bench-1', type: 'opea-benchmark', z: tab.id, name: 'own entry', kind: 'flow', entry: entry(chatqnaIn), stream: false, prompts: '', mode: 'closed', concurrency: 2, requests: 6, warmup: 1, timeout: 10, timeLimit: 60, seed: 0, percentiles: '50,90', report: false, wires: [['bench-out']] },
    { id: 'bench-out', type: 'http response', z: tab.id, wires: [] },
  ];
}

describe('opea-benchmark aimed at the flow\'s own http in entry', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-bench-entry-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function write(flow: FlowNode[]): string {
    const file = path.join(dir, 'flow.json');
    fs.writeFileSync(file, JSON.stringify(flow));
    return file;
  }

  it('loads the deployed pipeline through Node-RED\'s own HTTP server and measures its answers', async () => {
    const file = write(flowWithBenchmark((n) => n.id));
    const prompts = ['Who developed Node-RED?', 'What is OPEA?'];
    const { code, stdout, stderr } = await runCli(['run', file, '--entry', '/bench', '--input', JSON.stringify(prompts), '--user-dir', dir]);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout);
    assert.match(result.target.url, /^http:\/\/127\.0\.0\.1:\d+\/v1\/chatqna$/);
    assert.equal(result.metrics.completed, 6);
    assert.equal(result.metrics.failed, 0);
    // The extractive LLM's answers carry no usage: the tokens are counted, and the result says so.
    assert.equal(result.metrics.tokens.source, 'tokenizer');
    assert.ok(result.metrics.latencyMs.e2e.median > 0);
    assert.ok(result.metrics.tokens.output > 6, JSON.stringify(result.metrics.tokens));
  });

  it('fails naming the benchmark node when the chosen entry is not a POST http in node', async () => {
    const flow = flowWithBenchmark(() => 'get-in');
    flow.push({ id: 'get-in', type: 'http in', z: 'bench-tab', url: '/status', method: 'get', wires: [[]] });
    const { code, stderr } = await runCli(['run', write(flow), '--entry', '/bench', '--input', '["q"]', '--user-dir', dir]);
    assert.equal(code, 1, stderr);
    assert.match(stderr, /own entry \(bench-1\): the http in entry \/status takes GET: the benchmark POSTs, so choose a POST http in node/);
  });
});
