/**
 * A loopback server with a known timing: an OpenAI-style stream whose first content chunk goes out
 * `firstChunkMs` after the request arrived, then one chunk (one token) every `intervalMs`, each timed
 * against the arrival (not the previous timer), so the schedule does not drift; every write's time is
 * recorded as the truth the benchmark's measurements are checked against. The path picks a behaviour:
 * /v1/chat/completions streams (or answers JSON when the body says stream: false), /plain answers a
 * tiny JSON at once, /status/<code> answers that status, /malformed streams a non-JSON event,
 * /truncated cuts the connection mid-stream, /hang never answers. Bound to 127.0.0.1, it refuses
 * requests past `maxRequests` and closes itself after `lifetimeMs`.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface Schedule {
  firstChunkMs: number;
  intervalMs: number;
  chunks: number;
  /** Send a final usage chunk (completion_tokens = chunks, prompt_tokens = 7). */
  usage: boolean;
  maxRequests: number;
  lifetimeMs: number;
}

export interface ServedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
  /** performance.now() when the request's headers had arrived: the schedule counts from here. */
  receivedAt: number;
  /** performance.now() of each content chunk written. */
  chunkWrites: number[];
  ended: number | null;
}

export const DEFAULT_SCHEDULE: Schedule = { firstChunkMs: 40, intervalMs: 10, chunks: 8, usage: true, maxRequests: 10_000, lifetimeMs: 120_000 };

export class ScheduledSseServer {
  readonly requests: ServedRequest[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly lifetime: NodeJS.Timeout;

  private constructor(private readonly server: http.Server, readonly url: string, readonly schedule: Schedule) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.lifetime = setTimeout(() => void this.close(), schedule.lifetimeMs);
    this.lifetime.unref();
  }

  static async start(schedule: Partial<Schedule> = {}): Promise<ScheduledSseServer> {
    const full = { ...DEFAULT_SCHEDULE, ...schedule };
    let self: ScheduledSseServer | undefined;
    const server = http.createServer((req, res) => self?.handle(req, res));
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new ScheduledSseServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`, full);
    return self;
  }

  /** Connections open now: what a cancelled benchmark must leave at 0. */
  get openConnections(): number {
    return this.sockets.size;
  }

  async close(): Promise<void> {
    clearTimeout(this.lifetime);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Runs `fn` at performance.now() = ms, not before: timers count from the loop's cached clock and can fire early. */
  private at(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (performance.now() < ms) this.at(ms, fn);
      else fn();
    }, Math.max(0, ms - performance.now()));
    this.timers.add(timer);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const receivedAt = performance.now();
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      if (this.requests.length >= this.schedule.maxRequests) {
        res.writeHead(503, { connection: 'close' }).end('request budget of the test server used up');
        return;
      }
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        // the benchmark always sends JSON; a broken body is answered like any other
      }
      const served: ServedRequest = { path, headers: req.headers, body, receivedAt, chunkWrites: [], ended: null };
      this.requests.push(served);
      const status = /^\/status\/(\d{3})$/.exec(path);
      if (path === '/plain') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"ok"}');
      if (status) return void res.writeHead(Number(status[1]), { 'content-type': 'text/plain' }).end('scheduled failure');
      if (path === '/hang') return;
      if (body.stream === false) return this.answerJson(res, served);
      this.stream(res, served, path);
    });
  }

  private answerJson(res: http.ServerResponse, served: ServedRequest): void {
    const { firstChunkMs, intervalMs, chunks } = this.schedule;
    this.at(served.receivedAt + firstChunkMs + (chunks - 1) * intervalMs, () => {
      const text = Array.from({ length: chunks }, (_, i) => `t${i} `).join('');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: text } }], usage: { prompt_tokens: 7, completion_tokens: chunks } }));
      served.ended = performance.now();
    });
  }

  private stream(res: http.ServerResponse, served: ServedRequest, path: string): void {
    const { firstChunkMs, intervalMs, chunks, usage } = this.schedule;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    for (let i = 0; i < chunks; i++) {
      this.at(served.receivedAt + firstChunkMs + i * intervalMs, () => {
        if (path === '/truncated' && i === Math.floor(chunks / 2)) return void res.socket?.destroy();
        const event = path === '/malformed' && i === 1 ? 'not json' : JSON.stringify({ choices: [{ index: 0, delta: { content: `t${i} ` } }] });
        res.write(`data: ${event}\n\n`);
        served.chunkWrites.push(performance.now());
        if (i < chunks - 1) return;
        if (usage) res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 7, completion_tokens: chunks } })}\n\n`);
        res.end('data: [DONE]\n\n');
        served.ended = performance.now();
      });
    }
  }
}
