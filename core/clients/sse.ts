/**
 * Server-sent events, parsed from bytes that may split anywhere: inside `data:`, inside a CRLF, inside
 * a multi-byte UTF-8 character. Only `data` fields matter to model servers; `event`, `id`, `retry` and
 * comments are skipped. `data:` with or without the space after the colon is the same field.
 */
import { StringDecoder } from 'node:string_decoder';

export class SseParser {
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';
  private data: string[] = [];
  private sawField = false;

  /** Feeds bytes; returns the data of every event completed by them. */
  push(chunk: Buffer | string): string[] {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const events: string[] = [];
    let start = 0;
    for (;;) {
      const lf = this.buffer.indexOf('\n', start);
      const cr = this.buffer.indexOf('\r', start);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        // A CR at the very end may be the first half of CRLF: wait for the next byte.
        if (cr === this.buffer.length - 1) break;
        end = cr;
        next = this.buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else {
        break;
      }
      this.line(this.buffer.slice(start, end), events);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    return events;
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
      this.sawField = false;
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.sawField = true;
    if (field === 'data') this.data.push(value);
  }
}
