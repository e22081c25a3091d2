/**
 * `opea-flow eval`: runs the flow in an embedded Node-RED (as `run` does), asks its pipeline every
 * question of a dataset through its http in entry and scores the answers with the evaluator's engine.
 * With --compare, a second pipeline (another tab of the flow, or another flow file) is asked the same
 * rows and the two are compared with seeded paired bootstrap CIs. Thresholds gate the first pipeline.
 * Exit codes: 0 every threshold met, 3 a metric below its threshold, 1 a failure (a pipeline or the
 * judge failed, an answer did not come), 2 bad arguments or inputs (nothing run).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createEndpoint, ENDPOINT_DEFAULTS, Endpoint } from '../core/clients/endpoint';
import { RemoteEmbeddingBackend } from '../core/clients/embedding';
import { BOOTSTRAP_DEFAULTS, BootstrapOptions, checkBootstrapOptions } from '../core/eval/compare-stats';
import { Comparison, compareEvaluations } from '../core/eval/compare';
import { comparisonSection } from '../core/eval/compare-html';
import { DatasetError, DatasetFormat, EvalRow, formatOfFile, parseDataset } from '../core/eval/dataset';
import { JudgeClient, JudgeLlmBackend, remoteJudge } from '../core/eval/judge';
import { readPipelineAnswer } from '../core/eval/pipeline-answer';
import { renderReport } from '../core/eval/report-html';
import { appendRecord, canonicalJson, finiteOrNull, flowHash, readRecords, ResultRecord, sha256, trendOf } from '../core/eval/results';
import { judgeThresholds, parseThreshold, Threshold, ThresholdVerdict } from '../core/eval/results-gate';
import { trendSection } from '../core/eval/results-html';
import { renderJunit } from '../core/eval/results-junit';
import { ALL_METRICS, EvaluationResult, isJudgeMetric, MetricName, metricKeys, runEvaluation } from '../core/eval/runner';
import { loadPipeline } from '../core/pipeline';
import { formatProblem, oneLine, ProblemList } from '../core/problems';
import { readArgs, UsageError, usageErrorText } from './cli-args';
import { RuntimeStartError, startRuntime } from './embedded-runtime';
import { readFlowFile } from './flow-file';
import { checkPackTypes, chooseEntry, describeNode, postToEntry, RunError } from './run-command';

export const EVAL_USAGE = `  opea-flow eval FLOW --dataset FILE [--tab TAB | --entry URL] [--metrics f1,rougeL,...]
                 [--threshold METRIC>=VALUE ...] [--compare TAB_OR_FLOW [--compare-entry URL]]
                 [--judge URL [--judge-backend vllm|openai|ollama|tgi] [--judge-model ID]]
                 [--embed URL [--embed-backend tei|openai|opea|ollama] [--embed-model ID]]
                 [--out DIR] [--json FILE] [--junit FILE] [--html FILE] [--results DIR] [--seed N]
                 [--resamples N] [--k N] [--concurrency N] [--timeout SECONDS] [--credentials FILE]
                 [--user-dir DIR]`;

export const EVAL_HELP = `eval runs FLOW embedded (as run does), posts each question of --dataset (JSON, JSONL or CSV rows
{question, reference, ...}) to the pipeline's http in entry and scores the answers: --metrics (default
f1,rougeL) from ${ALL_METRICS.join(', ')}; judge metrics need --judge (an LLM server, API key in
OPEA_JUDGE_API_KEY) and answer_relevancy/answer_correctness --embed too (key in OPEA_EMBED_API_KEY).
--threshold f1>=0.5 (repeatable) gates the pipeline. --compare asks a second pipeline the same rows: a
tab of FLOW (id or name) or another flow file; FLOW is the candidate, the other the baseline, and each
metric gets both means, the difference with a --seed'ed (default ${BOOTSTRAP_DEFAULTS.seed}) paired bootstrap 95% CI, and
wins/losses/ties by row, beside latency (after one unscored warm-up question; two tabs of FLOW are asked side by side,
another flow file after FLOW) and answer tokens. --out DIR writes DIR/eval.json,
DIR/junit.xml and DIR/report.html (--json, --junit, --html name each file instead); --results DIR
appends a record of the run to DIR/eval.jsonl and the report shows the pipeline's trend.
Exit codes: 0 every threshold met, 3 a metric below its threshold, 1 a pipeline, the judge or an
answer failed, 2 bad arguments or inputs.`;

const OPTIONS = {
  dataset: { type: 'string' },
  tab: { type: 'string' },
  entry: { type: 'string' },
  metrics: { type: 'string' },
  threshold: { type: 'string', multiple: true },
  compare: { type: 'string' },
  'compare-entry': { type: 'string' },
  judge: { type: 'string' },
  'judge-backend': { type: 'string' },
  'judge-model': { type: 'string' },
  embed: { type: 'string' },
  'embed-backend': { type: 'string' },
  'embed-model': { type: 'string' },
  out: { type: 'string' },
  json: { type: 'string' },
  junit: { type: 'string' },
  html: { type: 'string' },
  results: { type: 'string' },
  seed: { type: 'string' },
  resamples: { type: 'string' },
  k: { type: 'string' },
  concurrency: { type: 'string' },
  timeout: { type: 'string' },
  credentials: { type: 'string' },
  'user-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const JUDGE_BACKENDS: JudgeLlmBackend[] = ['vllm', 'openai', 'ollama', 'tgi'];
const EMBED_BACKENDS: RemoteEmbeddingBackend[] = ['tei', 'openai', 'opea', 'ollama'];
const NEEDS_EMBEDDINGS: MetricName[] = ['answer_relevancy', 'answer_correctness'];
const DEFAULT_METRICS: MetricName[] = ['f1', 'rougeL'];

type RawNode = Record<string, unknown> & { id: string; type: string };

/** One pipeline to ask: a flow and the entry its questions go to. */
interface Target {
  /** What reports and the results folder call it: `file#tab`. */
  label: string;
  file: string;
  flow: RawNode[];
  entryPath: string;
  tabId: string;
}

interface Outputs {
  json?: string;
  junit?: string;
  html?: string;
}

interface EvalArgs {
  flowFile: string;
  datasetFile: string;
  rows: EvalRow[];
  candidate: Target;
  baseline?: Target;
  metrics: MetricName[];
  k: number;
  thresholds: Threshold[];
  judge?: JudgeClient;
  bootstrap: BootstrapOptions;
  concurrency: number;
  timeoutMs: number;
  credentials: Record<string, Record<string, string>>;
  userDir?: string;
  outputs: Outputs;
  resultsDir?: string;
}

function whole(values: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!(typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) && n >= min && n <= max)) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, not '${String(raw)}'`);
  return n;
}

function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${what} ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function readFlow(file: string): RawNode[] {
  const problems = new ProblemList();
  const flow = readFlowFile(file, problems);
  if (!flow || !problems.empty) throw new UsageError(`${file}: ${problems.items.map(formatProblem).join('; ') || 'not a flow'}`);
  return flow as RawNode[];
}

function tabLabel(flow: RawNode[], tabId: string): string {
  const tab = flow.find((n) => n.id === tabId && n.type === 'tab');
  return typeof tab?.label === 'string' && tab.label !== '' ? tab.label : tabId;
}

function targetOf(file: string, flow: RawNode[], choice: { tab?: string; entry?: string }): Target {
  let entryPath: string;
  try {
    entryPath = chooseEntry(flow, choice);
  } catch (err) {
    throw err instanceof RunError ? new UsageError(`${file}: ${err.message}`) : err;
  }
  const entry = flow.find((n) => n.type === 'http in' && n.d !== true && `/${String(n.url).replace(/^\//, '')}` === entryPath);
  const tabId = String(entry?.z ?? '');
  return { label: `${path.basename(file)}#${tabLabel(flow, tabId)}`, file, flow, entryPath, tabId };
}

/** --compare names a tab of FLOW (id or label) when no file has that name. */
function baselineOf(value: string, candidate: Target, entry: string | undefined): Target {
  if (fs.existsSync(value) && fs.statSync(value).isFile()) return targetOf(value, readFlow(value), { entry });
  const tab = candidate.flow.find((n) => n.type === 'tab' && (n.id === value || n.label === value));
  if (!tab) {
    const tabs = candidate.flow.filter((n) => n.type === 'tab').map((n) => `'${String(n.label)}'`);
    throw new UsageError(`--compare ${value} is neither a flow file nor a tab of ${path.basename(candidate.file)} (its tabs: ${tabs.join(', ')})`);
  }
  return targetOf(candidate.file, candidate.flow, { tab: tab.id, entry });
}

function endpoint(url: string, option: string, apiKey: string | undefined, timeoutMs: number): Endpoint {
  if (!/^https?:\/\/\S+$/.test(url)) throw new UsageError(`--${option} must be an http(s) URL`);
  return createEndpoint({ ...ENDPOINT_DEFAULTS, baseUrl: url.replace(/\/+$/, ''), apiKey: apiKey || undefined, timeoutMs, headers: {} });
}

function judgeOf(values: Record<string, unknown>, metrics: MetricName[], timeoutMs: number): JudgeClient | undefined {
  const judged = metrics.filter(isJudgeMetric);
  if (judged.length === 0) return undefined;
  if (typeof values.judge !== 'string') throw new UsageError(`${judged.join(', ')} need a judge LLM: give --judge URL`);
  const llmBackend = (values['judge-backend'] ?? 'openai') as JudgeLlmBackend;
  if (!JUDGE_BACKENDS.includes(llmBackend)) throw new UsageError(`--judge-backend must be one of ${JUDGE_BACKENDS.join(', ')}`);
  const llm = endpoint(values.judge, 'judge', process.env.OPEA_JUDGE_API_KEY, timeoutMs);
  const embedded = metrics.filter((m) => NEEDS_EMBEDDINGS.includes(m));
  if (embedded.length > 0 && typeof values.embed !== 'string') throw new UsageError(`${embedded.join(', ')} need an embedding server: give --embed URL`);
  const embedBackend = (values['embed-backend'] ?? 'openai') as RemoteEmbeddingBackend;
  if (!EMBED_BACKENDS.includes(embedBackend)) throw new UsageError(`--embed-backend must be one of ${EMBED_BACKENDS.join(', ')}`);
  return remoteJudge({
    llm,
    llmBackend,
    llmModel: values['judge-model'] as string | undefined,
    maxTokens: 1024,
    // Metrics without embeddings never call the embedder: the judge stands in when none is given.
    embedder: typeof values.embed === 'string' ? endpoint(values.embed, 'embed', process.env.OPEA_EMBED_API_KEY, timeoutMs) : llm,
    embedBackend,
    embedModel: values['embed-model'] as string | undefined,
  });
}

function metricsOf(value: unknown): MetricName[] {
  if (value === undefined) return DEFAULT_METRICS;
  const list = String(value)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = list.filter((m) => !(ALL_METRICS as readonly string[]).includes(m));
  if (unknown.length > 0) throw new UsageError(`unknown metric ${unknown.join(', ')}: choose from ${ALL_METRICS.join(', ')}`);
  if (list.length === 0) throw new UsageError('--metrics names no metric');
  return list as MetricName[];
}

function outputsOf(values: Record<string, unknown>): Outputs {
  const out = values.out as string | undefined;
  const pick = (name: 'json' | 'junit' | 'html', file: string) => (values[name] as string | undefined) ?? (out === undefined ? undefined : path.join(out, file));
  return { json: pick('json', 'eval.json'), junit: pick('junit', 'junit.xml'), html: pick('html', 'report.html') };
}

export function evalOptions(argv: string[]): EvalArgs | 'help' {
  const { values, positionals } = readArgs(argv, OPTIONS);
  if (values.help) return 'help';
  const [flowFile, ...extra] = positionals;
  if (!flowFile) throw new UsageError('FLOW is missing: opea-flow eval FLOW --dataset FILE');
  if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  if (typeof values.dataset !== 'string') throw new UsageError('--dataset FILE is required (JSON, JSONL or CSV rows with a question and a reference)');
  if (values.tab !== undefined && values.entry !== undefined) throw new UsageError('give --tab or --entry, not both');
  const format = formatOfFile(values.dataset) as DatasetFormat | null;
  if (!format) throw new UsageError(`cannot tell the format of ${values.dataset} from its name: use .json, .jsonl or .csv`);
  let rows: EvalRow[];
  try {
    rows = parseDataset(readText(values.dataset, '--dataset'), format);
  } catch (err) {
    if (err instanceof DatasetError) throw new UsageError(`${path.basename(values.dataset)}: ${err.message}`);
    throw err;
  }
  const timeoutMs = whole(values, 'timeout', 120, 1, 3600) * 1000;
  const metrics = metricsOf(values.metrics);
  const k = whole(values, 'k', 5, 1, 1000);
  const known = metricKeys({ metrics, k, assertions: [] });
  const thresholds = (values.threshold ?? []).map((t) => {
    try {
      return parseThreshold(t, known);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  });
  const bootstrap: BootstrapOptions = { seed: whole(values, 'seed', BOOTSTRAP_DEFAULTS.seed, -(2 ** 31), 2 ** 31 - 1), resamples: whole(values, 'resamples', BOOTSTRAP_DEFAULTS.resamples, 100, 100_000), confidence: BOOTSTRAP_DEFAULTS.confidence };
  const problems = checkBootstrapOptions(bootstrap);
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  if (values['compare-entry'] !== undefined && values.compare === undefined) throw new UsageError('--compare-entry needs --compare');
  const flow = readFlow(flowFile);
  const candidate = targetOf(flowFile, flow, { tab: values.tab, entry: values.entry });
  const baseline = values.compare === undefined ? undefined : baselineOf(values.compare, candidate, values['compare-entry']);
  if (baseline && baseline.file === candidate.file && baseline.entryPath === candidate.entryPath) throw new UsageError(`--compare ${values.compare} is the same pipeline (${candidate.entryPath}) as the one evaluated`);
  let credentials: Record<string, Record<string, string>> = {};
  if (values.credentials !== undefined) {
    try {
      credentials = JSON.parse(readText(values.credentials, '--credentials')) as Record<string, Record<string, string>>;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`--credentials ${values.credentials} is not JSON (${(err as Error).message})`);
    }
  }
  return {
    flowFile,
    datasetFile: values.dataset,
    rows,
    candidate,
    baseline,
    metrics,
    k,
    thresholds,
    judge: judgeOf(values, metrics, timeoutMs),
    bootstrap,
    concurrency: whole(values, 'concurrency', 1, 1, 32),
    timeoutMs,
    credentials,
    userDir: values['user-dir'],
    outputs: outputsOf(values),
    resultsDir: values.results,
  };
}

interface Evaluated {
  target: Target;
  result: EvaluationResult;
  seconds: number;
}

/**
 * Starts the targets' flow (they share it), asks every target every row, and stops it. Targets of one
 * flow are asked side by side, so that neither has the runtime to itself or runs first: their latencies
 * compare. A node error or a missing answer fails the run.
 */
async function evaluateTargets(targets: Target[], args: EvalArgs, progress: (text: string) => void): Promise<Evaluated[]> {
  const flow = targets[0].flow;
  checkPackTypes(flow);
  let failNode: (error: RunError) => void = () => undefined;
  const nodeFailed = new Promise<never>((_, reject) => (failNode = reject));
  nodeFailed.catch(() => undefined);
  const runtime = await startRuntime({
    flow,
    credentials: args.credentials,
    userDir: args.userDir,
    onNodeError: (error, nodeId) => failNode(new RunError(oneLine(error.includes(nodeId) ? error : `${describeNode(flow, nodeId)}: ${error}`, 600), 1)),
  }).catch((err: Error) => {
    throw err instanceof RuntimeStartError ? new RunError(`${path.basename(targets[0].file)}: ${err.message}`, 2) : err;
  });
  try {
    await runtime.settled();
    const evaluate = async (target: Target): Promise<Evaluated> => {
      const ask = async (row: EvalRow, _index: number, signal?: AbortSignal): Promise<EvalRow> => {
        const limit = AbortSignal.timeout(args.timeoutMs);
        const body = await Promise.race([
          postToEntry(runtime.url, target.entryPath, { text: row.question }, signal ? AbortSignal.any([signal, limit]) : limit).catch((err: Error) => {
            if (limit.aborted) throw new RunError(`no answer within ${args.timeoutMs / 1000} s from ${target.entryPath}; raise --timeout`, 1);
            throw err;
          }),
          nodeFailed,
        ]);
        const { answer, contexts } = readPipelineAnswer({ payload: body });
        return { ...row, answer, ...(contexts ? { contexts } : {}) };
      };
      // One question first, unscored: the first answers of a fresh runtime are slower.
      await ask(args.rows[0], 0);
      const started = performance.now();
      const result = await runEvaluation(args.rows, {
        metrics: args.metrics,
        k: args.k,
        assertions: [],
        judge: args.judge,
        strictness: 3,
        concurrency: args.concurrency,
        onProgress: (done, total) => progress(`${target.label}: row ${done}/${total}`),
        prepare: ask,
      });
      return { target, result, seconds: (performance.now() - started) / 1000 };
    };
    return await Promise.all(targets.map(evaluate));
  } finally {
    await runtime.stop();
  }
}

function recordOf(e: Evaluated, args: EvalArgs, time: Date): ResultRecord {
  // The tab, its nodes and the config nodes (no z): other tabs do not change this pipeline's hash.
  const nodes = e.target.flow.filter((n) => n.id === e.target.tabId || n.z === e.target.tabId || (n.z === undefined && n.type !== 'tab'));
  const { pipeline } = loadPipeline(e.target.flow, { tab: e.target.tabId });
  return {
    kind: 'eval',
    time: time.toISOString(),
    pipeline: e.target.label,
    flowHash: flowHash(nodes),
    models: pipeline.graph.components.map((c) => `${c.label} ${c.backend}${c.model ? `:${c.model}` : ''}`),
    settings: {
      entry: e.target.entryPath,
      metrics: args.metrics,
      k: args.k,
      components: Object.fromEntries(pipeline.graph.components.map((c) => [c.label, c.params])),
    },
    datasetHash: sha256(canonicalJson(args.rows)),
    metrics: finiteOrNull(Object.fromEntries(e.result.metrics.map((m) => [m, e.result.aggregate[m].mean]))),
  };
}

function writeFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, text);
  fs.renameSync(temp, file);
}

const score = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : 'NaN');

function summaryText(evaluated: Evaluated[], comparison: Comparison | undefined, verdicts: ThresholdVerdict[]): string {
  let out = '';
  for (const e of evaluated) {
    out += `${e.target.label} (${e.target.entryPath}): ${e.result.rows} rows in ${e.seconds.toFixed(1)} s\n`;
    for (const m of e.result.metrics) out += `  ${m.padEnd(20)} ${score(e.result.aggregate[m].mean)}${e.result.aggregate[m].nan ? ` (${e.result.aggregate[m].nan} rows NaN)` : ''}\n`;
  }
  if (comparison) {
    out += `comparison: ${comparison.candidate} (candidate) − ${comparison.baseline} (baseline), ${Math.round(comparison.bootstrap.confidence * 100)}% CI, seed ${comparison.bootstrap.seed}\n`;
    for (const c of [...comparison.quality, ...comparison.cost]) {
      const ci = c.interval ? `[${score(c.interval.low)}, ${score(c.interval.high)}]` : '–';
      out += `  ${c.metric.padEnd(20)} ${score(c.baseline)} → ${score(c.candidate)}  diff ${score(c.interval?.difference ?? NaN)} ${ci}  W/L/T ${c.wins}/${c.losses}/${c.ties}  ${c.better === 'neither' ? 'no clear difference' : `${c.better} better`}\n`;
    }
  }
  for (const v of verdicts) out += `threshold ${v.metric}>=${v.min}: ${v.passed ? `passed (${score(v.actual)})` : `FAILED: ${v.reason}`}\n`;
  return out;
}

async function runEval(args: EvalArgs): Promise<number> {
  const progress = (text: string) => {
    if (process.stderr.isTTY) process.stderr.write(`\r${text}   `);
  };
  const { candidate: first, baseline: second } = args;
  // Another flow file runs in a runtime of its own, after the first: one Node-RED runs in a process.
  const [candidate, baseline] = !second ? await evaluateTargets([first], args, progress) : second.file === first.file ? await evaluateTargets([first, second], args, progress) : [...(await evaluateTargets([first], args, progress)), ...(await evaluateTargets([second], args, progress))];
  if (process.stderr.isTTY) process.stderr.write('\n');
  const now = new Date();
  const comparison = baseline ? compareEvaluations({ label: baseline.target.label, result: baseline.result }, { label: candidate.target.label, result: candidate.result }, args.bootstrap) : undefined;
  const verdicts = judgeThresholds(args.thresholds, candidate.result.aggregate);
  const evaluated = baseline ? [candidate, baseline] : [candidate];
  const record = recordOf(candidate, args, now);
  let trend: ResultRecord[] = [];
  if (args.resultsDir !== undefined) {
    // The baseline first: the candidate's record is the last one written.
    if (baseline) appendRecord(args.resultsDir, recordOf(baseline, args, now));
    appendRecord(args.resultsDir, record);
    trend = trendOf(readRecords(args.resultsDir, 'eval').records, record);
  }
  const { json, junit, html } = args.outputs;
  if (json !== undefined) {
    const document = {
      flow: args.flowFile,
      dataset: args.datasetFile,
      datasetHash: record.datasetHash,
      createdAt: now.toISOString(),
      candidate: { label: candidate.target.label, entry: candidate.target.entryPath, flowHash: record.flowHash, seconds: candidate.seconds, result: candidate.result },
      ...(baseline ? { baseline: { label: baseline.target.label, entry: baseline.target.entryPath, seconds: baseline.seconds, result: baseline.result } } : {}),
      ...(comparison ? { comparison } : {}),
      thresholds: verdicts,
      passed: verdicts.every((v) => v.passed),
    };
    // NaN (nothing scored) is written as null, as JSON has no NaN.
    writeFile(json, `${JSON.stringify(document, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`);
  }
  if (junit !== undefined) {
    const properties = comparison ? Object.fromEntries(comparison.quality.flatMap((c) => [[`difference.${c.metric}`, score(c.interval?.difference ?? NaN)], [`ci.${c.metric}`, c.interval ? `${score(c.interval.low)} ${score(c.interval.high)}` : 'none']])) : undefined;
    writeFile(junit, renderJunit([{ name: candidate.target.label, result: candidate.result, verdicts, seconds: candidate.seconds, properties }, ...(baseline ? [{ name: baseline.target.label, result: baseline.result, verdicts: [], seconds: baseline.seconds }] : [])], now));
  }
  if (html !== undefined) {
    const sections = [...(comparison ? [comparisonSection(comparison)] : []), ...(trend.length > 0 ? [trendSection(trend, candidate.result.metrics, args.resultsDir as string)] : [])];
    writeFile(html, renderReport(candidate.result, `${candidate.target.label}: evaluation`, now, sections));
  }
  process.stdout.write(summaryText(evaluated, comparison, verdicts));
  return verdicts.every((v) => v.passed) ? 0 : 3;
}

export async function evalCommand(argv: string[], usage: string): Promise<number> {
  let args: EvalArgs | 'help';
  try {
    args = evalOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(usageErrorText('opea-flow eval', err.message));
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  try {
    return await runEval(args);
  } catch (err) {
    if (err instanceof RunError) {
      process.stderr.write(`opea-flow eval: ${err.message}\n`);
      return err.exitCode;
    }
    // A row's failure (the runner names the row) or the judge's: the run could not finish.
    process.stderr.write(`opea-flow eval: ${(err as Error).message}\n`);
    return 1;
  }
}
