/**
 * The core reports a streamed answer through a callback (runLlm's onChunk); LangChain pulls chunks
 * from an async generator. `piecesOf` joins the two: it starts the call, queues every piece the
 * callback hands over, and yields them in order, then returns the call's result or throws its error.
 *
 * The callback cannot be made to wait (the core's is synchronous), so pieces the consumer has not
 * taken yet wait in the queue; no piece is dropped or reordered, and the queue holds at most one
 * answer (bounded by max tokens and the endpoint's stream limits). Stopping early — the consumer
 * leaving its loop, or the caller's signal aborting — aborts the request and waits for it to end, so
 * no request outlives its stream.
 */

type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export async function* piecesOf<R>(
  start: (onPiece: (piece: string) => void, signal: AbortSignal) => Promise<R>,
  outer?: AbortSignal,
): AsyncGenerator<string, R, undefined> {
  const own = new AbortController();
  const signal = outer ? AbortSignal.any([outer, own.signal]) : own.signal;
  const queue: string[] = [];
  let settled: Settled<R> | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const running = start((piece) => {
    if (settled) return;
    queue.push(piece);
    notify();
  }, signal).then(
    (value) => {
      settled = { ok: true, value };
      notify();
    },
    (error: unknown) => {
      settled = { ok: false, error };
      notify();
    },
  );
  try {
    for (;;) {
      if (queue.length > 0) {
        for (const piece of queue.splice(0)) yield piece;
        continue;
      }
      if (settled) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    const end = settled as Settled<R>;
    if (!end.ok) throw end.error;
    return end.value;
  } finally {
    if (!settled) {
      own.abort();
      await running;
    }
  }
}
