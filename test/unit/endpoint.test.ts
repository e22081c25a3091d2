import assert from 'node:assert/strict';
import http from 'node:http';
import { createEndpoint, EndpointConfig, ServiceError, validateEndpoint } from '../../core/clients/endpoint';
import { closeServer, freePort, listenLoopback } from '../support/loopback';
import { ProtocolServer } from '../support/protocol-server';

function config(baseUrl: string, overrides: Partial<EndpointConfig> = {}): EndpointConfig {
  return { baseUrl, timeoutMs: 5000, retries: 0, backoffMs: 10, headers: {}, verifyTls: true, ...overrides };
}

/** Awaits `promise`, expecting a ServiceError; returns it for closer checks. */
async function serviceError(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ServiceError, `expected a ServiceError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ServiceError, the call succeeded');
}

const EMBED_BODY = { input: 'hello', model: 'm' };
const CHAT_STREAM_BODY = { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] };

describe('validateEndpoint', () => {
  const ok = config('http://127.0.0.1:8080');

  it('accepts http and https URLs with valid settings', () => {
    assert.equal(validateEndpoint(ok), null);
    assert.equal(validateEndpoint({ ...ok, baseUrl: 'https://example.com/v1', retries: 10, headers: { 'X-Tenant': 'a b', 'x_under.score~': 'v' } }), null);
    assert.equal(validateEndpoint({ ...ok, retries: 0 }), null);
  });

  it('refuses what is not an http(s) URL', () => {
    assert.match(validateEndpoint({ ...ok, baseUrl: 'ftp://host/x' }) ?? '', /'ftp:\/\/host\/x' is not an http\(s\) URL/);
    assert.match(validateEndpoint({ ...ok, baseUrl: 'file:///etc/passwd' }) ?? '', /not an http\(s\) URL/);
    assert.match(validateEndpoint({ ...ok, baseUrl: 'javascript:alert(1)' }) ?? '', /not an http\(s\) URL/);
    assert.match(validateEndpoint({ ...ok, baseUrl: 'localhost:8080' }) ?? '', /not an http\(s\) URL/);
    assert.match(validateEndpoint({ ...ok, baseUrl: 'not a url' }) ?? '', /'not a url' is not a URL/);
    assert.match(validateEndpoint({ ...ok, baseUrl: '' }) ?? '', /is not a URL/);
  });

  it('refuses bad header names and CR/LF in header values', () => {
    assert.match(validateEndpoint({ ...ok, headers: { 'Bad Header': 'x' } }) ?? '', /header name 'Bad Header' is not a valid HTTP header name/);
    assert.match(validateEndpoint({ ...ok, headers: { 'X:Y': 'x' } }) ?? '', /header name/);
    assert.match(validateEndpoint({ ...ok, headers: { '': 'x' } }) ?? '', /header name/);
    assert.match(validateEndpoint({ ...ok, headers: { 'Bad\nName': 'x' } }) ?? '', /header name/);
    assert.match(validateEndpoint({ ...ok, headers: { 'X-Ok': 'a\r\nX-Injected: 1' } }) ?? '', /header 'X-Ok' has a line break/);
    assert.match(validateEndpoint({ ...ok, headers: { 'X-Ok': 'a\nb' } }) ?? '', /line break/);
    assert.match(validateEndpoint({ ...ok, headers: { 'X-Ok': 'a\rb' } }) ?? '', /line break/);
  });

  it('refuses retries outside 0..10 and a timeout that is not positive', () => {
    assert.match(validateEndpoint({ ...ok, retries: 11 }) ?? '', /retries must be a whole number from 0 to 10/);
    assert.match(validateEndpoint({ ...ok, retries: -1 }) ?? '', /retries/);
    assert.match(validateEndpoint({ ...ok, retries: 1.5 }) ?? '', /retries/);
    assert.match(validateEndpoint({ ...ok, timeoutMs: 0 }) ?? '', /timeout/);
    assert.match(validateEndpoint({ ...ok, timeoutMs: NaN }) ?? '', /timeout/);
  });
});

describe('ServiceError', () => {
  it('names the server, the reason and the hint', () => {
    const err = new ServiceError('http://h/x', 'HTTP 503', 'check its logs', 503);
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'ServiceError');
    assert.equal(err.message, 'http://h/x: HTTP 503 — check its logs');
    assert.equal(err.status, 503);
  });
});

describe('createEndpoint against the loopback protocol server', () => {
  let server: ProtocolServer;

  beforeEach(async () => {
    server = await ProtocolServer.start({ chunkBoundary: 'odd' });
  });

  afterEach(async () => {
    await server.close();
  });

  it('posts JSON and returns the parsed answer', async () => {
    const endpoint = createEndpoint(config(server.url));
    const answer = (await endpoint.postJson('/v1/embeddings', EMBED_BODY)) as { data: { embedding: number[] }[] };
    assert.equal(answer.data[0].embedding.length, 8);
    assert.equal(server.requests.length, 1);
    assert.deepEqual(server.requests[0].body, EMBED_BODY);
    assert.match(String(server.requests[0].headers['content-type']), /application\/json/);
  });

  it('joins base URL and path without doubling slashes', async () => {
    await createEndpoint(config(`${server.url}//`)).postJson('/v1/embeddings', EMBED_BODY);
    assert.equal(server.requests[0].path, '/v1/embeddings');
  });

  it("takes a base URL given with OpenAI's /v1 without doubling it", async () => {
    await createEndpoint(config(`${server.url}/v1/`)).postJson('/v1/embeddings', EMBED_BODY);
    await createEndpoint(config(`${server.url}/proxy`)).postJson('/v1/embeddings', EMBED_BODY).catch(() => undefined);
    assert.deepEqual(server.requests.map((r) => r.path), ['/v1/embeddings', '/proxy/v1/embeddings']);
  });

  for (const status of [503, 429, 502, 504]) {
    it(`retries HTTP ${status} with doubling backoff and succeeds when the server recovers`, async () => {
      server.fault('/v1/embeddings', { status, times: 2 });
      const endpoint = createEndpoint(config(server.url, { retries: 2, backoffMs: 40 }));
      const started = Date.now();
      await endpoint.postJson('/v1/embeddings', EMBED_BODY);
      const elapsed = Date.now() - started;
      assert.equal(server.requests.length, 3);
      assert.ok(elapsed >= 40 + 80 - 5, `waited ${elapsed} ms, expected at least 120`);
    });
  }

  it('gives up after `retries` extra attempts with the last HTTP error', async () => {
    server.fault('/v1/embeddings', { status: 503 });
    const endpoint = createEndpoint(config(server.url, { retries: 3, backoffMs: 20 }));
    const started = Date.now();
    const err = await serviceError(endpoint.postJson('/v1/embeddings', EMBED_BODY));
    const elapsed = Date.now() - started;
    assert.equal(server.requests.length, 4);
    assert.ok(elapsed >= 20 + 40 + 80 - 5, `waited ${elapsed} ms, expected at least 140`);
    assert.equal(err.status, 503);
    assert.match(err.message, /HTTP 503/);
    assert.match(err.message, /injected/, 'the body of the answer is quoted');
    assert.ok(err.url.endsWith('/v1/embeddings'));
  });

  for (const status of [400, 401, 404, 500]) {
    it(`does not retry HTTP ${status}`, async () => {
      server.fault('/v1/embeddings', { status });
      const endpoint = createEndpoint(config(server.url, { retries: 3, backoffMs: 10 }));
      const err = await serviceError(endpoint.postJson('/v1/embeddings', EMBED_BODY));
      assert.equal(server.requests.length, 1);
      assert.equal(err.status, status);
      assert.match(err.message, new RegExp(`HTTP ${status}`));
    });
  }

  it('hints at the API key on 401 and at the base URL on 404', async () => {
    const unknownPath = await serviceError(createEndpoint(config(server.url)).postJson('/no/such/api', {}));
    assert.equal(unknownPath.status, 404);
    assert.match(unknownPath.hint, /base URL/);
    const keyed = await ProtocolServer.start({ apiKey: 'right' });
    try {
      const err = await serviceError(createEndpoint(config(keyed.url, { apiKey: 'wrong', retries: 2 })).postJson('/v1/embeddings', EMBED_BODY));
      assert.equal(err.status, 401);
      assert.match(err.hint, /API key/);
      assert.equal(keyed.requests.length, 1);
    } finally {
      await keyed.close();
    }
  });

  it('retries a refused connection with doubling backoff, then says the connection was refused', async () => {
    const port = await freePort();
    const endpoint = createEndpoint(config(`http://127.0.0.1:${port}`, { retries: 2, backoffMs: 50 }));
    const started = Date.now();
    const err = await serviceError(endpoint.postJson('/v1/embeddings', EMBED_BODY));
    const elapsed = Date.now() - started;
    assert.match(err.reason, /connection refused/);
    assert.match(err.hint, /server running/);
    assert.ok(elapsed >= 50 + 100 - 5, `waited ${elapsed} ms, expected at least 150`);
  });

  it('does not wait when retries is 0', async () => {
    const port = await freePort();
    const started = Date.now();
    await serviceError(createEndpoint(config(`http://127.0.0.1:${port}`, { retries: 0, backoffMs: 2000 })).postJson('/x', {}));
    assert.ok(Date.now() - started < 1500);
  });

  it('names the timeout in milliseconds when the server does not answer in time', async () => {
    server.fault('/v1/embeddings', { delayMs: 3000 });
    const endpoint = createEndpoint(config(server.url, { timeoutMs: 150, retries: 0 }));
    const started = Date.now();
    const err = await serviceError(endpoint.postJson('/v1/embeddings', EMBED_BODY));
    assert.match(err.message, /no complete answer within 150 ms \(the timeout\)/);
    assert.match(err.hint, /raise the timeout/);
    assert.ok(Date.now() - started < 2500);
  });

  it('retries a timeout and succeeds when the next answer is quick', async () => {
    server.fault('/v1/embeddings', { delayMs: 2000, times: 1 });
    const endpoint = createEndpoint(config(server.url, { timeoutMs: 200, retries: 1, backoffMs: 10 }));
    await endpoint.postJson('/v1/embeddings', EMBED_BODY);
    assert.equal(server.requests.length, 2);
  });

  it('sends the extra headers and Authorization: Bearer <apiKey>', async () => {
    const keyed = await ProtocolServer.start({ apiKey: 'sk-test' });
    try {
      const endpoint = createEndpoint(config(keyed.url, { apiKey: 'sk-test', headers: { 'X-Tenant': 'acme', 'X-Trace-Id': 't-1' } }));
      await endpoint.postJson('/v1/embeddings', EMBED_BODY);
      const { headers } = keyed.requests[0];
      assert.equal(headers.authorization, 'Bearer sk-test');
      assert.equal(headers['x-tenant'], 'acme');
      assert.equal(headers['x-trace-id'], 't-1');
    } finally {
      await keyed.close();
    }
  });

  it('sends no Authorization header without an API key', async () => {
    await createEndpoint(config(server.url)).postJson('/v1/embeddings', EMBED_BODY);
    assert.equal(server.requests[0].headers.authorization, undefined);
  });

  it('explains an answer that is not JSON', async () => {
    server.fault('/v1/embeddings', { malformedJson: true });
    const err = await serviceError(createEndpoint(config(server.url)).postJson('/v1/embeddings', EMBED_BODY));
    assert.match(err.reason, /the answer is not JSON: \{"data": \[/);
  });

  it('postForm sends multipart form data', async () => {
    const form = new FormData();
    form.append('files', new Blob(['some document text']), 'doc.txt');
    form.append('chunk_size', '100');
    const answer = (await createEndpoint(config(server.url)).postForm('/v1/dataprep/ingest', form)) as { status: number };
    assert.equal(answer.status, 200);
    assert.equal(server.documents[server.documents.length - 1].text, 'some document text');
  });

  it('postStream yields each SSE event of a stream split at odd byte positions', async () => {
    const endpoint = createEndpoint(config(server.url));
    const events: string[] = [];
    for await (const event of endpoint.postStream('/v1/chat/completions', CHAT_STREAM_BODY)) events.push(event);
    assert.equal(events[events.length - 1], '[DONE]');
    const text = events
      .slice(0, -1)
      .map((e) => (JSON.parse(e) as { choices: { delta: { content?: string } }[] }).choices[0].delta.content ?? '')
      .join('');
    assert.equal(text, 'Hello, wörld 🌍!');
    assert.ok(server.lastWriteSizes.length > events.length, 'the server really split the events');
    assert.equal(server.requests[0].headers.accept, 'text/event-stream');
  });

  it('postStream yields the events of a stream that ends early between events (the caller checks for [DONE])', async () => {
    server.fault('/v1/chat/completions', { truncateStream: true });
    const events: string[] = [];
    for await (const event of createEndpoint(config(server.url)).postStream('/v1/chat/completions', CHAT_STREAM_BODY)) events.push(event);
    assert.ok(events.length > 0);
    assert.ok(!events.includes('[DONE]'));
    for (const e of events) JSON.parse(e);
  });

  it('postStream hands on a JSON answer as one event when the server ignores `stream`', async () => {
    const events: string[] = [];
    for await (const event of createEndpoint(config(server.url)).postStream('/v1/embeddings', EMBED_BODY)) events.push(event);
    assert.equal(events.length, 1);
    assert.equal((JSON.parse(events[0]) as { object: string }).object, 'list');
  });

  it('postStream retries a 503 before the stream starts', async () => {
    server.fault('/v1/chat/completions', { status: 503, times: 1 });
    const events: string[] = [];
    for await (const event of createEndpoint(config(server.url, { retries: 1 })).postStream('/v1/chat/completions', CHAT_STREAM_BODY)) events.push(event);
    assert.equal(events[events.length - 1], '[DONE]');
    assert.equal(server.requests.length, 2);
  });

  it('postStream reports the HTTP error body of a refused stream', async () => {
    server.fault('/v1/chat/completions', { status: 400 });
    const err = await serviceError((async () => {
      for await (const event of createEndpoint(config(server.url)).postStream('/v1/chat/completions', CHAT_STREAM_BODY)) void event;
    })());
    assert.equal(err.status, 400);
    assert.match(err.message, /injected/);
  });

  it('an aborted AbortSignal stops a slow call with a cancelled error, without retrying', async () => {
    server.fault('/v1/embeddings', { delayMs: 5000 });
    const endpoint = createEndpoint(config(server.url, { retries: 3 }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const err = await serviceError(endpoint.postJson('/v1/embeddings', EMBED_BODY, controller.signal));
    assert.match(err.reason, /cancelled/);
    assert.ok(Date.now() - started < 2000);
    assert.equal(server.requests.length, 1);
  });

  it('an abort during the backoff wait stops the retries with a cancelled error', async () => {
    server.fault('/v1/embeddings', { status: 503 });
    const endpoint = createEndpoint(config(server.url, { retries: 3, backoffMs: 5000 }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 150);
    const started = Date.now();
    const err = await serviceError(endpoint.postJson('/v1/embeddings', EMBED_BODY, controller.signal));
    assert.match(err.reason, /cancelled/);
    assert.ok(Date.now() - started < 2000);
    assert.equal(server.requests.length, 1);
  });

  it('an already aborted signal sends nothing', async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await serviceError(createEndpoint(config(server.url)).postJson('/v1/embeddings', EMBED_BODY, controller.signal));
    assert.match(err.reason, /cancelled/);
    assert.equal(server.requests.length, 0);
  });

  it('an abort stops a slow stream', async () => {
    server.fault('/v1/chat/completions', { delayMs: 5000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const err = await serviceError((async () => {
      for await (const event of createEndpoint(config(server.url)).postStream('/v1/chat/completions', CHAT_STREAM_BODY, controller.signal)) void event;
    })());
    assert.match(err.reason, /cancelled/);
  });
});

describe('postStream against a server that cuts the stream', () => {
  let raw: http.Server;
  let url: string;
  let send: (res: http.ServerResponse) => void;

  beforeEach(async () => {
    raw = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => send(res));
    });
    url = await listenLoopback(raw);
  });

  afterEach(() => closeServer(raw));

  async function collect(timeoutMs = 5000): Promise<{ events: string[]; error?: unknown }> {
    const events: string[] = [];
    try {
      for await (const event of createEndpoint(config(url, { timeoutMs })).postStream('/stream', {})) events.push(event);
      return { events };
    } catch (error) {
      return { events, error };
    }
  }

  it('throws a ServiceError when the response ends in the middle of an event, after yielding the whole events', async () => {
    send = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"n":1}\n\n');
      res.end('data: {"n":2');
    };
    const { events, error } = await collect();
    assert.deepEqual(events, ['{"n":1}']);
    assert.ok(error instanceof ServiceError, String(error));
    assert.match(error.message, /ended in the middle of an event/);
  });

  it('throws a ServiceError when the connection drops mid-event', async () => {
    send = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"n":1}\n\ndata: {"n"');
      setTimeout(() => res.socket?.destroy(), 50);
    };
    const { events, error } = await collect();
    assert.deepEqual(events, ['{"n":1}']);
    assert.ok(error instanceof ServiceError, String(error));
    assert.match(error.message, /stream broke off|middle of an event/);
  });

  it('throws a ServiceError naming the ms when the stream stalls', async () => {
    send = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: a\n\n');
    };
    const { events, error } = await collect(200);
    assert.deepEqual(events, ['a']);
    assert.ok(error instanceof ServiceError, String(error));
    assert.match(error.message, /stalled for 200 ms/);
  });

  it('ends quietly when the stream ends between events', async () => {
    send = (res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      res.end('data: a\r\n\r\n: bye\r\n');
    };
    assert.deepEqual(await collect(), { events: ['a'] });
  });
});
