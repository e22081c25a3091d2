/**
 * Every call the endpoint makes ends within its limits against a server that misbehaves: bodies that
 * trickle or never end, endless streams, floods, oversized stream lines and events, resets, and
 * Retry-After. Each failure names the URL and the limit that fired, and the connection is closed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createEndpoint, EndpointConfig, retryAfterMs, ServiceError, validateEndpoint } from '../../core/clients/endpoint';
import { HostileServer } from '../support/hostile-server';

function config(baseUrl: string, overrides: Partial<EndpointConfig> = {}): EndpointConfig {
  return { baseUrl, timeoutMs: 400, retries: 0, backoffMs: 10, headers: {}, verifyTls: true, ...overrides };
}

/** The error a call ends with, and how long it took to end. */
async function failure(call: () => Promise<unknown>): Promise<{ error: ServiceError; ms: number }> {
  const started = Date.now();
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof ServiceError, `expected a ServiceError, got ${String(error)}`);
    return { error, ms: Date.now() - started };
  }
  assert.fail('the call succeeded');
}

async function drain(stream: AsyncGenerator<string>): Promise<string[]> {
  const events: string[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

// Wide margins: the machine may be busy; what matters is that the call ends, not when exactly.
const SLACK_MS = 3000;

describe('endpoint limits against a hostile server', function () {
  this.timeout(30_000);
  let server: HostileServer;

  beforeEach(async () => {
    server = await HostileServer.start();
  });

  afterEach(async () => {
    await server.close();
  });

  it('ends a JSON answer whose body trickles forever at the timeout, and closes the connection', async () => {
    server.on('/v1/embeddings', { kind: 'trickle', everyMs: 20 });
    const { error, ms } = await failure(() => createEndpoint(config(server.url)).postJson('/v1/embeddings', {}));
    assert.match(error.message, /^http:\/\/127\.0\.0\.1:\d+\/v1\/embeddings: no complete answer within 400 ms \(the timeout\) — raise the timeout of the opea-server config node/);
    assert.ok(ms >= 350 && ms < 400 + SLACK_MS, `ended after ${ms} ms`);
    await server.allClosed();
  });

  it('retries a trickling answer as a timeout, each attempt bounded', async () => {
    server.on('/v1/embeddings', { kind: 'trickle', everyMs: 20 }, { kind: 'ok', body: { ok: true } });
    const answer = await createEndpoint(config(server.url, { retries: 1 })).postJson('/v1/embeddings', {});
    assert.deepEqual(answer, { ok: true });
    assert.equal(server.requests.length, 2);
  });

  it('ends an HTTP 500 with a never-ending body quickly with its status, reading only the start', async () => {
    server.on('/v1/embeddings', { kind: 'flood', status: 500, contentType: 'text/plain' });
    const { error, ms } = await failure(() => createEndpoint(config(server.url, { timeoutMs: 10_000 })).postJson('/v1/embeddings', {}));
    assert.equal(error.status, 500);
    assert.match(error.reason, /^HTTP 500/);
    assert.ok(ms < SLACK_MS, `ended after ${ms} ms`);
    await server.allClosed();
    assert.ok(server.written[0] < 32 * 1024 * 1024, `the server wrote ${server.written[0]} bytes`);
  });

  it('ends an HTTP 500 whose body trickles at the timeout', async () => {
    server.on('/v1/embeddings', { kind: 'trickle', status: 500, everyMs: 20 });
    const { error, ms } = await failure(() => createEndpoint(config(server.url)).postJson('/v1/embeddings', {}));
    assert.match(error.reason, /no complete answer within 400 ms/);
    assert.ok(ms < 400 + SLACK_MS, `ended after ${ms} ms`);
    await server.allClosed();
  });

  it('refuses a JSON answer larger than the largest answer, naming the limit and how to raise it', async () => {
    server.on('/v1/embeddings', { kind: 'flood', status: 200 });
    const { error } = await failure(() => createEndpoint(config(server.url, { timeoutMs: 20_000, maxResponseBytes: 1024 * 1024 })).postJson('/v1/embeddings', {}));
    assert.match(error.message, /\/v1\/embeddings: the answer is larger than 1 MiB \(the largest answer\) — raise "largest answer" of the opea-server config node/);
    await server.allClosed();
    assert.ok(server.written[0] < 32 * 1024 * 1024, `the server wrote ${server.written[0]} bytes`);
  });

  it('refuses a declared Content-Length above the limit before reading the body', async () => {
    server.on('/v1/embeddings', { kind: 'flood', status: 200, bytes: 200 * 1024 * 1024, declare: true });
    const { error } = await failure(() => createEndpoint(config(server.url, { timeoutMs: 20_000, maxResponseBytes: 4096 })).postJson('/v1/embeddings', {}));
    assert.match(error.reason, /larger than 4096 bytes/);
    await server.allClosed();
  });

  it('reads an answer just under the limit', async () => {
    server.on('/v1/embeddings', { kind: 'flood', status: 200, bytes: 4000 });
    // 4000 spaces are not JSON: the point is that the size passed.
    const { error } = await failure(() => createEndpoint(config(server.url, { maxResponseBytes: 4096 })).postJson('/v1/embeddings', {}));
    assert.match(error.reason, /the answer is not JSON/);
  });

  it('retries a connection reset in the middle of the body', async () => {
    server.on('/v1/embeddings', { kind: 'reset' }, { kind: 'ok', body: { after: 'reset' } });
    assert.deepEqual(await createEndpoint(config(server.url, { retries: 1 })).postJson('/v1/embeddings', {}), { after: 'reset' });
    server.on('/v1/reset', { kind: 'reset' });
    const { error } = await failure(() => createEndpoint(config(server.url, { retries: 0 })).postJson('/v1/reset', {}));
    assert.match(error.reason, /request failed \(ECONNRESET\)/);
  });

  it('ends an endless stream of events at the stream limit, and closes it', async () => {
    server.on('/v1/chat/completions', { kind: 'events', everyMs: 10 });
    const endpoint = createEndpoint(config(server.url, { timeoutMs: 2000, streamTimeoutMs: 700 }));
    const events: string[] = [];
    const { error, ms } = await failure(async () => {
      for await (const event of endpoint.postStream('/v1/chat/completions', {})) events.push(event);
    });
    assert.match(error.message, /\/v1\/chat\/completions: the stream went on for more than 0\.7 s \(the stream limit\) — raise "stream limit" of the opea-server config node/);
    assert.ok(events.length > 5, `only ${events.length} events before the limit`);
    assert.ok(ms >= 650 && ms < 700 + SLACK_MS, `ended after ${ms} ms`);
    await server.allClosed();
  });

  it('does not let keep-alive comments restart the wait for the next event', async () => {
    server.on('/v1/chat/completions', { kind: 'comments', everyMs: 20 });
    const { error, ms } = await failure(() => drain(createEndpoint(config(server.url)).postStream('/v1/chat/completions', {})));
    assert.match(error.reason, /the stream stalled for 400 ms without an event \(the timeout\)/);
    assert.ok(ms >= 350 && ms < 400 + SLACK_MS, `ended after ${ms} ms`);
    await server.allClosed();
  });

  it('keeps a stream going while events come faster than the timeout', async () => {
    server.on('/v1/chat/completions', { kind: 'events', everyMs: 50 });
    const endpoint = createEndpoint(config(server.url, { timeoutMs: 1000, streamTimeoutMs: 3000 }));
    const events: string[] = [];
    const { error } = await failure(async () => {
      for await (const event of endpoint.postStream('/v1/chat/completions', {})) events.push(event);
    });
    // Three times the timeout between the first event and the end: events restarted the wait.
    assert.match(error.reason, /stream limit/);
    assert.ok(events.length >= 10, `${events.length} events`);
  });

  it('refuses a stream line that never ends, naming the event limit, and closes the connection', async () => {
    server.on('/v1/chat/completions', { kind: 'long-line' });
    const { error } = await failure(() => drain(createEndpoint(config(server.url, { timeoutMs: 20_000, maxEventBytes: 64 * 1024 })).postStream('/v1/chat/completions', {})));
    assert.match(error.message, /a stream line is longer than 65536 bytes \(the largest stream event\) — a model server sends far shorter events/);
    await server.allClosed();
    assert.ok(server.written[0] < 32 * 1024 * 1024, `the server wrote ${server.written[0]} bytes`);
  });

  it('refuses a stream event of endless data lines', async () => {
    server.on('/v1/chat/completions', { kind: 'long-event' });
    const { error } = await failure(() => drain(createEndpoint(config(server.url, { timeoutMs: 20_000, maxEventBytes: 64 * 1024 })).postStream('/v1/chat/completions', {})));
    assert.match(error.reason, /a stream event is longer than 65536 bytes/);
    await server.allClosed();
  });

  it('caps all the bytes of a stream at the largest answer', async () => {
    server.on('/v1/chat/completions', { kind: 'events', everyMs: 1 });
    const { error } = await failure(() => drain(createEndpoint(config(server.url, { maxResponseBytes: 8 * 1024, timeoutMs: 20_000 })).postStream('/v1/chat/completions', {})));
    assert.match(error.reason, /the answer is larger than 8192 bytes \(the largest answer\)/);
    await server.allClosed();
  });

  it('reads a non-stream answer to a stream request within the timeout and the size limit', async () => {
    server.on('/v1/chat/completions', { kind: 'trickle', everyMs: 20 });
    const trickled = await failure(() => drain(createEndpoint(config(server.url)).postStream('/v1/chat/completions', {})));
    assert.match(trickled.error.reason, /no complete answer within 400 ms/);
    server.on('/v1/chat/completions', { kind: 'flood', status: 200 });
    const flooded = await failure(() => drain(createEndpoint(config(server.url, { timeoutMs: 20_000, maxResponseBytes: 64 * 1024 })).postStream('/v1/chat/completions', {})));
    assert.match(flooded.error.reason, /larger than 65536 bytes/);
    await server.allClosed();
  });

  it('waits the Retry-After seconds of a 429 instead of the backoff', async () => {
    server.on('/v1/embeddings', { kind: 'retry-after', status: 429, retryAfter: '1' }, { kind: 'ok', body: { ok: 1 } });
    const started = Date.now();
    await createEndpoint(config(server.url, { retries: 1, backoffMs: 10, timeoutMs: 5000 })).postJson('/v1/embeddings', {});
    const [first, second] = server.requests;
    assert.ok(second.at - first.at >= 950, `retried after ${second.at - first.at} ms`);
    assert.ok(Date.now() - started < 1000 + SLACK_MS);
  });

  it('waits until the HTTP-date of a 503 Retry-After', async () => {
    const at = new Date(Date.now() + 3000);
    server.on('/v1/embeddings', { kind: 'retry-after', status: 503, retryAfter: at.toUTCString() }, { kind: 'ok', body: { ok: 1 } });
    await createEndpoint(config(server.url, { retries: 1, backoffMs: 10, timeoutMs: 5000 })).postJson('/v1/embeddings', {});
    const [first, second] = server.requests;
    // The date has whole seconds: it is 2 to 3 s after it was written, less the time the answer took
    // to arrive (wide margin for a busy machine); the backoff alone would retry after 10 ms.
    assert.ok(second.at - first.at >= 1000, `retried after ${second.at - first.at} ms`);
  });

  it('does not wait for a Retry-After longer than the timeout: it fails at once saying so', async () => {
    server.on('/v1/embeddings', { kind: 'retry-after', status: 429, retryAfter: '3600' });
    const { error, ms } = await failure(() => createEndpoint(config(server.url, { retries: 2, timeoutMs: 5000 })).postJson('/v1/embeddings', {}));
    assert.equal(error.status, 429);
    assert.match(error.message, /HTTP 429: \{"error":"slow down"\}; it asks to retry after 3600 s, longer than the timeout \(5 s\)/);
    assert.match(error.hint, /raise the timeout/);
    assert.equal(server.requests.length, 1);
    assert.ok(ms < SLACK_MS);
  });

  it('ignores Retry-After on other statuses and when no retry is left', async () => {
    server.on('/v1/embeddings', { kind: 'retry-after', status: 502, retryAfter: '3600' }, { kind: 'ok', body: { ok: 1 } });
    const started = Date.now();
    await createEndpoint(config(server.url, { retries: 1, backoffMs: 10 })).postJson('/v1/embeddings', {});
    assert.ok(Date.now() - started < SLACK_MS);
    server.on('/v1/x', { kind: 'retry-after', status: 429, retryAfter: '3600' });
    const { error } = await failure(() => createEndpoint(config(server.url, { retries: 0 })).postJson('/v1/x', {}));
    assert.match(error.reason, /^HTTP 429: \{"error":"slow down"\}$/);
  });
});

describe('retryAfterMs', () => {
  it('reads delay-seconds and HTTP-dates, and nothing else', () => {
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    assert.equal(retryAfterMs('120', now), 120_000);
    assert.equal(retryAfterMs(' 0 ', now), 0);
    assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:28:30 GMT', now), 30_000);
    assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:27:00 GMT', now), 0, 'a date in the past means now');
    for (const bad of [undefined, '', '-1', '1.5', 'soon', ['1']]) assert.equal(retryAfterMs(bad, now), undefined, String(bad));
  });
});

describe('validateEndpoint limits', () => {
  const ok = config('http://127.0.0.1:1');
  it('refuses limits that would stop every call', () => {
    assert.equal(validateEndpoint({ ...ok, streamTimeoutMs: 1000, maxResponseBytes: 1024, maxEventBytes: 4096 }), null);
    assert.match(validateEndpoint({ ...ok, streamTimeoutMs: 0 }) ?? '', /stream limit must be more than 0/);
    assert.match(validateEndpoint({ ...ok, maxResponseBytes: 10 }) ?? '', /largest answer must be at least 1 KiB/);
    assert.match(validateEndpoint({ ...ok, maxEventBytes: NaN }) ?? '', /largest stream event/);
  });
});

describe('memory while refusing a 200 MB answer', function () {
  this.timeout(60_000);
  // Besides the body, Node holds about 16 MiB of socket buffers freed but not yet collected or given
  // back to the system (measured: +40 MiB RSS at the default 16 MiB, +55 MiB at 32 MiB, +96 MiB at 64 MiB).
  it('stays below twice the largest answer (48 MiB) above what the process held before', async () => {
    const server = await HostileServer.start();
    try {
      server.on('/v1/embeddings', { kind: 'flood', status: 200, bytes: 200 * 1024 * 1024 });
      const limit = 48 * 1024 * 1024;
      const child = spawn(process.execPath, [path.join(__dirname, '..', 'support', 'flood-client.js'), server.url, String(limit)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 0, out);
      const report = JSON.parse(out.trim().split('\n').pop() as string) as { before: number; peak: number; error: string };
      assert.match(report.error, /larger than 48 MiB/);
      const grew = report.peak - report.before;
      assert.ok(grew < 2 * limit, `RSS grew by ${(grew / 2 ** 20).toFixed(1)} MiB for a limit of 48 MiB`);
      await server.allClosed();
      assert.ok(server.written[0] < 100 * 1024 * 1024, `the server wrote ${server.written[0]} bytes`);
    } finally {
      await server.close();
    }
  });
});
