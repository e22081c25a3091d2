/**
 * Ranking metrics of retrieved contexts against reference_contexts. A retrieved context counts as
 * relevant when its normalised text (SQuAD normalisation) equals that of a reference context not
 * already matched higher up, so a duplicate retrieved twice is counted once.
 */
import { normaliseAnswer } from './normalise';

/** 1-based ranks of the retrieved contexts that match a reference context. */
export function relevantRanks(retrieved: string[], references: string[]): number[] {
  const unmatched = new Map<string, number>();
  for (const r of references) unmatched.set(normaliseAnswer(r), (unmatched.get(normaliseAnswer(r)) ?? 0) + 1);
  const ranks: number[] = [];
  retrieved.forEach((text, i) => {
    const key = normaliseAnswer(text);
    const left = unmatched.get(key) ?? 0;
    if (left > 0) {
      unmatched.set(key, left - 1);
      ranks.push(i + 1);
    }
  });
  return ranks;
}

export function hitsAtK(ranks: number[], k: number): number {
  return ranks.some((r) => r <= k) ? 1 : 0;
}

export function reciprocalRank(ranks: number[]): number {
  return ranks.length === 0 ? 0 : 1 / ranks[0];
}

/** Average precision: the mean over all reference contexts of precision at each one's rank (0 when not retrieved). */
export function averagePrecision(ranks: number[], referenceCount: number): number {
  if (referenceCount === 0) return NaN;
  return ranks.reduce((sum, rank, i) => sum + (i + 1) / rank, 0) / referenceCount;
}
