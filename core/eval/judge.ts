/**
 * LLM-judged RAG metrics with RAGAS's definitions (explodinggradients/ragas,
 * src/ragas/metrics/collections/*): the same steps, output JSON shapes, scores and NaN cases, with
 * prompts of our own. The judge model and the embedder are injected, so the metrics run against any
 * server or a scripted one. A judge answer that is not the JSON asked for makes the metric NaN, as
 * in RAGAS; a failed call (network, HTTP) is thrown and fails the evaluation.
 */
import { Endpoint } from '../clients/endpoint';
import { embedRemote, RemoteEmbeddingBackend } from '../clients/embedding';
import { generateRemote, RemoteLlmBackend } from '../clients/llm';
import { isObject } from '../clients/wire';
import { compilePrompt, CompiledPrompt } from '../prompts/template';

export interface JudgeClient {
  chat(prompt: string, signal?: AbortSignal): Promise<string>;
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}

export interface JudgeScore {
  value: number;
  /** Chat completions and embedding requests this score took. */
  chatCalls: number;
  embedCalls: number;
}

export const ANSWER_CORRECTNESS_WEIGHTS = { factuality: 0.75, similarity: 0.25 } as const;

type Json = Record<string, unknown>;

/** The JSON object in a judge's answer, which models often wrap in prose or a ``` fence; null if none. */
export function jsonObjectIn(text: string): Json | null {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end < start) return null;
  try {
    const value = JSON.parse(text.slice(start, end + 1));
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

/** A 0/1 verdict as RAGAS's int fields accept it (a number or its text); null otherwise. */
function binary(v: unknown): 0 | 1 | null {
  if (v === 0 || v === '0') return 0;
  if (v === 1 || v === '1') return 1;
  return null;
}

const strings = (v: unknown): string[] | null => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? v : null);
const listOf = <T>(v: unknown, item: (x: unknown) => T | null): T[] | null => {
  if (!Array.isArray(v)) return null;
  const out = v.map(item);
  return out.every((x) => x !== null) ? (out as T[]) : null;
};

export function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / (Math.sqrt(na) * Math.sqrt(nb));
}

/**
 * The judge's prompts as Handlebars templates (core/prompts/template.ts), compiled once: each starts
 * with a `TASK:` line naming its kind, then the instruction, the output shape and the input.
 * Statement lists arrive as JSON text.
 */
export const JUDGE_TEMPLATES = {
  statements: [
    'TASK: statements',
    'Split the answer to the question into short statements, each true or false on its own and understandable without the others. Replace pronouns with what they refer to.',
    'Reply with JSON only: {"statements": ["...", "..."]}',
    'Question:\n{{question}}',
    'Answer:\n{{answer}}',
  ],
  faithfulness: [
    'TASK: faithfulness',
    'For each statement, decide whether it can be directly inferred from the context. verdict is 1 if it can, 0 if it cannot. Keep the statements in the given order.',
    'Reply with JSON only: {"statements": [{"statement": "...", "reason": "...", "verdict": 1}]}',
    'Context:\n{{context}}',
    'Statements:\n{{statements}}',
  ],
  question: [
    'TASK: question',
    'Write the question this answer answers. Set noncommittal to 1 if the answer is evasive, vague or ambiguous (as "I don\'t know" or "it depends"), else 0.',
    'Reply with JSON only: {"question": "...", "noncommittal": 0}',
    'Answer:\n{{answer}}',
  ],
  usefulness: [
    'TASK: usefulness',
    'Decide whether the context was useful in arriving at the given answer to the question. verdict is 1 if useful, 0 if not.',
    'Reply with JSON only: {"reason": "...", "verdict": 1}',
    'Question:\n{{question}}',
    'Context:\n{{context}}',
    'Answer:\n{{answer}}',
  ],
  attribution: [
    'TASK: attribution',
    'Split the answer into statements and, for each, decide whether it can be attributed to the context. attributed is 1 if it can, 0 if it cannot.',
    'Reply with JSON only: {"classifications": [{"statement": "...", "reason": "...", "attributed": 1}]}',
    'Question:\n{{question}}',
    'Context:\n{{context}}',
    'Answer:\n{{answer}}',
  ],
  classification: [
    'TASK: classification',
    'Compare the answer statements with the ground-truth statements. TP: answer statements directly supported by the ground truth. FP: answer statements not supported by any ground-truth statement. FN: ground-truth statements missing from the answer. Each statement goes in exactly one list.',
    'Reply with JSON only: {"TP": [{"statement": "...", "reason": "..."}], "FP": [], "FN": []}',
    'Question:\n{{question}}',
    'Answer statements:\n{{answerStatements}}',
    'Ground-truth statements:\n{{groundTruthStatements}}',
  ],
} as const;

type JudgeTask = keyof typeof JUDGE_TEMPLATES;
const compiled = Object.fromEntries(Object.entries(JUDGE_TEMPLATES).map(([task, parts]) => [task, compilePrompt(parts.join('\n\n'))])) as Record<JudgeTask, CompiledPrompt>;
/** {{context}} is the texts of the documents one per line: the judge's context goes as one document. */
const render = (task: JudgeTask, { context, ...variables }: Record<string, string>) =>
  compiled[task].render({ question: variables.question ?? '', documents: context === undefined ? [] : [{ text: context }], history: [], variables });
const asJson = (v: unknown) => JSON.stringify(v);

export const PROMPTS = {
  statements: (question: string, answer: string) => render('statements', { question, answer }),
  faithfulness: (context: string, statements: string[]) => render('faithfulness', { context, statements: asJson(statements) }),
  question: (answer: string) => render('question', { answer }),
  usefulness: (question: string, context: string, answer: string) => render('usefulness', { question, context, answer }),
  attribution: (question: string, context: string, reference: string) => render('attribution', { question, context, answer: reference }),
  classification: (question: string, answer: string[], groundTruth: string[]) =>
    render('classification', { question, answerStatements: asJson(answer), groundTruthStatements: asJson(groundTruth) }),
};

/** Counts the calls one metric makes. */
class Session {
  chatCalls = 0;
  embedCalls = 0;
  constructor(
    private readonly judge: JudgeClient,
    private readonly signal?: AbortSignal,
  ) {}

  async ask(prompt: string): Promise<Json | null> {
    this.chatCalls++;
    return jsonObjectIn(await this.judge.chat(prompt, this.signal));
  }

  async embed(texts: string[]): Promise<number[][]> {
    this.embedCalls++;
    return this.judge.embed(texts, this.signal);
  }

  score(value: number): JudgeScore {
    return { value, chatCalls: this.chatCalls, embedCalls: this.embedCalls };
  }
}

async function statementsOf(s: Session, question: string, text: string): Promise<string[] | null> {
  const out = await s.ask(PROMPTS.statements(question, text));
  return out ? strings(out.statements) : null;
}

const NOT_SCORED: JudgeScore = { value: NaN, chatCalls: 0, embedCalls: 0 };

/** Supported statements of the answer / all its statements; NaN when the answer yields no statements. */
export async function faithfulness(judge: JudgeClient, question: string, answer: string | undefined, contexts: string[] | undefined, signal?: AbortSignal): Promise<JudgeScore> {
  if (!answer || !contexts || contexts.length === 0) return NOT_SCORED;
  const s = new Session(judge, signal);
  const statements = await statementsOf(s, question, answer);
  if (!statements || statements.length === 0) return s.score(NaN);
  const out = await s.ask(PROMPTS.faithfulness(contexts.join('\n'), statements));
  const verdicts = out ? listOf(out.statements, (x) => (isObject(x) ? binary(x.verdict) : null)) : null;
  if (!verdicts || verdicts.length === 0) return s.score(NaN);
  return s.score(verdicts.filter((v) => v === 1).length / verdicts.length);
}

/**
 * Mean cosine similarity between the question and `strictness` questions generated from the answer
 * (generations without a readable question are left out); 0 when every generation calls the answer
 * noncommittal (RAGAS: np.all over the flags).
 */
export async function answerRelevancy(judge: JudgeClient, question: string, answer: string | undefined, strictness: number, signal?: AbortSignal): Promise<JudgeScore> {
  if (!answer) return NOT_SCORED;
  const s = new Session(judge, signal);
  const generated: { question: string; noncommittal: 0 | 1 }[] = [];
  for (let i = 0; i < strictness; i++) {
    const out = await s.ask(PROMPTS.question(answer));
    const flag = out ? binary(out.noncommittal) : null;
    if (out && typeof out.question === 'string' && out.question.trim() !== '' && flag !== null) generated.push({ question: out.question, noncommittal: flag });
  }
  // RAGAS's evaluate() metric gives NaN when no generation yields a question.
  if (generated.length === 0) return s.score(NaN);
  const [q, ...g] = await s.embed([question, ...generated.map((x) => x.question)]);
  const mean = g.reduce((sum, v) => sum + cosine(v, q), 0) / g.length;
  return s.score(generated.every((x) => x.noncommittal === 1) ? 0 : mean);
}

/** Average precision of the usefulness verdicts (one judge call per context, in rank order). */
export async function contextPrecision(judge: JudgeClient, question: string, reference: string | undefined, contexts: string[] | undefined, signal?: AbortSignal): Promise<JudgeScore> {
  if (!reference || !contexts || contexts.length === 0) return NOT_SCORED;
  const s = new Session(judge, signal);
  const verdicts: number[] = [];
  for (const context of contexts) {
    const out = await s.ask(PROMPTS.usefulness(question, context, reference));
    const v = out ? binary(out.verdict) : null;
    if (v === null) return s.score(NaN);
    verdicts.push(v);
  }
  return s.score(averagePrecisionOfVerdicts(verdicts));
}

/** RAGAS's form: Σ precision@k · v_k / (Σ v_k + 1e-10), so all-zero verdicts give 0, not NaN. */
export function averagePrecisionOfVerdicts(verdicts: number[]): number {
  let hits = 0;
  let numerator = 0;
  verdicts.forEach((v, i) => {
    hits += v;
    numerator += (hits / (i + 1)) * v;
  });
  return numerator / (hits + 1e-10);
}

/** Reference statements attributed to the contexts / all reference statements; NaN when none. */
export async function contextRecall(judge: JudgeClient, question: string, reference: string | undefined, contexts: string[] | undefined, signal?: AbortSignal): Promise<JudgeScore> {
  if (!reference || !contexts || contexts.length === 0) return NOT_SCORED;
  const s = new Session(judge, signal);
  const out = await s.ask(PROMPTS.attribution(question, contexts.join('\n'), reference));
  const attributed = out ? listOf(out.classifications, (x) => (isObject(x) ? binary(x.attributed) : null)) : null;
  if (!attributed || attributed.length === 0) return s.score(NaN);
  return s.score(attributed.filter((a) => a === 1).length / attributed.length);
}

/** F1 over TP/FP/FN counts with RAGAS's conventions for empty classes. */
export function factualF1(tp: number, fp: number, fn: number): number {
  const precision = tp + fp === 0 ? (fn === 0 ? 1 : 0) : tp / (tp + fp);
  const recall = tp + fn === 0 ? (fp === 0 ? 1 : 0) : tp / (tp + fn);
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

/**
 * 0.75 · factual F1 (answer vs reference statements, classified TP/FP/FN) + 0.25 · cosine similarity
 * of answer and reference embeddings. As RAGAS, factuality is 1 when either side yields no statements.
 */
export async function answerCorrectness(judge: JudgeClient, question: string, answer: string | undefined, reference: string | undefined, signal?: AbortSignal): Promise<JudgeScore> {
  if (!answer || !reference) return NOT_SCORED;
  const s = new Session(judge, signal);
  const answerStatements = await statementsOf(s, question, answer);
  const referenceStatements = await statementsOf(s, question, reference);
  if (!answerStatements || !referenceStatements) return s.score(NaN);
  let factuality = 1;
  if (answerStatements.length > 0 && referenceStatements.length > 0) {
    const out = await s.ask(PROMPTS.classification(question, answerStatements, referenceStatements));
    const sizes = out ? (['TP', 'FP', 'FN'] as const).map((k) => (Array.isArray(out[k]) ? (out[k] as unknown[]).length : null)) : [null];
    if (sizes.some((n) => n === null)) return s.score(NaN);
    factuality = factualF1(sizes[0] as number, sizes[1] as number, sizes[2] as number);
  }
  const [a, r] = await s.embed([answer, reference]);
  const similarity = cosine(a, r);
  const { factuality: wf, similarity: ws } = ANSWER_CORRECTNESS_WEIGHTS;
  return s.score((wf * factuality + ws * (Number.isFinite(similarity) ? similarity : 0)) / (wf + ws));
}

export type JudgeLlmBackend = Exclude<RemoteLlmBackend, 'opea'>;

export interface RemoteJudgeConfig {
  llm: Endpoint;
  llmBackend: JudgeLlmBackend;
  llmModel?: string;
  maxTokens: number;
  embedder: Endpoint;
  embedBackend: RemoteEmbeddingBackend;
  embedModel?: string;
}

/** A judge on real servers: the prompt goes as it is (template `{question}`), greedy, not streamed. */
export function remoteJudge(c: RemoteJudgeConfig): JudgeClient {
  const params = { model: c.llmModel, maxTokens: c.maxTokens, temperature: 0, topP: 1, topK: 1, repetitionPenalty: 1, stream: false, template: '{question}' };
  return {
    chat: async (prompt, signal) => (await generateRemote(c.llm, c.llmBackend, { query: prompt, documents: [] }, params, () => undefined, signal)).text,
    embed: (texts, signal) => embedRemote(c.embedder, c.embedBackend, c.embedModel, texts, signal),
  };
}
