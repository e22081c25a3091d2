/**
 * opea-evaluator: scores a RAG dataset (rows with question, answer, contexts, reference,
 * reference_contexts) with lexical, retrieval, assertion and RAGAS judge metrics; the answers are the
 * rows' own or the wired pipeline's (output 2 asks, the input takes the answers back). With *compare*,
 * output 3 asks a baseline pipeline the same rows and the two are compared. Output 1: msg.payload the
 * per-row scores and their aggregate, msg.comparison, msg.report a self-contained HTML page. Each run
 * can be kept in <userDir>/opea-results/eval.jsonl; the status shows the result against the previous one.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { RemoteEmbeddingBackend } from '../../core/clients/embedding';
import { Comparison, compareEvaluations } from '../../core/eval/compare';
import { comparisonSection } from '../../core/eval/compare-html';
import { BOOTSTRAP_DEFAULTS } from '../../core/eval/compare-stats';
import { Assertion, compileAssertions } from '../../core/eval/assertions';
import { DatasetError, DatasetFormat, EvalRow, formatOfFile, parseDataset, rowsFromArray } from '../../core/eval/dataset';
import { JudgeClient, JudgeLlmBackend, remoteJudge } from '../../core/eval/judge';
import { renderReport } from '../../core/eval/report-html';
import { appendRecord, canonicalJson, finiteOrNull, flowHash, readRecords, ResultRecord, sha256, trendOf } from '../../core/eval/results';
import { trendSection } from '../../core/eval/results-html';
import { ALL_METRICS, EvaluationResult, isJudgeMetric, MetricName, runEvaluation } from '../../core/eval/runner';
import { NodeConfig, Red, RedNode, Send } from '../shared/red';
import { endpointOf, handleInput, labelOf, shortStatus } from '../shared/service-node';
import { PipelineLoop } from './pipeline-loop';

const JUDGE_BACKENDS: JudgeLlmBackend[] = ['vllm', 'openai', 'ollama', 'tgi'];
const EMBED_BACKENDS: RemoteEmbeddingBackend[] = ['tei', 'openai', 'opea', 'ollama'];
const NEEDS_EMBEDDINGS: MetricName[] = ['answer_relevancy', 'answer_correctness'];
const NEEDS_REFERENCE_CONTEXTS = ['hits', 'mrr', 'map'];

type Source = 'node' | 'file' | 'msg';
/** Where the answers come from: the dataset's rows, or the wired pipeline asked each question. */
type Answers = 'given' | 'pipeline';

interface EvaluatorSettings {
  source: Source;
  answers: Answers;
  pipelineTimeoutMs: number;
  dataset: string;
  file: string;
  format: DatasetFormat | 'auto';
  metrics: MetricName[];
  k: number;
  assertions: Assertion[];
  strictness: number;
  concurrency: number;
  judgeMaxTokens: number;
  /** Ask a baseline pipeline (output 3) the same rows and compare. */
  compare: boolean;
  seed: number;
  /** Append each run to <userDir>/opea-results/eval.jsonl. */
  keepResults: boolean;
}

/** Where the node keeps its runs, in the Node-RED user directory. */
export const RESULTS_FOLDER = 'opea-results';

function wholeNumber(value: unknown, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  return Number.isInteger(n) ? n : NaN;
}

function metricsOf(value: unknown): MetricName[] | string {
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter((s) => s !== '') : [];
  const unknown = list.filter((m) => !(ALL_METRICS as readonly string[]).includes(m));
  if (unknown.length > 0) return `unknown metric ${unknown.join(', ')}`;
  return list as MetricName[];
}

function readEvaluatorSettings(config: NodeConfig): { settings: EvaluatorSettings; problems: string[] } {
  const problems: string[] = [];
  const source = (['node', 'file', 'msg'] as const).find((s) => s === config.source) ?? 'node';
  const metrics = metricsOf(config.metrics);
  if (typeof metrics === 'string') problems.push(metrics);
  let assertions: Assertion[] = [];
  try {
    const text = typeof config.assertions === 'string' && config.assertions.trim() !== '' ? config.assertions : '[]';
    assertions = compileAssertions(JSON.parse(text));
  } catch (err) {
    problems.push(err instanceof SyntaxError ? `the assertions are not JSON (${err.message})` : (err as Error).message);
  }
  const chosen = typeof metrics === 'string' ? [] : metrics;
  if (chosen.length === 0 && assertions.length === 0 && typeof metrics !== 'string') problems.push('no metric is chosen: tick at least one, or add an assertion');
  const pipelineTimeout = wholeNumber(config.pipelineTimeout, 120);
  const settings: EvaluatorSettings = {
    source,
    answers: config.answers === 'pipeline' ? 'pipeline' : 'given',
    pipelineTimeoutMs: pipelineTimeout * 1000,
    dataset: typeof config.dataset === 'string' ? config.dataset : '',
    file: typeof config.file === 'string' ? config.file.trim() : '',
    format: (['json', 'jsonl', 'csv'] as const).find((f) => f === config.format) ?? 'auto',
    metrics: chosen,
    k: wholeNumber(config.hitsK, 5),
    assertions,
    strictness: wholeNumber(config.strictness, 3),
    concurrency: wholeNumber(config.concurrency, 4),
    judgeMaxTokens: wholeNumber(config.judgeMaxTokens, 1024),
    compare: config.compare === true,
    seed: wholeNumber(config.seed, BOOTSTRAP_DEFAULTS.seed),
    keepResults: config.keepResults === true,
  };
  if (settings.compare && settings.answers !== 'pipeline') problems.push('comparing needs the answers of two pipelines: set Answers to ask the wired pipeline');
  if (!(Math.abs(settings.seed) < 2 ** 31)) problems.push('the seed must be a whole number');
  if (!(pipelineTimeout >= 1 && pipelineTimeout <= 3600)) problems.push('the pipeline timeout must be a whole number of seconds from 1 to 3600');
  if (!(settings.k >= 1)) problems.push('k must be a whole number of at least 1');
  if (!(settings.strictness >= 1 && settings.strictness <= 10)) problems.push('strictness must be a whole number from 1 to 10');
  if (!(settings.concurrency >= 1 && settings.concurrency <= 32)) problems.push('concurrency must be a whole number from 1 to 32');
  if (!(settings.judgeMaxTokens >= 16)) problems.push('judge max tokens must be a whole number of at least 16');
  if (source === 'file' && settings.file === '') problems.push('no dataset file is given');
  if (source === 'file' && settings.format === 'auto' && settings.file !== '' && !formatOfFile(settings.file)) problems.push(`cannot tell the format of '${settings.file}' from its name: choose JSON, JSONL or CSV`);
  const judged = chosen.filter(isJudgeMetric);
  if (judged.length > 0) {
    if (typeof config.judgeServer !== 'string' || config.judgeServer === '') problems.push(`${judged.join(', ')} need a judge LLM server`);
    if (!JUDGE_BACKENDS.includes(config.judgeBackend as JudgeLlmBackend)) problems.push(`judge backend must be one of ${JUDGE_BACKENDS.join(', ')}`);
  }
  const embedded = chosen.filter((m) => NEEDS_EMBEDDINGS.includes(m));
  if (embedded.length > 0) {
    if (typeof config.embedServer !== 'string' || config.embedServer === '') problems.push(`${embedded.join(', ')} need an embedding server`);
    if (!EMBED_BACKENDS.includes(config.embedBackend as RemoteEmbeddingBackend)) problems.push(`embedding backend must be one of ${EMBED_BACKENDS.join(', ')}`);
  }
  return { settings, problems };
}

const trimmed = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

module.exports = function register(RED: Red): void {
  function OpeaEvaluator(this: RedNode, config: NodeConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const { settings, problems } = readEvaluatorSettings(config);
    const loop = new PipelineLoop(RED, node, settings.pipelineTimeoutMs);

    /** The row with the pipeline's answer and contexts in place of any the dataset gave; output 1 (0-based) is the pipeline, 2 the baseline. */
    function askPipeline(send: Send, output = 1) {
      return async (row: EvalRow, index: number, signal?: AbortSignal): Promise<EvalRow> => {
        node.status({ fill: 'blue', shape: 'ring', text: `asking the ${output === 2 ? 'baseline' : 'pipeline'}: row ${index + 1}` });
        const { answer, contexts } = await loop.ask(row.question, index + 1, send, signal, output);
        return { ...row, answer, contexts };
      };
    }

    const pipelineName = (baseline: boolean) => `opea-evaluator ${labelOf(node)} (${node.id})${baseline ? ' baseline' : ''}`;

    /** The flow as deployed: its hash and the models its nodes use go into the record. */
    function deployedNodes(): NodeConfig[] {
      const nodes: NodeConfig[] = [];
      (RED.nodes as { eachNode?: (visit: (n: NodeConfig) => void) => void }).eachNode?.((n) => nodes.push(n));
      return nodes;
    }

    function recordOf(result: EvaluationResult, baseline: boolean, rows: EvalRow[], nodes: NodeConfig[], time: Date): ResultRecord {
      return {
        kind: 'eval',
        time: time.toISOString(),
        pipeline: pipelineName(baseline),
        flowHash: flowHash(nodes),
        models: nodes.filter((n) => n.type.startsWith('opea-') && typeof n.backend === 'string').map((n) => `${labelOf(n)} ${String(n.backend)}${trimmed(n.model) ? `:${String(n.model)}` : ''}`),
        settings: { metrics: settings.metrics, k: settings.k, assertions: config.assertions, concurrency: settings.concurrency, compare: settings.compare, seed: settings.seed },
        datasetHash: sha256(canonicalJson(rows)),
        metrics: finiteOrNull(Object.fromEntries(result.metrics.map((m) => [m, result.aggregate[m].mean]))),
      };
    }

    /** Appends the run's records; returns the candidate's earlier runs on this dataset and all of them with this one. */
    function keep(result: EvaluationResult, baseline: EvaluationResult | undefined, rows: EvalRow[]): { previous?: ResultRecord; runs: ResultRecord[]; dir: string } {
      const dir = path.join(RED.settings.userDir ?? process.cwd(), RESULTS_FOLDER);
      const nodes = deployedNodes();
      const now = new Date();
      const record = recordOf(result, false, rows, nodes, now);
      try {
        const before = trendOf(readRecords(dir, 'eval').records, record);
        if (baseline) appendRecord(dir, recordOf(baseline, true, rows, nodes, now));
        appendRecord(dir, record);
        return { previous: before[before.length - 1], runs: [...before, record], dir };
      } catch (err) {
        throw new Error(`cannot keep the result in ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): make the folder writable, or untick Keep results`);
      }
    }

    async function loadRows(payload: unknown): Promise<EvalRow[]> {
      if (settings.source === 'msg') {
        if (!Array.isArray(payload)) throw new DatasetError('the dataset source is msg.payload, which must be an array of rows {question, answer?, contexts?, reference?, reference_contexts?}');
        return rowsFromArray(payload);
      }
      if (settings.source === 'node') return parseDataset(settings.dataset, 'json');
      const file = path.resolve(RED.settings.userDir ?? process.cwd(), settings.file);
      let text: string;
      try {
        text = await fs.readFile(file, 'utf8');
      } catch (err) {
        throw new DatasetError(`cannot read the dataset file ${file} (${(err as { code?: string }).code ?? (err as Error).message}): check the path; a relative path starts at the Node-RED user directory`);
      }
      const format = settings.format === 'auto' ? (formatOfFile(file) as DatasetFormat) : settings.format;
      try {
        return parseDataset(text, format);
      } catch (err) {
        throw new DatasetError(`${path.basename(file)}: ${(err as Error).message}`);
      }
    }

    function judgeOf(): JudgeClient | undefined {
      const judged = settings.metrics.filter(isJudgeMetric);
      if (judged.length === 0) return undefined;
      const llm = endpointOf(RED, config.judgeServer);
      const embeds = settings.metrics.some((m) => NEEDS_EMBEDDINGS.includes(m));
      // Metrics without embeddings never call the embedder: the judge server stands in when none is set.
      const embedder = embeds ? endpointOf(RED, config.embedServer) : llm;
      if (!llm || !embedder) throw new Error('the judge or embedding server is not set');
      return remoteJudge({
        llm,
        llmBackend: config.judgeBackend as JudgeLlmBackend,
        llmModel: trimmed(config.judgeModel),
        maxTokens: settings.judgeMaxTokens,
        embedder,
        embedBackend: (EMBED_BACKENDS.includes(config.embedBackend as RemoteEmbeddingBackend) ? config.embedBackend : 'openai') as RemoteEmbeddingBackend,
        embedModel: trimmed(config.embedModel),
      });
    }

    handleInput(this, 'evaluator', problems, async (msg, signal, send) => {
      const rows = await loadRows(msg.payload).catch((err: Error) => {
        throw err instanceof DatasetError ? new DatasetError(`${err.message} — fix the dataset and send again`) : err;
      });
      const needsReferenceContexts = settings.metrics.some((m) => NEEDS_REFERENCE_CONTEXTS.includes(m));
      if (needsReferenceContexts && !rows.some((r) => r.referenceContexts && (settings.answers === 'pipeline' || r.contexts))) {
        node.warn(`${labelOf(node)} (${node.id}): no row has both contexts and reference_contexts, so Hits@k, MRR and MAP are NaN everywhere`);
      }
      const judge = judgeOf();
      // A failed side stops the other: its questions would otherwise wait for the pipeline timeout.
      const sides = new AbortController();
      const stopSides = () => sides.abort();
      signal.addEventListener('abort', stopSides);
      const evaluate = (output?: number) =>
        runEvaluation(rows, {
          metrics: settings.metrics,
          k: settings.k,
          assertions: settings.assertions,
          judge,
          strictness: settings.strictness,
          concurrency: settings.concurrency,
          signal: sides.signal,
          onProgress: (done, total) => node.status({ fill: 'blue', shape: 'dot', text: `${output === 2 ? 'baseline ' : ''}row ${done}/${total}` }),
          prepare: settings.answers === 'pipeline' ? askPipeline(send, output) : undefined,
        }).catch((err: Error) => {
          stopSides();
          throw output === 2 ? new Error(`baseline (output 3): ${err.message}`) : err;
        });
      // Side by side, so that neither pipeline has the flow to itself: their latencies compare.
      const [result, baseline] = await (settings.compare ? Promise.all([evaluate(1), evaluate(2)]) : Promise.all([evaluate(), undefined])).finally(() => signal.removeEventListener('abort', stopSides));
      let comparison: Comparison | undefined;
      if (baseline) comparison = compareEvaluations({ label: 'baseline (output 3)', result: baseline }, { label: `${labelOf(node)} (output 2)`, result }, { ...BOOTSTRAP_DEFAULTS, seed: settings.seed });
      const kept = settings.keepResults ? keep(result, baseline, rows) : undefined;
      msg.payload = result;
      if (baseline && comparison) {
        msg.baseline = baseline;
        msg.comparison = comparison;
      }
      const sections = [...(comparison ? [comparisonSection(comparison)] : []), ...(kept ? [trendSection(kept.runs, result.metrics, kept.dir)] : [])];
      msg.report = renderReport(result, `${labelOf(node)}: evaluation`, new Date(), sections);
      const first = result.metrics[0];
      const score = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : 'NaN');
      let headline = first ? `${first} ${score(result.aggregate[first].mean)}` : '';
      if (first && baseline) headline += ` vs ${score(baseline.aggregate[first].mean)} baseline`;
      if (first && kept?.previous) headline += ` · previous ${score(kept.previous.metrics[first])}`;
      const calls = result.chatCalls + result.embedCalls > 0 ? ` · ${result.chatCalls + result.embedCalls} judge calls` : '';
      return { status: shortStatus(`${result.rows} rows · ${headline}${calls}`), metrics: { rows: result.rows, chatCalls: result.chatCalls, embedCalls: result.embedCalls } };
    }, (msg, done) => loop.claim(msg, done));
  }
  RED.nodes.registerType('opea-evaluator', OpeaEvaluator);
};
