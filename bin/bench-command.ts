/**
 * `opea-flow bench`: load-tests an OpenAI-compatible chat endpoint, an OPEA megaservice or GMC router,
 * or any JSON POST endpoint, and prints the serving metrics (vLLM's definitions) as text or JSON.
 * Exit codes: 0 the run finished with at least one completed request (each run, with --compare-url), 1 none
 * completed, 2 bad options.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Prompt, TARGET_KINDS, TargetKind, targetUrl } from '../core/bench/client';
import { benchFigures, compareBenchmarks } from '../core/bench/compare';
import { benchComparisonSection, comparisonLines } from '../core/bench/compare-html';
import { BOOTSTRAP_DEFAULTS } from '../core/eval/compare-stats';
import { appendRecord, canonicalJson, finiteOrNull, readRecords, ResultRecord, sha256, trendOf } from '../core/eval/results';
import { trendSection } from '../core/eval/results-html';
import { parsePrompts } from '../core/bench/prompts';
import { renderReport } from '../core/bench/report-html';
import { BenchResult, checkRunOptions, LoadShape, runBenchmark, RunOptions } from '../core/bench/runner';
import { Summary } from '../core/bench/stats';
import { Distribution, GaugeFigures, ServerMetricsWatch, ServerReport } from '../core/bench/server-metrics';
import { ProcessUsage, ProcessWatch } from '../core/bench/process-usage';
import { readArgs, UsageError, usageErrorText } from './cli-args';

export const BENCH_USAGE = `  opea-flow bench --url URL [--kind openai|opea|gmc|json] [--requests N] [--concurrency C | --rate R
                  [--burstiness B] [--max-concurrency M]] [--duration SECONDS] [--warmup N] [--stream]
                  [--prompt TEXT ... | --prompts FILE] [--model ID] [--max-tokens N] [--timeout SECONDS]
                  [--time-limit SECONDS] [--seed N] [--percentiles 50,90,99] [--slo-ttft MS]
                  [--slo-tpot MS] [--slo-e2e MS] [--json] [--html FILE]
                  [--metrics-url URL ... | --metrics-url none] [--metrics-interval SECONDS]
                  [--compare-url URL [--compare-kind openai|opea|gmc|json] [--compare-model ID]]
                  [--results DIR]`;

export const BENCH_HELP = `bench sends --requests requests (default 100) to --url: a closed loop of --concurrency users
(default 1), or an open loop at --rate requests/s with gamma-distributed gaps (--burstiness 1 = Poisson),
and prints TTFT, TPOT, ITL, end-to-end latency, throughput and goodput (as vLLM's serving benchmark
defines them), or the whole result with --json; --html writes a self-contained report. The API key is
read from the environment variable OPEA_BENCH_API_KEY. When a model server's Prometheus metrics answer
(TGI, vLLM, TEI: its /metrics, read by default for --kind openai, or each --metrics-url), they are read
before and after the measured requests and every --metrics-interval (default 1 s) in between, and the
server's own queue time, TTFT, time per token, tokens/s, queue and batch size are printed beside the
client's, with the CPU and memory of this process over the run. --compare-url benchmarks a baseline
after --url with the same prompts and load, and compares the two: mean TTFT, TPOT and e2e with the
difference and its --seed'ed bootstrap 95% CI over the completed requests, throughput beside them.
--results DIR appends the run's figures to DIR/bench.jsonl and the report shows the target's trend.`;

function numberOption(values: Record<string, unknown>, name: string, fallback?: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, not '${String(raw)}'`);
  return n;
}

function promptsOf(values: Record<string, unknown>): Prompt[] {
  const given = (values.prompt as string[] | undefined) ?? [];
  if (typeof values.prompts !== 'string') return given.length > 0 ? given : ['Explain what a vector database is in one paragraph.'];
  if (given.length > 0) throw new UsageError('give --prompt or --prompts FILE, not both');
  let text: string;
  try {
    text = fs.readFileSync(values.prompts, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --prompts ${values.prompts} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return parsePrompts(text, path.basename(values.prompts));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export interface BenchArgs {
  run: RunOptions;
  json: boolean;
  html?: string;
  metrics: { urls: string[]; intervalMs: number };
  /** The baseline of --compare-url, run after the candidate (--url). */
  compare?: RunOptions['target'];
  results?: string;
}

/** Prometheus endpoints to read: the ones given, or an OpenAI-compatible model server's own /metrics. */
function metricsUrls(given: string[] | undefined, kind: TargetKind, url: string): string[] {
  if (given?.length === 1 && given[0] === 'none') return [];
  for (const u of given ?? []) if (!/^https?:\/\/\S+$/.test(u)) throw new UsageError(`--metrics-url must be an http(s) URL or none, not '${u}'`);
  if (given && given.length > 0) return given;
  // A router or megaservice answers every path with the pipeline: only a model server is asked unbidden.
  return kind === 'openai' ? [new URL('/metrics', url).href] : [];
}

export function benchOptions(argv: string[]): BenchArgs {
  const { values, positionals } = readArgs(argv, {
    url: { type: 'string' },
    kind: { type: 'string' },
    requests: { type: 'string' },
    concurrency: { type: 'string' },
    rate: { type: 'string' },
    burstiness: { type: 'string' },
    'max-concurrency': { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    stream: { type: 'boolean' },
    prompt: { type: 'string', multiple: true },
    prompts: { type: 'string' },
    model: { type: 'string' },
    'max-tokens': { type: 'string' },
    timeout: { type: 'string' },
    'time-limit': { type: 'string' },
    seed: { type: 'string' },
    percentiles: { type: 'string' },
    'slo-ttft': { type: 'string' },
    'slo-tpot': { type: 'string' },
    'slo-e2e': { type: 'string' },
    json: { type: 'boolean' },
    html: { type: 'string' },
    'metrics-url': { type: 'string', multiple: true },
    'metrics-interval': { type: 'string' },
    'compare-url': { type: 'string' },
    'compare-kind': { type: 'string' },
    'compare-model': { type: 'string' },
    results: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected arguments: ${positionals.join(' ')}`);
  if (typeof values.url !== 'string' || !/^https?:\/\/\S+$/.test(values.url)) throw new UsageError('--url must be an http(s) URL');
  const kind = (values.kind ?? 'openai') as TargetKind;
  if (!TARGET_KINDS.includes(kind)) throw new UsageError(`unknown --kind '${values.kind}': choose ${TARGET_KINDS.join(', ')}`);
  if (values.concurrency !== undefined && values.rate !== undefined) throw new UsageError('give --concurrency (closed loop) or --rate (open loop), not both');
  const rate = numberOption(values, 'rate');
  const load: LoadShape =
    rate === undefined
      ? { kind: 'closed', concurrency: numberOption(values, 'concurrency', 1) as number }
      : { kind: 'open', rate, burstiness: numberOption(values, 'burstiness', 1) as number, maxConcurrency: numberOption(values, 'max-concurrency') };
  if (rate === undefined && (values.burstiness !== undefined || values['max-concurrency'] !== undefined)) throw new UsageError('--burstiness and --max-concurrency need --rate');
  const duration = numberOption(values, 'duration');
  const slo = { ttftMs: numberOption(values, 'slo-ttft'), tpotMs: numberOption(values, 'slo-tpot'), e2eMs: numberOption(values, 'slo-e2e') };
  const options: RunOptions = {
    target: {
      url: targetUrl(values.url, kind),
      kind,
      stream: values.stream === true,
      model: values.model,
      maxTokens: numberOption(values, 'max-tokens'),
      apiKey: process.env.OPEA_BENCH_API_KEY || undefined,
    },
    prompts: promptsOf(values),
    load,
    requests: numberOption(values, 'requests', 100) as number,
    durationMs: duration === undefined ? undefined : duration * 1000,
    warmup: numberOption(values, 'warmup', 0) as number,
    timeoutMs: (numberOption(values, 'timeout', 60) as number) * 1000,
    timeLimitMs: (numberOption(values, 'time-limit', 600) as number) * 1000,
    seed: numberOption(values, 'seed', 0) as number,
    percentiles: (values.percentiles ?? '50,90,99').split(',').map((p) => Number(p.trim())),
    slo: Object.values(slo).some((v) => v !== undefined) ? slo : null,
  };
  const problems = checkRunOptions(options);
  if (options.target.maxTokens !== undefined && !(Number.isInteger(options.target.maxTokens) && options.target.maxTokens > 0)) problems.push('--max-tokens must be a whole number above 0');
  const interval = numberOption(values, 'metrics-interval', 1) as number;
  if (!(interval >= 0.1 && interval <= 3600)) problems.push('--metrics-interval must be from 0.1 to 3600 seconds');
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return { run: options, json: values.json === true, html: values.html, metrics: { urls: metricsUrls(values['metrics-url'], kind, values.url), intervalMs: interval * 1000 }, compare: compareTarget(values, options.target), results: values.results };
}

/** The baseline target of --compare-url: the candidate's settings, with its own URL, kind and model. */
function compareTarget(values: Record<string, unknown>, candidate: RunOptions['target']): RunOptions['target'] | undefined {
  const url = values['compare-url'];
  if (url === undefined) {
    if (values['compare-kind'] !== undefined || values['compare-model'] !== undefined) throw new UsageError('--compare-kind and --compare-model need --compare-url');
    return undefined;
  }
  if (typeof url !== 'string' || !/^https?:\/\/\S+$/.test(url)) throw new UsageError('--compare-url must be an http(s) URL');
  const kind = (values['compare-kind'] ?? candidate.kind) as TargetKind;
  if (!TARGET_KINDS.includes(kind)) throw new UsageError(`unknown --compare-kind '${String(values['compare-kind'])}': choose ${TARGET_KINDS.join(', ')}`);
  return { ...candidate, url: targetUrl(url, kind), kind, model: (values['compare-model'] as string | undefined) ?? candidate.model };
}

/** The record a run keeps in the results folder: the target is the pipeline, the prompts the dataset. */
function benchRecord(result: BenchResult, prompts: Prompt[]): ResultRecord {
  return {
    kind: 'bench',
    time: result.startedAt,
    pipeline: `${result.target.kind} ${result.target.url}`,
    models: result.target.model ? [result.target.model] : [],
    settings: { load: result.load, stream: result.target.stream, maxTokens: result.target.maxTokens },
    datasetHash: sha256(canonicalJson(prompts)),
    metrics: finiteOrNull(benchFigures(result)),
  };
}

function row(label: string, value: string | number): string {
  return `${label.padEnd(40)} ${value}\n`;
}

const ms = (n: number | null) => (n === null ? '–' : n.toFixed(2));

function summaryLines(title: string, s: Summary): string {
  let out = `${`-- ${title} `.padEnd(50, '-')}\n${row('Mean (ms):', ms(s.mean))}${row('Median (ms):', ms(s.median))}${row('Std, population (ms):', ms(s.std))}`;
  for (const [k, v] of Object.entries(s.percentiles)) out += row(`${k.toUpperCase()} (ms):`, ms(v));
  return out;
}

const fixed = (n: number | null | undefined, digits = 2) => (n === null || n === undefined ? '–' : n.toFixed(digits));

function distributionRow(label: string, d: Distribution | null): string {
  return row(`${label} mean/p50/p90/p99 (ms):`, d ? `${fixed(d.mean)} / ${fixed(d.p50)} / ${fixed(d.p90)} / ${fixed(d.p99)} (${d.count} observed)` : '–');
}

function gaugeRow(label: string, g: GaugeFigures | Distribution | null): string {
  if (!g) return row(label, '–');
  if ('max' in g) return row(`${label} mean / max:`, `${fixed(g.mean)} / ${fixed(g.max, 0)} (${g.samples} samples)`);
  return row(`${label} mean/p50/p99:`, `${fixed(g.mean)} / ${fixed(g.p50)} / ${fixed(g.p99)} (${g.count} batches)`);
}

/** The server's own figures (from its /metrics) and the client process's, after the client's. */
export function formatServerAndClient(server: ServerReport[], client: ProcessUsage | undefined): string {
  let out = '';
  for (const s of server) {
    if ('error' in s) {
      out += `${'-- Server metrics '.padEnd(50, '-')}
${row('URL:', s.url)}${row('Not read:', s.error)}`;
      continue;
    }
    const f = s.figures;
    out += `${`-- Server metrics (${f.kind.toUpperCase()}) `.padEnd(50, '-')}
${row('URL:', s.url)}`;
    out += row('Requests the server counted:', f.requests ?? '–');
    out += row('Requests the server failed:', f.failures ?? '–');
    out += distributionRow('Queue time', f.queueTimeMs);
    out += distributionRow('Server TTFT', f.ttftMs);
    out += distributionRow('Time per token', f.timePerTokenMs);
    out += row('Server generated tokens/s:', fixed(f.generatedTokensPerS));
    out += gaugeRow('Queue size', f.queueSize);
    out += gaugeRow('Batch size', f.batchSize);
  }
  if (client) {
    out += `${'-- Client process (this benchmark) '.padEnd(50, '-')}
`;
    out += row('CPU (% of one core):', `${fixed(client.cpuPercent, 1)} (user ${fixed(client.cpuUserMs, 0)} ms, system ${fixed(client.cpuSystemMs, 0)} ms)`);
    out += row('Memory RSS peak / end (MB):', `${fixed(client.rssPeakMb, 1)} / ${fixed(client.rssEndMb, 1)}`);
    out += row('Heap used at the end (MB):', fixed(client.heapUsedEndMb, 1));
  }
  return out;
}

/** The result as text; `after` (the server's and client process's figures) goes before the closing rule. */
export function formatResult(r: BenchResult, after = ''): string {
  const m = r.metrics;
  const load = r.load.kind === 'closed' ? `closed loop, ${r.load.concurrency} users` : `open loop, ${r.load.rate} req/s, burstiness ${r.load.burstiness}${r.load.maxConcurrency ? `, max concurrency ${r.load.maxConcurrency}` : ''}`;
  let out = `${' Benchmark result '.padStart(34, '=').padEnd(50, '=')}\n`;
  out += row('Target:', `${r.target.url} (${r.target.kind}${r.target.stream ? ', streaming' : ''})`);
  out += row('Load:', load);
  out += row('Stopped by:', r.stoppedBy);
  out += row('Successful requests:', m.completed);
  out += row('Failed requests:', m.errors.total ? `${m.errors.total} (${Object.entries(m.errors.byKind).map(([k, n]) => `${k} ${n}`).join(', ')})` : 0);
  out += row('Duration (s):', m.durationS.toFixed(2));
  out += row('Total input tokens:', m.tokens.input);
  out += row('Total generated tokens:', m.tokens.output);
  out += row('Tokens counted from:', m.tokens.source === 'usage' ? 'server usage' : m.tokens.source === 'none' ? '–' : `${m.tokens.source} (${m.tokens.tokenizer} tokenizer for ${m.tokens.fromTokenizer} requests)`);
  out += row('Request throughput (req/s):', m.throughput.requestsPerS.toFixed(2));
  if (m.throughput.goodputPerS !== null) out += row('Request goodput (req/s):', m.throughput.goodputPerS.toFixed(2));
  out += row('Output token throughput (tok/s):', m.throughput.outputTokensPerS.toFixed(2));
  out += row('Total token throughput (tok/s):', m.throughput.totalTokensPerS.toFixed(2));
  out += summaryLines('Time to first token', m.latencyMs.ttft);
  out += summaryLines('Time per output token (excl. 1st)', m.latencyMs.tpot);
  out += summaryLines('Inter-token latency', m.latencyMs.itl);
  out += summaryLines('End-to-end latency', m.latencyMs.e2e);
  for (const e of m.errors.examples) out += `error #${e.index} ${e.kind}: ${e.message}\n`;
  return `${out}${after}${'='.repeat(50)}\n`;
}

export async function benchCommand(argv: string[], usage: string): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  let args: BenchArgs;
  try {
    args = benchOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(usageErrorText('opea-flow bench', err.message));
    return 2;
  }
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  process.once('SIGINT', onInterrupt);
  let result: BenchResult;
  const servers = args.metrics.urls.length > 0 ? new ServerMetricsWatch(args.metrics.urls, args.metrics.intervalMs, Math.min(args.metrics.intervalMs * 5, 10_000)) : null;
  let clientWatch: ProcessWatch | undefined;
  let server: ServerReport[] = [];
  let client: ProcessUsage | undefined;
  try {
    result = await runBenchmark({
      ...args.run,
      signal: stop.signal,
      onProgress: args.json ? undefined : (p) => process.stderr.write(`\r${p.phase} ${p.done}/${p.total}${p.failed ? `, ${p.failed} failed` : ''}   `),
      beforeMeasuring: async () => {
        await servers?.start();
        clientWatch = new ProcessWatch(args.metrics.intervalMs);
      },
    });
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    // Both watches started only if the measured requests did.
    client = clientWatch?.stop();
    if (servers && clientWatch) server = await servers.stop();
  }
  if (!args.json) process.stderr.write('\n');
  let baseline: BenchResult | undefined;
  if (args.compare) {
    process.once('SIGINT', onInterrupt);
    try {
      baseline = await runBenchmark({ ...args.run, target: args.compare, signal: stop.signal, onProgress: args.json ? undefined : (p) => process.stderr.write(`\rbaseline ${p.phase} ${p.done}/${p.total}${p.failed ? `, ${p.failed} failed` : ''}   `) });
    } finally {
      process.removeListener('SIGINT', onInterrupt);
    }
    if (!args.json) process.stderr.write('\n');
  }
  const comparison = baseline ? compareBenchmarks({ label: baseline.target.url, result: baseline }, { label: result.target.url, result }, { ...BOOTSTRAP_DEFAULTS, seed: args.run.seed }) : undefined;
  const sections = comparison ? [benchComparisonSection(comparison)] : [];
  if (args.results !== undefined) {
    const record = benchRecord(result, args.run.prompts);
    if (baseline) appendRecord(args.results, benchRecord(baseline, args.run.prompts));
    appendRecord(args.results, record);
    sections.push(trendSection(trendOf(readRecords(args.results, 'bench').records, record), Object.keys(record.metrics), args.results));
  }
  const report = { ...result, server, client: client ?? null, ...(baseline && comparison ? { baseline, comparison } : {}) };
  if (args.html !== undefined) fs.writeFileSync(args.html, renderReport(result, sections));
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatResult(result, formatServerAndClient(server, client))}${baseline && comparison ? `${formatResult(baseline, '')}${comparisonLines(comparison)}` : ''}`);
  return result.metrics.completed > 0 && (!baseline || baseline.metrics.completed > 0) ? 0 : 1;
}
