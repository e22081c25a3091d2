import assert from 'node:assert/strict';
import { ScheduledSseServer } from '../support/scheduled-sse-server';
import { helper, nextError, nextMessage, onEachRuntime, packNodes } from '../support/runtimes';

const TAB = 'tab1';
const nodes = packNodes();

function bench(props: Record<string, unknown>) {
  return { id: 'b1', type: 'opea-benchmark', z: TAB, name: '', kind: 'openai', url: '', stream: true, maxTokens: 16, prompts: 'one\ntwo', mode: 'closed', concurrency: 2, requests: 6, warmup: 1, timeout: 5, timeLimit: 30, seed: 0, percentiles: '50,90,99', report: true, wires: [['out']], ...props };
}

type StatusSpy = { args: [{ fill?: string; shape?: string; text?: string }][] };

onEachRuntime('opea-benchmark node', () => {
  let srv: ScheduledSseServer;
  beforeEach(async () => {
    srv = await ScheduledSseServer.start({ firstChunkMs: 15, intervalMs: 3, chunks: 5 });
  });
  afterEach(async () => {
    await srv.close();
  });

  it('benchmarks the server of its opea-server config node: progress in the status, result and HTML report out, key sent', async () => {
    const flow = [
      { id: TAB, type: 'tab' },
      { id: 's', type: 'opea-server', name: 'loopback', baseUrl: srv.url, timeout: 2, retries: 0, backoff: 10, headers: '{"X-Team": "bench"}', verifyTls: true },
      bench({ server: 's', name: 'load test', model: 'm', sloTtft: 5000 }),
      { id: 'out', type: 'helper', z: TAB },
    ];
    await helper.load(nodes, flow, { s: { apiKey: 'sk-bench' } });
    const answered = nextMessage(helper.getNode('out'), 20_000);
    helper.getNode('b1').receive({ payload: 'go' });
    const msg = await answered;
    const result = msg.payload;
    assert.equal(result.metrics.completed, 6);
    assert.equal(result.stoppedBy, 'count');
    assert.equal(result.target.url, `${srv.url}/v1/chat/completions`);
    assert.deepEqual(Object.keys(result.metrics.latencyMs), ['ttft', 'tpot', 'itl', 'e2e']);
    assert.deepEqual(Object.keys(result.metrics.latencyMs.ttft.percentiles), ['p50', 'p90', 'p99']);
    assert.ok(result.metrics.latencyMs.ttft.min >= 14);
    assert.equal(result.metrics.tokens.source, 'usage');
    assert.equal(result.metrics.goodput.good, 6);
    assert.equal(typeof result.definitions.tpot, 'string');
    assert.match(msg.report, /^<!DOCTYPE html>[\s\S]*<svg /);
    assert.equal(srv.requests.length, 7);
    assert.equal(srv.requests[0].headers.authorization, 'Bearer sk-bench');
    assert.equal(srv.requests[0].headers['x-team'], 'bench');
    assert.ok(!JSON.stringify(result).includes('sk-bench'));
    const statuses = (helper.getNode('b1').status as unknown as StatusSpy).args.map((a) => a[0]);
    assert.ok(statuses.some((s) => s.fill === 'blue' && /\/6/.test(s.text ?? '')), JSON.stringify(statuses));
    assert.match(statuses[statuses.length - 1].text ?? '', /^6 ok · [\d.]+ req\/s · TTFT p50 \d+ ms$/);
    assert.equal(statuses[statuses.length - 1].fill, 'green');
  });

  it('takes the prompts of msg.payload when it is an array, and runs an open loop', async () => {
    await helper.load(nodes, [{ id: TAB, type: 'tab' }, bench({ url: `${srv.url}/v1`, mode: 'open', rate: 200, burstiness: 2, requests: 4, warmup: 0 }), { id: 'out', type: 'helper', z: TAB }]);
    const answered = nextMessage(helper.getNode('out'), 20_000);
    helper.getNode('b1').receive({ payload: ['alpha', { messages: [{ role: 'user', content: 'beta' }] }] });
    const msg = await answered;
    assert.equal(msg.payload.load.kind, 'open');
    assert.equal(msg.payload.metrics.completed, 4);
    assert.deepEqual(srv.requests.map((r) => (r.body.messages as { content: string }[])[0].content), ['alpha', 'beta', 'alpha', 'beta']);
  });

  it('closing the node aborts the run and its requests, and leaves no connection open', async () => {
    await helper.load(nodes, [{ id: TAB, type: 'tab' }, bench({ url: `${srv.url}/hang`, kind: 'json', concurrency: 3, requests: 10, warmup: 0, timeout: 60 }), { id: 'out', type: 'helper', z: TAB }]);
    helper.getNode('b1').receive({ payload: 'go' });
    for (let waited = 0; srv.requests.length < 3 && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    assert.equal(srv.requests.length, 3);
    const started = Date.now();
    await helper.unload();
    assert.ok(Date.now() - started < 2000, 'close waits only for the aborted requests');
    for (let waited = 0; srv.openConnections > 0 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    assert.equal(srv.openConnections, 0);
    assert.equal(srv.requests.length, 3);
  });

  it('bad settings fail each message with done(err) naming the node, what is wrong and how to fix it', async () => {
    await helper.load(nodes, [{ id: TAB, type: 'tab' }, bench({ name: 'load test', url: srv.url, requests: 0, mode: 'open', rate: -1 })]);
    const failed = nextError(helper.getNode('b1'));
    helper.getNode('b1').receive({ payload: 'go' });
    assert.equal(
      await failed,
      "load test (b1): requests must be a whole number from 1 to 100000; the rate must be above 0 and at most 10000 requests/s — fix the node's settings and deploy again",
    );
    const status = (helper.getNode('b1').status as unknown as StatusSpy).args[0][0];
    assert.deepEqual([status.fill, status.shape], ['red', 'ring']);
    assert.equal(srv.requests.length, 0);
  });

  it('a target URL that is not http(s), and a second message during a run, fail with what to do', async () => {
    await helper.load(nodes, [{ id: TAB, type: 'tab' }, bench({ url: 'vllm:8000' })]);
    const badUrl = nextError(helper.getNode('b1'));
    helper.getNode('b1').receive({ payload: 'go' });
    assert.equal(await badUrl, "opea-benchmark (b1): 'vllm:8000' is not an http(s) URL: give the target URL, or choose a server");
    await helper.unload();

    await helper.load(nodes, [{ id: TAB, type: 'tab' }, bench({ url: `${srv.url}/hang`, kind: 'json', requests: 2, warmup: 0 })]);
    const busy = nextError(helper.getNode('b1'));
    helper.getNode('b1').receive({ payload: 'first' });
    helper.getNode('b1').receive({ payload: 'second' });
    assert.equal(await busy, 'opea-benchmark (b1): a benchmark is already running: wait for its result before sending another message');
  });
});
