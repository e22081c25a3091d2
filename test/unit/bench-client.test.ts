import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { closeConnections, InFlight, openConnections, prepareRequest, requestBody, sendRequest, Target, targetUrl } from '../../core/bench/client';
import { computeMetrics } from '../../core/bench/metrics';
import { median } from '../support/bench-math';
import { ScheduledSseServer } from '../support/scheduled-sse-server';

function openai(url: string, extra: Partial<Target> = {}): Target {
  return { url, kind: 'openai', stream: true, model: 'm', maxTokens: 16, ...extra };
}

describe('bench client', () => {
  let srv: ScheduledSseServer;
  const inflight = new InFlight();
  afterEach(async () => {
    await srv?.close();
  });

  // Server and client share one clock (one process), so the truth is exact: TTFT from the moment the
  // client is asked to send to the moment the server wrote the first chunk, TPOT from the server's writes.
  it('measures TTFT and TPOT within 1 ms of the truth (first chunk 60 ms after arrival, then every 15 ms)', async () => {
    srv = await ScheduledSseServer.start({ firstChunkMs: 60, intervalMs: 15, chunks: 10 });
    const target = openai(targetUrl(srv.url, 'openai'));
    const connections = openConnections(target);
    const ttftErrors: number[] = [];
    const tpotErrors: number[] = [];
    const uploadMs: number[] = [];
    try {
      // The first request opens the connection and warms the code paths, as a benchmark's warm-up does.
      await sendRequest(prepareRequest(target, 'hi'), { connections, timeoutMs: 5000, inflight });
      for (let i = 1; i <= 9; i++) {
        const sentAt = performance.now();
        const outcome = await sendRequest(prepareRequest(target, 'hi'), { connections, timeoutMs: 5000, inflight });
        assert.equal(outcome.error, undefined);
        const served = srv.requests[i];
        const m = computeMetrics([{ index: 0, startMs: 0, promptText: 'hi', outcome }], 1000, [50], null);
        const trueTtft = served.chunkWrites[0] - sentAt;
        uploadMs.push(served.receivedAt - sentAt);
        assert.ok((m.latencyMs.ttft.mean as number) >= 60, 'the server waits 60 ms after the request arrived');
        const trueTpot = ((served.ended as number) - served.chunkWrites[0]) / (served.chunkWrites.length - 1);
        ttftErrors.push(Math.abs((m.latencyMs.ttft.mean as number) - trueTtft));
        tpotErrors.push(Math.abs((m.latencyMs.tpot.mean as number) - trueTpot));
        assert.equal(m.tokens.source, 'usage');
        assert.equal(m.tokens.output, 10);
        assert.equal(m.latencyMs.itl.count, 9);
      }
    } finally {
      closeConnections(connections);
    }
    process.stdout.write(`      TTFT |error| ms: ${ttftErrors.map((e) => e.toFixed(3)).join(' ')}; TPOT |error| ms: ${tpotErrors.map((e) => e.toFixed(3)).join(' ')}; request transit ms: ${uploadMs.map((e) => e.toFixed(3)).join(' ')}\n`);
    // One scheduling hiccup of a shared 2-core machine may hit one request; the typical error may not reach 1 ms.
    assert.ok(median(ttftErrors) < 1, `TTFT errors ${ttftErrors}`);
    assert.ok(median(tpotErrors) < 1, `TPOT errors ${tpotErrors}`);
    assert.equal(srv.requests[0].path, '/v1/chat/completions');
    assert.deepEqual(srv.requests[0].body, { model: 'm', messages: [{ role: 'user', content: 'hi' }], max_tokens: 16, stream: true, stream_options: { include_usage: true } });
  });

  it('builds each target kind’s request', () => {
    const base = { url: 'http://x', stream: true, maxTokens: 8 };
    assert.deepEqual(requestBody({ ...base, kind: 'opea' }, 'q'), { messages: 'q', max_tokens: 8, stream: true });
    assert.deepEqual(requestBody({ ...base, kind: 'gmc' }, 'q'), { text: 'q', parameters: { max_new_tokens: 8 } });
    assert.deepEqual(requestBody({ ...base, kind: 'json' }, 'q'), { text: 'q' });
    assert.deepEqual(requestBody({ ...base, kind: 'json' }, { inputs: 'q', x: 1 }), { inputs: 'q', x: 1 });
    assert.deepEqual(requestBody({ ...base, kind: 'openai' }, { messages: [{ role: 'system', content: 's' }] }), { max_tokens: 8, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'system', content: 's' }] });
    assert.equal(targetUrl('http://h:8000/v1/', 'openai'), 'http://h:8000/v1/chat/completions');
    assert.equal(targetUrl('http://h:8000', 'openai'), 'http://h:8000/v1/chat/completions');
    assert.equal(targetUrl('http://h:8888/v1/chatqna', 'opea'), 'http://h:8888/v1/chatqna');
  });

  it('a JSON answer (stream: false) has its TTFT at the whole answer, and its usage counted', async () => {
    srv = await ScheduledSseServer.start({ firstChunkMs: 20, intervalMs: 5, chunks: 4 });
    const target = openai(`${srv.url}/v1/chat/completions`, { stream: false });
    const connections = openConnections(target);
    const outcome = await sendRequest(prepareRequest(target, 'hi'), { connections, timeoutMs: 5000, inflight });
    closeConnections(connections);
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.contentTimesMs.length, 1);
    assert.ok(outcome.contentTimesMs[0] >= 30 && outcome.contentTimesMs[0] <= outcome.e2eMs);
    assert.deepEqual(outcome.usage, { completionTokens: 4, promptTokens: 7 });
    assert.equal(outcome.text, 't0 t1 t2 t3 ');
  });

  const failures: [string, Partial<Target>, string, RegExp][] = [
    ['/status/503', {}, 'http', /HTTP 503: scheduled failure/],
    ['/malformed', {}, 'malformed', /not JSON: not json/],
    ['/truncated', {}, 'truncated', /broke off|ended/],
    ['/hang', {}, 'timeout', /within 300 ms/],
  ];
  for (const [path, extra, kind, message] of failures) {
    it(`sorts a failure by kind: ${path} → ${kind}`, async () => {
      srv = await ScheduledSseServer.start({ firstChunkMs: 5, intervalMs: 5, chunks: 6 });
      const target = openai(`${srv.url}${path}`, extra);
      const connections = openConnections(target);
      const outcome = await sendRequest(prepareRequest(target, 'hi'), { connections, timeoutMs: 300, inflight });
      closeConnections(connections);
      assert.equal(outcome.ok, false);
      assert.equal(outcome.error?.kind, kind);
      assert.match(outcome.error?.message ?? '', message);
    });
  }

  it('times each request out at its own deadline, a later request with an earlier one included', async () => {
    srv = await ScheduledSseServer.start();
    const target = openai(`${srv.url}/hang`);
    const connections = openConnections(target);
    const shared = new InFlight();
    const sentAt = performance.now();
    const timed = (timeoutMs: number) => sendRequest(prepareRequest(target, 'hi'), { connections, timeoutMs, inflight: shared }).then((outcome) => ({ outcome, ms: performance.now() - sentAt }));
    const [long, short] = await Promise.all([timed(400), timed(150)]);
    closeConnections(connections);
    assert.deepEqual([long.outcome.error?.kind, short.outcome.error?.kind], ['timeout', 'timeout']);
    assert.ok(short.ms >= 150 && short.ms < 400, `the 150 ms request timed out after ${short.ms} ms`);
    assert.ok(long.ms >= 400, `the 400 ms request timed out after ${long.ms} ms`);
  });

  it('sorts a refused connection and an aborted request', async () => {
    srv = await ScheduledSseServer.start();
    const url = `${srv.url}/hang`;
    const target = openai(url);
    const connections = openConnections(target);
    const stop = new InFlight();
    const pending = sendRequest(prepareRequest(target, 'hi'), { connections, timeoutMs: 5000, inflight: stop });
    setTimeout(() => stop.abortAll(), 50);
    assert.equal((await pending).error?.kind, 'aborted');
    await srv.close();
    const refused = await sendRequest(prepareRequest(target, 'hi'), { connections, timeoutMs: 5000, inflight });
    closeConnections(connections);
    assert.equal(refused.error?.kind, 'refused');
  });

  it('reads OPEA megaservice streams of Python byte literals and bare text', async () => {
    const http = await import('node:http');
    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end("data: b'Hel'\n\ndata: b'lo \\xf0\\x9f\\x8c\\x8d'\n\ndata: plain\n\ndata: [DONE]\n\n");
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const target: Target = { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/chatqna`, kind: 'opea', stream: true };
    const connections = openConnections(target);
    const outcome = await sendRequest(prepareRequest(target, 'hi'), { connections, timeoutMs: 2000, inflight });
    closeConnections(connections);
    await new Promise((r) => server.close(r));
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.text, 'Hello 🌍plain');
    assert.equal(outcome.contentTimesMs.length, 3);
  });
});
