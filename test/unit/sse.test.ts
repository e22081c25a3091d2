import assert from 'node:assert/strict';
import { SseParser } from '../../core/clients/sse';

/** Feeds `pieces` one after another and returns every event plus what end() says. */
function parse(pieces: (Buffer | string)[]): { events: string[]; partial: boolean } {
  const parser = new SseParser();
  const events: string[] = [];
  for (const piece of pieces) events.push(...parser.push(piece));
  return { events, partial: parser.end().partial };
}

/** Every way of cutting `bytes` into two pieces, plus one byte at a time. */
function allSplits(bytes: Buffer): Buffer[][] {
  const splits: Buffer[][] = [];
  for (let at = 0; at <= bytes.length; at++) splits.push([bytes.subarray(0, at), bytes.subarray(at)]);
  splits.push([...bytes].map((b) => Buffer.from([b])));
  return splits;
}

describe('SseParser', () => {
  const STREAM = [
    ': keep-alive ping',
    'event: message',
    'id: 1',
    'data: {"text":"Hello"}',
    '',
    'data:{"text":" wörld 🌍"}',
    '',
    'retry: 1000',
    'data: line one',
    'data:line two',
    '',
    'data: [DONE]',
    '',
    '',
  ];
  const EXPECTED = ['{"text":"Hello"}', '{"text":" wörld 🌍"}', 'line one\nline two', '[DONE]'];

  for (const [name, eol] of [
    ['LF', '\n'],
    ['CRLF', '\r\n'],
  ] as const) {
    it(`gives the same events for every split position of a ${name} stream (inside data:, line ends, a 4-byte emoji)`, () => {
      const bytes = Buffer.from(STREAM.join(eol), 'utf8');
      // The stream really has the places worth cutting: a 4-byte UTF-8 character and CRLFs.
      assert.ok(bytes.includes(Buffer.from('🌍', 'utf8')));
      assert.equal(Buffer.from('🌍', 'utf8').length, 4);
      const whole = parse([bytes]);
      assert.deepEqual(whole.events, EXPECTED);
      assert.equal(whole.partial, false);
      for (const pieces of allSplits(bytes)) {
        const got = parse(pieces);
        const where = pieces.length === 2 ? `split at byte ${pieces[0].length}` : 'one byte at a time';
        assert.deepEqual(got.events, EXPECTED, where);
        assert.equal(got.partial, false, where);
      }
    });
  }

  it('splits across three pieces at every pair of positions (CRLF stream)', () => {
    const bytes = Buffer.from('data: é🌍\r\n\r\ndata:x\r\n\r\n', 'utf8');
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const got = parse([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)]);
        assert.deepEqual(got.events, ['é🌍', 'x'], `cuts at ${i}, ${j}`);
        assert.equal(got.partial, false, `cuts at ${i}, ${j}`);
      }
    }
  });

  it('returns events as soon as the blank line that ends them arrives', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push('data: a\n'), []);
    assert.deepEqual(parser.push('\ndata: b\n\nda'), ['a', 'b']);
    assert.deepEqual(parser.push('ta: c\n\n'), ['c']);
    assert.equal(parser.end().partial, false);
  });

  it("treats 'data:x' and 'data: x' as the same field, and strips only one space", () => {
    assert.deepEqual(parse(['data:x\n\n']).events, ['x']);
    assert.deepEqual(parse(['data: x\n\n']).events, ['x']);
    assert.deepEqual(parse(['data:  x\n\n']).events, [' x']);
    assert.deepEqual(parse(['data: x \n\n']).events, ['x ']);
  });

  it("joins multi-line data with '\\n'", () => {
    assert.deepEqual(parse(['data: a\ndata: b\ndata:c\n\n']).events, ['a\nb\nc']);
    assert.deepEqual(parse(['data: a\ndata:\ndata: c\n\n']).events, ['a\n\nc']);
  });

  it('ignores comments and event:, id:, retry: lines', () => {
    assert.deepEqual(parse([': ping\n\n']).events, []);
    assert.deepEqual(parse([':\n\n']).events, []);
    assert.deepEqual(parse(['event: token\nid: 7\nretry: 10\ndata: x\n\n']).events, ['x']);
    assert.deepEqual(parse(['event: token\nid: 7\n\n']).events, [], 'an event without data dispatches nothing');
    assert.deepEqual(parse([': ping\ndata: y\n: pong\n\n']).events, ['y']);
    assert.equal(parse([': ping\n\n']).partial, false);
    assert.equal(parse([': ping\n']).partial, false, 'a trailing comment line is not an event in progress');
  });

  it('accepts LF-only, CRLF and mixed line endings', () => {
    assert.deepEqual(parse(['data: a\n\ndata: b\n\n']), { events: ['a', 'b'], partial: false });
    assert.deepEqual(parse(['data: a\r\n\r\ndata: b\r\n\r\n']), { events: ['a', 'b'], partial: false });
    assert.deepEqual(parse(['data: a\r\n\ndata: b\n\r\n']), { events: ['a', 'b'], partial: false });
  });

  it('accepts CR-only line endings between events', () => {
    // The CR that ends the second event is followed by more bytes, so it cannot be half of a CRLF.
    assert.deepEqual(parse(['data: a\r\rdata: b\r\rdata: c\r']).events, ['a', 'b']);
    assert.deepEqual(parse(['data: a\rdata: b\r\r:ping\r']).events, ['a\nb']);
    // Split at every position of a CR-only stream that continues after its last event.
    const bytes = Buffer.from('data: a\r\rdata:🌍\r\r: end\r', 'utf8');
    for (const pieces of allSplits(bytes)) assert.deepEqual(parse(pieces).events, ['a', '🌍']);
  });

  it('dispatches the last event of a CR-only stream that ends cleanly, and end() says not partial', () => {
    const parser = new SseParser();
    const events = parser.push('data: a\r\rdata: b\r\r');
    const { partial } = parser.end();
    assert.deepEqual(events, ['a', 'b']);
    assert.equal(partial, false);
  });

  it('gives the same events for every split position of a CR-only stream that ends with its last event', () => {
    const bytes = Buffer.from('data: a\r\rdata:🌍\r\r', 'utf8');
    for (const pieces of allSplits(bytes)) {
      const where = pieces.length === 2 ? `split at byte ${pieces[0].length}` : 'one byte at a time';
      assert.deepEqual(parse(pieces), { events: ['a', '🌍'], partial: false }, where);
    }
  });

  it('an LF that opens the next chunk completes the CRLF cut after its CR, even past empty chunks', () => {
    // Were the LF a line of its own, it would be the blank line that dispatches 'a' alone.
    assert.deepEqual(parse(['data: a\r', '\ndata: b\r\n\r\n']), { events: ['a\nb'], partial: false });
    assert.deepEqual(parse(['data: a\r', '', Buffer.alloc(0), '\ndata: b\n\n']), { events: ['a\nb'], partial: false });
    // Only the first LF is part of the CRLF: the one after it is a blank line.
    assert.deepEqual(parse(['data: a\r', '\n\n']), { events: ['a'], partial: false });
  });

  it('returns a CR-terminated event without waiting for the next chunk', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push('data: a\r\r'), ['a']);
    assert.deepEqual(parser.push('\rdata: b\r'), []);
    assert.deepEqual(parser.push('\r'), ['b']);
    assert.equal(parser.end().partial, false);
  });

  it('end() reports partial when the stream stops mid-event, and not when it ends cleanly', () => {
    assert.equal(parse(['data: a\n\n']).partial, false);
    assert.equal(parse(['data: a\r\n\r\n']).partial, false);
    assert.equal(parse([]).partial, false, 'an empty stream is not partial');
    assert.equal(parse(['data: a\n\ndata: {"b"']).partial, true, 'stopped inside a line');
    assert.equal(parse(['data: a\n\ndata: b\n']).partial, true, 'a whole data line without the blank line');
    assert.equal(parse(['data: a\n\nevent: x\n']).partial, true, 'a field line of an undispatched event');
    assert.equal(parse(['dat']).partial, true);
    // Stopped inside a multi-byte character: the decoder still holds bytes.
    const emoji = Buffer.from('data: 🌍', 'utf8');
    assert.equal(parse([emoji.subarray(0, emoji.length - 2)]).partial, true);
    // The events completed before the cut are still delivered.
    assert.deepEqual(parse(['data: a\n\ndata: b']).events, ['a']);
  });
});
