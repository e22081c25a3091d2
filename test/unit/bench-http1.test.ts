import assert from 'node:assert/strict';
import { ResponseHead, ResponseParser } from '../../core/bench/http1';

function parseInPieces(bytes: Buffer, cut: number): { head: ResponseHead | null; body: string; ended: boolean; parser: ResponseParser } {
  const seen = { head: null as ResponseHead | null, body: '', ended: false };
  const parser = new ResponseParser({
    head: (h) => (seen.head = h),
    body: (c) => (seen.body += c.toString('latin1')),
    end: () => (seen.ended = true),
    error: () => assert.fail('the parser reports errors by throwing'),
  });
  // Each piece is lent, as the pool lends its read buffer: overwritten as soon as push returns.
  const lent = Buffer.alloc(cut);
  for (let i = 0; i < bytes.length; i += cut) {
    const n = bytes.copy(lent, 0, i, i + cut);
    parser.push(lent.subarray(0, n));
    lent.fill('x');
  }
  return { ...seen, parser };
}

const CHUNKED = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1b;ext=1\r\ndata: {"x": 1}\r\n\r\ndata: 2\r\n\r\n0\r\nX-Trailer: t\r\n\r\n', 'latin1');

describe('bench HTTP/1.1 response parser', () => {
  it('reads a chunked body (extensions and trailers included) however the bytes are split', () => {
    for (let cut = 1; cut <= CHUNKED.length; cut++) {
      const r = parseInPieces(CHUNKED, cut);
      assert.equal(r.head?.status, 200);
      assert.equal(r.head?.headers['content-type'], 'text/event-stream');
      assert.equal(r.body, 'hellodata: {"x": 1}\r\n\r\ndata: 2\r\n', `cut ${cut}`);
      assert.ok(r.ended && r.parser.keepAlive, `cut ${cut}`);
    }
  });

  it('reads a Content-Length body, and a body that runs until the connection closes', () => {
    const sized = parseInPieces(Buffer.from('HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\nConnection: close\r\n\r\nabc'), 7);
    assert.deepEqual([sized.head?.status, sized.body, sized.ended, sized.parser.keepAlive], [404, 'abc', true, false]);
    const untilClose = parseInPieces(Buffer.from('HTTP/1.0 200 OK\r\n\r\npartial'), 4);
    assert.deepEqual([untilClose.body, untilClose.ended], ['partial', false]);
    assert.equal(untilClose.parser.close(), true);
    assert.equal(untilClose.parser.keepAlive, false);
    const empty = parseInPieces(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n'), 100);
    assert.deepEqual([empty.body, empty.ended], ['', true]);
  });

  it('a connection closed mid-body is not a complete response; bytes that are not HTTP throw', () => {
    const cut = parseInPieces(CHUNKED.subarray(0, 90), 90);
    assert.equal(cut.ended, false);
    assert.equal(cut.parser.close(), false);
    assert.throws(() => parseInPieces(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'), 50), /not an HTTP\/1\.x response: SSH-2\.0-OpenSSH/);
    assert.throws(() => parseInPieces(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), 50), /a bad chunk size line: zz/);
    assert.throws(() => parseInPieces(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n'), 50), /a chunk is longer than its size line says/);
  });
});
