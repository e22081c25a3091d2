/**
 * Two pipelines evaluated on the same rows, side by side: per metric both means, the difference
 * (candidate − baseline) with a paired bootstrap CI, and wins, losses and ties row by row; the rows
 * whose scores changed most; latency and answer tokens beside quality (lower is better there).
 */
import { countTokens, TOKENIZER_NAME } from '../tokens';
import { BootstrapOptions, Interval, pairedBootstrap } from './compare-stats';
import { EvaluationResult, SampleResult } from './runner';

export interface Side {
  label: string;
  result: EvaluationResult;
}

export interface MetricComparison {
  metric: string;
  /** Means over the rows both sides scored, so that candidate − baseline is the difference shown. */
  baseline: number;
  candidate: number;
  /** Rows scored on both sides. */
  paired: number;
  interval: Interval | null;
  /** Rows where the candidate did better, worse, the same (better is higher, or lower for costs). */
  wins: number;
  losses: number;
  ties: number;
  /** Which side the interval favours: the other side's mean is out of it. */
  better: 'candidate' | 'baseline' | 'neither';
}

export interface ChangedRow {
  row: number;
  id?: string | number;
  question: string;
  baselineAnswer?: string;
  candidateAnswer?: string;
  /** candidate − baseline per metric, for the metrics both sides scored on the row. */
  changes: Record<string, number>;
}

export interface Comparison {
  baseline: string;
  candidate: string;
  rows: number;
  bootstrap: BootstrapOptions;
  quality: MetricComparison[];
  /** latency_ms (the time the pipeline took to answer a row) and answer_tokens, when measured. */
  cost: MetricComparison[];
  /** The tokenizer answer_tokens counts with (not the models' own). */
  tokenizer: string;
  mostChanged: ChangedRow[];
}

/** Differences smaller than this count as ties: scores computed the same way can differ in the last bits. */
const TIE = 1e-9;

function compareMetric(metric: string, baseline: (number | undefined)[], candidate: (number | undefined)[], higherIsBetter: boolean, bootstrap: BootstrapOptions): MetricComparison {
  const a: number[] = [];
  const b: number[] = [];
  baseline.forEach((v, i) => {
    const w = candidate[i];
    if (Number.isFinite(v) && Number.isFinite(w)) {
      a.push(v as number);
      b.push(w as number);
    }
  });
  let wins = 0;
  let losses = 0;
  a.forEach((v, i) => {
    const gain = higherIsBetter ? b[i] - v : v - b[i];
    if (gain > TIE) wins++;
    else if (gain < -TIE) losses++;
  });
  const interval = pairedBootstrap(a, b, bootstrap);
  const mean = (xs: number[]) => (xs.length === 0 ? NaN : xs.reduce((s, x) => s + x, 0) / xs.length);
  let better: MetricComparison['better'] = 'neither';
  if (interval?.excludesZero) better = interval.low > 0 === higherIsBetter ? 'candidate' : 'baseline';
  return { metric, baseline: mean(a), candidate: mean(b), paired: a.length, interval, wins, losses, ties: a.length - wins - losses, better };
}

const answerTokens = (s: SampleResult) => (s.answer === undefined ? undefined : countTokens(s.answer));

export function compareEvaluations(baseline: Side, candidate: Side, bootstrap: BootstrapOptions, mostChanged = 5): Comparison {
  const [a, b] = [baseline.result, candidate.result];
  if (a.rows !== b.rows) throw new Error(`the two evaluations have ${a.rows} and ${b.rows} rows: a comparison needs the same rows on both sides`);
  const metrics = a.metrics.filter((m) => b.metrics.includes(m));
  const quality = metrics.map((m) =>
    compareMetric(
      m,
      a.samples.map((s) => s.scores[m]),
      b.samples.map((s) => s.scores[m]),
      true,
      bootstrap,
    ),
  );
  const cost: MetricComparison[] = [];
  if (a.samples.some((s) => s.latencyMs !== undefined)) cost.push(compareMetric('latency_ms', a.samples.map((s) => s.latencyMs), b.samples.map((s) => s.latencyMs), false, bootstrap));
  if (a.samples.some((s) => s.answer !== undefined)) cost.push(compareMetric('answer_tokens', a.samples.map(answerTokens), b.samples.map(answerTokens), false, bootstrap));
  const changed = a.samples.map((s, i): ChangedRow => {
    const other = b.samples[i];
    const changes: Record<string, number> = {};
    for (const m of metrics) if (Number.isFinite(s.scores[m]) && Number.isFinite(other.scores[m])) changes[m] = other.scores[m] - s.scores[m];
    return {
      row: s.row,
      ...(s.id === undefined ? {} : { id: s.id }),
      question: s.question,
      ...(s.answer === undefined ? {} : { baselineAnswer: s.answer }),
      ...(other.answer === undefined ? {} : { candidateAnswer: other.answer }),
      changes,
    };
  });
  const size = (r: ChangedRow) => Math.max(0, ...Object.values(r.changes).map(Math.abs));
  return {
    baseline: baseline.label,
    candidate: candidate.label,
    rows: a.rows,
    bootstrap,
    quality,
    cost,
    tokenizer: TOKENIZER_NAME,
    mostChanged: changed
      .filter((r) => size(r) > TIE)
      .sort((x, y) => size(y) - size(x) || x.row - y.row)
      .slice(0, mostChanged),
  };
}
