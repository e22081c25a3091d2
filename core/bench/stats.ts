/**
 * Summary statistics with numpy's conventions, as vLLM's serving benchmark reports them: the standard
 * deviation is the population one (numpy.std, ddof = 0) and percentiles interpolate linearly between
 * the two nearest ranks (numpy.percentile's default method 'linear': rank = p/100 · (n − 1)).
 */

export interface Summary {
  count: number;
  mean: number | null;
  median: number | null;
  /** Population standard deviation (divides by n). */
  std: number | null;
  min: number | null;
  max: number | null;
  /** Keyed `p50`, `p90`, `p99.9`, ... */
  percentiles: Record<string, number | null>;
}

export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

export function populationStd(values: readonly number[]): number {
  const m = mean(values);
  let squares = 0;
  for (const v of values) squares += (v - m) * (v - m);
  return Math.sqrt(squares / values.length);
}

/** The p-th percentile (0–100) of values already sorted ascending. */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  const rank = (p / 100) * (sorted.length - 1);
  const below = Math.floor(rank);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (rank - below) * (sorted[above] - sorted[below]);
}

function percentileKey(p: number): string {
  return `p${p}`;
}

/** An empty list gives count 0 and nulls: no number is reported for what was never measured. */
export function summarize(values: readonly number[], percentiles: readonly number[]): Summary {
  if (values.length === 0) {
    return { count: 0, mean: null, median: null, std: null, min: null, max: null, percentiles: Object.fromEntries(percentiles.map((p) => [percentileKey(p), null])) };
  }
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    mean: mean(sorted),
    median: percentileOfSorted(sorted, 50),
    std: populationStd(sorted),
    min: sorted[0],
    max: sorted[sorted.length - 1],
    percentiles: Object.fromEntries(percentiles.map((p) => [percentileKey(p), percentileOfSorted(sorted, p)])),
  };
}
