/**
 * A loopback server that misbehaves the ways a client must survive: bodies that trickle or never end,
 * floods, streams of keep-alive comments, lines and events without end, resets, 429/503 with
 * Retry-After. Test-only: binds 127.0.0.1 on an ephemeral port; every endless answer stops by itself
 * after `MAX_ANSWER_MS` or `MAX_ANSWER_BYTES`, whichever comes first. It records every connection so a
 * test can assert the client closed it.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { listenLoopback } from './loopback';

const MAX_ANSWER_MS = 60_000;
const MAX_ANSWER_BYTES = 512 * 1024 * 1024;

export type Behaviour =
  /** 200 JSON headers, then one byte of a JSON document every `everyMs`, never completing it. */
  | { kind: 'trickle'; status?: number; everyMs: number }
  /** `status` with a body of `bytes` (default: endless), sent as fast as the client reads; Content-Length when `declare`. */
  | { kind: 'flood'; status: number; bytes?: number; declare?: boolean; contentType?: string }
  /** An SSE stream: one complete event every `everyMs`, never ending. */
  | { kind: 'events'; everyMs: number }
  /** An SSE stream of keep-alive comments only, one every `everyMs`. */
  | { kind: 'comments'; everyMs: number }
  /** An SSE stream whose first line never ends: `data: xxxx…` in 16 KiB writes. */
  | { kind: 'long-line' }
  /** An SSE stream with one event whose data lines (1 KiB each) never end with the blank line. */
  | { kind: 'long-event' }
  /** 200 JSON headers and half a body, then the socket is destroyed. */
  | { kind: 'reset' }
  /** `status` with a Retry-After header of `retryAfter` and a short JSON body. */
  | { kind: 'retry-after'; status: number; retryAfter: string }
  /** A small JSON answer. */
  | { kind: 'ok'; body: unknown };

export interface HostileRequest {
  path: string;
  at: number;
}

export class HostileServer {
  readonly requests: HostileRequest[] = [];
  private readonly sockets: Socket[] = [];
  private readonly open = new Set<Socket>();
  private readonly routes = new Map<string, Behaviour[]>();
  private closeWaiters: (() => void)[] = [];

  private constructor(private readonly server: http.Server, readonly url: string) {}

  static async start(): Promise<HostileServer> {
    const server = http.createServer();
    const hostile = new HostileServer(server, await listenLoopback(server));
    server.on('connection', (socket) => hostile.track(socket));
    server.on('request', (req, res) => hostile.handle(req, res));
    return hostile;
  }

  /** What `path` answers; with several behaviours, one per request in turn, the last repeating. */
  on(path: string, ...behaviours: Behaviour[]): void {
    this.routes.set(path, behaviours);
  }

  get openConnections(): number {
    return this.open.size;
  }

  /** Resolves when no connection is open; rejects after `withinMs`. */
  async allClosed(withinMs = 5000): Promise<void> {
    if (this.open.size === 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.open.size} connection(s) still open after ${withinMs} ms`)), withinMs);
      this.closeWaiters.push(() => {
        if (this.open.size > 0) return;
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Bytes the server wrote, per connection in the order they were opened. */
  get written(): number[] {
    return this.sockets.map((s) => s.bytesWritten);
  }

  private track(socket: Socket): void {
    this.sockets.push(socket);
    this.open.add(socket);
    socket.on('close', () => {
      this.open.delete(socket);
      for (const waiter of this.closeWaiters) waiter();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    this.requests.push({ path, at: Date.now() });
    const behaviours = this.routes.get(path);
    req.resume();
    req.on('end', () => {
      if (!behaviours) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such route"}');
        return;
      }
      const served = this.requests.filter((r) => r.path === path).length - 1;
      this.answer(behaviours[Math.min(served, behaviours.length - 1)], res);
    });
  }

  private answer(b: Behaviour, res: http.ServerResponse): void {
    const started = Date.now();
    const expired = () => Date.now() - started > MAX_ANSWER_MS || res.destroyed;
    const every = (ms: number, text: () => string) => {
      const timer = setInterval(() => (expired() ? (clearInterval(timer), res.end()) : res.write(text())), ms);
      res.on('close', () => clearInterval(timer));
    };
    const sse = () => res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    switch (b.kind) {
      case 'trickle':
        res.writeHead(b.status ?? 200, { 'content-type': 'application/json' });
        res.write('{"data": [');
        every(b.everyMs, () => ' ');
        return;
      case 'flood':
        res.writeHead(b.status, { 'content-type': b.contentType ?? 'application/json', ...(b.declare && b.bytes ? { 'content-length': String(b.bytes) } : {}) });
        this.flood(res, Math.min(b.bytes ?? Infinity, MAX_ANSWER_BYTES), expired);
        return;
      case 'events': {
        sse();
        let n = 0;
        every(b.everyMs, () => `data: {"choices":[{"delta":{"content":"t${n++}"}}]}\n\n`);
        return;
      }
      case 'comments':
        sse();
        every(b.everyMs, () => ': keep-alive\n');
        return;
      case 'long-line':
        sse();
        res.write('data: ');
        this.flood(res, MAX_ANSWER_BYTES, expired, 'x');
        return;
      case 'long-event':
        sse();
        this.flood(res, MAX_ANSWER_BYTES, expired, `data: ${'y'.repeat(1018)}\n`);
        return;
      case 'reset':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"data": [1, 2, 3');
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      case 'retry-after':
        res.writeHead(b.status, { 'content-type': 'application/json', 'retry-after': b.retryAfter }).end('{"error":"slow down"}');
        return;
      case 'ok':
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(b.body));
        return;
    }
  }

  /** Writes `total` bytes of `unit` repeated, as fast as the client reads, until done, expired or closed. */
  private flood(res: http.ServerResponse, total: number, expired: () => boolean, unit = ' '): void {
    const block = Buffer.from(unit.repeat(Math.ceil(16384 / unit.length)));
    let sent = 0;
    const pump = () => {
      while (sent < total && !expired()) {
        const piece = total - sent < block.byteLength ? block.subarray(0, total - sent) : block;
        sent += piece.byteLength;
        if (!res.write(piece)) return void res.once('drain', pump);
      }
      if (!res.destroyed) res.end();
    };
    pump();
  }
}
