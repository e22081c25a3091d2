/**
 * Server-side figures of a benchmark run, from the target's Prometheus metrics: scraped before the
 * measured requests and after them (counters and histograms as differences), and every interval in
 * between (gauges: queue and batch size). TGI, vLLM and TEI name their metrics as core/catalog.ts's
 * SERVER_METRICS says.
 */
import { performance } from 'node:perf_hooks';
import { SERVER_METRICS } from '../catalog';
import { parsePrometheusText, Sample } from './prometheus-text';

export type ServerKind = 'tgi' | 'tei' | 'vllm';

/** The largest /metrics answer read: a model server's is tens of kB. */
const MAX_BYTES = 16 * 1024 * 1024;

export class ScrapeError extends Error {}

async function bodyText(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_BYTES) {
      await reader.cancel();
      throw new ScrapeError(`the answer passed ${MAX_BYTES / 1024 / 1024} MB`);
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** GET `url` and parse it; a ScrapeError says why not. */
export async function scrape(url: string, timeoutMs: number): Promise<Sample[]> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'text/plain;version=0.0.4' }, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    throw new ScrapeError(e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : e.cause?.code ?? e.message);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new ScrapeError(`HTTP ${response.status}`);
  }
  try {
    return parsePrometheusText(await bodyText(response));
  } catch (err) {
    throw new ScrapeError(`not Prometheus text: ${(err as Error).message}`);
  }
}

const has = (samples: Sample[], prefix: string) => samples.some((s) => s.name.startsWith(prefix));

/** Which server wrote these metrics, by the names only it uses. */
export function serverKind(samples: Sample[]): ServerKind | null {
  if (has(samples, 'tgi_')) return 'tgi';
  if (has(samples, 'vllm:')) return 'vllm';
  if (has(samples, 'te_')) return 'tei';
  return null;
}

type Filter = Record<string, string>;

const matches = (s: Sample, name: string, filter: Filter) => s.name === name && Object.entries(filter).every(([k, v]) => s.labels[k] === v);

/** Sum of the samples named `name` (every label set that matches `filter`). */
function total(samples: Sample[], name: string, filter: Filter = {}): number | null {
  const found = samples.filter((s) => matches(s, name, filter));
  return found.length === 0 ? null : found.reduce((sum, s) => sum + s.value, 0);
}

interface Histogram {
  /** Cumulative count per upper bound, ascending. */
  buckets: [number, number][];
  sum: number;
  count: number;
}

function histogram(samples: Sample[], name: string, filter: Filter = {}): Histogram | null {
  const count = total(samples, `${name}_count`, filter);
  if (count === null) return null;
  const byBound = new Map<number, number>();
  for (const s of samples) {
    if (!matches(s, `${name}_bucket`, filter) || s.labels.le === undefined) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    byBound.set(le, (byBound.get(le) ?? 0) + s.value);
  }
  return { buckets: [...byBound].sort((a, b) => a[0] - b[0]), sum: total(samples, `${name}_sum`, filter) ?? 0, count };
}

function difference(after: Histogram, before: Histogram | null): Histogram {
  const earlier = new Map(before?.buckets ?? []);
  return {
    buckets: after.buckets.map(([le, n]) => [le, n - (earlier.get(le) ?? 0)]),
    sum: after.sum - (before?.sum ?? 0),
    count: after.count - (before?.count ?? 0),
  };
}

/**
 * The q-quantile of a histogram's observations, interpolated linearly inside its bucket as
 * Prometheus' histogram_quantile does; the highest finite bound when it falls in the +Inf bucket.
 */
export function bucketQuantile(q: number, h: Histogram): number | null {
  if (h.count <= 0) return null;
  const rank = q * h.count;
  let lower = 0;
  let below = 0;
  for (const [le, cumulative] of h.buckets) {
    if (cumulative >= rank) {
      if (le === Infinity) return lower;
      const inBucket = cumulative - below;
      return inBucket <= 0 ? le : lower + (le - lower) * ((rank - below) / inBucket);
    }
    lower = le;
    below = cumulative;
  }
  return lower;
}

export interface Distribution {
  /** Observations in the run. */
  count: number;
  mean: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
}

/** The run's observations of a histogram, scaled (seconds to ms: 1000). */
function distribution(before: Sample[], after: Sample[], name: string, scale: number, filter: Filter = {}): Distribution | null {
  const end = histogram(after, name, filter);
  if (!end) return null;
  const run = difference(end, histogram(before, name, filter));
  const at = (q: number) => {
    const v = bucketQuantile(q, run);
    return v === null ? null : v * scale;
  };
  return { count: run.count, mean: run.count > 0 ? (run.sum / run.count) * scale : null, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

export interface GaugeFigures {
  mean: number;
  max: number;
  samples: number;
}

function gaugeFigures(snapshots: Sample[][], name: string): GaugeFigures | null {
  const values = snapshots.map((s) => total(s, name)).filter((v): v is number => v !== null);
  if (values.length === 0) return null;
  return { mean: values.reduce((a, b) => a + b, 0) / values.length, max: Math.max(...values), samples: values.length };
}

function change(before: Sample[], after: Sample[], name: string): number | null {
  const end = total(after, name);
  return end === null ? null : end - (total(before, name) ?? 0);
}

/** TGI and TEI write a failure counter only once something failed: none written next to a request count is 0. */
function failures(before: Sample[], after: Sample[], name: string, requests: number | null): number | null {
  return change(before, after, name) ?? (requests === null ? null : 0);
}

export interface ServerFigures {
  kind: ServerKind;
  /** Seconds between the scrape before the measured requests and the one after them. */
  seconds: number;
  requests: number | null;
  failures: number | null;
  /** Time requests waited in the server's queue, ms. */
  queueTimeMs: Distribution | null;
  /** The server's own time to first token, ms (vLLM; TGI and TEI measure none). */
  ttftMs: Distribution | null;
  /** Per request, the server's mean time per generated token, ms (TGI; vLLM per token). */
  timePerTokenMs: Distribution | null;
  generatedTokens: number | null;
  generatedTokensPerS: number | null;
  /** Requests waiting, sampled during the run. */
  queueSize: GaugeFigures | null;
  /** TGI: the running batch, sampled; vLLM: requests running, sampled; TEI: its batches' sizes (mean of the run's batches in `mean`). */
  batchSize: GaugeFigures | Distribution | null;
}

/** The figures of one server from its scrape before the run, its scrapes during it and the one after. */
export function serverFigures(kind: ServerKind, before: Sample[], during: Sample[][], after: Sample[], seconds: number): ServerFigures {
  const sampled = [...during, after];
  const perS = (n: number | null) => (n === null || !(seconds > 0) ? null : n / seconds);
  if (kind === 'tgi') {
    const m = SERVER_METRICS.tgi;
    const generated = change(before, after, `${m.generatedTokens}_sum`);
    const requests = change(before, after, m.requests);
    return {
      kind, seconds,
      requests,
      failures: failures(before, after, m.failures, requests),
      queueTimeMs: distribution(before, after, m.queueDuration, 1000),
      ttftMs: null,
      timePerTokenMs: distribution(before, after, m.timePerToken, 1000),
      generatedTokens: generated,
      generatedTokensPerS: perS(generated),
      queueSize: gaugeFigures(sampled, m.queueSize),
      batchSize: gaugeFigures(sampled, m.batchSize),
    };
  }
  if (kind === 'vllm') {
    const m = SERVER_METRICS.vllm;
    const generated = change(before, after, m.generationTokens);
    return {
      kind, seconds,
      requests: change(before, after, m.requests),
      failures: null,
      queueTimeMs: distribution(before, after, m.queueDuration, 1000),
      ttftMs: distribution(before, after, m.ttft, 1000),
      timePerTokenMs: distribution(before, after, m.timePerToken, 1000),
      generatedTokens: generated,
      generatedTokensPerS: perS(generated),
      queueSize: gaugeFigures(sampled, m.queueSize),
      batchSize: gaugeFigures(sampled, m.running),
    };
  }
  const m = SERVER_METRICS.tei;
  const requests = change(before, after, m.requests);
  return {
    kind, seconds,
    requests,
    failures: failures(before, after, m.failures, requests),
    queueTimeMs: distribution(before, after, m.queueDuration, 1000),
    ttftMs: null,
    timePerTokenMs: null,
    generatedTokens: null,
    generatedTokensPerS: null,
    queueSize: gaugeFigures(sampled, m.queueSize),
    batchSize: distribution(before, after, m.batchSize, 1),
  };
}

/** What one metrics URL gave: its figures, or why there are none. */
export type ServerReport = { url: string } & ({ figures: ServerFigures } | { error: string });

/**
 * Watches the metrics URLs over a run: `start` scrapes them (before the measured requests), then
 * every `intervalMs` until `stop`, which scrapes them once more and returns one report per URL.
 */
export class ServerMetricsWatch {
  private readonly before = new Map<string, Sample[] | string>();
  private readonly during = new Map<string, Sample[][]>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  private startedAt = 0;

  constructor(private readonly urls: string[], private readonly intervalMs: number, private readonly timeoutMs: number) {}

  private async scrapeAll(): Promise<Map<string, Sample[] | string>> {
    const answers = await Promise.all(this.urls.map((url) => scrape(url, this.timeoutMs).catch((err: Error) => (err instanceof ScrapeError ? err.message : Promise.reject(err)))));
    return new Map(this.urls.map((url, i) => [url, answers[i]]));
  }

  async start(): Promise<void> {
    for (const [url, answer] of await this.scrapeAll()) this.before.set(url, answer);
    this.startedAt = performance.now();
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      void this.scrapeAll().then((answers) => {
        for (const [url, answer] of answers) if (typeof answer !== 'string') this.during.set(url, [...(this.during.get(url) ?? []), answer]);
      }).finally(() => {
        this.busy = false;
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<ServerReport[]> {
    clearInterval(this.timer);
    const after = await this.scrapeAll();
    const seconds = (performance.now() - this.startedAt) / 1000;
    return this.urls.map((url): ServerReport => {
      const first = this.before.get(url);
      const last = after.get(url);
      if (typeof first === 'string' || first === undefined) return { url, error: `before the run: ${first ?? 'not scraped'}` };
      if (typeof last === 'string' || last === undefined) return { url, error: `after the run: ${last ?? 'not scraped'}` };
      const kind = serverKind(last);
      if (!kind) return { url, error: 'no TGI, vLLM or TEI metrics in the answer' };
      return { url, figures: serverFigures(kind, first, this.during.get(url) ?? [], last, seconds) };
    });
  }
}
