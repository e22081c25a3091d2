/**
 * A lean HTTP/1.1 client for plain-http targets: prebuilt request bytes written straight to kept-alive
 * sockets, and a response parser (status line, headers, Content-Length, chunked or until-close bodies)
 * that hands body bytes on as they arrive. node:http's client costs several times more per request,
 * which would cap a load generator's rate on a fast server well below what the server can take.
 */
import net from 'node:net';

export interface ResponseHead {
  status: number;
  headers: Record<string, string>;
}

export interface ResponseHandler {
  head(head: ResponseHead): void;
  body(chunk: Buffer): void;
  end(): void;
  /** The connection failed or closed early; `afterHead` says whether the status line had arrived. */
  error(err: Error & { code?: string }, afterHead: boolean): void;
}

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;

type BodyMode = { kind: 'length'; left: number } | { kind: 'chunked' } | { kind: 'close' };

/** Parses one response at a time from a socket's bytes. */
export class ResponseParser {
  private buffer: Buffer = Buffer.alloc(0);
  private head: ResponseHead | null = null;
  private mode: BodyMode | null = null;
  /** Chunked: bytes of the current chunk still to read, or -1 while reading a size line, -2 trailers. */
  private chunkLeft = -1;
  private finished = false;

  constructor(private readonly handler: ResponseHandler) {}

  get headReceived(): boolean {
    return this.head !== null;
  }

  get done(): boolean {
    return this.finished;
  }

  /** Whether the server keeps the connection open after this response. */
  get keepAlive(): boolean {
    return this.mode?.kind !== 'close' && (this.head?.headers.connection ?? '').toLowerCase() !== 'close';
  }

  /** Feeds bytes; throws on a response that is not HTTP/1.x. */
  push(chunk: Buffer): void {
    if (this.finished) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (!this.head && !this.readHead()) return;
    this.readBody();
  }

  /** The socket closed: completes a body that runs until close. */
  close(): boolean {
    if (this.finished) return true;
    if (this.mode?.kind === 'close') {
      this.finish();
      return true;
    }
    return false;
  }

  private readHead(): boolean {
    const end = this.buffer.indexOf(HEAD_END);
    if (end === -1) {
      if (this.buffer.length > MAX_HEAD) throw new Error('the response head is larger than 64 KiB');
      return false;
    }
    const lines = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!status) throw new Error(`not an HTTP/1.x response: ${lines[0].slice(0, 60)}`);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    this.buffer = this.buffer.subarray(end + HEAD_END.length);
    const code = Number(status[1]);
    this.head = { status: code, headers };
    if (code === 204 || code === 304 || (code >= 100 && code < 200)) this.mode = { kind: 'length', left: 0 };
    else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) this.mode = { kind: 'chunked' };
    else if (headers['content-length'] !== undefined) this.mode = { kind: 'length', left: Number(headers['content-length']) };
    else this.mode = { kind: 'close' };
    this.handler.head(this.head);
    return true;
  }

  private readBody(): void {
    const mode = this.mode as BodyMode;
    if (mode.kind === 'close') {
      this.take(this.buffer.length);
      return;
    }
    if (mode.kind === 'length') {
      const n = Math.min(mode.left, this.buffer.length);
      mode.left -= n;
      this.take(n);
      if (mode.left === 0) this.finish();
      return;
    }
    while (!this.finished) {
      if (this.chunkLeft > 0) {
        const n = Math.min(this.chunkLeft, this.buffer.length);
        if (n === 0) return;
        this.chunkLeft -= n;
        this.take(n);
        continue;
      }
      const eol = this.buffer.indexOf(CRLF);
      if (eol === -1) return;
      const line = this.buffer.subarray(0, eol).toString('latin1');
      this.buffer = this.buffer.subarray(eol + 2);
      if (this.chunkLeft === 0) {
        if (line !== '') throw new Error('a chunk is longer than its size line says');
        this.chunkLeft = -1;
        continue;
      }
      if (this.chunkLeft === -2) {
        if (line === '') this.finish();
        continue;
      }
      const size = parseInt(line, 16);
      if (!Number.isFinite(size) || size < 0) throw new Error(`a bad chunk size line: ${line.slice(0, 40)}`);
      this.chunkLeft = size === 0 ? -2 : size;
    }
  }

  private take(n: number): void {
    if (n === 0) return;
    const part = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    this.handler.body(part);
  }

  private finish(): void {
    this.finished = true;
    this.handler.end();
  }
}

interface Exchange {
  parser: ResponseParser;
  handler: ResponseHandler;
}

/** A socket and the one exchange (request, response) it carries now, if any. */
interface Connection {
  socket: net.Socket;
  current: Exchange | null;
}

/**
 * Kept-alive connections to one host and port; a request takes an idle one or opens a new one. Each
 * socket's listeners are attached once and serve every exchange on it: adding and removing listeners
 * per request would cost more than the rest of the request.
 */
export class ConnectionPool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();

  constructor(private readonly host: string, private readonly port: number) {}

  /** Sends `request` and feeds the response to `handler`; returns a function that aborts it. */
  send(request: Buffer, handler: ResponseHandler): () => void {
    const connection = this.idle.pop() ?? this.open();
    const exchange: Exchange = { parser: new ResponseParser(handler), handler };
    connection.current = exchange;
    connection.socket.write(request);
    return () => {
      if (connection.current !== exchange) return;
      connection.current = null;
      connection.socket.destroy();
    };
  }

  destroy(): void {
    for (const connection of this.all) connection.socket.destroy();
    this.all.clear();
    this.idle.length = 0;
  }

  private open(): Connection {
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    const connection: Connection = { socket, current: null };
    this.all.add(connection);
    socket.on('data', (chunk: Buffer) => {
      const exchange = connection.current;
      if (!exchange) return;
      try {
        exchange.parser.push(chunk);
      } catch (err) {
        connection.current = null;
        socket.destroy();
        exchange.handler.error(Object.assign(err as Error, { code: 'HPE_INVALID' }), exchange.parser.headReceived);
        return;
      }
      if (!exchange.parser.done) return;
      connection.current = null;
      if (exchange.parser.keepAlive && !socket.destroyed) this.idle.push(connection);
      else socket.destroy();
    });
    // The exchange in flight gets the error; an idle socket's error (the server closed it) is dropped.
    socket.on('error', (err: Error) => {
      const exchange = connection.current;
      connection.current = null;
      socket.destroy();
      exchange?.handler.error(err, exchange.parser.headReceived);
    });
    socket.on('close', () => {
      this.all.delete(connection);
      const at = this.idle.indexOf(connection);
      if (at !== -1) this.idle.splice(at, 1);
      const exchange = connection.current;
      connection.current = null;
      if (exchange && !exchange.parser.close()) exchange.handler.error(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), exchange.parser.headReceived);
    });
    return connection;
  }
}
