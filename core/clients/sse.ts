/**
 * Server-sent events, parsed from bytes that may split anywhere: inside `data:`, inside a CRLF, inside
 * a multi-byte UTF-8 character. Only `data` fields matter to model servers; `event`, `id`, `retry` and
 * comments are skipped. `data:` with or without the space after the colon is the same field.
 */
import { StringDecoder } from 'node:string_decoder';

/** A line or an event longer than the parser's cap: the stream is not read on. */
export class SseLimitError extends Error {
  constructor(readonly what: 'line' | 'event', readonly limit: number) {
    super(`a stream ${what} is longer than ${limit} characters`);
    this.name = 'SseLimitError';
  }
}

export class SseParser {
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';
  private data: string[] = [];
  private sawField = false;
  /** The last line ended with a CR at the end of a chunk: an LF that opens the next chunk completes that CRLF. */
  private endedOnCr = false;
  /** Characters of data in the event being read. */
  private eventLength = 0;

  /** `maxChars`: the longest line, and the most data of one event, in characters. */
  constructor(private readonly maxChars = Infinity) {}

  /** Feeds bytes; returns the data of every event completed by them. Throws SseLimitError past the cap. */
  push(chunk: Buffer | string): string[] {
    // What is left of the buffer holds no line break: only the new text needs searching.
    const searchFrom = this.buffer.length;
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const events: string[] = [];
    let start = this.skipLfAfterCr();
    for (;;) {
      const from = Math.max(start, searchFrom);
      const lf = this.buffer.indexOf('\n', from);
      const cr = this.buffer.indexOf('\r', from);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        // A CR always ends the line; only whether an LF follows it may have to wait for the next chunk.
        end = cr;
        this.endedOnCr = cr === this.buffer.length - 1;
        next = this.buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else {
        break;
      }
      if (end - start > this.maxChars) throw new SseLimitError('line', this.maxChars);
      this.line(this.buffer.slice(start, end), events);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    if (this.buffer.length > this.maxChars) throw new SseLimitError('line', this.maxChars);
    return events;
  }

  /** Where parsing starts: past the LF of a CRLF that the previous chunk cut after its CR. */
  private skipLfAfterCr(): number {
    if (!this.endedOnCr || this.buffer === '') return 0;
    this.endedOnCr = false;
    return this.buffer[0] === '\n' ? 1 : 0;
  }

  /** The stream ended: true when it stopped in the middle of an event (bytes or fields not yet dispatched). */
  end(): { partial: boolean } {
    this.buffer += this.decoder.end();
    return { partial: this.buffer.trim() !== '' || this.sawField };
  }

  private line(line: string, events: string[]): void {
    if (line === '') {
      if (this.sawField && this.data.length > 0) events.push(this.data.join('\n'));
      this.data = [];
      this.eventLength = 0;
      this.sawField = false;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.sawField = true;
    if (field !== 'data') return;
    this.eventLength += value.length + 1;
    if (this.eventLength > this.maxChars) throw new SseLimitError('event', this.maxChars);
    this.data.push(value);
  }
}
