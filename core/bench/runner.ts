/**
 * A benchmark run: warm-up requests (not measured), then the measured requests as a closed loop (N
 * users, each sending its next request when the last one ended) or an open loop (requests start on a
 * seeded arrival schedule whatever is still running, optionally capped at a maximum concurrency, as
 * vLLM's --max-concurrency). Every run is bounded by a request count and a total time limit; at the
 * limit, or when the caller aborts, requests in flight are aborted and counted as `aborted`.
 */
import { performance } from 'node:perf_hooks';
import { sleep } from '../sleep';
import { arrivalOffsets } from './arrivals';
import { closeConnections, InFlight, openConnections, prepareRequest, Prompt, promptText, RequestOutcome, sendRequest, Target } from './client';
import { BenchMetrics, computeMetrics, RequestRecord, Slo } from './metrics';

export type LoadShape =
  | { kind: 'closed'; concurrency: number }
  | { kind: 'open'; rate: number; burstiness: number; maxConcurrency?: number };

export interface RunOptions {
  target: Target;
  prompts: Prompt[];
  load: LoadShape;
  /** Measured requests at most. */
  requests: number;
  /** Stop starting requests after this many ms of the measured run. */
  durationMs?: number;
  warmup: number;
  timeoutMs: number;
  /** Hard bound on the whole run, warm-up included. */
  timeLimitMs: number;
  seed: number;
  percentiles: number[];
  slo: Slo | null;
  signal?: AbortSignal;
  onProgress?: (progress: Progress) => void;
  /** Awaited after the warm-up, just before the measured requests (the bench scrapes server metrics there). */
  beforeMeasuring?: () => Promise<void>;
}

export interface Progress {
  phase: 'warm-up' | 'measuring';
  done: number;
  failed: number;
  total: number;
  elapsedMs: number;
}

export type StopReason = 'count' | 'duration' | 'time limit' | 'cancelled';

export interface BenchResult {
  startedAt: string;
  target: { url: string; kind: Target['kind']; stream: boolean; model: string | null; maxTokens: number | null };
  load: LoadShape & { requests: number; durationMs: number | null; warmup: number; timeoutMs: number; timeLimitMs: number; seed: number; percentiles: number[] };
  stoppedBy: StopReason;
  /** Requests scheduled but never sent (stopped by duration, time limit or cancel). */
  notSent: number;
  metrics: BenchMetrics;
  definitions: Record<string, string>;
}

export const LIMITS = { requests: 100_000, concurrency: 1000, rate: 10_000, warmup: 1000, timeLimitMs: 24 * 3600_000 } as const;

export const DEFINITIONS: Record<string, string> = {
  ttft: 'time to first token: ms from sending the request to the first non-empty content chunk (for an answer that is not streamed, the whole answer)',
  tpot: 'time per output token after the first: (e2e − TTFT) / (output tokens − 1), for requests with more than one output token',
  itl: 'inter-token latency: ms between consecutive content chunks, pooled over all requests (a chunk may hold several tokens)',
  e2e: 'end-to-end latency: ms from sending the request until the response ended',
  outputTokensPerSPerRequest: "a request's output tokens ÷ its e2e seconds",
  requestsPerS: 'completed requests ÷ measured run seconds (warm-up excluded)',
  outputTokensPerS: 'output tokens of completed requests ÷ measured run seconds',
  totalTokensPerS: '(input + output tokens) ÷ measured run seconds',
  goodputPerS: 'completed requests meeting every SLO given (TTFT, TPOT, e2e ≤ the limit) ÷ measured run seconds; a request with at most one output token counts TPOT 0',
  std: 'population standard deviation (divides by n, as numpy.std)',
  percentiles: "linear interpolation between the nearest ranks, rank = p/100 · (n − 1) (numpy.percentile's default)",
  tokens: "from the server's usage report when it sends one (stream_options.include_usage), else counted with the cl100k_base tokenizer; tokens.source says which",
};

/** What is wrong with the options, in words a user can act on; empty when they can run. */
export function checkRunOptions(o: Omit<RunOptions, 'target'>): string[] {
  const problems: string[] = [];
  const whole = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max;
  if (o.prompts.length === 0) problems.push('there are no prompts: give some in the node, a prompts file, or msg.payload as an array');
  if (!whole(o.requests, 1, LIMITS.requests)) problems.push(`requests must be a whole number from 1 to ${LIMITS.requests}`);
  if (o.load.kind === 'closed' && !whole(o.load.concurrency, 1, LIMITS.concurrency)) problems.push(`concurrency must be a whole number from 1 to ${LIMITS.concurrency}`);
  if (o.load.kind === 'open') {
    if (!(o.load.rate > 0 && o.load.rate <= LIMITS.rate)) problems.push(`the rate must be above 0 and at most ${LIMITS.rate} requests/s`);
    if (!(o.load.burstiness > 0 && Number.isFinite(o.load.burstiness))) problems.push('burstiness must be above 0 (1 = Poisson arrivals)');
    if (o.load.maxConcurrency !== undefined && !whole(o.load.maxConcurrency, 1, LIMITS.concurrency)) problems.push(`max concurrency must be empty or a whole number from 1 to ${LIMITS.concurrency}`);
  }
  if (o.durationMs !== undefined && !(o.durationMs > 0)) problems.push('the duration must be above 0 seconds, or empty for no duration limit');
  if (!whole(o.warmup, 0, LIMITS.warmup)) problems.push(`warm-up must be a whole number from 0 to ${LIMITS.warmup}`);
  if (!(o.timeoutMs > 0)) problems.push('the request timeout must be above 0 seconds');
  if (!(o.timeLimitMs > 0 && o.timeLimitMs <= LIMITS.timeLimitMs)) problems.push('the time limit must be above 0 and at most 24 hours');
  if (!Number.isInteger(o.seed)) problems.push('the seed must be a whole number');
  if (o.percentiles.length === 0 || !o.percentiles.every((p) => p >= 0 && p <= 100)) problems.push('percentiles must be numbers from 0 to 100, as "50,90,99"');
  for (const [key, value] of Object.entries(o.slo ?? {})) if (value !== undefined && !(value > 0)) problems.push(`the ${key} SLO must be above 0 ms`);
  return problems;
}

/** A counting semaphore whose waiters are let go (to give up) when the run is aborted. */
class Slots {
  private waiting: (() => void)[] = [];
  constructor(private free: number, signal: AbortSignal) {
    signal.addEventListener('abort', () => this.waiting.splice(0).forEach((go) => go()), { once: true });
  }
  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

type Issue = (index: number) => Promise<void>;

async function closedLoop(count: number, concurrency: number, deadline: number, signal: AbortSignal, issue: Issue): Promise<number> {
  let next = 0;
  const user = async () => {
    while (next < count && !signal.aborted && performance.now() < deadline) await issue(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, user));
  return next;
}

async function openLoop(offsets: number[], start: number, durationMs: number, maxConcurrency: number | undefined, signal: AbortSignal, issue: Issue): Promise<number> {
  const slots = maxConcurrency ? new Slots(maxConcurrency, signal) : null;
  const running: Promise<void>[] = [];
  let sent = 0;
  for (let i = 0; i < offsets.length && offsets[i] < durationMs; i++) {
    // Timers count from the event loop's cached clock and can fire early: sleep again for what is left.
    for (let wait = start + offsets[i] - performance.now(); wait > 0 && !signal.aborted; wait = start + offsets[i] - performance.now()) await sleep(wait, signal);
    if (signal.aborted) break;
    sent++;
    running.push(
      (async () => {
        if (slots) await slots.acquire();
        if (signal.aborted) return;
        try {
          await issue(i);
        } finally {
          slots?.release();
        }
      })(),
    );
  }
  await Promise.all(running);
  return sent;
}

export async function runBenchmark(options: RunOptions): Promise<BenchResult> {
  const { target, prompts, load } = options;
  const controller = new AbortController();
  const signal = controller.signal;
  let stoppedBy: StopReason = 'count';
  const cancel = () => {
    stoppedBy = 'cancelled';
    controller.abort();
  };
  if (options.signal?.aborted) cancel();
  options.signal?.addEventListener('abort', cancel, { once: true });
  const limit = setTimeout(() => {
    stoppedBy = 'time limit';
    controller.abort();
  }, options.timeLimitMs);
  const connections = openConnections(target);
  const inflight = new InFlight();
  signal.addEventListener('abort', () => inflight.abortAll(), { once: true });
  const prepared = prompts.map((prompt) => prepareRequest(target, prompt));
  const concurrency = load.kind === 'closed' ? load.concurrency : load.maxConcurrency ?? 1;
  const startedAt = new Date().toISOString();
  const runStart = performance.now();
  const sendOptions = { connections, timeoutMs: options.timeoutMs, inflight };
  const send = (index: number): Promise<RequestOutcome> => sendRequest(prepared[index % prepared.length], sendOptions);
  const report = (phase: Progress['phase'], done: number, failed: number, total: number) =>
    options.onProgress?.({ phase, done, failed, total, elapsedMs: performance.now() - runStart });

  const records: RequestRecord[] = [];
  let durationMs = 0;
  let sent = 0;
  try {
    let warmed = 0;
    let warmFailed = 0;
    await closedLoop(options.warmup, concurrency, Infinity, signal, async (i) => {
      const outcome = await send(i);
      warmed++;
      if (outcome.error) warmFailed++;
      report('warm-up', warmed, warmFailed, options.warmup);
    });

    if (!signal.aborted) await options.beforeMeasuring?.();
    const start = performance.now();
    const stopAt = options.durationMs ?? Infinity;
    let failed = 0;
    const issue: Issue = async (i) => {
      const startMs = performance.now() - start;
      const index = options.warmup + i;
      const outcome = await send(index);
      records.push({ index: i, startMs, promptText: promptText(prompts[index % prompts.length]), outcome });
      if (outcome.error) failed++;
      report('measuring', records.length, failed, options.requests);
    };
    if (!signal.aborted) {
      sent =
        load.kind === 'closed'
          ? await closedLoop(options.requests, load.concurrency, start + stopAt, signal, issue)
          : await openLoop(arrivalOffsets({ rate: load.rate, burstiness: load.burstiness, count: options.requests, seed: options.seed }), start, stopAt, load.maxConcurrency, signal, issue);
    }
    durationMs = performance.now() - start;
    if (stoppedBy === 'count' && sent < options.requests) stoppedBy = 'duration';
  } finally {
    clearTimeout(limit);
    options.signal?.removeEventListener('abort', cancel);
    closeConnections(connections);
  }
  return {
    startedAt,
    target: { url: target.url, kind: target.kind, stream: target.stream, model: target.model ?? null, maxTokens: target.maxTokens ?? null },
    load: { ...load, requests: options.requests, durationMs: options.durationMs ?? null, warmup: options.warmup, timeoutMs: options.timeoutMs, timeLimitMs: options.timeLimitMs, seed: options.seed, percentiles: options.percentiles },
    stoppedBy,
    notSent: options.requests - records.length,
    metrics: computeMetrics(records, durationMs, options.percentiles, options.slo),
    definitions: DEFINITIONS,
  };
}
