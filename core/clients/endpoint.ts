/**
 * How every service node reaches its server: one place for base URL, key, timeout, retries with
 * backoff, extra headers and TLS, and for error messages that say which server failed and what to
 * check. Keep-alive agents are shared per endpoint so a hop costs no new connection.
 */
import http from 'node:http';
import https from 'node:https';
import axios, { AxiosResponse } from 'axios';
import type { Readable } from 'node:stream';
import { SseParser } from './sse';

export interface EndpointConfig {
  baseUrl: string;
  apiKey?: string;
  /** Per request, milliseconds. For streams: until the first byte, and between bytes. */
  timeoutMs: number;
  /** Extra attempts after a refused connection, a timeout, 429 or 502/503/504. */
  retries: number;
  /** First wait between attempts; doubles each time. */
  backoffMs: number;
  headers: Record<string, string>;
  /** false accepts self-signed certificates (https only). */
  verifyTls: boolean;
}

export const ENDPOINT_DEFAULTS = { timeoutMs: 60_000, retries: 2, backoffMs: 250, verifyTls: true } as const;

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

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'EAI_AGAIN']);

export function validateEndpoint(config: EndpointConfig): string | null {
  let url: URL;
  try {
    url = new URL(config.baseUrl);
  } catch {
    return `'${config.baseUrl}' is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `'${config.baseUrl}' is not an http(s) URL`;
  if (!(config.timeoutMs > 0)) return 'the timeout must be more than 0 ms';
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

function bodySnippet(data: unknown): string {
  const text = typeof data === 'string' ? data : Buffer.isBuffer(data) ? data.toString('utf8') : JSON.stringify(data);
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}

function networkError(url: string, err: unknown, timeoutMs: number): ServiceError {
  const e = err as { code?: string; message?: string };
  if (e.code === 'ECONNREFUSED') return new ServiceError(url, 'connection refused', 'is the server running, and are host and port right?');
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return new ServiceError(url, 'host not found', 'check the host name in the base URL');
  if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '')) {
    return new ServiceError(url, `no answer within ${timeoutMs} ms`, 'raise the timeout, or check the server is not overloaded');
  }
  if (e.code === 'ERR_CANCELED') return new ServiceError(url, 'cancelled', 'the node was stopped or redeployed');
  if (e.code && /CERT|SELF_SIGNED|TLS/.test(e.code)) return new ServiceError(url, `TLS failed (${e.code})`, 'install the CA, or untick "verify TLS" for a self-signed server you trust');
  return new ServiceError(url, `request failed (${e.code ?? e.message ?? String(err)})`, 'check the base URL and the network');
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
  });

export function parseJsonBody(url: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ServiceError(url, `the answer is not JSON: ${bodySnippet(text) || '(empty)'}`, 'check the base URL points at the API and the backend setting matches the server');
  }
}

class HttpEndpoint implements Endpoint {
  private readonly agent: http.Agent | https.Agent;

  constructor(readonly config: EndpointConfig) {
    const secure = config.baseUrl.startsWith('https:');
    this.agent = secure
      ? new https.Agent({ keepAlive: true, rejectUnauthorized: config.verifyTls })
      : new http.Agent({ keepAlive: true });
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    const headers: Record<string, string> = { ...this.config.headers, ...extra };
    if (this.config.apiKey) headers.Authorization = `Bearer ${this.config.apiKey}`;
    return headers;
  }

  private async send<T>(path: string, data: unknown, headers: Record<string, string>, responseType: 'text' | 'stream', signal?: AbortSignal): Promise<AxiosResponse<T>> {
    const url = joinUrl(this.config.baseUrl, path);
    for (let attempt = 0; ; attempt++) {
      let response: AxiosResponse<T> | undefined;
      let failure: ServiceError | undefined;
      try {
        response = await axios.post<T>(url, data, {
          headers: this.headers(headers),
          timeout: this.config.timeoutMs,
          responseType,
          transformResponse: (x: T) => x,
          validateStatus: () => true,
          httpAgent: this.agent,
          httpsAgent: this.agent,
          maxRedirects: 0,
          proxy: false,
          signal,
        });
      } catch (err) {
        failure = networkError(url, err, this.config.timeoutMs);
        if (!RETRYABLE_CODES.has((err as { code?: string }).code ?? '') || signal?.aborted) throw failure;
      }
      if (response && response.status < 300) return response;
      if (response) {
        const body = responseType === 'stream' ? await readAll(response.data as unknown as Readable) : response.data;
        failure = new ServiceError(url, `HTTP ${response.status}${bodySnippet(body) ? `: ${bodySnippet(body)}` : ''}`, statusHint(response.status), response.status);
        if (!RETRYABLE_STATUS.has(response.status)) throw failure;
      }
      if (attempt >= this.config.retries) throw failure as ServiceError;
      await sleep(this.config.backoffMs * 2 ** attempt, signal);
      if (signal?.aborted) throw new ServiceError(url, 'cancelled', 'the node was stopped or redeployed');
    }
  }

  async postJson(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    const response = await this.send<string>(path, JSON.stringify(body), { 'Content-Type': 'application/json', Accept: 'application/json' }, 'text', signal);
    return parseJsonBody(joinUrl(this.config.baseUrl, path), response.data);
  }

  async postForm(path: string, form: FormData, signal?: AbortSignal): Promise<unknown> {
    const response = await this.send<string>(path, form, { Accept: 'application/json' }, 'text', signal);
    return parseJsonBody(joinUrl(this.config.baseUrl, path), response.data);
  }

  async *postStream(path: string, body: unknown, signal?: AbortSignal): AsyncGenerator<string, void, undefined> {
    const url = joinUrl(this.config.baseUrl, path);
    const response = await this.send<Readable>(path, JSON.stringify(body), { 'Content-Type': 'application/json', Accept: 'text/event-stream' }, 'stream', signal);
    const type = String(response.headers['content-type'] ?? '');
    const stream = response.data;
    if (!type.includes('text/event-stream')) {
      // Some servers ignore `stream` and answer with one JSON document: hand it on as a single event.
      yield (await readAll(stream)).toString('utf8');
      return;
    }
    const parser = new SseParser();
    const idle = this.config.timeoutMs;
    try {
      for await (const chunk of withIdleTimeout(stream, idle, url)) {
        for (const event of parser.push(chunk as Buffer)) yield event;
      }
    } catch (err) {
      if (err instanceof ServiceError) throw err;
      throw new ServiceError(url, `the stream broke off (${(err as { code?: string }).code ?? (err as Error).message})`, 'check the server logs; the answer is incomplete');
    } finally {
      stream.destroy();
    }
    if (parser.end().partial) {
      throw new ServiceError(url, 'the stream ended in the middle of an event', 'the server closed the connection early: check its logs');
    }
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(parts);
}

async function* withIdleTimeout(stream: Readable, ms: number, url: string): AsyncGenerator<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => stream.destroy(Object.assign(new Error('idle'), { code: 'STREAM_IDLE' })), ms);
  };
  arm();
  try {
    for await (const chunk of stream) {
      arm();
      yield chunk;
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'STREAM_IDLE') throw new ServiceError(url, `the stream stalled for ${ms} ms`, 'raise the timeout, or check the server');
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** One endpoint per config: its agent keeps connections alive between messages. */
export function createEndpoint(config: EndpointConfig): Endpoint {
  return new HttpEndpoint(config);
}
