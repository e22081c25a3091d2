/**
 * Percentile bootstrap confidence intervals of a difference of means, seeded so that a rerun with the
 * same seed gives the same interval. Paired when both sides measured the same items (an evaluation's
 * rows: resample the per-row differences), unpaired when they did not (a benchmark's requests:
 * resample each side on its own).
 */
import { seededRandom } from '../bench/arrivals';
import { mean, percentileOfSorted } from '../bench/stats';

export interface BootstrapOptions {
  seed: number;
  /** Resamples drawn (default 2000). */
  resamples: number;
  /** Two-sided confidence level, as 0.95. */
  confidence: number;
}

export const BOOTSTRAP_DEFAULTS: BootstrapOptions = { seed: 1, resamples: 2000, confidence: 0.95 };

export interface Interval {
  /** The observed difference of means (second minus first). */
  difference: number;
  low: number;
  high: number;
  /** True when the interval lies wholly above or wholly below zero. */
  excludesZero: boolean;
}

/** Problems with the options, in words a user can act on. */
export function checkBootstrapOptions(o: BootstrapOptions): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(o.seed)) problems.push('the seed must be a whole number');
  if (!(Number.isInteger(o.resamples) && o.resamples >= 100 && o.resamples <= 100_000)) problems.push('resamples must be a whole number from 100 to 100000');
  if (!(o.confidence > 0.5 && o.confidence < 1)) problems.push('the confidence level must be above 0.5 and below 1, as 0.95');
  return problems;
}

function resampledMean(values: readonly number[], random: () => number): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[Math.floor(random() * values.length)];
  return sum / values.length;
}

function intervalOf(difference: number, means: number[], confidence: number): Interval {
  means.sort((a, b) => a - b);
  const tail = ((1 - confidence) / 2) * 100;
  const low = percentileOfSorted(means, tail);
  const high = percentileOfSorted(means, 100 - tail);
  return { difference, low, high, excludesZero: low > 0 || high < 0 };
}

/** CI of mean(second − first) over items measured on both sides; null when there are none. */
export function pairedBootstrap(first: readonly number[], second: readonly number[], o: BootstrapOptions): Interval | null {
  if (first.length !== second.length) throw new Error('a paired bootstrap needs as many values on each side');
  const differences = second.map((v, i) => v - first[i]);
  if (differences.length === 0) return null;
  const random = seededRandom(o.seed);
  const means = Array.from({ length: o.resamples }, () => resampledMean(differences, random));
  return intervalOf(mean(differences), means, o.confidence);
}

/** CI of mean(second) − mean(first) for independent samples; null when either side is empty. */
export function unpairedBootstrap(first: readonly number[], second: readonly number[], o: BootstrapOptions): Interval | null {
  if (first.length === 0 || second.length === 0) return null;
  const random = seededRandom(o.seed);
  const means = Array.from({ length: o.resamples }, () => resampledMean(second, random) - resampledMean(first, random));
  return intervalOf(mean(second) - mean(first), means, o.confidence);
}
