/**
 * Thresholds that gate an evaluation (`f1>=0.5`): a metric's mean must reach the value. A metric no row
 * could be scored on (NaN) fails its threshold: nothing was shown to reach it.
 */
import { Aggregate } from './runner';

export interface Threshold {
  metric: string;
  min: number;
}

export interface ThresholdVerdict extends Threshold {
  /** The metric's mean; NaN when no row was scored. */
  actual: number;
  passed: boolean;
  /** Why it failed, in words; absent when it passed. */
  reason?: string;
}

/** Reads `metric>=value`; `known` are the metric names the run reports, for the message. */
export function parseThreshold(text: string, known: readonly string[]): Threshold {
  const match = /^\s*([^\s<>=]+)\s*>=\s*(\S+)\s*$/.exec(text);
  if (!match) throw new Error(`threshold '${text}' is not metric>=value, as f1>=0.5`);
  const [, metric, raw] = match;
  const min = Number(raw);
  if (!Number.isFinite(min)) throw new Error(`threshold '${text}': ${raw} is not a number`);
  if (!known.includes(metric)) throw new Error(`threshold '${text}': ${metric} is not among the metrics of this run (${known.join(', ')}); add it to --metrics`);
  return { metric, min };
}

export function judgeThresholds(thresholds: readonly Threshold[], aggregate: Record<string, Aggregate>): ThresholdVerdict[] {
  return thresholds.map((t) => {
    const actual = aggregate[t.metric]?.mean ?? NaN;
    if (!Number.isFinite(actual)) return { ...t, actual, passed: false, reason: `${t.metric} is NaN: no row could be scored on it` };
    if (actual < t.min) return { ...t, actual, passed: false, reason: `${t.metric} ${actual.toFixed(4)} is below ${t.min}` };
    return { ...t, actual, passed: true };
  });
}
