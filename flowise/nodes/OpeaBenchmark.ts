/**
 * OPEA Benchmark (ending node): load-tests an OPEA megaservice, GMC router, or OpenAI-compatible
 * server with core/bench (closed-loop concurrency), and answers with throughput and latency.
 */
import { Target, TARGET_KINDS, TargetKind, targetUrl } from '../../core/bench/client';
import { parsePrompts } from '../../core/bench/prompts';
import { checkRunOptions, RunOptions, runBenchmark } from '../../core/bench/runner';
import { ENDING_CATEGORY, fmt, number } from '../ending';
import { bool, num, options, str } from '../common';
import { checkAllowed } from '../deny-list';
import { ICommonObject, INode, INodeData, INodeParams } from '../interface';
import { asFlowise, nodeName } from '../words';

export class OpeaBenchmark implements INode {
  label = 'OPEA Benchmark';
  name = 'opeaBenchmark';
  version = 1.0;
  type = 'OpeaBenchmark';
  icon = 'opea-benchmark.svg';
  category = ENDING_CATEGORY;
  description = 'Load-tests a deployed pipeline (OPEA megaservice, GMC router) or an OpenAI-compatible server: requests/s, tokens/s, TTFT, TPOT, end-to-end latency percentiles';
  baseClasses = [this.type];
  inputs: INodeParams[] = [
    { label: 'Target URL', name: 'targetUrl', type: 'string', placeholder: 'http://chatqna-backend:8888/v1/chatqna' },
    { label: 'Target Kind', name: 'targetKind', type: 'options', options: options(['opea', 'OPEA megaservice'], ['gmc', 'GMC router'], ['openai', 'OpenAI-compatible'], ['json', 'JSON POST']), default: 'opea' },
    { label: 'Prompts', name: 'prompts', type: 'string', rows: 4, optional: true, description: 'one per line; empty: the chat question' },
    { label: 'Model', name: 'modelName', type: 'string', optional: true },
    number('Requests', 'requests', 20),
    number('Concurrency', 'concurrency', 2),
    { label: 'Stream', name: 'stream', type: 'boolean', default: true, optional: true, additionalParams: true },
    number('Max Tokens', 'maxTokens', 128, { additionalParams: true }),
    number('Request Timeout (ms)', 'timeout', 60000, { additionalParams: true }),
  ];

  async init(): Promise<unknown> {
    return undefined;
  }

  async run(nodeData: INodeData, input: string, _opts?: ICommonObject): Promise<string | ICommonObject> {
    const node = nodeName(nodeData);
    return asFlowise(node, () => this.measure(nodeData, input, node));
  }

  private async measure(nodeData: INodeData, input: string, node: string): Promise<ICommonObject> {
    const url = str(nodeData.inputs, 'targetUrl');
    if (!url) throw new Error('set Target URL');
    const kind = str(nodeData.inputs, 'targetKind', 'opea') as TargetKind;
    if (!TARGET_KINDS.includes(kind)) throw new Error(`Target Kind '${kind}' is not one of ${TARGET_KINDS.join(', ')}`);
    if (!/^https?:\/\//i.test(url)) throw new Error(`Target URL '${url}' is not an http(s) URL`);
    await checkAllowed(url, `${node}: Target URL`);
    const target: Target = { url: targetUrl(url, kind), kind, stream: bool(nodeData.inputs, 'stream', true), model: str(nodeData.inputs, 'modelName') || undefined, maxTokens: num(nodeData.inputs, 'maxTokens', 128) };
    const promptText = str(nodeData.inputs, 'prompts');
    const prompts = promptText ? parsePrompts(promptText, 'prompts.txt') : [input || 'What is OPEA?'];
    const options: Omit<RunOptions, 'target'> = {
      prompts,
      load: { kind: 'closed', concurrency: num(nodeData.inputs, 'concurrency', 2) },
      requests: num(nodeData.inputs, 'requests', 20),
      warmup: 0,
      timeoutMs: num(nodeData.inputs, 'timeout', 60000),
      timeLimitMs: 600_000,
      seed: 1,
      percentiles: [50, 90, 99],
      slo: null,
    };
    const problems = checkRunOptions(options);
    if (problems.length) throw new Error(problems.join('; '));
    const result = await runBenchmark({ ...options, target });
    const m = result.metrics;
    const row = (name: string, s: { mean: number | null; median: number | null; percentiles?: Record<string, number | null> }) => `| ${name} | ${fmt(s.mean)} | ${fmt(s.median)} | ${fmt(s.percentiles?.p90)} | ${fmt(s.percentiles?.p99)} |`;
    const text = [
      `Benchmarked ${target.url} (${kind}): ${m.completed} completed, ${m.failed} failed in ${fmt(m.durationS, 2)} s.`,
      `Throughput: ${fmt(m.throughput.requestsPerS, 2)} requests/s, ${fmt(m.throughput.outputTokensPerS)} output tokens/s (tokens: ${m.tokens.source}).`,
      '',
      '| latency (ms) | mean | median | p90 | p99 |',
      '| --- | --- | --- | --- | --- |',
      row('TTFT', m.latencyMs.ttft),
      row('TPOT', m.latencyMs.tpot),
      row('end to end', m.latencyMs.e2e),
      ...m.errors.examples.map((e) => `\nRequest ${e.index} failed (${e.kind}): ${e.message}`),
    ].join('\n');
    return { text, metrics: { completed: m.completed, failed: m.failed, throughput: m.throughput, latencyMs: { ttft: m.latencyMs.ttft, tpot: m.latencyMs.tpot, e2e: m.latencyMs.e2e } } };
  }
}

export const nodeClass = OpeaBenchmark;
