// A loopback HTTP server that speaks the wire protocols of the model servers an OPEA pipeline talks to
// (TEI embed/rerank, OpenAI embeddings and chat, OPEA GenAIComps v1.5 retriever/reranking/LLM/dataprep,
// TGI generate), with fault injection. Test-only: binds 127.0.0.1 on an ephemeral port, answers a bounded
// number of requests, and every response (streams included) is finite.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Fault {
  /** Answer this HTTP status with body `{"error":"injected"}` (JSON). */
  status?: number;
  /** 200 with body '{"data": [' (truncated JSON), content-type application/json. */
  malformedJson?: boolean;
  /** Wait before answering (combines with any other field). */
  delayMs?: number;
  /** Destroy the socket without answering. */
  hangUp?: boolean;
  /** SSE endpoints: send the first half of the events, then end without the terminator ([DONE] or the
   *  final TGI event). Ignored by non-streaming answers. */
  truncateStream?: boolean;
  /** How many requests the fault applies to (default: all); afterwards normal answers. */
  times?: number;
}

export interface ProtocolServerOptions {
  /** Length of every embedding the server produces and expects on /v1/retrieval; default 8. */
  embeddingDimensions?: number;
  /** How SSE bytes are split into socket writes: whole events, one byte per write, or odd splits
   *  (1,3,7,2,… byte pieces, plus forced cuts inside every 'data:' and every multi-byte UTF-8 character).
   *  Default 'odd'. */
  chunkBoundary?: 'whole' | 'byte' | 'odd';
  /** 'data: x' (true) or 'data:x' (false). When unset: OpenAI-style streams use the space, TGI streams
   *  do not (that is what the real servers send). */
  sseSpace?: boolean;
  /** The generated tokens; default ['Hello', ',', ' wörld', ' 🌍', '!']. */
  tokens?: string[];
  /** Requests after this many get their socket closed; default 10,000. */
  maxRequests?: number;
  /** When set, every request must carry `Authorization: Bearer <apiKey>` or gets 401. */
  apiKey?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON; for multipart/urlencoded bodies `{fields, files}`; the raw text when it does not parse;
   *  undefined when empty. */
  body: unknown;
  /** For generation endpoints: the prompt the server saw (LLMParamsDoc: documents + query). */
  prompt?: string;
}

export interface MultipartBody {
  fields: Record<string, string[]>;
  files: { name: string; filename: string; content: string }[];
}

export interface CorpusDocument {
  text: string;
  metadata?: Record<string, unknown>;
}

const DEFAULT_TOKENS = ['Hello', ',', ' wörld', ' 🌍', '!'];
const DEFAULT_DOCUMENTS: CorpusDocument[] = [
  {
    text: 'OPEA is the Open Platform for Enterprise AI, a set of composable microservices for GenAI pipelines.',
    metadata: { source: 'opea.md', topic: 'opea' },
  },
  {
    text: 'Node-RED is a flow-based programming tool for wiring together devices, APIs and services.',
    metadata: { source: 'node-red.md', topic: 'node-red' },
  },
  {
    text: 'Redis is an in-memory key value store that can also index vectors for similarity search.',
    metadata: { source: 'redis.md', topic: 'redis' },
  },
  {
    text: 'Paris is the capital of France and is famous for the Eiffel Tower and the Louvre museum.',
    metadata: { source: 'paris.md', topic: 'paris' },
  },
  {
    text: 'To cook pasta, boil salted water, add the noodles and stir until they are al dente.',
    metadata: { source: 'cooking.md', topic: 'cooking' },
  },
  {
    text: 'Kubernetes schedules containers onto nodes and restarts pods when they fail.',
    metadata: { source: 'kubernetes.md', topic: 'kubernetes' },
  },
];

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const ODD_SIZES = [1, 3, 7, 2, 5, 11, 4, 13, 6, 9];

// ---------------------------------------------------------------------------------------------------------
// Deterministic embedding

function fnv1a(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function wordsOf(text: string): string[] {
  const lower = text.toLowerCase();
  const words = lower.match(/[\p{L}\p{N}]+/gu);
  if (words) return words;
  return text.length > 0 ? [lower] : [];
}

function rawEmbedding(text: string, dimensions: number): number[] {
  const v = new Array<number>(dimensions).fill(0);
  for (const w of wordsOf(text)) {
    // Only positive contributions, so words can never cancel each other out.
    v[fnv1a(w, 0) % dimensions] += 1;
    v[fnv1a(w, 0x9e3779b9) % dimensions] += 0.5;
  }
  return v;
}

/** Deterministic embedding used by the server: a hash of lowercased words into `dimensions` buckets,
 *  L2-normalised (non-zero for any non-empty text; all zeros for ''). Exported so tests can predict answers. */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  if (!Number.isInteger(dimensions) || dimensions < 1) throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`);
  const v = rawEmbedding(text, dimensions);
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm === 0 ? v : v.map((x) => x / norm);
}

/** Cosine similarity; 0 when either vector is all zeros. */
export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** The score /rerank and /v1/reranking use: cosine of the fake embeddings mapped to 0..1. */
export function rerankScore(query: string, text: string, dimensions: number): number {
  return (cosine(fakeEmbedding(query, dimensions), fakeEmbedding(text, dimensions)) + 1) / 2;
}

function wordCount(text: string): number {
  const t = text.trim();
  return t === '' ? 0 : t.split(/\s+/).length;
}

function hex(bytes: number): string {
  return crypto.randomBytes(bytes).toString('hex');
}

// ---------------------------------------------------------------------------------------------------------
// Multipart

/** Parses a multipart/form-data body (RFC 7578). Throws on malformed input. */
export function parseMultipart(body: Buffer, boundary: string): MultipartBody {
  const delimiter = Buffer.from(`--${boundary}`);
  const innerDelimiter = Buffer.from(`\r\n--${boundary}`);
  const result: MultipartBody = { fields: {}, files: [] };
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw new Error('boundary not found in body');
  for (;;) {
    pos += delimiter.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return result; // closing delimiter
    while (body[pos] === 0x20 || body[pos] === 0x09) pos++; // transport padding
    if (body[pos] !== 0x0d || body[pos + 1] !== 0x0a) throw new Error('expected CRLF after boundary');
    pos += 2;
    let headerText = '';
    let contentStart: number;
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) {
      contentStart = pos + 2; // part without headers
    } else {
      const headerEnd = body.indexOf('\r\n\r\n', pos);
      if (headerEnd < 0) throw new Error('part headers not terminated');
      headerText = body.toString('utf8', pos, headerEnd);
      contentStart = headerEnd + 4;
    }
    const next = body.indexOf(innerDelimiter, contentStart);
    if (next < 0) throw new Error('closing boundary missing');
    const content = body.subarray(contentStart, next);
    pos = next + 2;

    let name: string | undefined;
    let filename: string | undefined;
    for (const line of headerText.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      if (line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue;
      const params = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
      for (let m = params.exec(line); m; m = params.exec(line)) {
        const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '').trim();
        const key = m[1].toLowerCase();
        if (key === 'name') name = value;
        else if (key === 'filename') filename = value;
      }
    }
    if (name === undefined) continue;
    if (filename !== undefined) result.files.push({ name, filename, content: content.toString('utf8') });
    else (result.fields[name] ??= []).push(content.toString('utf8'));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Server

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly payload: unknown,
  ) {
    super(typeof payload === 'string' ? payload : JSON.stringify(payload));
  }
}

const invalid = (detail: string): HttpError => new HttpError(422, { detail });

interface ParsedBody {
  kind: 'empty' | 'json' | 'form' | 'invalid';
  value: unknown;
  error?: string;
}

interface Context {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  record: RecordedRequest;
  parsed: ParsedBody;
  truncate: boolean;
}

type Handler = (ctx: Context) => void | Promise<void>;

interface Route {
  method: 'GET' | 'POST';
  body: 'none' | 'json' | 'form';
  handle: Handler;
}

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalPositiveInt(body: JsonObject, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw invalid(`${key} must be a positive integer`);
  return v;
}

function optionalBoolean(body: JsonObject, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(`${key} must be a boolean`);
  return v;
}

function requireString(body: JsonObject, key: string): string {
  const v = body[key];
  if (v === undefined || v === null) throw invalid(`field required: ${key}`);
  if (typeof v !== 'string') throw invalid(`${key} must be a string`);
  return v;
}

function stringOrStrings(body: JsonObject, key: string): string[] {
  const v = body[key];
  if (v === undefined || v === null) throw invalid(`field required: ${key}`);
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v as string[];
  throw invalid(`${key} must be a string or a non-empty list of strings`);
}

function sendJson(res: http.ServerResponse, status: number, payload: unknown, extraHeaders: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...extraHeaders,
  });
  res.end(text);
}

function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) => (isObject(part) && typeof part.text === 'string' ? part.text : ''))
      .filter((t) => t !== '')
      .join('\n');
  }
  return '';
}

export class ProtocolServer {
  readonly requests: RecordedRequest[] = [];
  /** The corpus /v1/retrieval searches; /v1/dataprep/ingest appends to it. */
  documents: CorpusDocument[] = DEFAULT_DOCUMENTS.map((d) => ({ text: d.text, metadata: { ...d.metadata } }));
  /** Sizes of the socket writes (payload bytes, before chunked framing) of the last SSE response. */
  lastWriteSizes: number[] = [];

  private readonly server: http.Server;
  private readonly dimensions: number;
  private readonly chunkBoundary: 'whole' | 'byte' | 'odd';
  private readonly sseSpace: boolean | undefined;
  private readonly tokens: string[];
  private readonly maxRequests: number;
  private readonly apiKey: string | undefined;
  private readonly faults = new Map<string, { fault: Fault; remaining: number }>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private readonly sockets = new Set<Socket>();
  private readonly routes: Record<string, Route>;
  private requestCount = 0;
  private closing = false;
  private closed: Promise<void> | undefined;
  private address = '';

  private constructor(options: ProtocolServerOptions) {
    const dims = options.embeddingDimensions ?? 8;
    if (!Number.isInteger(dims) || dims < 1) throw new RangeError('embeddingDimensions must be a positive integer');
    const maxRequests = options.maxRequests ?? 10_000;
    if (!Number.isInteger(maxRequests) || maxRequests < 1) throw new RangeError('maxRequests must be a positive integer');
    const tokens = options.tokens ?? DEFAULT_TOKENS;
    if (tokens.length === 0 || !tokens.every((t) => typeof t === 'string')) throw new RangeError('tokens must be a non-empty list of strings');
    const boundary = options.chunkBoundary ?? 'odd';
    if (!['whole', 'byte', 'odd'].includes(boundary)) throw new RangeError(`unknown chunkBoundary ${String(boundary)}`);
    this.dimensions = dims;
    this.maxRequests = maxRequests;
    this.tokens = [...tokens];
    this.chunkBoundary = boundary;
    this.sseSpace = options.sseSpace;
    this.apiKey = options.apiKey;

    this.routes = {
      '/health': { method: 'GET', body: 'none', handle: ({ res }) => this.empty(res) },
      '/info': { method: 'GET', body: 'none', handle: ({ res }) => sendJson(res, 200, { model_id: 'fake/tei' }) },
      '/v1/health_check': {
        method: 'GET',
        body: 'none',
        handle: ({ res }) => sendJson(res, 200, { 'Service Title': 'fake', Version: '1.5', 'Service Description': 'loopback' }),
      },
      '/embed': { method: 'POST', body: 'json', handle: (c) => this.teiEmbed(c) },
      '/rerank': { method: 'POST', body: 'json', handle: (c) => this.teiRerank(c) },
      '/v1/embeddings': { method: 'POST', body: 'json', handle: (c) => this.openaiEmbeddings(c) },
      '/v1/retrieval': { method: 'POST', body: 'json', handle: (c) => this.retrieval(c) },
      '/v1/reranking': { method: 'POST', body: 'json', handle: (c) => this.reranking(c) },
      '/v1/chat/completions': { method: 'POST', body: 'json', handle: (c) => this.chatCompletions(c) },
      '/generate': { method: 'POST', body: 'json', handle: (c) => this.tgiGenerate(c, false) },
      '/generate_stream': { method: 'POST', body: 'json', handle: (c) => this.tgiGenerate(c, true) },
      '/v1/dataprep/ingest': { method: 'POST', body: 'form', handle: (c) => this.ingest(c) },
    };

    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (res.headersSent) res.destroy();
        else sendJson(res, 500, { error: err instanceof Error ? err.message : String(err) });
      });
    });
    this.server.on('connection', (socket: Socket) => {
      if (this.closing) {
        socket.destroy();
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.server.on('clientError', (_err: Error, socket) => socket.destroy());
  }

  static start(options: ProtocolServerOptions = {}): Promise<ProtocolServer> {
    const instance = new ProtocolServer(options);
    return new Promise((resolve, reject) => {
      instance.server.once('error', reject);
      instance.server.listen(0, '127.0.0.1', () => {
        instance.server.off('error', reject);
        const { port } = instance.server.address() as AddressInfo;
        instance.address = `http://127.0.0.1:${port}`;
        resolve(instance);
      });
    });
  }

  /** http://127.0.0.1:PORT */
  get url(): string {
    return this.address;
  }

  /** Path like '/embed'; replaces any earlier fault on that path. */
  fault(path: string, fault: Fault): void {
    this.faults.set(path, { fault: { ...fault }, remaining: fault.times ?? Infinity });
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Stops listening, drops every connection (keep-alive ones too) and cancels pending delays. Idempotent. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closing = true;
      for (const [timer, wake] of this.timers) {
        clearTimeout(timer);
        wake();
      }
      this.timers.clear();
      this.closed = new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
        for (const socket of this.sockets) socket.destroy();
      });
    }
    return this.closed;
  }

  // -------------------------------------------------------------------------------------------------------

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.set(timer, resolve);
    });
  }

  private readBody(req: http.IncomingMessage): Promise<{ raw: Buffer; tooLarge: boolean }> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) tooLarge = true;
        else chunks.push(chunk);
      });
      req.on('end', () => resolve({ raw: Buffer.concat(chunks), tooLarge }));
      req.on('error', reject);
      req.on('close', () => {
        if (!req.complete) reject(new Error('request aborted'));
      });
    });
  }

  private parseBody(raw: Buffer, contentType: string): ParsedBody {
    if (raw.length === 0) return { kind: 'empty', value: undefined };
    const text = raw.toString('utf8');
    const type = contentType.split(';')[0].trim().toLowerCase();
    if (type === 'multipart/form-data') {
      const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
      if (!m) return { kind: 'invalid', value: text, error: 'multipart body without boundary' };
      try {
        return { kind: 'form', value: parseMultipart(raw, m[1] ?? m[2]) };
      } catch (err) {
        return { kind: 'invalid', value: text, error: `malformed multipart body: ${(err as Error).message}` };
      }
    }
    if (type === 'application/x-www-form-urlencoded') {
      const fields: Record<string, string[]> = {};
      for (const [k, v] of new URLSearchParams(text)) (fields[k] ??= []).push(v);
      const value: MultipartBody = { fields, files: [] };
      return { kind: 'form', value };
    }
    try {
      return { kind: 'json', value: JSON.parse(text) as unknown };
    } catch (err) {
      return { kind: 'invalid', value: text, error: `body is not valid JSON: ${(err as Error).message}` };
    }
  }

  private takeFault(path: string): Fault | undefined {
    const entry = this.faults.get(path);
    if (!entry) return undefined;
    if (entry.remaining <= 0) {
      this.faults.delete(path);
      return undefined;
    }
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.faults.delete(path);
    return entry.fault;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.requestCount += 1;
    if (this.closing || this.requestCount > this.maxRequests) {
      req.socket.destroy();
      return;
    }
    let body: { raw: Buffer; tooLarge: boolean };
    try {
      body = await this.readBody(req);
    } catch {
      return; // client went away
    }
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const parsed = body.tooLarge ? { kind: 'invalid' as const, value: undefined, error: 'too large' } : this.parseBody(body.raw, req.headers['content-type'] ?? '');
    const record: RecordedRequest = { method: req.method ?? 'GET', path, headers: { ...req.headers }, body: parsed.value };
    this.requests.push(record);

    const fault = this.takeFault(path);
    if (fault?.delayMs !== undefined && fault.delayMs > 0) await this.sleep(fault.delayMs);
    if (this.closing || res.destroyed) return;
    if (fault?.hangUp) {
      req.socket.destroy();
      return;
    }
    if (fault?.status !== undefined) {
      sendJson(res, fault.status, { error: 'injected' });
      return;
    }
    if (fault?.malformedJson) {
      const text = '{"data": [';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
      res.end(text);
      return;
    }

    try {
      const route = this.routes[path];
      if (!route) throw new HttpError(404, { error: 'not found' });
      if (req.method !== route.method) {
        res.setHeader('allow', route.method);
        throw new HttpError(405, { error: 'method not allowed' });
      }
      if (this.apiKey !== undefined) {
        const auth = req.headers.authorization ?? '';
        const m = /^bearer\s+(.*)$/i.exec(auth);
        if (!m || m[1] !== this.apiKey) {
          throw new HttpError(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } });
        }
      }
      if (body.tooLarge) throw new HttpError(413, { error: 'request body too large' });
      if (route.body === 'json') {
        if (parsed.kind !== 'json') throw new HttpError(400, { error: parsed.error ?? 'request body must be JSON' });
        if (!isObject(parsed.value)) throw invalid('request body must be a JSON object');
      }
      await route.handle({ req, res, record, parsed, truncate: fault?.truncateStream === true });
    } catch (err) {
      if (err instanceof HttpError) sendJson(res, err.status, err.payload);
      else throw err;
    }
  }

  private empty(res: http.ServerResponse): void {
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  }

  // --- SSE ---------------------------------------------------------------------------------------------

  private splitPieces(events: Buffer[]): Buffer[] {
    if (this.chunkBoundary === 'whole') return events;
    const all = Buffer.concat(events);
    if (this.chunkBoundary === 'byte') {
      const pieces: Buffer[] = [];
      for (let i = 0; i < all.length; i++) pieces.push(all.subarray(i, i + 1));
      return pieces;
    }
    const cuts = new Set<number>();
    for (let pos = 0, i = 0; pos < all.length; i++) {
      pos += ODD_SIZES[i % ODD_SIZES.length];
      cuts.add(pos);
    }
    // Force the nasty cases: a cut inside every 'data:' and inside every multi-byte UTF-8 character.
    for (let at = all.indexOf('data:'); at >= 0; at = all.indexOf('data:', at + 1)) cuts.add(at + 2);
    for (let i = 0; i < all.length; i++) {
      const b = all[i];
      if ((b & 0xe0) === 0xc0) cuts.add(i + 1);
      else if ((b & 0xf0) === 0xe0) cuts.add(i + 1);
      else if ((b & 0xf8) === 0xf0) (cuts.add(i + 1), cuts.add(i + 3));
    }
    const sorted = [...cuts].filter((c) => c > 0 && c < all.length).sort((a, b) => a - b);
    const pieces: Buffer[] = [];
    let start = 0;
    for (const c of sorted) {
      pieces.push(all.subarray(start, c));
      start = c;
    }
    pieces.push(all.subarray(start));
    return pieces.filter((p) => p.length > 0);
  }

  /**
   * Streams `payloads` as SSE `data:` events followed by the `[DONE]` terminator when `done` is set.
   * `truncate` sends the first half of the payloads and no terminator; the last payload is never sent then.
   */
  private async sse(ctx: Context, payloads: unknown[], opts: { done: boolean; space: boolean }): Promise<void> {
    const { res } = ctx;
    const prefix = opts.space ? 'data: ' : 'data:';
    let lines = payloads.map((p) => `${prefix}${JSON.stringify(p)}\n\n`);
    if (ctx.truncate) {
      lines = lines.slice(0, Math.max(0, Math.min(lines.length - 1, Math.max(1, Math.floor(lines.length / 2)))));
    } else if (opts.done) {
      lines.push(`${prefix}[DONE]\n\n`);
    }
    const pieces = this.splitPieces(lines.map((l) => Buffer.from(l, 'utf8')));
    const sizes: number[] = [];
    this.lastWriteSizes = sizes;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.flushHeaders();
    for (const piece of pieces) {
      if (this.closing || res.destroyed) return;
      res.write(piece);
      sizes.push(piece.length);
      // Yield to the event loop so consecutive pieces go out as separate socket writes.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (!this.closing && !res.destroyed) res.end();
  }

  // --- TEI ---------------------------------------------------------------------------------------------

  private teiEmbed({ res, parsed }: Context): void {
    const body = parsed.value as JsonObject;
    const inputs = stringOrStrings(body, 'inputs');
    const normalize = optionalBoolean(body, 'normalize') ?? true;
    optionalBoolean(body, 'truncate');
    const vectors = inputs.map((t) => (normalize ? fakeEmbedding(t, this.dimensions) : rawEmbedding(t, this.dimensions)));
    sendJson(res, 200, vectors);
  }

  private rankTexts(query: string, texts: string[]): { index: number; score: number }[] {
    return texts
      .map((text, index) => ({ index, score: rerankScore(query, text, this.dimensions) }))
      .sort((a, b) => b.score - a.score || a.index - b.index);
  }

  private teiRerank({ res, parsed }: Context): void {
    const body = parsed.value as JsonObject;
    const query = requireString(body, 'query');
    const texts = body.texts;
    if (texts === undefined || texts === null) throw invalid('field required: texts');
    if (!Array.isArray(texts) || !texts.every((t) => typeof t === 'string')) throw invalid('texts must be a list of strings');
    const returnText = optionalBoolean(body, 'return_text') ?? false;
    optionalBoolean(body, 'raw_scores');
    const ranked = this.rankTexts(query, texts as string[]);
    sendJson(res, 200, ranked.map((r) => (returnText ? { index: r.index, text: (texts as string[])[r.index], score: r.score } : r)));
  }

  // --- OpenAI embeddings -------------------------------------------------------------------------------

  private openaiEmbeddings({ res, parsed }: Context): void {
    const body = parsed.value as JsonObject;
    const inputs = stringOrStrings(body, 'input');
    const model = body.model === undefined || body.model === null ? 'fake-embed' : body.model;
    if (typeof model !== 'string') throw invalid('model must be a string');
    const format = body.encoding_format ?? 'float';
    if (format !== 'float' && format !== 'base64') throw invalid("encoding_format must be 'float' or 'base64'");
    const n = inputs.reduce((s, t) => s + wordCount(t), 0);
    const data = inputs.map((text, index) => {
      const vector = fakeEmbedding(text, this.dimensions);
      const embedding = format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      return { object: 'embedding', index, embedding };
    });
    sendJson(res, 200, { object: 'list', model, data, usage: { prompt_tokens: n, total_tokens: n } });
  }

  // --- OPEA retriever / reranking ----------------------------------------------------------------------

  private retrieval({ res, parsed }: Context): void {
    const body = parsed.value as JsonObject;
    const text = requireString(body, 'text');
    const embedding = body.embedding;
    if (embedding === undefined || embedding === null) throw invalid('field required: embedding');
    if (!Array.isArray(embedding) || !embedding.every((x) => typeof x === 'number' && Number.isFinite(x))) {
      throw invalid('embedding must be a list of numbers');
    }
    if (embedding.length !== this.dimensions) {
      throw invalid(`embedding has ${embedding.length} dimensions, the index expects ${this.dimensions}`);
    }
    const k = optionalPositiveInt(body, 'k') ?? 4;
    const searchType = body.search_type ?? 'similarity';
    if (typeof searchType !== 'string') throw invalid('search_type must be a string');
    const threshold = body.score_threshold ?? 0.2;
    if (typeof threshold !== 'number') throw invalid('score_threshold must be a number');
    let scored = this.documents
      .map((doc, i) => ({ doc, i, score: cosine(fakeEmbedding(doc.text, this.dimensions), embedding as number[]) }))
      .sort((a, b) => b.score - a.score || a.i - b.i);
    if (searchType === 'similarity_score_threshold') scored = scored.filter((s) => s.score >= threshold);
    const top = scored.slice(0, k);
    sendJson(res, 200, {
      id: hex(16),
      retrieved_docs: top.map((s) => ({ id: hex(16), text: s.doc.text, downstream_black_list: [] })),
      initial_query: text,
      top_n: 1,
      metadata: top.map((s) => s.doc.metadata ?? {}),
    });
  }

  private reranking({ res, parsed }: Context): void {
    const body = parsed.value as JsonObject;
    const query = requireString(body, 'initial_query');
    const docs = body.retrieved_docs;
    if (docs === undefined || docs === null) throw invalid('field required: retrieved_docs');
    if (!Array.isArray(docs) || !docs.every((d) => isObject(d) && typeof d.text === 'string')) {
      throw invalid('retrieved_docs must be a list of {text}');
    }
    const topN = optionalPositiveInt(body, 'top_n') ?? 1;
    const texts = (docs as JsonObject[]).map((d) => d.text as string);
    const best = this.rankTexts(query, texts).slice(0, topN);
    sendJson(res, 200, {
      id: hex(16),
      model: null,
      query,
      max_tokens: 1024,
      max_new_tokens: 1024,
      top_k: 10,
      top_p: 0.95,
      typical_p: 0.95,
      temperature: 0.01,
      frequency_penalty: 0.0,
      presence_penalty: 0.0,
      repetition_penalty: 1.03,
      stream: true,
      language: 'auto',
      input_guardrail_params: null,
      output_guardrail_params: null,
      chat_template: null,
      documents: best.map((r) => texts[r.index]),
    });
  }

  // --- Chat / completions ------------------------------------------------------------------------------

  private generated(limit: number | undefined): { tokens: string[]; truncated: boolean } {
    const n = Math.min(this.tokens.length, limit ?? this.tokens.length);
    return { tokens: this.tokens.slice(0, n), truncated: n < this.tokens.length };
  }

  private async chatCompletions(ctx: Context): Promise<void> {
    const body = ctx.parsed.value as JsonObject;
    if (body.messages !== undefined && body.messages !== null) return this.openaiChat(ctx, body);
    if (body.query !== undefined && body.query !== null) return this.llmParamsDoc(ctx, body);
    throw invalid('field required: messages (OpenAI chat) or query (LLMParamsDoc)');
  }

  private async openaiChat(ctx: Context, body: JsonObject): Promise<void> {
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0 || !messages.every((m) => isObject(m) && typeof m.role === 'string')) {
      throw invalid('messages must be a non-empty list of {role, content}');
    }
    const model = typeof body.model === 'string' ? body.model : 'fake-llm';
    const limit = optionalPositiveInt(body, 'max_tokens') ?? optionalPositiveInt(body, 'max_completion_tokens');
    const stream = optionalBoolean(body, 'stream') ?? false;
    const streamOptions = body.stream_options;
    const includeUsage = isObject(streamOptions) && streamOptions.include_usage === true;
    const prompt = (messages as JsonObject[]).map((m) => messageText(m.content)).join('\n');
    ctx.record.prompt = prompt;
    const { tokens, truncated } = this.generated(limit);
    const finish = truncated ? 'length' : 'stop';
    const p = (messages as JsonObject[]).reduce((s, m) => s + wordCount(messageText(m.content)), 0);
    const usage = { prompt_tokens: p, completion_tokens: tokens.length, total_tokens: p + tokens.length };
    const id = `chatcmpl-${hex(12)}`;
    const created = Math.floor(Date.now() / 1000);
    if (!stream) {
      sendJson(ctx.res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: tokens.join('') }, logprobs: null, finish_reason: finish }],
        usage,
      });
      return;
    }
    const chunk = (delta: JsonObject, finishReason: string | null): JsonObject => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(includeUsage ? { usage: null } : {}),
    });
    const events: unknown[] = [
      chunk({ role: 'assistant', content: '' }, null),
      ...tokens.map((t) => chunk({ content: t }, null)),
      chunk({}, finish),
    ];
    if (includeUsage) events.push({ id, object: 'chat.completion.chunk', created, model, choices: [], usage });
    await this.sse(ctx, events, { done: true, space: this.sseSpace ?? true });
  }

  private async llmParamsDoc(ctx: Context, body: JsonObject): Promise<void> {
    const query = requireString(body, 'query');
    const docsValue = body.documents ?? [];
    if (!Array.isArray(docsValue)) throw invalid('documents must be a list');
    const documents = docsValue.map((d) => (typeof d === 'string' ? d : isObject(d) && typeof d.text === 'string' ? d.text : JSON.stringify(d)));
    const model = typeof body.model === 'string' ? body.model : 'fake-llm';
    const limit = optionalPositiveInt(body, 'max_tokens') ?? optionalPositiveInt(body, 'max_new_tokens');
    const stream = optionalBoolean(body, 'stream') ?? true;
    const prompt = documents.length > 0 ? `### Search results:\n${documents.join('\n')}\n\n### Question: ${query}\n\n### Answer:` : query;
    ctx.record.prompt = prompt;
    const { tokens, truncated } = this.generated(limit);
    const finish = truncated ? 'length' : 'stop';
    const p = wordCount(prompt);
    const usage = { prompt_tokens: p, completion_tokens: tokens.length, total_tokens: p + tokens.length };
    const id = `cmpl-${hex(12)}`;
    const created = Math.floor(Date.now() / 1000);
    if (!stream) {
      sendJson(ctx.res, 200, {
        id,
        object: 'text_completion',
        created,
        model,
        choices: [{ index: 0, text: tokens.join(''), finish_reason: finish, logprobs: null }],
        usage,
      });
      return;
    }
    const chunk = (text: string, finishReason: string | null): JsonObject => ({
      id,
      object: 'text_completion',
      created,
      model,
      choices: [{ index: 0, text, finish_reason: finishReason, logprobs: null }],
    });
    const events = [...tokens.map((t) => chunk(t, null)), chunk('', finish)];
    await this.sse(ctx, events, { done: true, space: this.sseSpace ?? true });
  }

  // --- TGI ---------------------------------------------------------------------------------------------

  private async tgiGenerate(ctx: Context, stream: boolean): Promise<void> {
    const body = ctx.parsed.value as JsonObject;
    const inputs = requireString(body, 'inputs');
    const parameters = body.parameters ?? {};
    if (!isObject(parameters)) throw invalid('parameters must be an object');
    const limit = optionalPositiveInt(parameters, 'max_new_tokens');
    ctx.record.prompt = inputs;
    const { tokens, truncated } = this.generated(limit);
    const generatedText = tokens.join('');
    if (!stream) {
      sendJson(ctx.res, 200, { generated_text: generatedText });
      return;
    }
    const events = tokens.map((text, i) => {
      const last = i === tokens.length - 1;
      return {
        index: i,
        token: { id: i, text, logprob: -0.1, special: false },
        generated_text: last ? generatedText : null,
        details: last ? { finish_reason: truncated ? 'length' : 'eos_token', generated_tokens: tokens.length } : null,
      };
    });
    await this.sse(ctx, events, { done: false, space: this.sseSpace ?? false });
  }

  // --- Dataprep ----------------------------------------------------------------------------------------

  private ingest({ res, parsed }: Context): void {
    if (parsed.kind === 'invalid') throw new HttpError(400, { detail: parsed.error ?? 'malformed form body' });
    const form: MultipartBody = parsed.kind === 'form' ? (parsed.value as MultipartBody) : { fields: {}, files: [] };
    const files = form.files.filter((f) => f.name === 'files' && f.filename !== '');
    const links: string[] = [];
    for (const raw of form.fields.link_list ?? []) {
      let list: unknown;
      try {
        list = JSON.parse(raw);
      } catch {
        throw new HttpError(400, { detail: 'link_list must be a JSON list of strings' });
      }
      if (!Array.isArray(list) || !list.every((l) => typeof l === 'string')) {
        throw new HttpError(400, { detail: 'link_list must be a JSON list of strings' });
      }
      links.push(...(list as string[]));
    }
    if (files.length === 0 && links.length === 0) {
      throw new HttpError(400, { detail: 'Must provide either a file or a string list.' });
    }
    const extra: Record<string, unknown> = {};
    for (const key of ['chunk_size', 'chunk_overlap', 'index_name']) {
      const v = form.fields[key]?.[0];
      if (v !== undefined) extra[key] = v;
    }
    for (const f of files) this.documents.push({ text: f.content, metadata: { source: f.filename, ...extra } });
    for (const link of links) this.documents.push({ text: link, metadata: { source: link, ...extra } });
    sendJson(res, 200, { status: 200, message: 'Data preparation succeeded' });
  }
}
