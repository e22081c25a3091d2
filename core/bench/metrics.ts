/**
 * The serving metrics of a run, defined as vLLM's serving benchmark defines them (vllm bench serve,
 * benchmarks/benchmark_serving.py calculate_metrics):
 * - TTFT: from sending the request to the first non-empty content chunk.
 * - TPOT: (e2e − TTFT) / (output tokens − 1), for requests with more than one output token.
 * - ITL: every gap between consecutive content chunks, pooled over all requests.
 * - E2E: from sending the request until the response has ended.
 * - Throughput: completed requests, output tokens, and input + output tokens per second of the
 *   measured run (warm-up excluded); goodput: completed requests per second that meet every SLO given
 *   (a request with at most one output token counts TPOT 0, as vLLM does).
 */
import { ErrorKind, RequestOutcome } from './client';
import { summarize, Summary } from './stats';
import { countTokens, TOKENIZER_NAME } from '../tokens';

export interface Slo {
  ttftMs?: number;
  tpotMs?: number;
  e2eMs?: number;
}

export interface RequestRecord {
  index: number;
  /** ms from the start of the measured run to sending. */
  startMs: number;
  promptText: string;
  outcome: RequestOutcome;
}

export interface RequestSample {
  index: number;
  startMs: number;
  endMs: number;
  ok: boolean;
  ttftMs: number | null;
  tpotMs: number | null;
  e2eMs: number;
  inputTokens: number | null;
  outputTokens: number | null;
  error: string | null;
}

export interface BenchMetrics {
  completed: number;
  failed: number;
  durationS: number;
  tokens: {
    /** usage: every count from the server's usage report; tokenizer: every count from cl100k_base; mixed: some of each. */
    source: 'usage' | 'tokenizer' | 'mixed' | 'none';
    tokenizer: string;
    fromUsage: number;
    fromTokenizer: number;
    input: number;
    output: number;
  };
  throughput: { requestsPerS: number; outputTokensPerS: number; totalTokensPerS: number; goodputPerS: number | null };
  goodput: { slo: Slo; good: number } | null;
  latencyMs: { ttft: Summary; tpot: Summary; itl: Summary; e2e: Summary };
  /** Output tokens ÷ e2e seconds, per completed request. */
  outputTokensPerSPerRequest: Summary;
  errors: { total: number; byKind: Partial<Record<ErrorKind, number>>; byStatus: Record<string, number>; examples: { index: number; kind: ErrorKind; message: string }[] };
  samples: RequestSample[];
}

const EXAMPLES_PER_KIND = 3;

function meetsSlo(slo: Slo, ttft: number | null, tpot: number, e2e: number): boolean {
  if (slo.ttftMs !== undefined && (ttft === null || ttft > slo.ttftMs)) return false;
  if (slo.tpotMs !== undefined && tpot > slo.tpotMs) return false;
  if (slo.e2eMs !== undefined && e2e > slo.e2eMs) return false;
  return true;
}

export function computeMetrics(records: readonly RequestRecord[], durationMs: number, percentiles: readonly number[], slo: Slo | null): BenchMetrics {
  const ttfts: number[] = [];
  const tpots: number[] = [];
  const itls: number[] = [];
  const e2es: number[] = [];
  const perRequestRates: number[] = [];
  const byKind: Partial<Record<ErrorKind, number>> = {};
  const byStatus: Record<string, number> = {};
  const examples: BenchMetrics['errors']['examples'] = [];
  const samples: RequestSample[] = [];
  let input = 0;
  let output = 0;
  let fromUsage = 0;
  let fromTokenizer = 0;
  let good = 0;
  // A run repeats a few prompts (and, from deterministic servers, answers) thousands of times.
  const counted = new Map<string, number>();
  const tokensOf = (text: string) => {
    let n = counted.get(text);
    if (n === undefined) counted.set(text, (n = countTokens(text)));
    return n;
  };
  for (const r of [...records].sort((a, b) => a.index - b.index)) {
    const o = r.outcome;
    const sample: RequestSample = { index: r.index, startMs: r.startMs, endMs: r.startMs + o.e2eMs, ok: o.ok, ttftMs: null, tpotMs: null, e2eMs: o.e2eMs, inputTokens: null, outputTokens: null, error: null };
    samples.push(sample);
    const e = o.error;
    if (e) {
      byKind[e.kind] = (byKind[e.kind] ?? 0) + 1;
      if (e.status !== undefined) byStatus[e.status] = (byStatus[e.status] ?? 0) + 1;
      if (examples.filter((x) => x.kind === e.kind).length < EXAMPLES_PER_KIND) examples.push({ index: r.index, kind: e.kind, message: e.message });
      sample.error = `${e.kind}: ${e.message}`;
      continue;
    }
    const outputTokens = o.usage ? o.usage.completionTokens : tokensOf(o.text);
    const inputTokens = o.usage?.promptTokens ?? tokensOf(r.promptText);
    if (o.usage) fromUsage++;
    else fromTokenizer++;
    input += inputTokens;
    output += outputTokens;
    const ttft = o.contentTimesMs.length > 0 ? o.contentTimesMs[0] : null;
    let tpot = 0;
    if (ttft !== null) {
      ttfts.push(ttft);
      for (let i = 1; i < o.contentTimesMs.length; i++) itls.push(o.contentTimesMs[i] - o.contentTimesMs[i - 1]);
      if (outputTokens > 1) {
        tpot = (o.e2eMs - ttft) / (outputTokens - 1);
        tpots.push(tpot);
        sample.tpotMs = tpot;
      }
    }
    e2es.push(o.e2eMs);
    if (o.e2eMs > 0) perRequestRates.push(outputTokens / (o.e2eMs / 1000));
    Object.assign(sample, { ttftMs: ttft, inputTokens, outputTokens });
    if (slo && meetsSlo(slo, ttft, tpot, o.e2eMs)) good++;
  }
  const completed = e2es.length;
  const seconds = durationMs / 1000;
  const per = (n: number) => (seconds > 0 ? n / seconds : 0);
  const total = records.length - completed;
  return {
    completed,
    failed: total,
    durationS: seconds,
    tokens: {
      source: fromUsage > 0 && fromTokenizer > 0 ? 'mixed' : fromUsage > 0 ? 'usage' : fromTokenizer > 0 ? 'tokenizer' : 'none',
      tokenizer: TOKENIZER_NAME,
      fromUsage,
      fromTokenizer,
      input,
      output,
    },
    throughput: { requestsPerS: per(completed), outputTokensPerS: per(output), totalTokensPerS: per(input + output), goodputPerS: slo ? per(good) : null },
    goodput: slo ? { slo, good } : null,
    latencyMs: { ttft: summarize(ttfts, percentiles), tpot: summarize(tpots, percentiles), itl: summarize(itls, percentiles), e2e: summarize(e2es, percentiles) },
    outputTokensPerSPerRequest: summarize(perRequestRates, percentiles),
    errors: { total, byKind, byStatus, examples },
    samples,
  };
}
