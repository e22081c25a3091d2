/**
 * opea-benchmark: load-tests a model or OPEA service on each message and outputs the serving metrics
 * (msg.payload, JSON) and a self-contained HTML report (msg.report). One run at a time per node; the
 * status shows its progress; closing the node (redeploy, stop) aborts the run and its requests.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Prompt, TARGET_KINDS, Target, TargetKind, targetUrl } from '../../core/bench/client';
import { parsePrompts, promptsFromPayload } from '../../core/bench/prompts';
import { renderReport } from '../../core/bench/report-html';
import { BenchResult, checkRunOptions, LoadShape, Progress, runBenchmark, RunOptions } from '../../core/bench/runner';
import { Slo } from '../../core/bench/metrics';
import { Msg, NodeConfig, Red, RedNode } from '../shared/red';
import { configNode, errorText, labelOf, ServerNode, shortStatus } from '../shared/service-node';
import { flowEntryUrl } from '../shared/flow-entry';

const PROGRESS_EVERY_MS = 250;

interface BenchSettings {
  run: Omit<RunOptions, 'target' | 'prompts'>;
  kind: TargetKind;
  stream: boolean;
  model?: string;
  maxTokens?: number;
  url: string;
  prompts: Prompt[];
  promptsFile: string;
  report: boolean;
}

/** A number from the editor: '' (or absent) is `fallback`, anything else that is not a number is NaN. */
function num(value: unknown, fallback?: number): number | undefined {
  if (value === undefined || value === null || value === '') return fallback;
  const n = Number(value);
  return Number.isFinite(n) ? n : NaN;
}

/** The flow's own http in entry is called as a JSON endpoint: opea- query paths take {text} and answer a GeneratedDoc. */
const FLOW_TARGET = 'flow';

function readBenchSettings(config: NodeConfig): { settings: BenchSettings; problems: string[] } {
  const problems: string[] = [];
  const kind = config.kind === FLOW_TARGET ? 'json' : (TARGET_KINDS as readonly unknown[]).includes(config.kind) ? (config.kind as TargetKind) : undefined;
  if (!kind) problems.push(`unknown target kind '${String(config.kind)}': choose ${[...TARGET_KINDS, FLOW_TARGET].join(', ')}`);
  const load: LoadShape =
    config.mode === 'open'
      ? { kind: 'open', rate: num(config.rate, 1) as number, burstiness: num(config.burstiness, 1) as number, maxConcurrency: num(config.maxConcurrency) }
      : { kind: 'closed', concurrency: num(config.concurrency, 1) as number };
  const duration = num(config.duration);
  const slo: Slo = { ttftMs: num(config.sloTtft), tpotMs: num(config.sloTpot), e2eMs: num(config.sloE2e) };
  const percentiles = String(config.percentiles ?? '50,90,99').split(',').filter((p) => p.trim() !== '').map((p) => Number(p));
  const maxTokens = num(config.maxTokens);
  if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && maxTokens > 0)) problems.push('max tokens must be empty or a whole number above 0');
  const text = typeof config.prompts === 'string' ? config.prompts : '';
  const settings: BenchSettings = {
    run: {
      load,
      requests: num(config.requests, 100) as number,
      durationMs: duration === undefined ? undefined : duration * 1000,
      warmup: num(config.warmup, 0) as number,
      timeoutMs: (num(config.timeout, 60) as number) * 1000,
      timeLimitMs: (num(config.timeLimit, 600) as number) * 1000,
      seed: num(config.seed, 0) as number,
      percentiles,
      slo: Object.values(slo).some((v) => v !== undefined) ? slo : null,
    },
    kind: kind ?? 'openai',
    stream: config.stream === true || config.stream === 'true',
    model: typeof config.model === 'string' && config.model.trim() !== '' ? config.model.trim() : undefined,
    maxTokens,
    url: typeof config.url === 'string' ? config.url.trim() : '',
    prompts: text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== ''),
    promptsFile: typeof config.promptsFile === 'string' ? config.promptsFile.trim() : '',
    report: config.report !== false && config.report !== 'false',
  };
  // Prompts may come with each message, so only the numbers are checked here.
  problems.push(...checkRunOptions({ ...settings.run, prompts: ['(checked per message)'] }));
  return { settings, problems };
}

function targetOf(RED: Red, config: NodeConfig, s: BenchSettings): Target {
  const base = { kind: s.kind, stream: s.stream, model: s.model, maxTokens: s.maxTokens };
  // Node-RED's own server: its certificate is the user's own (often self-signed), so it is not checked.
  if (config.kind === FLOW_TARGET) return { ...base, url: flowEntryUrl(RED, config.entry), verifyTls: false };
  const server = configNode<ServerNode>(RED, config.server, 'server');
  if (!server) {
    if (!/^https?:\/\/\S+$/.test(s.url)) throw new Error(`'${s.url}' is not an http(s) URL: give the target URL, or choose a server`);
    return { ...base, url: targetUrl(s.url, s.kind) };
  }
  const { baseUrl, apiKey, headers, verifyTls } = server.endpoint().config;
  const joined = `${baseUrl.replace(/\/+$/, '')}${s.url === '' || s.url.startsWith('/') ? s.url : `/${s.url}`}`;
  return { ...base, url: targetUrl(joined, s.kind), apiKey, headers, verifyTls };
}

async function promptsFor(msg: Msg, s: BenchSettings, userDir: string | undefined): Promise<Prompt[]> {
  const fromMsg = promptsFromPayload(msg.payload);
  if (fromMsg) return fromMsg;
  if (s.promptsFile === '') return s.prompts;
  const file = path.resolve(userDir ?? process.cwd(), s.promptsFile);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the prompts file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}): check the path (relative paths start at the Node-RED user directory)`);
  }
  return parsePrompts(text, path.basename(file));
}

function progressText(p: Progress): string {
  return `${p.phase === 'warm-up' ? 'warm-up ' : ''}${p.done}/${p.total}${p.failed ? ` · ${p.failed} failed` : ''} · ${(p.elapsedMs / 1000).toFixed(1)} s`;
}

function resultText(r: BenchResult): string {
  const m = r.metrics;
  const ttft = m.latencyMs.ttft.median;
  return `${m.completed} ok${m.failed ? `, ${m.failed} failed` : ''} · ${m.throughput.requestsPerS.toFixed(1)} req/s${ttft === null ? '' : ` · TTFT p50 ${ttft.toFixed(0)} ms`}`;
}

module.exports = function register(RED: Red): void {
  function OpeaBenchmark(this: RedNode, config: NodeConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const { settings, problems } = readBenchSettings(config);
    let running: { stop: AbortController; finished: Promise<void> } | undefined;
    const fail = (text: string) => new Error(`${labelOf(node)} (${node.id}): ${text}`);
    if (problems.length > 0) node.status({ fill: 'red', shape: 'ring', text: shortStatus(`invalid: ${problems[0]}`) });

    node.on('input', (msg, send, done) => {
      if (problems.length > 0) return done(fail(`${problems.join('; ')} — fix the node's settings and deploy again`));
      if (running) return done(fail('a benchmark is already running: wait for its result before sending another message'));
      const stop = new AbortController();
      let lastStatus = 0;
      const onProgress = (p: Progress) => {
        const now = Date.now();
        if (now - lastStatus < PROGRESS_EVERY_MS && p.done < p.total) return;
        lastStatus = now;
        node.status({ fill: 'blue', shape: 'dot', text: progressText(p) });
      };
      node.status({ fill: 'blue', shape: 'ring', text: 'starting' });
      const finished = (async () => {
        const target = targetOf(RED, config, settings);
        const prompts = await promptsFor(msg, settings, RED.settings.userDir);
        const promptProblems = checkRunOptions({ ...settings.run, prompts });
        if (promptProblems.length > 0) throw new Error(promptProblems.join('; '));
        const result = await runBenchmark({ ...settings.run, target, prompts, signal: stop.signal, onProgress });
        if (result.stoppedBy === 'cancelled') throw new Error('cancelled: the node was closed or redeployed');
        return result;
      })()
        .then((result) => {
          const allFailed = result.metrics.completed === 0;
          node.status({ fill: allFailed ? 'red' : 'green', shape: allFailed ? 'ring' : 'dot', text: shortStatus(resultText(result)) });
          msg.payload = result;
          if (settings.report) msg.report = renderReport(result);
          send(msg);
          done();
        })
        .catch((err: unknown) => {
          if (!stop.signal.aborted) node.status({ fill: 'red', shape: 'ring', text: shortStatus(errorText(err)) });
          done(fail(errorText(err)));
        })
        .finally(() => {
          running = undefined;
        });
      running = { stop, finished };
    });

    node.on('close', (_removed, closed) => {
      const current = running;
      current?.stop.abort();
      void (current?.finished ?? Promise.resolve()).then(() => {
        node.status({});
        closed();
      });
    });
  }
  RED.nodes.registerType('opea-benchmark', OpeaBenchmark);
};
