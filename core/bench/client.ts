/**
 * One benchmark request with raw timings: the time of every non-empty content chunk (an SSE event or a
 * whole JSON answer), measured from just before the request is written, and a failure sorted by kind.
 * A lean client of its own (not the shared Endpoint): no retries, no backoff, a total timeout per
 * request, and little between the socket and the clock (see http1.ts).
 */
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { SseParser } from '../clients/sse';
import { decodePythonBytes } from '../clients/llm';
import { isObject } from '../clients/wire';
import { Carrier, ConnectionPool, ResponseHandler, ResponseHead } from './http1';

/**
 * openai: `/v1/chat/completions` (streams with `stream_options.include_usage`, ends with `[DONE]`);
 * opea: a megaservice such as ChatQnA (`{"messages": prompt}`); gmc: a GMC router (`{"text": prompt}`);
 * json: any JSON POST endpoint (object prompts are the body, text prompts go as `{"text": prompt}`).
 */
export const TARGET_KINDS = ['openai', 'opea', 'gmc', 'json'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export interface Target {
  /** The URL requests are posted to. */
  url: string;
  kind: TargetKind;
  stream: boolean;
  model?: string;
  maxTokens?: number;
  apiKey?: string;
  headers?: Record<string, string>;
  verifyTls?: boolean;
}

export type Prompt = string | Record<string, unknown>;

export const ERROR_KINDS = ['timeout', 'refused', 'http', 'malformed', 'truncated', 'server error', 'network', 'aborted'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface RequestOutcome {
  ok: boolean;
  error?: { kind: ErrorKind; message: string; status?: number };
  /** ms from sending to each non-empty content chunk. */
  contentTimesMs: number[];
  /** ms from sending until the response ended (or failed). */
  e2eMs: number;
  text: string;
  usage?: { promptTokens?: number; completionTokens: number };
}

/** Where a target kind's requests go: an OpenAI base URL (with or without `/v1`) gets `/v1/chat/completions`. */
export function targetUrl(baseUrl: string, kind: TargetKind): string {
  const trimmed = baseUrl.trim().replace(/\/+$/, '');
  if (kind !== 'openai' || /\/chat\/completions$/.test(trimmed)) return trimmed;
  return trimmed.endsWith('/v1') ? `${trimmed}/chat/completions` : `${trimmed}/v1/chat/completions`;
}

/** The text of a prompt, for counting its tokens. */
export function promptText(prompt: Prompt): string {
  if (typeof prompt === 'string') return prompt;
  const messages = prompt.messages;
  if (typeof messages === 'string') return messages;
  if (Array.isArray(messages)) return messages.map((m) => (isObject(m) && typeof m.content === 'string' ? m.content : '')).join('\n');
  for (const key of ['text', 'prompt', 'query', 'inputs']) if (typeof prompt[key] === 'string') return prompt[key] as string;
  return JSON.stringify(prompt);
}

export function requestBody(target: Target, prompt: Prompt): Record<string, unknown> {
  const overrides = typeof prompt === 'string' ? {} : prompt;
  const text = typeof prompt === 'string' ? prompt : undefined;
  switch (target.kind) {
    case 'openai':
      return {
        ...(target.model ? { model: target.model } : {}),
        ...(text !== undefined ? { messages: [{ role: 'user', content: text }] } : {}),
        ...(target.maxTokens ? { max_tokens: target.maxTokens } : {}),
        stream: target.stream,
        ...(target.stream ? { stream_options: { include_usage: true } } : {}),
        ...overrides,
      };
    case 'opea':
      return { ...(text !== undefined ? { messages: text } : {}), ...(target.maxTokens ? { max_tokens: target.maxTokens } : {}), stream: target.stream, ...overrides };
    case 'gmc':
      return { ...(text !== undefined ? { text } : {}), ...(target.maxTokens ? { parameters: { max_new_tokens: target.maxTokens } } : {}), ...overrides };
    case 'json':
      return text !== undefined ? { text } : overrides;
  }
}

/** Text, usage and end marker found in one event or answer; null when it has no shape we know. */
interface Piece {
  text: string;
  usage?: { promptTokens?: number; completionTokens: number };
  error?: string;
}

function pieceOf(value: unknown): Piece | null {
  if (typeof value === 'string') return { text: value };
  if (!isObject(value)) return null;
  if (value.error !== undefined && value.error !== null) return { text: '', error: JSON.stringify(value.error).slice(0, 200) };
  const u = value.usage;
  const usage = isObject(u) && typeof u.completion_tokens === 'number' ? { completionTokens: u.completion_tokens, promptTokens: typeof u.prompt_tokens === 'number' ? u.prompt_tokens : undefined } : undefined;
  if (Array.isArray(value.choices)) {
    const choice = value.choices[0];
    if (choice === undefined) return { text: '', usage };
    if (!isObject(choice)) return null;
    const text = isObject(choice.delta) ? choice.delta.content : isObject(choice.message) ? choice.message.content : choice.text;
    return { text: typeof text === 'string' ? text : '', usage };
  }
  if (isObject(value.token) && typeof value.token.text === 'string') return { text: value.token.special === true ? '' : value.token.text };
  for (const key of ['text', 'generated_text', 'answer', 'content']) if (typeof value[key] === 'string') return { text: value[key] as string, usage };
  return usage ? { text: '', usage } : null;
}

class Failure extends Error {
  constructor(readonly kind: ErrorKind, message: string, readonly status?: number) {
    super(message);
  }
}

function classify(err: unknown): Failure {
  if (err instanceof Failure) return err;
  const code = (err as { code?: string }).code;
  if (code === 'ECONNREFUSED') return new Failure('refused', 'connection refused');
  return new Failure('network', `request failed (${code ?? (err as Error).message})`);
}

/** What the requests in flight answer to: stopping the run, and their deadline passing. */
interface Pending {
  readonly deadline: number;
  abort(): void;
  timeOut(): void;
}

/**
 * The requests in flight of a run: stopping the run aborts them all, and one timer, set for the
 * earliest deadline, times them out (cheaper than a timer and an AbortSignal listener per request).
 */
export class InFlight {
  private readonly pending = new Set<Pending>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;

  get aborted(): boolean {
    return this.stopped;
  }

  add(request: Pending): void {
    this.pending.add(request);
    if (request.deadline < this.timerAt) this.arm(request.deadline);
  }

  delete(request: Pending): void {
    this.pending.delete(request);
    if (this.pending.size === 0) this.disarm();
  }

  abortAll(): void {
    this.stopped = true;
    this.disarm();
    for (const request of this.pending) request.abort();
    this.pending.clear();
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.sweep(), at - performance.now());
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  /** Times out the requests past their deadline and waits for the next one; a timer that fired early just waits again. */
  private sweep(): void {
    this.timerAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const request of this.pending) {
      if (request.deadline <= now) request.timeOut();
      else next = Math.min(next, request.deadline);
    }
    if (next < Infinity) this.arm(next);
  }
}

/** How a run reaches its target: the lean HTTP/1.1 pool for http, node:https (TLS) for https. */
export type Connections = { kind: 'lean'; pool: ConnectionPool } | { kind: 'node'; agent: https.Agent };

export interface SendOptions {
  connections: Connections;
  timeoutMs: number;
  inflight: InFlight;
}

/** Kept-alive connections for a whole run, without a cap (concurrency is the runner's). */
export function openConnections(target: Target): Connections {
  const url = new URL(target.url);
  if (url.protocol === 'https:') return { kind: 'node', agent: new https.Agent({ keepAlive: true, rejectUnauthorized: target.verifyTls !== false }) };
  return { kind: 'lean', pool: new ConnectionPool(hostOf(url), Number(url.port || 80)) };
}

export function closeConnections(connections: Connections): void {
  if (connections.kind === 'lean') connections.pool.destroy();
  else connections.agent.destroy();
}

const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '');

/** A request ready to send again and again: serialized once per prompt. */
export interface PreparedRequest {
  readonly target: Target;
  readonly payload: Buffer;
  readonly headers: Record<string, string>;
  readonly url: URL;
  /** Request line, headers and body, for the lean client. */
  readonly bytes: Buffer;
}

export function prepareRequest(target: Target, prompt: Prompt): PreparedRequest {
  const payload = Buffer.from(JSON.stringify(requestBody(target, prompt)));
  const url = new URL(target.url);
  const headers: Record<string, string> = {
    ...target.headers,
    host: url.host,
    'content-type': 'application/json',
    'content-length': String(payload.length),
    accept: target.stream ? 'text/event-stream, application/json' : 'application/json',
  };
  if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
  const head = `POST ${url.pathname}${url.search} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return { target, payload, headers, url, bytes: Buffer.concat([Buffer.from(head, 'latin1'), payload]) };
}

/** Sends through node:https, reporting to the same handler as the lean client. */
function sendThroughNode(prepared: PreparedRequest, agent: https.Agent, handler: ResponseHandler): Carrier {
  let headed = false;
  const request = https.request({ method: 'POST', hostname: hostOf(prepared.url), port: prepared.url.port || undefined, path: `${prepared.url.pathname}${prepared.url.search}`, headers: prepared.headers, agent });
  request.on('error', (err) => handler.error(err, headed));
  request.on('response', (response) => {
    headed = true;
    handler.head({ status: response.statusCode ?? 0, headers: Object.fromEntries(Object.entries(response.headers).map(([k, v]) => [k, String(v)])) });
    response.on('data', (chunk: Buffer) => handler.body(chunk));
    response.on('aborted', () => handler.error(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }), true));
    response.on('error', (err) => handler.error(err, true));
    response.on('end', () => handler.end());
  });
  request.end(prepared.payload);
  return { cancel: () => request.destroy() };
}

/**
 * One request from sending to its outcome: the handler of its response and one of the requests in
 * flight. One object per request, its methods on the prototype: closures per request cost more.
 */
class Attempt implements ResponseHandler, Pending {
  readonly deadline: number;
  private readonly times: number[] = [];
  private text = '';
  private usage: RequestOutcome['usage'];
  private settled = false;
  /** The response arrived whole: its connection stays usable even when the request failed (HTTP status, content). */
  private complete = false;
  private status = 0;
  private sawDone = false;
  private sse: SseParser | undefined;
  /** The body of an answer that is not an event stream, copied (the lean client only lends its bytes). */
  private readonly parts: Buffer[] = [];
  private carrier: Carrier | undefined;

  constructor(private readonly kind: TargetKind, private readonly options: SendOptions, private readonly started: number, private readonly resolve: (outcome: RequestOutcome) => void) {
    this.deadline = started + options.timeoutMs;
  }

  send(prepared: PreparedRequest): void {
    const { connections } = this.options;
    this.carrier = connections.kind === 'lean' ? connections.pool.send(prepared.bytes, this) : sendThroughNode(prepared, connections.agent, this);
  }

  head(head: ResponseHead): void {
    this.status = head.status;
    if ((head.headers['content-type'] ?? '').includes('text/event-stream')) this.sse = new SseParser();
  }

  body(chunk: Buffer): void {
    if (this.settled) return;
    if (this.status >= 400 || !this.sse) {
      this.parts.push(Buffer.from(chunk));
      return;
    }
    const at = performance.now();
    try {
      for (const data of this.sse.push(chunk)) this.event(data, at);
    } catch (err) {
      this.fail(err);
    }
  }

  end(): void {
    this.complete = true;
    if (this.settled) return;
    const at = performance.now();
    try {
      if (this.status >= 400) throw httpFailure(this.status, this.bodyText());
      if (this.sse) this.checkStreamEnd(this.sse);
      else this.content(answerPiece(this.kind, this.bodyText()), at);
      this.finish(undefined, at);
    } catch (err) {
      this.fail(err);
    }
  }

  error(err: Error & { code?: string }, afterHead: boolean): void {
    if (err.code === 'HPE_INVALID') return this.fail(new Failure('malformed', `the response is not valid HTTP: ${err.message}`));
    this.fail(afterHead ? new Failure('truncated', `the response broke off after ${this.times.length} content chunks (${err.code ?? err.message})`) : err);
  }

  abort(): void {
    this.fail(new Failure('aborted', 'the run was stopped'));
  }

  timeOut(): void {
    this.fail(new Failure('timeout', `no complete answer within ${this.options.timeoutMs} ms`));
  }

  private event(data: string, at: number): void {
    if (this.sawDone && this.kind === 'openai') throw new Failure('malformed', 'events after [DONE]');
    if (data.trim() === '[DONE]') this.sawDone = true;
    else this.content(eventPiece(this.kind, data), at);
  }

  private checkStreamEnd(sse: SseParser): void {
    if (sse.end().partial) throw new Failure('truncated', 'the stream ended in the middle of an event');
    if (this.kind === 'openai' && !this.sawDone) throw new Failure('truncated', `the stream ended without data: [DONE] after ${this.times.length} content chunks`);
  }

  private content(piece: Piece, at: number): void {
    if (piece.error !== undefined) throw new Failure('server error', `the server reported an error: ${piece.error}`);
    if (piece.usage) this.usage = piece.usage;
    if (piece.text === '') return;
    this.times.push(at - this.started);
    this.text += piece.text;
  }

  private bodyText(): string {
    return (this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts)).toString('utf8');
  }

  private fail(err: unknown): void {
    this.finish(classify(err), performance.now());
  }

  private finish(error: Failure | undefined, at: number): void {
    if (this.settled) return;
    this.settled = true;
    this.options.inflight.delete(this);
    if (error && !this.complete) this.carrier?.cancel(this);
    const { times: contentTimesMs, text, usage } = this;
    const e2eMs = at - this.started;
    this.resolve(error ? { ok: false, error: { kind: error.kind, message: error.message, status: error.status }, contentTimesMs, e2eMs, text, usage } : { ok: true, contentTimesMs, e2eMs, text, usage });
  }
}

function httpFailure(status: number, body: string): Failure {
  return new Failure('http', `HTTP ${status}${body.trim() ? `: ${body.replace(/\s+/g, ' ').trim().slice(0, 160)}` : ''}`, status);
}

export function sendRequest(prepared: PreparedRequest, options: SendOptions): Promise<RequestOutcome> {
  return new Promise((resolve) => {
    const attempt = new Attempt(prepared.target.kind, options, performance.now(), resolve);
    if (options.inflight.aborted) return attempt.abort();
    options.inflight.add(attempt);
    attempt.send(prepared);
  });
}

function eventPiece(kind: TargetKind, data: string): Piece {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    // OPEA megaservices have streamed Python byte literals (b'...') and bare text.
    if (kind === 'openai') throw new Failure('malformed', `a stream event is not JSON: ${data.slice(0, 120)}`);
    return { text: decodePythonBytes(data.trim()) ?? data };
  }
  const piece = pieceOf(value);
  if (piece) return piece;
  if (kind === 'openai') throw new Failure('malformed', `a stream event has no choices or usage: ${data.slice(0, 120)}`);
  return { text: '' };
}

function answerPiece(kind: TargetKind, body: string): Piece {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    if (kind === 'openai') throw new Failure('malformed', `the answer is not JSON: ${body.slice(0, 120) || '(empty)'}`);
    return { text: body };
  }
  const piece = pieceOf(Array.isArray(value) ? value[0] : value);
  if (piece) return piece;
  if (kind === 'openai') throw new Failure('malformed', 'the answer has no choices');
  return { text: body };
}
