/**
 * Reference-based text metrics: SQuAD exact match and token F1, ROUGE-1/2/L F-measure and BLEU-4.
 * Every metric takes one or more references; EM, F1 and ROUGE keep the best reference's score, BLEU
 * counts n-grams against all references at once (as BLEU defines it).
 */
import { answerTokens, bleuTokens, normaliseAnswer, rougeTokens } from './normalise';

function counts<T>(items: T[]): Map<T, number> {
  const map = new Map<T, number>();
  for (const item of items) map.set(item, (map.get(item) ?? 0) + 1);
  return map;
}

function overlap<T>(a: Map<T, number>, b: Map<T, number>): number {
  let shared = 0;
  for (const [key, n] of a) shared += Math.min(n, b.get(key) ?? 0);
  return shared;
}

const best = (scores: number[]) => (scores.length === 0 ? NaN : Math.max(...scores));

export function exactMatch(answer: string, references: string[]): number {
  return best(references.map((r) => (normaliseAnswer(answer) === normaliseAnswer(r) ? 1 : 0)));
}

function f1OfTokens(prediction: string[], reference: string[]): number {
  // SQuAD v1.1: empty against empty is no match (its script gives 0 as common tokens are 0).
  const shared = overlap(counts(prediction), counts(reference));
  if (shared === 0) return 0;
  const precision = shared / prediction.length;
  const recall = shared / reference.length;
  return (2 * precision * recall) / (precision + recall);
}

export function tokenF1(answer: string, references: string[]): number {
  return best(references.map((r) => f1OfTokens(answerTokens(answer), answerTokens(r))));
}

export interface RougeScore {
  precision: number;
  recall: number;
  fmeasure: number;
}

function rougeFrom(hits: number, predictionLength: number, referenceLength: number): RougeScore {
  const precision = predictionLength === 0 ? 0 : hits / predictionLength;
  const recall = referenceLength === 0 ? 0 : hits / referenceLength;
  return { precision, recall, fmeasure: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall) };
}

export function ngrams(tokens: string[], n: number): string[] {
  const out: string[] = [];
  // A separator that no token contains keeps ('a b', 'c') apart from ('a', 'b c').
  for (let i = 0; i + n <= tokens.length; i++) out.push(tokens.slice(i, i + n).join('\u0000'));
  return out;
}

export function rougeN(prediction: string, reference: string, n: number): RougeScore {
  const p = ngrams(rougeTokens(prediction), n);
  const r = ngrams(rougeTokens(reference), n);
  return rougeFrom(overlap(counts(p), counts(r)), p.length, r.length);
}

function lcsLength(a: string[], b: string[]): number {
  let previous = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    const row = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) row[j] = x === b[j - 1] ? previous[j - 1] + 1 : Math.max(previous[j], row[j - 1]);
    previous = row;
  }
  return previous[b.length];
}

export function rougeL(prediction: string, reference: string): RougeScore {
  const p = rougeTokens(prediction);
  const r = rougeTokens(reference);
  return rougeFrom(lcsLength(p, r), p.length, r.length);
}

export const bestRouge = (prediction: string, references: string[], score: (p: string, r: string) => RougeScore) =>
  best(references.map((r) => score(prediction, r).fmeasure));

/** Clipped n-gram matches and totals for n = 1..4, and the lengths BLEU's brevity penalty needs. */
export interface BleuStats {
  matches: number[];
  totals: number[];
  hypothesisLength: number;
  /** The reference length closest to the hypothesis length (the shorter one on a tie). */
  referenceLength: number;
}

export const BLEU_ORDER = 4;

export function bleuStats(hypothesis: string[], references: string[][]): BleuStats {
  const matches: number[] = [];
  const totals: number[] = [];
  for (let n = 1; n <= BLEU_ORDER; n++) {
    const hyp = counts(ngrams(hypothesis, n));
    const maxRef = new Map<string, number>();
    for (const ref of references) for (const [g, c] of counts(ngrams(ref, n))) maxRef.set(g, Math.max(c, maxRef.get(g) ?? 0));
    matches.push(overlap(hyp, maxRef));
    totals.push(Math.max(0, hypothesis.length - n + 1));
  }
  const referenceLength = references
    .map((r) => r.length)
    .reduce((closest, len) => {
      const d = Math.abs(len - hypothesis.length);
      const dc = Math.abs(closest - hypothesis.length);
      return d < dc || (d === dc && len < closest) ? len : closest;
    }, Number.POSITIVE_INFINITY);
  return { matches, totals, hypothesisLength: hypothesis.length, referenceLength };
}

/**
 * BLEU-4 with uniform weights and the brevity penalty, from summed statistics. A zero match count
 * is smoothed with Chen & Cherry (2014) method 1 (NLTK's `method1`): it counts as 0.1 matches, so one
 * missing 4-gram does not make the score 0. With no zero counts the result is plain BLEU.
 */
export function bleuFromStats(s: BleuStats): number {
  // As NLTK: no unigram in common is 0 whatever the smoothing; a total of 0 n-grams divides by 1.
  if (s.hypothesisLength === 0 || !Number.isFinite(s.referenceLength) || s.matches[0] === 0) return 0;
  let logSum = 0;
  for (let i = 0; i < BLEU_ORDER; i++) {
    const matched = s.matches[i] === 0 ? 0.1 : s.matches[i];
    logSum += Math.log(matched / Math.max(1, s.totals[i])) / BLEU_ORDER;
  }
  const brevity = s.hypothesisLength > s.referenceLength ? 1 : Math.exp(1 - s.referenceLength / s.hypothesisLength);
  return brevity * Math.exp(logSum);
}

export function sentenceBleu(hypothesis: string[], references: string[][]): number {
  return bleuFromStats(bleuStats(hypothesis, references));
}

/** Corpus BLEU: statistics summed over all sentences first, then one score (not a mean of sentence scores). */
export function corpusBleu(pairs: { hypothesis: string[]; references: string[][] }[]): number {
  const sum: BleuStats = { matches: new Array(BLEU_ORDER).fill(0), totals: new Array(BLEU_ORDER).fill(0), hypothesisLength: 0, referenceLength: 0 };
  for (const { hypothesis, references } of pairs) {
    const s = bleuStats(hypothesis, references);
    if (!Number.isFinite(s.referenceLength)) continue;
    s.matches.forEach((m, i) => (sum.matches[i] += m));
    s.totals.forEach((t, i) => (sum.totals[i] += t));
    sum.hypothesisLength += s.hypothesisLength;
    sum.referenceLength += s.referenceLength;
  }
  return bleuFromStats(sum);
}

export const textBleu = (answer: string, references: string[]) => sentenceBleu(bleuTokens(answer), references.map(bleuTokens));
