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
  /** Body bytes, lent for the call only: the pool reads every socket into one reused buffer. */
  body(chunk: Buffer): void;
  end(): void;
  /** The connection failed or closed early; `afterHead` says whether the status line had arrived. */
  error(err: Error & { code?: string }, afterHead: boolean): void;
}

/** What carries a request: cancelling closes its connection if that request's exchange is still on it. */
export interface Carrier {
  cancel(handler: ResponseHandler): void;
}

const MAX_HEAD = 64 * 1024;
const STATUS_LINE = /^HTTP\/1\.[01] \d{3}/;

/** Parses one response from a socket's bytes. */
export class ResponseParser {
  /** Bytes pushed but not parsed yet (a split head or chunk size line), copied: pushed bytes may be lent. */
  private rest: Buffer | null = null;
  private head: ResponseHead | null = null;
  private bodyKind: 'length' | 'chunked' | 'close' = 'close';
  /** length: body bytes still to read; chunked: bytes of the current chunk still to read, -1 while reading a size line, -2 trailers. */
  private left = -1;
  private finished = false;

  constructor(readonly handler: ResponseHandler) {}

  get headReceived(): boolean {
    return this.head !== null;
  }

  get done(): boolean {
    return this.finished;
  }

  /** Whether the server keeps the connection open after this response. */
  get keepAlive(): boolean {
    return this.bodyKind !== 'close' && this.head?.headers.connection?.toLowerCase() !== 'close';
  }

  /** Feeds bytes; throws on a response that is not HTTP/1.x. */
  push(chunk: Buffer): void {
    if (this.finished) return;
    const bytes = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    const bodyAt = this.head ? 0 : this.readHead(bytes);
    const parsed = bodyAt === -1 ? 0 : this.readBody(bytes, bodyAt);
    if (parsed < bytes.length && !this.finished) this.rest = Buffer.from(bytes.subarray(parsed));
  }

  /** The socket closed: completes a body that runs until close. */
  close(): boolean {
    if (this.finished) return true;
    if (this.head && this.bodyKind === 'close') {
      this.finish();
      return true;
    }
    return false;
  }

  /** Reads the head if it is all there; returns where the body starts, or -1. */
  private readHead(bytes: Buffer): number {
    const end = bytes.indexOf('\r\n\r\n', 0, 'latin1');
    if (end === -1) {
      if (bytes.length > MAX_HEAD) throw new Error('the response head is larger than 64 KiB');
      return -1;
    }
    const text = bytes.toString('latin1', 0, end);
    const eol = text.indexOf('\r\n');
    const statusLine = eol === -1 ? text : text.slice(0, eol);
    if (!STATUS_LINE.test(statusLine)) throw new Error(`not an HTTP/1.x response: ${statusLine.slice(0, 60)}`);
    const status = Number(statusLine.slice(9, 12));
    const headers = eol === -1 ? {} : headersOf(text, eol + 2);
    this.head = { status, headers };
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) this.expect('length', 0);
    else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) this.expect('chunked', -1);
    else if (headers['content-length'] !== undefined) this.expect('length', Number(headers['content-length']));
    else this.expect('close', 0);
    this.handler.head(this.head);
    return end + 4;
  }

  private expect(kind: ResponseParser['bodyKind'], left: number): void {
    this.bodyKind = kind;
    this.left = left;
  }

  /** Reads body bytes from `at`; returns where it stopped. */
  private readBody(bytes: Buffer, at: number): number {
    if (this.bodyKind === 'chunked') return this.readChunks(bytes, at);
    const n = this.bodyKind === 'close' ? bytes.length - at : Math.min(this.left, bytes.length - at);
    this.take(bytes, at, n);
    if (this.bodyKind === 'length' && (this.left -= n) === 0) this.finish();
    return at + n;
  }

  private readChunks(bytes: Buffer, at: number): number {
    while (!this.finished) {
      if (this.left > 0) {
        const n = Math.min(this.left, bytes.length - at);
        if (n === 0) return at;
        this.left -= n;
        this.take(bytes, at, n);
        at += n;
        continue;
      }
      const eol = bytes.indexOf('\r\n', at, 'latin1');
      if (eol === -1) return at;
      const line = bytes.toString('latin1', at, eol);
      at = eol + 2;
      if (this.left === 0) {
        if (line !== '') throw new Error('a chunk is longer than its size line says');
        this.left = -1;
        continue;
      }
      if (this.left === -2) {
        if (line === '') this.finish();
        continue;
      }
      const size = parseInt(line, 16);
      if (!Number.isFinite(size) || size < 0) throw new Error(`a bad chunk size line: ${line.slice(0, 40)}`);
      this.left = size === 0 ? -2 : size;
    }
    return at;
  }

  private take(bytes: Buffer, at: number, n: number): void {
    if (n > 0) this.handler.body(bytes.subarray(at, at + n));
  }

  private finish(): void {
    this.finished = true;
    this.handler.end();
  }
}

/** The header fields of a response head from `from` on, names in lower case. */
function headersOf(text: string, from: number): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let start = from; start < text.length; ) {
    const eol = text.indexOf('\r\n', start);
    const end = eol === -1 ? text.length : eol;
    const colon = text.indexOf(':', start);
    if (colon > start && colon < end) headers[text.slice(start, colon).trim().toLowerCase()] = text.slice(colon + 1, end).trim();
    start = end + 2;
  }
  return headers;
}

/** A socket and the parser of the one exchange (request, response) it carries now, if any. */
class Connection implements Carrier {
  exchange: ResponseParser | null = null;

  constructor(readonly socket: net.Socket) {}

  cancel(handler: ResponseHandler): void {
    if (this.exchange?.handler !== handler) return;
    this.exchange = null;
    this.socket.destroy();
  }
}

/**
 * Kept-alive connections to one host and port; a request takes an idle one or opens a new one. Each
 * socket's listeners are attached once and serve every exchange on it: adding and removing listeners
 * per request would cost more than the rest of the request. Sockets read into one buffer through
 * `onread` (bypassing the stream's 'data' events and a fresh buffer per read); every read is parsed
 * before the next, so the buffer can be shared.
 */
export class ConnectionPool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly readBuffer = Buffer.allocUnsafe(64 * 1024);

  constructor(private readonly host: string, private readonly port: number) {}

  /** Sends `request` and feeds the response to `handler`. */
  send(request: Buffer, handler: ResponseHandler): Carrier {
    const connection = this.idle.pop() ?? this.open();
    connection.exchange = new ResponseParser(handler);
    connection.socket.write(request);
    return connection;
  }

  destroy(): void {
    for (const connection of this.all) connection.socket.destroy();
    this.all.clear();
    this.idle.length = 0;
  }

  private open(): Connection {
    const onread = {
      buffer: this.readBuffer,
      callback: (n: number) => {
        this.received(connection, this.readBuffer.subarray(0, n));
        return true;
      },
    };
    const connection = new Connection(net.connect({ host: this.host, port: this.port, noDelay: true, onread }));
    this.all.add(connection);
    const { socket } = connection;
    // The exchange in flight gets the error; an idle socket's error (the server closed it) is dropped.
    socket.on('error', (err: Error) => {
      const parser = connection.exchange;
      connection.exchange = null;
      socket.destroy();
      parser?.handler.error(err, parser.headReceived);
    });
    socket.on('close', () => {
      this.all.delete(connection);
      const at = this.idle.indexOf(connection);
      if (at !== -1) this.idle.splice(at, 1);
      const parser = connection.exchange;
      connection.exchange = null;
      if (parser && !parser.close()) parser.handler.error(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), parser.headReceived);
    });
    return connection;
  }

  private received(connection: Connection, bytes: Buffer): void {
    const parser = connection.exchange;
    if (!parser) return;
    try {
      parser.push(bytes);
    } catch (err) {
      connection.exchange = null;
      connection.socket.destroy();
      parser.handler.error(Object.assign(err as Error, { code: 'HPE_INVALID' }), parser.headReceived);
      return;
    }
    if (!parser.done) return;
    connection.exchange = null;
    if (parser.keepAlive && !connection.socket.destroyed) this.idle.push(connection);
    else connection.socket.destroy();
  }
}
