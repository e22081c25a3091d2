import assert from 'node:assert/strict';
import { arrivalOffsets } from '../../core/bench/arrivals';
import { RequestSample } from '../../core/bench/metrics';
import { checkRunOptions, Progress, runBenchmark, RunOptions } from '../../core/bench/runner';
import { ScheduledSseServer } from '../support/scheduled-sse-server';

function options(url: string, extra: Partial<RunOptions> = {}): RunOptions {
  return {
    target: { url, kind: 'openai', stream: true, model: 'm', maxTokens: 8 },
    prompts: ['a', 'b', 'c'],
    load: { kind: 'closed', concurrency: 2 },
    requests: 6,
    warmup: 0,
    timeoutMs: 5000,
    timeLimitMs: 30_000,
    seed: 1,
    percentiles: [50, 90, 99],
    slo: null,
    ...extra,
  };
}

/** The most requests in flight at once, from the samples' start and end times. */
function peakConcurrency(samples: RequestSample[]): number {
  const events = samples.flatMap((s) => [[s.startMs, 1], [s.endMs, -1]] as [number, number][]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, d] of events) peak = Math.max(peak, (now += d));
  return peak;
}

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('bench runner', () => {
  let srv: ScheduledSseServer;
  beforeEach(async () => {
    srv = await ScheduledSseServer.start({ firstChunkMs: 20, intervalMs: 5, chunks: 4 });
  });
  afterEach(async () => {
    await srv.close();
  });

  it('closed loop: N users at most N in flight, warm-up sent but not measured, progress reported', async () => {
    const progress: Progress[] = [];
    const result = await runBenchmark(options(`${srv.url}/v1/chat/completions`, { load: { kind: 'closed', concurrency: 3 }, requests: 9, warmup: 2, onProgress: (p) => progress.push(p) }));
    assert.equal(srv.requests.length, 11);
    assert.equal(result.metrics.completed, 9);
    assert.equal(result.stoppedBy, 'count');
    assert.equal(result.notSent, 0);
    assert.equal(peakConcurrency(result.metrics.samples), 3);
    assert.deepEqual(progress.filter((p) => p.phase === 'warm-up').map((p) => p.done), [1, 2]);
    assert.deepEqual(progress.filter((p) => p.phase === 'measuring').map((p) => p.done), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(result.metrics.tokens.output, 36);
    assert.ok(result.metrics.latencyMs.ttft.min as number >= 19);
    // Prompts go round in order, warm-up first.
    assert.deepEqual(srv.requests.slice(0, 4).map((r) => (r.body.messages as { content: string }[])[0].content), ['a', 'b', 'c', 'a']);
  });

  it('open loop: requests start on the seeded schedule, and max concurrency caps what is in flight', async () => {
    const result = await runBenchmark(options(`${srv.url}/plain`, { target: { url: `${srv.url}/plain`, kind: 'json', stream: false }, load: { kind: 'open', rate: 40, burstiness: 1 }, requests: 10, seed: 9 }));
    const planned = arrivalOffsets({ rate: 40, burstiness: 1, count: 10, seed: 9 });
    for (const s of result.metrics.samples) {
      assert.ok(s.startMs >= planned[s.index] && s.startMs <= planned[s.index] + 40, `request ${s.index} at ${s.startMs}, planned ${planned[s.index]}`);
    }
    assert.equal(result.metrics.tokens.source, 'tokenizer');

    const capped = await runBenchmark(options(`${srv.url}/v1/chat/completions`, { load: { kind: 'open', rate: 1000, burstiness: 1, maxConcurrency: 2 }, requests: 6 }));
    assert.equal(capped.metrics.completed, 6);
    assert.equal(peakConcurrency(capped.metrics.samples), 2);
  });

  it('a duration stops starting requests; the count bounds it anyway', async () => {
    const result = await runBenchmark(options(`${srv.url}/v1/chat/completions`, { load: { kind: 'closed', concurrency: 1 }, requests: 1000, durationMs: 120 }));
    assert.equal(result.stoppedBy, 'duration');
    assert.ok(result.metrics.completed >= 1 && result.metrics.completed <= 5, `${result.metrics.completed}`);
    assert.equal(result.notSent, 1000 - result.metrics.completed);
  });

  it('the time limit aborts requests in flight, counts them, and leaves no timers or connections', async () => {
    // Mocha arms its own test timer after the test body's first await: count from there.
    await new Promise((r) => setImmediate(r));
    const before = timeouts();
    const started = Date.now();
    const result = await runBenchmark(options(`${srv.url}/hang`, { load: { kind: 'closed', concurrency: 3 }, requests: 10, timeLimitMs: 200 }));
    assert.ok(Date.now() - started < 2000);
    assert.equal(result.stoppedBy, 'time limit');
    assert.deepEqual(result.metrics.errors.byKind, { aborted: 3 });
    assert.equal(result.notSent, 7);
    for (let waited = 0; srv.openConnections > 0 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    assert.equal(srv.openConnections, 0);
    // Counted once the server's side of the connections (which has timers of its own) has closed.
    assert.equal(timeouts(), before);
  });

  it('the caller’s abort cancels the run, warm-up included', async () => {
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    const result = await runBenchmark(options(`${srv.url}/hang`, { warmup: 2, signal: stop.signal }));
    assert.equal(result.stoppedBy, 'cancelled');
    assert.equal(result.metrics.samples.length, 0);
  });

  it('errors are counted by kind and HTTP status, and goodput needs every SLO', async () => {
    const result = await runBenchmark(options(`${srv.url}/status/429`, { requests: 3 }));
    assert.deepEqual(result.metrics.errors.byKind, { http: 3 });
    assert.deepEqual(result.metrics.errors.byStatus, { 429: 3 });
    const slo = await runBenchmark(options(`${srv.url}/v1/chat/completions`, { requests: 2, slo: { ttftMs: 1 } }));
    assert.equal(slo.metrics.goodput?.good, 0);
    assert.equal(slo.metrics.throughput.goodputPerS, 0);
  });

  it('checks its options and says what to fix', () => {
    const o = options('http://x', { requests: 0, load: { kind: 'open', rate: 0, burstiness: -1, maxConcurrency: 1.5 }, percentiles: [101], prompts: [], slo: { ttftMs: 0 } });
    assert.deepEqual(checkRunOptions(o), [
      'there are no prompts: give some in the node, a prompts file, or msg.payload as an array',
      'requests must be a whole number from 1 to 100000',
      'the rate must be above 0 and at most 10000 requests/s',
      'burstiness must be above 0 (1 = Poisson arrivals)',
      'max concurrency must be empty or a whole number from 1 to 1000',
      'percentiles must be numbers from 0 to 100, as "50,90,99"',
      'the ttftMs SLO must be above 0 ms',
    ]);
    assert.deepEqual(checkRunOptions(options('http://x')), []);
  });
});
