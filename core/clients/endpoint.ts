/**
 * How every service node reaches its server: one place for base URL, key, limits, retries with
 * backoff, extra headers and TLS, and for error messages that say which server failed, which limit
 * fired and what to check. Keep-alive agents are shared per endpoint so a hop costs no new connection.
 *
 * Limits, so that no call waits or reads without end:
 * - a JSON answer (or a non-stream answer to a stream request, or an error answer) must arrive whole —
 *   connect, headers and every byte of the body — within `timeoutMs` per attempt;
 * - a stream must send its headers within `timeoutMs`, then a complete event at least every
 *   `timeoutMs` (bytes that complete no event, such as keep-alive comments, do not count), and end
 *   within `streamTimeoutMs` of the request;
 * - a body may hold at most `maxResponseBytes` (a stream, all its bytes), one stream line or event at
 *   most `maxEventBytes`.
 * When a limit fires the connection is destroyed, so the server sees it closed.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { sleep } from '../sleep';
import { SseLimitError, SseParser } from './sse';

export interface EndpointConfig {
  baseUrl: string;
  apiKey?: string;
  /** Per attempt, milliseconds: the whole exchange of a JSON answer; for a stream, until its headers and then between events. */
  timeoutMs: number;
  /** Extra attempts after a refused connection, a timeout, 429 or 502/503/504. */
  retries: number;
  /** First wait between attempts; doubles each time. A Retry-After of 429/503 is waited for instead when longer. */
  backoffMs: number;
  headers: Record<string, string>;
  /** false accepts self-signed certificates (https only). */
  verifyTls: boolean;
  /** The longest a stream may last from its request, milliseconds. */
  streamTimeoutMs?: number;
  /** The most bytes read of one answer: a JSON body, or all of a stream. */
  maxResponseBytes?: number;
  /** The most characters of one stream line or event. */
  maxEventBytes?: number;
}

const MIB = 1024 * 1024;

export const ENDPOINT_DEFAULTS = {
  timeoutMs: 60_000,
  retries: 2,
  backoffMs: 250,
  verifyTls: true,
  streamTimeoutMs: 600_000,
  maxResponseBytes: 16 * MIB,
  maxEventBytes: 1 * MIB,
} as const;

/** Of an error answer only the start is read (for the message); the connection is then closed. */
const ERROR_BODY_BYTES = 64 * 1024;

/** A failed call: what went wrong with which server, and what to check. */
export class ServiceError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
    readonly hint: string,
    readonly status?: number,
  ) {
    super(`${url}: ${reason} — ${hint}`);
    this.name = 'ServiceError';
  }
}

export interface Endpoint {
  readonly config: EndpointConfig;
  postJson(path: string, body: unknown, signal?: AbortSignal): Promise<unknown>;
  postForm(path: string, form: FormData, signal?: AbortSignal): Promise<unknown>;
  /** Posts and yields each SSE event's data; ends when the server ends the response. */
  postStream(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<string, void, undefined>;
}

/** Headers for one request, asked with its URL as it is sent (tracing's traceparent); none unless set. */
export type RequestHeaderHook = (url: string) => Record<string, string> | undefined;
let requestHeaderHook: RequestHeaderHook | undefined;

export function setRequestHeaderHook(hook: RequestHeaderHook | undefined): void {
  requestHeaderHook = hook;
}

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const RETRY_AFTER_STATUS = new Set([429, 503]);
const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

export function validateEndpoint(config: EndpointConfig): string | null {
  let url: URL;
  try {
    url = new URL(config.baseUrl);
  } catch {
    return `'${config.baseUrl}' is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `'${config.baseUrl}' is not an http(s) URL`;
  if (!(config.timeoutMs > 0)) return 'the timeout must be more than 0 ms';
  if (config.streamTimeoutMs !== undefined && !(config.streamTimeoutMs > 0)) return 'the stream limit must be more than 0 ms';
  if (config.maxResponseBytes !== undefined && !(config.maxResponseBytes >= 1024)) return 'the largest answer must be at least 1 KiB';
  if (config.maxEventBytes !== undefined && !(config.maxEventBytes >= 1024)) return 'the largest stream event must be at least 1 KiB';
  if (!Number.isInteger(config.retries) || config.retries < 0 || config.retries > 10) return 'retries must be a whole number from 0 to 10';
  for (const [name, value] of Object.entries(config.headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return `header name '${name}' is not a valid HTTP header name`;
    if (/[\r\n]/.test(value)) return `header '${name}' has a line break in its value`;
  }
  return null;
}

/** Base URLs are often given with OpenAI's `/v1` (as `https://api.openai.com/v1`); it is not doubled. */
function joinUrl(base: string, path: string): string {
  const trimmed = base.replace(/\/+$/, '');
  return trimmed.endsWith('/v1') && path.startsWith('/v1/') ? `${trimmed}${path.slice(3)}` : `${trimmed}${path}`;
}

function statusHint(status: number): string {
  if (status === 401 || status === 403) return "check the API key in the server's config node";
  if (status === 404) return 'check the base URL and that this server offers this API (backend setting)';
  if (status === 413) return 'send less text at once';
  if (status === 422 || status === 400) return 'the server refused the request body: check the backend setting matches the server, and the model id';
  if (status === 429) return 'the server is rate limiting: lower the request rate or raise retries';
  if (status >= 500) return 'the server failed: check its logs';
  return 'check the server';
}

function bodySnippet(data: Buffer | string): string {
  const flat = data.toString().replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(3))} s`;
const sizeText = (bytes: number) => (bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes} bytes`);

function networkError(url: string, err: unknown): ServiceError {
  const e = err as { code?: string; message?: string };
  if (e.code === 'ECONNREFUSED') return new ServiceError(url, 'connection refused', 'is the server running, and are host and port right?');
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return new ServiceError(url, 'host not found', 'check the host name in the base URL');
  if (e.code && /CERT|SELF_SIGNED|TLS/.test(e.code)) return new ServiceError(url, `TLS failed (${e.code})`, 'install the CA, or untick "verify TLS" for a self-signed server you trust');
  return new ServiceError(url, `request failed (${e.code ?? e.message ?? String(err)})`, 'check the base URL and the network');
}

const cancelled = (url: string) => new ServiceError(url, 'cancelled', 'the node was stopped or redeployed');

/**
 * Milliseconds a Retry-After header asks to wait: delay-seconds or an HTTP-date (RFC 9110 §10.2.3);
 * undefined when absent or unreadable.
 */
export function retryAfterMs(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/[A-Za-z]/.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function parseJsonBody(url: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ServiceError(url, `the answer is not JSON: ${bodySnippet(text) || '(empty)'}`, 'check the base URL points at the API and the backend setting matches the server');
  }
}

/**
 * The limits of one attempt: timers that abort the exchange, and which limit fired. The caller's
 * signal aborts it too (then `fired` stays unset: it was cancelled).
 */
class Limits {
  private readonly controller = new AbortController();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly onOuterAbort = () => this.controller.abort();
  fired?: ServiceError;
  /** The name of the timer that fired, when one did. */
  firedBy?: string;

  constructor(private readonly outer?: AbortSignal) {
    if (outer?.aborted) this.controller.abort();
    else outer?.addEventListener('abort', this.onOuterAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Starts (or restarts) the timer `name`: after `ms`, the attempt fails with `error()`. */
  arm(name: string, ms: number, error: () => ServiceError): void {
    clearTimeout(this.timers.get(name));
    this.timers.set(name, setTimeout(() => this.fail(error(), name), ms));
  }

  disarm(name: string): void {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
  }

  fail(error: ServiceError, by?: string): void {
    if (this.controller.signal.aborted) return;
    this.fired = error;
    this.firedBy = by;
    this.controller.abort();
  }

  /** What an error thrown during the attempt means: the limit that fired, a cancel, or the error itself. */
  explain(url: string, err: unknown): ServiceError | undefined {
    if (this.fired) return this.fired;
    if (this.outer?.aborted) return cancelled(url);
    return err instanceof ServiceError ? err : undefined;
  }

  end(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.outer?.removeEventListener('abort', this.onOuterAbort);
  }
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  stream: http.IncomingMessage;
}

interface Outgoing {
  body: Buffer;
  headers: Record<string, string>;
}

class HttpEndpoint implements Endpoint {
  private readonly agent: http.Agent | https.Agent;
  private readonly streamTimeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly maxEventBytes: number;

  constructor(readonly config: EndpointConfig) {
    const secure = config.baseUrl.startsWith('https:');
    this.agent = secure
      ? new https.Agent({ keepAlive: true, rejectUnauthorized: config.verifyTls })
      : new http.Agent({ keepAlive: true });
    this.streamTimeoutMs = config.streamTimeoutMs ?? ENDPOINT_DEFAULTS.streamTimeoutMs;
    this.maxResponseBytes = config.maxResponseBytes ?? ENDPOINT_DEFAULTS.maxResponseBytes;
    this.maxEventBytes = config.maxEventBytes ?? ENDPOINT_DEFAULTS.maxEventBytes;
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    const headers: Record<string, string> = { ...this.config.headers, ...extra };
    if (this.config.apiKey) headers.Authorization = `Bearer ${this.config.apiKey}`;
    return headers;
  }

  private timeoutError(url: string): ServiceError {
    return new ServiceError(url, `no complete answer within ${this.config.timeoutMs} ms (the timeout)`, 'raise the timeout of the opea-server config node, or check the server is not overloaded');
  }

  private tooLarge(url: string): ServiceError {
    return new ServiceError(url, `the answer is larger than ${sizeText(this.maxResponseBytes)} (the largest answer)`, 'raise "largest answer" of the opea-server config node, or ask for less at once');
  }

  /** Sends the request; resolves with the answer's status and headers, its body not yet read. */
  private request(url: string, out: Outgoing, limits: Limits): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const client = url.startsWith('https:') ? https : http;
      const req = client.request(url, {
        method: 'POST',
        headers: { ...this.headers(out.headers), ...requestHeaderHook?.(url), 'Content-Length': String(out.body.byteLength) },
        agent: this.agent,
        signal: limits.signal,
      });
      req.on('response', (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, stream: res }));
      req.on('error', reject);
      req.end(out.body);
    });
  }

  /**
   * Sends with retries. `read` takes a successful answer within the attempt's limits (its timeout
   * still running); its result is returned.
   */
  private async send<T>(path: string, out: Outgoing, signal: AbortSignal | undefined, read: (answer: Answer, limits: Limits, url: string) => Promise<T>): Promise<T> {
    const url = joinUrl(this.config.baseUrl, path);
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw cancelled(url);
      const limits = new Limits(signal);
      limits.arm('timeout', this.config.timeoutMs, () => this.timeoutError(url));
      let failure: ServiceError;
      let retry: boolean;
      let wait = this.config.backoffMs * 2 ** attempt;
      let answer: Answer | undefined;
      try {
        answer = await this.request(url, out, limits);
        if (answer.status >= 200 && answer.status < 300) {
          return await read(answer, limits, url);
        }
        const body = await readBody(answer.stream, ERROR_BODY_BYTES, true);
        const snippet = bodySnippet(body);
        failure = new ServiceError(url, `HTTP ${answer.status}${snippet ? `: ${snippet}` : ''}`, statusHint(answer.status), answer.status);
        retry = RETRYABLE_STATUS.has(answer.status);
        const asked = RETRY_AFTER_STATUS.has(answer.status) ? retryAfterMs(answer.headers['retry-after']) : undefined;
        if (retry && asked !== undefined && attempt < this.config.retries) {
          if (asked > this.config.timeoutMs) {
            throw new ServiceError(url, `${failure.reason}; it asks to retry after ${seconds(asked)}, longer than the timeout (${seconds(this.config.timeoutMs)})`, `${failure.hint}; retry later, or raise the timeout of the opea-server config node to wait that long`, answer.status);
          }
          wait = Math.max(wait, asked);
        }
      } catch (err) {
        answer?.stream.destroy();
        const known = limits.explain(url, err);
        if (known && limits.firedBy === 'timeout') {
          failure = known;
          retry = true;
        } else if (known) {
          throw known;
        } else {
          failure = networkError(url, err);
          retry = RETRYABLE_CODES.has((err as { code?: string }).code ?? '');
          if (!retry) throw failure;
        }
      } finally {
        limits.end();
      }
      if (!retry || attempt >= this.config.retries) throw failure;
      await sleep(wait, signal);
    }
  }

  private async json(path: string, out: Outgoing, signal?: AbortSignal): Promise<unknown> {
    const text = await this.send(path, out, signal, async (answer, limits, url) => {
      try {
        return (await readBody(answer.stream, this.maxResponseBytes)).toString('utf8');
      } catch (err) {
        if (err instanceof BodyTooLarge) limits.fail(this.tooLarge(url));
        throw err;
      }
    });
    return parseJsonBody(joinUrl(this.config.baseUrl, path), text);
  }

  postJson(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    return this.json(path, { body: Buffer.from(JSON.stringify(body)), headers: { 'Content-Type': 'application/json', Accept: 'application/json' } }, signal);
  }

  async postForm(path: string, form: FormData, signal?: AbortSignal): Promise<unknown> {
    // The fetch API's encoder writes the multipart body and its boundary.
    const encoded = new Response(form);
    const body = Buffer.from(await encoded.arrayBuffer());
    return this.json(path, { body, headers: { 'Content-Type': encoded.headers.get('content-type') ?? 'multipart/form-data', Accept: 'application/json' } }, signal);
  }

  async *postStream(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<string, void, undefined> {
    const started = Date.now();
    const out = { body: Buffer.from(JSON.stringify(body)), headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' } };
    // A non-stream answer is read whole within the attempt's timeout; a stream is handed on with its limits still running.
    const opened = await this.send<{ single: string } | { answer: Answer; url: string }>(path, out, signal, async (answer, limits, url) => {
      if (String(answer.headers['content-type'] ?? '').includes('text/event-stream')) return { answer, url };
      try {
        return { single: (await readBody(answer.stream, this.maxResponseBytes)).toString('utf8') };
      } catch (err) {
        if (err instanceof BodyTooLarge) limits.fail(this.tooLarge(url));
        throw err;
      }
    });
    if ('single' in opened) {
      // Some servers ignore `stream` and answer with one JSON document: hand it on as a single event.
      yield opened.single;
      return;
    }
    yield* this.events(opened.answer.stream, opened.url, started, signal);
  }

  private async *events(stream: Readable, url: string, started: number, signal?: AbortSignal): AsyncGenerator<string, void, undefined> {
    const limits = new Limits(signal);
    const stalled = () => new ServiceError(url, `the stream stalled for ${this.config.timeoutMs} ms without an event (the timeout)`, 'raise the timeout of the opea-server config node, or check the server');
    limits.arm('idle', this.config.timeoutMs, stalled);
    limits.arm('total', Math.max(0, this.streamTimeoutMs - (Date.now() - started)), () =>
      new ServiceError(url, `the stream went on for more than ${seconds(this.streamTimeoutMs)} (the stream limit)`, 'raise "stream limit" of the opea-server config node, or ask for a shorter answer (max tokens)'),
    );
    const abort = () => stream.destroy();
    limits.signal.addEventListener('abort', abort, { once: true });
    const parser = new SseParser(this.maxEventBytes);
    let bytes = 0;
    try {
      for await (const chunk of stream) {
        bytes += (chunk as Buffer).byteLength;
        if (bytes > this.maxResponseBytes) throw this.tooLarge(url);
        const events = parser.push(chunk as Buffer);
        if (events.length > 0) limits.arm('idle', this.config.timeoutMs, stalled);
        for (const event of events) yield event;
      }
      if (limits.fired || signal?.aborted) throw new Error('aborted');
    } catch (err) {
      if (err instanceof SseLimitError) {
        throw new ServiceError(url, `a stream ${err.what} is longer than ${sizeText(this.maxEventBytes)} (the largest stream event)`, 'a model server sends far shorter events: check the base URL and backend setting point at the model server');
      }
      const known = limits.explain(url, err);
      if (known) throw known;
      throw new ServiceError(url, `the stream broke off (${(err as { code?: string }).code ?? (err as Error).message})`, 'check the server logs; the answer is incomplete');
    } finally {
      limits.signal.removeEventListener('abort', abort);
      limits.end();
      stream.destroy();
    }
    if (parser.end().partial) {
      throw new ServiceError(url, 'the stream ended in the middle of an event', 'the server closed the connection early: check its logs');
    }
  }
}

class BodyTooLarge extends Error {}

/**
 * The body, at most `limit` bytes: beyond it, BodyTooLarge — or, with `truncate`, the first `limit`
 * bytes — and the stream is destroyed (its connection closed) rather than read on.
 */
async function readBody(stream: http.IncomingMessage, limit: number, truncate = false): Promise<Buffer> {
  const declared = Number(stream.headers['content-length']);
  if (!truncate && declared > limit) {
    stream.destroy();
    throw new BodyTooLarge();
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const piece = chunk as Buffer;
    if (size + piece.byteLength > limit) {
      stream.destroy();
      if (!truncate) throw new BodyTooLarge();
      parts.push(piece.subarray(0, limit - size));
      return Buffer.concat(parts);
    }
    parts.push(piece);
    size += piece.byteLength;
  }
  return Buffer.concat(parts, size);
}

/** One endpoint per config: its agent keeps connections alive between messages. */
export function createEndpoint(config: EndpointConfig): Endpoint {
  return new HttpEndpoint(config);
}
