/**
 * Runs the chosen metrics over every row, a few rows at a time, and sums them up: per metric the mean
 * over the rows where it is a number, and how many rows gave NaN (missing inputs, judge output that
 * could not be read). Corpus BLEU is computed once over all rows with an answer and a reference.
 */
import { Assertion } from './assertions';
import { EvalRow } from './dataset';
import { answerCorrectness, answerRelevancy, contextPrecision, contextRecall, faithfulness, JudgeClient, JudgeScore } from './judge';
import { bestRouge, corpusBleu, exactMatch, rougeL, rougeN, textBleu, tokenF1 } from './lexical';
import { bleuTokens } from './normalise';
import { averagePrecision, hitsAtK, reciprocalRank, relevantRanks } from './retrieval';

export const LEXICAL_METRICS = ['exact_match', 'f1', 'rouge1', 'rouge2', 'rougeL', 'bleu'] as const;
export const RETRIEVAL_METRICS = ['hits', 'mrr', 'map'] as const;
export const JUDGE_METRICS = ['faithfulness', 'answer_relevancy', 'context_precision', 'context_recall', 'answer_correctness'] as const;
export const ALL_METRICS = [...LEXICAL_METRICS, ...RETRIEVAL_METRICS, ...JUDGE_METRICS] as const;
export type MetricName = (typeof ALL_METRICS)[number];

export const isJudgeMetric = (m: MetricName) => (JUDGE_METRICS as readonly string[]).includes(m);

export interface RunOptions {
  metrics: MetricName[];
  /** k of Hits@k (reported as `hits@k`). */
  k: number;
  assertions: Assertion[];
  judge?: JudgeClient;
  /** Questions generated per answer for answer relevancy (RAGAS's strictness, default 3). */
  strictness: number;
  concurrency: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /**
   * Completes a row before it is scored: the answer and contexts of a pipeline run for its question.
   * The calls it makes to a model or retriever it adds to `calls`, which the row's counts start from.
   */
  prepare?: (row: EvalRow, index: number, signal: AbortSignal | undefined, calls: CallCounts) => Promise<EvalRow>;
}

/** Calls made for one row: to chat models (the judge's and the answering model's), embedders and retrievers. */
export interface CallCounts {
  chat: number;
  embed: number;
  retriever: number;
}

export interface SampleResult {
  /** 1-based row number in the dataset. */
  row: number;
  id?: string | number;
  question: string;
  answer?: string;
  contexts?: string[];
  scores: Record<string, number>;
  chatCalls: number;
  embedCalls: number;
  retrieverCalls: number;
  /** How long `prepare` took for the row (asking the pipeline), in ms; absent without `prepare`. */
  latencyMs?: number;
}

export interface Aggregate {
  mean: number;
  /** Rows where the metric is a number. */
  scored: number;
  nan: number;
}

export interface EvaluationResult {
  rows: number;
  metrics: string[];
  samples: SampleResult[];
  aggregate: Record<string, Aggregate>;
  /** BLEU over the whole set (statistics summed over rows), NaN when no row has an answer and a reference. */
  corpusBleu?: number;
  chatCalls: number;
  embedCalls: number;
  retrieverCalls: number;
}

/** The names the scores appear under, in the order they are reported. */
export function metricKeys(options: Pick<RunOptions, 'metrics' | 'k' | 'assertions'>): string[] {
  return [...options.metrics.map((m) => (m === 'hits' ? `hits@${options.k}` : m)), ...options.assertions.map((a) => `assert:${a.name}`)];
}

function lexicalScore(metric: (typeof LEXICAL_METRICS)[number], answer: string, references: string[]): number {
  if (metric === 'exact_match') return exactMatch(answer, references);
  if (metric === 'f1') return tokenF1(answer, references);
  if (metric === 'rouge1') return bestRouge(answer, references, (p, r) => rougeN(p, r, 1));
  if (metric === 'rouge2') return bestRouge(answer, references, (p, r) => rougeN(p, r, 2));
  if (metric === 'rougeL') return bestRouge(answer, references, rougeL);
  return textBleu(answer, references);
}

async function judgeScore(metric: (typeof JUDGE_METRICS)[number], judge: JudgeClient, row: EvalRow, strictness: number, signal?: AbortSignal): Promise<JudgeScore> {
  const reference = row.references[0];
  if (metric === 'faithfulness') return faithfulness(judge, row.question, row.answer, row.contexts, signal);
  if (metric === 'answer_relevancy') return answerRelevancy(judge, row.question, row.answer, strictness, signal);
  if (metric === 'context_precision') return contextPrecision(judge, row.question, reference, row.contexts, signal);
  if (metric === 'context_recall') return contextRecall(judge, row.question, reference, row.contexts, signal);
  return answerCorrectness(judge, row.question, row.answer, reference, signal);
}

async function scoreRow(row: EvalRow, index: number, options: RunOptions, calls: CallCounts): Promise<SampleResult> {
  const scores: Record<string, number> = {};
  const ranks = row.contexts && row.referenceContexts && row.referenceContexts.length > 0 ? relevantRanks(row.contexts, row.referenceContexts) : null;
  for (const metric of options.metrics) {
    if ((LEXICAL_METRICS as readonly string[]).includes(metric)) {
      const m = metric as (typeof LEXICAL_METRICS)[number];
      scores[m] = row.answer === undefined || row.references.length === 0 ? NaN : lexicalScore(m, row.answer, row.references);
    } else if (metric === 'hits') {
      scores[`hits@${options.k}`] = ranks ? hitsAtK(ranks, options.k) : NaN;
    } else if (metric === 'mrr') {
      scores.mrr = ranks ? reciprocalRank(ranks) : NaN;
    } else if (metric === 'map') {
      scores.map = ranks ? averagePrecision(ranks, row.referenceContexts?.length ?? 0) : NaN;
    } else {
      if (!options.judge) throw new Error(`${metric} needs a judge LLM and an embedding server`);
      const result = await judgeScore(metric as (typeof JUDGE_METRICS)[number], options.judge, row, options.strictness, options.signal);
      scores[metric] = result.value;
      calls.chat += result.chatCalls;
      calls.embed += result.embedCalls;
    }
  }
  for (const a of options.assertions) scores[`assert:${a.name}`] = row.answer === undefined ? NaN : a.check(row.answer) ? 1 : 0;
  return {
    row: index + 1,
    ...(row.id === undefined ? {} : { id: row.id }),
    question: row.question,
    ...(row.answer === undefined ? {} : { answer: row.answer }),
    ...(row.contexts === undefined ? {} : { contexts: row.contexts }),
    scores,
    chatCalls: calls.chat,
    embedCalls: calls.embed,
    retrieverCalls: calls.retriever,
  };
}

export function aggregate(samples: SampleResult[], keys: string[]): Record<string, Aggregate> {
  const out: Record<string, Aggregate> = {};
  for (const key of keys) {
    const values = samples.map((s) => s.scores[key]).filter((v) => Number.isFinite(v));
    out[key] = { mean: values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length, scored: values.length, nan: samples.length - values.length };
  }
  return out;
}

export async function runEvaluation(given: EvalRow[], options: RunOptions): Promise<EvaluationResult> {
  const rows = [...given];
  const samples: SampleResult[] = new Array(rows.length);
  let next = 0;
  let finished = 0;
  let failed = false;
  const worker = async () => {
    while (next < rows.length && !failed) {
      if (options.signal?.aborted) throw new Error('the evaluation was cancelled');
      const i = next++;
      try {
        const calls: CallCounts = { chat: 0, embed: 0, retriever: 0 };
        const started = performance.now();
        if (options.prepare) rows[i] = await options.prepare(rows[i], i, options.signal, calls);
        const latencyMs = performance.now() - started;
        samples[i] = await scoreRow(rows[i], i, options, calls);
        if (options.prepare) samples[i].latencyMs = latencyMs;
      } catch (err) {
        // The other workers stop taking rows: one failed call usually means the server is down.
        failed = true;
        throw new Error(`row ${i + 1}: ${(err as Error).message}`);
      }
      finished++;
      options.onProgress?.(finished, rows.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, rows.length)) }, worker));
  const keys = metricKeys(options);
  const result: EvaluationResult = {
    rows: rows.length,
    metrics: keys,
    samples,
    aggregate: aggregate(samples, keys),
    chatCalls: samples.reduce((n, s) => n + s.chatCalls, 0),
    embedCalls: samples.reduce((n, s) => n + s.embedCalls, 0),
    retrieverCalls: samples.reduce((n, s) => n + s.retrieverCalls, 0),
  };
  if (options.metrics.includes('bleu')) {
    const pairs = rows.filter((r) => r.answer !== undefined && r.references.length > 0).map((r) => ({ hypothesis: bleuTokens(r.answer as string), references: r.references.map(bleuTokens) }));
    result.corpusBleu = pairs.length === 0 ? NaN : corpusBleu(pairs);
  }
  return result;
}
