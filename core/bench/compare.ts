/**
 * Two benchmark runs side by side (the candidate and a baseline, run one after the other with the same
 * prompts and load): per latency metric both means and the difference (candidate − baseline) with an
 * unpaired seeded bootstrap CI over the completed requests, which are independent samples, not pairs;
 * throughput and failures beside them, one number a run (no interval).
 */
import { BootstrapOptions, Interval, unpairedBootstrap } from '../eval/compare-stats';
import { RequestSample } from './metrics';
import { BenchResult } from './runner';

export interface BenchSide {
  label: string;
  result: BenchResult;
}

export interface LatencyComparison {
  metric: 'ttft_ms' | 'tpot_ms' | 'e2e_ms';
  baseline: number | null;
  candidate: number | null;
  interval: Interval | null;
  /** The faster side when the interval excludes zero. */
  better: 'candidate' | 'baseline' | 'neither';
}

export interface BenchComparison {
  baseline: string;
  candidate: string;
  bootstrap: BootstrapOptions;
  latency: LatencyComparison[];
  throughput: {
    requestsPerS: { baseline: number; candidate: number };
    outputTokensPerS: { baseline: number; candidate: number };
  };
  completed: { baseline: number; candidate: number };
  failed: { baseline: number; candidate: number };
}

const FIELDS: Record<LatencyComparison['metric'], (s: RequestSample) => number | null> = {
  ttft_ms: (s) => s.ttftMs,
  tpot_ms: (s) => s.tpotMs,
  e2e_ms: (s) => s.e2eMs,
};

function valuesOf(result: BenchResult, field: (s: RequestSample) => number | null): number[] {
  return result.metrics.samples.filter((s) => s.ok).flatMap((s) => {
    const v = field(s);
    return v === null || !Number.isFinite(v) ? [] : [v];
  });
}

const meanOf = (xs: number[]) => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);

export function compareBenchmarks(baseline: BenchSide, candidate: BenchSide, bootstrap: BootstrapOptions): BenchComparison {
  const latency = (Object.keys(FIELDS) as LatencyComparison['metric'][]).map((metric): LatencyComparison => {
    const a = valuesOf(baseline.result, FIELDS[metric]);
    const b = valuesOf(candidate.result, FIELDS[metric]);
    const interval = unpairedBootstrap(a, b, bootstrap);
    const better = !interval?.excludesZero ? 'neither' : interval.high < 0 ? 'candidate' : 'baseline';
    return { metric, baseline: meanOf(a), candidate: meanOf(b), interval, better };
  });
  const [x, y] = [baseline.result.metrics, candidate.result.metrics];
  return {
    baseline: baseline.label,
    candidate: candidate.label,
    bootstrap,
    latency,
    throughput: {
      requestsPerS: { baseline: x.throughput.requestsPerS, candidate: y.throughput.requestsPerS },
      outputTokensPerS: { baseline: x.throughput.outputTokensPerS, candidate: y.throughput.outputTokensPerS },
    },
    completed: { baseline: x.completed, candidate: y.completed },
    failed: { baseline: x.failed, candidate: y.failed },
  };
}

/** The figures a benchmark run keeps in the results folder. */
export function benchFigures(result: BenchResult): Record<string, number> {
  const m = result.metrics;
  const nan = (v: number | null) => v ?? NaN;
  return {
    completed: m.completed,
    failed: m.failed,
    requests_per_s: m.throughput.requestsPerS,
    output_tokens_per_s: m.throughput.outputTokensPerS,
    ttft_mean_ms: nan(m.latencyMs.ttft.mean),
    tpot_mean_ms: nan(m.latencyMs.tpot.mean),
    e2e_mean_ms: nan(m.latencyMs.e2e.mean),
    e2e_p99_ms: nan(m.latencyMs.e2e.percentiles.p99 ?? null),
  };
}
