/**
 * npm run bench:hop — the latency one opea-embedding node adds over the same HTTP call made directly.
 *
 * One process holds the loopback protocol server, a real Node-RED runtime (embedded, no editor, no
 * hooks, no test-helper spies) with opea-server -> opea-embedding -> junction, and a direct caller that
 * runs the node's own stage function (runEmbedding) through its own endpoint built from the config the
 * opea-server node parsed. Calls are sequential and interleaved in pairs with the same text; the pair's
 * leader alternates (A B, B A, ...) so neither path always runs first. A node call is timed from
 * node.receive(msg) until the message reaches the next node.
 *
 * Environment: HOP_PAIRS (default 3000), HOP_WARMUP (default 300), HOP_BACKEND (tei | opea, default tei),
 * HOP_TELEMETRY (settings.js's opeaTelemetry for the runtime, as JSON, such as
 * {"tracing":{"endpoint":"http://127.0.0.1:4318/v1/traces"},"metrics":true}; default none: telemetry off).
 * Exits 1 when the median added latency per hop exceeds 0.3 ms.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createEndpoint, Endpoint } from '../../core/clients/endpoint';
import { EmbedDoc } from '../../core/contract/documents';
import { EmbedderConfig, runEmbedding } from '../../core/stages/embedding';
import { NodeConfig } from '../../nodes/shared/red';
import { readSettings } from '../../nodes/shared/service-node';
import { ProtocolServer } from '../support/protocol-server';

const PAIRS = Number(process.env.HOP_PAIRS ?? 3000);
const WARMUP = Number(process.env.HOP_WARMUP ?? 300);
const BACKEND = process.env.HOP_BACKEND ?? 'tei';
const TELEMETRY = process.env.HOP_TELEMETRY ? (JSON.parse(process.env.HOP_TELEMETRY) as unknown) : undefined;
const DIMENSIONS = 768;
const MODEL = 'BAAI/bge-base-en-v1.5';
const LIMIT_MS = 0.3;
const MESSAGE_TIMEOUT_MS = 5000;
const START_TIMEOUT_MS = 15_000;
const IDS = { tab: 'hop-tab', server: 'hop-server', embed: 'hop-embed', sink: 'hop-sink' };

type Msg = Record<string, unknown>;

interface NodeRedModule {
  init(settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  nodes: { getNode(id: string): unknown };
  events: { once(event: string, listener: () => void): void };
}

interface InputNode {
  receive(msg: Msg): void;
}

interface OutputListener {
  on(event: 'input', listener: (msg: Msg) => void): void;
}

interface Stats {
  median: number;
  p90: number;
}

interface Samples {
  direct: number[];
  node: number[];
  added: number[];
}

function checkOptions(): void {
  if (!Number.isInteger(PAIRS) || PAIRS < 1 || PAIRS > 50_000) throw new Error('HOP_PAIRS must be a whole number from 1 to 50000');
  if (!Number.isInteger(WARMUP) || WARMUP < 0 || WARMUP > 10_000) throw new Error('HOP_WARMUP must be a whole number from 0 to 10000');
  if (BACKEND !== 'tei' && BACKEND !== 'opea') throw new Error("HOP_BACKEND must be 'tei' or 'opea'");
}

function nodeRedVersion(): string {
  const main = require.resolve('node-red');
  return (JSON.parse(fs.readFileSync(path.join(path.dirname(main), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

function embeddingConfig(): NodeConfig {
  return { id: IDS.embed, type: 'opea-embedding', z: IDS.tab, name: '', backend: BACKEND, model: MODEL, server: IDS.server, configVersion: 1, wires: [[IDS.sink]] };
}

function benchFlow(serverUrl: string): Msg[] {
  return [
    { id: IDS.tab, type: 'tab', label: 'hop latency' },
    { id: IDS.server, type: 'opea-server', name: 'loopback', baseUrl: serverUrl, timeout: MESSAGE_TIMEOUT_MS / 1000, retries: 0, backoff: 10, headers: '', verifyTls: true },
    embeddingConfig(),
    { id: IDS.sink, type: 'junction', z: IDS.tab, wires: [[]] },
  ];
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (waited ${ms} ms)`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** Node-RED as an embedder runs it: flow file in a temporary user directory, the pack's dist/nodes as nodesDir. */
async function startNodeRed(flow: Msg[]): Promise<{ RED: NodeRedModule; stop: () => Promise<void> }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require('node-red') as NodeRedModule;
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-hop-bench-'));
  fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flow));
  RED.init({
    userDir,
    flowFile: 'flows.json',
    nodesDir: [path.resolve(__dirname, '..', '..', 'nodes')],
    httpAdminRoot: false,
    httpNodeRoot: false,
    disableEditor: true,
    credentialSecret: false,
    telemetry: { enabled: false },
    ...(TELEMETRY === undefined ? {} : { opeaTelemetry: TELEMETRY }),
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    // 'error' still shows every done(err) of the node; 'warn' would add start-up notices only.
    logging: { console: { level: 'error', metrics: false, audit: false } },
  });
  // runtime.start() does not wait for the flows to start; the event says when they have. With a node
  // type missing (dist/nodes/*/*.html absent) Node-RED waits for it forever, hence the time limit.
  const started = new Promise<void>((resolve) => RED.events.once('flows:started', resolve));
  try {
    await RED.start();
    await withTimeout(started, START_TIMEOUT_MS, 'the flows did not start: are the node editor files built (npm run build)?');
  } catch (err) {
    fs.rmSync(userDir, { recursive: true, force: true });
    throw err;
  }
  const stop = async () => {
    await RED.stop();
    fs.rmSync(userDir, { recursive: true, force: true });
  };
  return { RED, stop };
}

function deployedNode<T>(RED: NodeRedModule, id: string): T {
  const node = RED.nodes.getNode(id);
  if (!node) throw new Error(`node ${id} did not start: is dist/nodes built (npm run build)?`);
  return node as T;
}

function checkEmbedding(doc: unknown, where: string): void {
  const embedding = (doc as Partial<EmbedDoc> | undefined)?.embedding;
  if (!Array.isArray(embedding) || embedding.length !== DIMENSIONS) throw new Error(`${where}: expected an EmbedDoc with ${DIMENSIONS} dimensions`);
}

function directCaller(embedder: EmbedderConfig, endpoint: Endpoint): (text: string) => Promise<number> {
  return async (text) => {
    const start = performance.now();
    // The node hands every call a fresh AbortController's signal; so does the direct caller.
    const doc = await runEmbedding(embedder, endpoint, text, new AbortController().signal);
    const ms = performance.now() - start;
    checkEmbedding(doc, 'direct call');
    return ms;
  };
}

function nodeCaller(input: InputNode, output: OutputListener): (text: string) => Promise<number> {
  let arrived: ((at: number, msg: Msg) => void) | undefined;
  output.on('input', (msg) => arrived?.(performance.now(), msg));
  return (text) =>
    new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message at the next node within ${MESSAGE_TIMEOUT_MS} ms (see the Node-RED log above)`)), MESSAGE_TIMEOUT_MS);
      let start = 0;
      arrived = (at, msg) => {
        arrived = undefined;
        clearTimeout(timer);
        try {
          checkEmbedding(msg.payload, 'node output');
          resolve(at - start);
        } catch (err) {
          reject(err);
        }
      };
      start = performance.now();
      input.receive({ payload: text });
    });
}

/** Runs `pairs` pairs (same text for both calls of a pair) with the leader alternating. */
async function runPairs(pairs: number, direct: (text: string) => Promise<number>, node: (text: string) => Promise<number>, offset: number): Promise<Samples> {
  const samples: Samples = { direct: [], node: [], added: [] };
  for (let i = 0; i < pairs; i++) {
    const text = `query ${offset + i}: what does the OPEA embedding microservice return for this sentence?`;
    let d: number;
    let n: number;
    if (i % 2 === 0) {
      d = await direct(text);
      n = await node(text);
    } else {
      n = await node(text);
      d = await direct(text);
    }
    samples.direct.push(d);
    samples.node.push(n);
    samples.added.push(n - d);
  }
  return samples;
}

function quantile(sorted: number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9) };
}

const ms3 = (v: number) => Number(v.toFixed(3));

function printTable(rows: [string, Stats][]): void {
  const width = Math.max(...rows.map(([label]) => label.length));
  console.log(`| ${'path'.padEnd(width)} | median ms | p90 ms |`);
  console.log(`| ${'-'.repeat(width)} | --------- | ------ |`);
  for (const [label, s] of rows) console.log(`| ${label.padEnd(width)} | ${s.median.toFixed(3).padStart(9)} | ${s.p90.toFixed(3).padStart(6)} |`);
}

interface Result {
  apiPath: string;
  served: number;
  runSeconds: number;
  direct: Stats;
  node: Stats;
  added: Stats;
}

function printReport(r: Result): void {
  console.log(`hop latency: opea-embedding (${BACKEND}, POST ${r.apiPath}, ${DIMENSIONS} dims) on the loopback protocol server`);
  console.log(`Node ${process.version}, Node-RED ${nodeRedVersion()}; ${PAIRS} pairs after ${WARMUP} warm-up pairs, interleaved, leader alternating; ${r.runSeconds.toFixed(1)} s`);
  console.log(`the server answered all ${r.served} calls on ${r.apiPath}; opeaTelemetry ${TELEMETRY === undefined ? 'unset (off)' : JSON.stringify(TELEMETRY)}`);
  printTable([
    ['direct: runEmbedding over createEndpoint', r.direct],
    ['node: receive() -> next node input', r.node],
    ['added per pair: node - direct', r.added],
  ]);
  console.log(`median of node minus median of direct: ${(r.node.median - r.direct.median).toFixed(3)} ms`);
}

function jsonLine(r: Result, pass: boolean): string {
  const pick = (s: Stats) => ({ median: ms3(s.median), p90: ms3(s.p90) });
  return JSON.stringify({
    bench: 'hop-latency',
    node: process.version,
    nodeRed: nodeRedVersion(),
    backend: BACKEND,
    dimensions: DIMENSIONS,
    pairs: PAIRS,
    warmup: WARMUP,
    telemetry: TELEMETRY ?? null,
    directMs: pick(r.direct),
    nodeMs: pick(r.node),
    addedMs: pick(r.added),
    limitMs: LIMIT_MS,
    pass,
  });
}

async function measure(RED: NodeRedModule, srv: ProtocolServer): Promise<Result> {
  const serverNode = deployedNode<{ endpoint(): Endpoint }>(RED, IDS.server);
  // Same settings the node read, and a separate endpoint (own keep-alive agent) with the node's config.
  const { settings, problems } = readSettings('opea-embedding', embeddingConfig());
  if (problems.length > 0) throw new Error(`embedding settings: ${problems.join('; ')}`);
  const embedder: EmbedderConfig = { backend: settings.backend, model: settings.model, dimensions: settings.params.dimensions as number };
  const direct = directCaller(embedder, createEndpoint({ ...serverNode.endpoint().config }));
  const node = nodeCaller(deployedNode<InputNode>(RED, IDS.embed), deployedNode<OutputListener>(RED, IDS.sink));

  const runStart = performance.now();
  await runPairs(WARMUP, direct, node, 0);
  const samples = await runPairs(PAIRS, direct, node, WARMUP);
  const runSeconds = (performance.now() - runStart) / 1000;

  const apiPath = BACKEND === 'tei' ? '/embed' : '/v1/embeddings';
  const served = srv.requests.filter((r) => r.path === apiPath).length;
  const expected = 2 * (WARMUP + PAIRS);
  if (served !== expected) throw new Error(`the server answered ${served} calls on ${apiPath}, expected ${expected}`);
  return { apiPath, served, runSeconds, direct: stats(samples.direct), node: stats(samples.node), added: stats(samples.added) };
}

async function main(): Promise<number> {
  checkOptions();
  // Every call of the run plus a little slack; the server drops connections beyond it.
  const srv = await ProtocolServer.start({ embeddingDimensions: DIMENSIONS, maxRequests: 2 * (WARMUP + PAIRS) + 10 });
  let result: Result;
  try {
    const { RED, stop } = await startNodeRed(benchFlow(srv.url));
    try {
      result = await measure(RED, srv);
    } finally {
      await stop();
    }
  } finally {
    await srv.close();
  }
  const pass = result.added.median <= LIMIT_MS;
  printReport(result);
  console.log(pass
    ? `PASS: median added latency ${result.added.median.toFixed(3)} ms <= ${LIMIT_MS} ms per hop`
    : `FAIL: median added latency ${result.added.median.toFixed(3)} ms exceeds ${LIMIT_MS} ms per hop (the claim does not hold)`);
  console.log(jsonLine(result, pass));
  return pass ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`hop latency bench failed: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(2);
    },
  );
}
