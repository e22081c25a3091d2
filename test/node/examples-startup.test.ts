/**
 * The studio's start-up window: polled from the moment it is spawned, the editor answers 503 with
 * Retry-After until Node-RED has started (and nothing is logged as an error), and the offline ChatQnA
 * entry answers 503 with Retry-After until the start-up ingest has finished: never an answer from
 * the empty vector store ("The retrieved documents do not answer this question.").
 */
import assert from 'node:assert/strict';
import { startStudio, type StudioProcess } from '../support/editor';
import { freePort } from '../support/loopback';

interface Seen {
  what: 'editor' | 'entry';
  status: number;
  retryAfter: string | null;
  body: string;
}

/** One request; undefined while nothing listens yet. */
async function ask(url: string, init?: RequestInit): Promise<{ status: number; retryAfter: string | null; body: string } | undefined> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() };
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET') return undefined;
    throw err;
  }
}

describe('studio start-up window (npm start)', function () {
  this.timeout(120_000);
  let studio: StudioProcess | undefined;
  afterEach(async () => {
    await studio?.stop('SIGKILL');
    studio = undefined;
  });

  it('answers 503 with Retry-After until the editor and the start-up ingest are ready, never a wrong answer', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const starting = startStudio({ port });
    const seen: Seen[] = [];
    const until = Date.now() + 60_000;
    let answered = false;
    while (!answered) {
      assert.ok(Date.now() < until, `no answer naming IBM within 60 s; seen: ${JSON.stringify(seen.slice(-5))}`);
      const [page, editor, entry] = await Promise.all([
        ask(`${base}/`),
        ask(`${base}/flows`),
        ask(`${base}/v1/chatqna`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'Who developed Node-RED?' }) }),
      ]);
      for (const reply of [page, editor]) if (reply) seen.push({ what: 'editor', ...reply });
      if (entry) seen.push({ what: 'entry', ...entry });
      answered = entry?.status === 200 && /IBM/.test(entry.body);
      await new Promise((r) => setTimeout(r, 20));
    }
    studio = await starting;

    const wrong = seen.filter((s) => s.status !== 200 && (s.status !== 503 || s.retryAfter !== '1'));
    assert.deepEqual(wrong, [], 'before it is ready, it answers 503 with Retry-After: 1');
    assert.deepEqual(seen.filter((s) => s.what === 'entry' && s.status === 200 && !/IBM/.test(s.body)), [], 'no answer from the empty store');
    assert.ok(seen.some((s) => s.what === 'entry' && s.status === 503), 'the entry was polled inside the window (the ingest runs 0.5 s after the flows start)');
    assert.doesNotMatch(studio.output(), /\[error\]/, studio.output());
  });
});
