/**
 * Traces and metrics of the OPEA nodes in a Node-RED runtime, set in settings.js:
 *
 *   opeaTelemetry: {
 *     tracing: { endpoint: 'http://127.0.0.1:4318/v1/traces', serviceName: 'node-red' },  // or true (OTEL_* variables), false
 *     metrics: true,                                  // GET <httpAdminRoot>/opea/metrics, behind the admin login
 *     // metrics: { port: 9464, host: '127.0.0.1' },  // or GET /metrics on a port of its own, without login
 *   }
 *
 * Tracing also follows the standard OTEL_* variables (tracing.ts). Both are off by default; off, a
 * message costs one check. Each message through the pipeline is one trace: the first OPEA node's span
 * is its root (or joins the trace of an http in request's `traceparent` header), carried on
 * msg._otel.traceparent, so the later nodes' spans are its children.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { errorKind, NodeIdentity, resultAttributes, spanName, startAttributes } from '../../core/telemetry/attributes';
import { PipelineMetrics, StoreSize } from '../../core/telemetry/metrics';
import { configureTracing, NodeSpan, startNodeSpan, tracingConfig, tracingOn } from '../../core/telemetry/tracing';
import { IndexDirectory } from '../../core/embedded/index-directory';
import { Msg, Red, RedNode } from './red';

export const METRICS_ROUTE = '/opea/metrics';
/** A `read` permission, so any admin user allowed to read the flows may scrape. */
export const METRICS_PERMISSION = 'opea-metrics.read';

interface AdminResponse {
  status(code: number): AdminResponse;
  set(name: string, value: string): AdminResponse;
  send(body: string): void;
}
type AdminHandler = (req: unknown, res: AdminResponse, next: () => void) => void;

/** What telemetry needs of RED beyond the shared part (absent pieces are tolerated: the test helper and httpAdminRoot false). */
type TelemetryRed = Red & {
  httpAdmin?: { get(route: string, ...handlers: AdminHandler[]): void };
  auth?: { needsPermission(permission: string): AdminHandler };
  log?: { warn(message: string): void };
  nodes: Red['nodes'] & { eachNode?(callback: (config: { id: string; type: string; name?: string }) => void): void };
};

export interface MetricsSetting {
  adminRoute: boolean;
  port?: number;
  host: string;
}

/** The `metrics` part of opeaTelemetry: true (the admin route), {port, host?} (a port of its own), {adminRoute: true, port} (both), false or absent (off). */
export function metricsSetting(setting: unknown): { setting?: MetricsSetting; problem?: string } {
  if (setting === undefined || setting === null || setting === false) return {};
  if (setting === true) return { setting: { adminRoute: true, host: '127.0.0.1' } };
  if (typeof setting !== 'object' || Array.isArray(setting)) return { problem: 'opeaTelemetry.metrics must be true, false or {port, host, adminRoute}' };
  const s = setting as { adminRoute?: unknown; port?: unknown; host?: unknown };
  if (s.port !== undefined && !(Number.isInteger(s.port) && (s.port as number) > 0 && (s.port as number) < 65536)) {
    return { problem: `opeaTelemetry.metrics.port must be a port number from 1 to 65535, not ${JSON.stringify(s.port)}` };
  }
  if (s.host !== undefined && (typeof s.host !== 'string' || s.host.trim() === '')) return { problem: 'opeaTelemetry.metrics.host must be an address to listen on, such as 127.0.0.1' };
  const adminRoute = s.adminRoute === undefined ? s.port === undefined : s.adminRoute === true;
  return { setting: { adminRoute, port: s.port as number | undefined, host: (s.host as string | undefined)?.trim() ?? '127.0.0.1' } };
}

/** Backend and model of each service node, by id, as readSettings read them. */
const described = new Map<string, { backend?: string; model?: string }>();
let metrics: PipelineMetrics | undefined;
let recording = false;
const routed = new WeakSet<object>();
let portServer: { key: string; server: http.Server } | undefined;

export function describeNode(id: string, about: { backend?: string; model?: string }): void {
  described.set(id, about);
}

async function answerScrape(send: (status: number, type: string, body: string) => void): Promise<void> {
  if (!metrics || !recording) {
    send(404, 'text/plain; charset=utf-8', 'metrics are off: set opeaTelemetry.metrics in settings.js and restart Node-RED\n');
    return;
  }
  const { contentType, body } = await metrics.scrape();
  send(200, contentType, body);
}

function vectorStoreSizes(RED: TelemetryRed): StoreSize[] {
  const sizes: StoreSize[] = [];
  RED.nodes.eachNode?.((config) => {
    if (config.type !== 'opea-vectorstore') return;
    const store = RED.nodes.getNode(config.id) as { indexes?: IndexDirectory } | null;
    for (const s of store?.indexes?.loadedSizes() ?? []) sizes.push({ store: config.name || config.id, ...s });
  });
  return sizes;
}

/** Serves GET /metrics on `setting`'s port, or on none (closing the one served before) when it has no port. */
function serveOnPort(RED: TelemetryRed, setting: MetricsSetting | undefined): void {
  const key = setting?.port === undefined ? '' : `${setting.host}:${setting.port}`;
  if ((portServer?.key ?? '') === key) return;
  portServer?.server.close();
  portServer = undefined;
  if (!setting || !key) return;
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('the metrics are at GET /metrics\n');
      return;
    }
    void answerScrape((status, type, body) => res.writeHead(status, { 'Content-Type': type }).end(body)).catch((err: Error) => res.writeHead(500).end(err.message));
  });
  server.on('error', (err) => RED.log?.warn(`opea metrics: cannot listen on ${key} (${err.message}): change opeaTelemetry.metrics.port in settings.js`));
  server.listen(setting.port, setting.host);
  // The runtime's own servers keep the process running; this one does not.
  server.unref();
  portServer = { key, server };
}

/** What to do when an optional dependency that telemetry loads is not installed (npm install --omit=optional). */
function missingPackage(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e.code !== 'MODULE_NOT_FOUND') throw err;
  const name = /'([^']+)'/.exec(e.message ?? '')?.[1] ?? 'a package';
  return `${name} is not installed (an optional dependency of node-red-contrib-opea): install node-red-contrib-opea again without --omit=optional (or --no-optional), or npm install ${name} in the Node-RED user directory`;
}

/**
 * Reads opeaTelemetry from the runtime's settings and switches tracing and metrics to it; called
 * when the pack's nodes are registered. Problems are logged as warnings and leave that part off.
 */
export function startTelemetry(red: Red): void {
  const RED = red as TelemetryRed;
  const settings = (RED.settings.opeaTelemetry ?? {}) as { tracing?: unknown; metrics?: unknown };
  const tracing = tracingConfig(settings.tracing, process.env);
  if (tracing.problem) RED.log?.warn(`opea tracing is off: ${tracing.problem}`);
  try {
    configureTracing(tracing.config);
  } catch (err) {
    configureTracing(undefined);
    RED.log?.warn(`opea tracing is off: ${missingPackage(err)}`);
  }
  const wanted = metricsSetting(settings.metrics);
  if (wanted.problem) RED.log?.warn(`opea metrics are off: ${wanted.problem}`);
  try {
    if (wanted.setting) metrics ??= new PipelineMetrics();
  } catch (err) {
    wanted.setting = undefined;
    RED.log?.warn(`opea metrics are off: ${missingPackage(err)}`);
  }
  recording = wanted.setting !== undefined;
  serveOnPort(RED, wanted.setting);
  if (!wanted.setting || !metrics) return;
  metrics.watchStores(() => vectorStoreSizes(RED));
  if (wanted.setting.adminRoute && RED.httpAdmin && RED.auth && !routed.has(RED.httpAdmin)) {
    routed.add(RED.httpAdmin);
    RED.httpAdmin.get(METRICS_ROUTE, RED.auth.needsPermission(METRICS_PERMISSION), (_req, res) => {
      void answerScrape((status, type, body) => res.status(status).set('Content-Type', type).send(body)).catch((err: Error) => res.status(500).send(err.message));
    });
  }
}

/** Whether messages are observed at all: when false, handleInput skips telemetry entirely. */
export function observing(): boolean {
  return recording || tracingOn();
}

export interface Observation {
  /** Runs the node's work with its span current. */
  run<T>(work: () => T): T;
  succeeded(metrics: Record<string, unknown> | undefined, blocked: boolean, guardrail: unknown): void;
  failed(err: unknown, kind?: string): void;
}

function carriedTraceparent(msg: Msg): string | undefined {
  const carried = (msg._otel as { traceparent?: unknown } | undefined)?.traceparent;
  if (typeof carried === 'string') return carried;
  const header = (msg.req as { headers?: Record<string, unknown> } | undefined)?.headers?.traceparent;
  return typeof header === 'string' ? header : undefined;
}

/** Starts observing one message at a node: its span (when tracing) and, at the end, its metrics. */
export function observeMessage(node: RedNode, label: string, kind: string, msg: Msg): Observation {
  const about = described.get(node.id);
  const model = typeof msg.model === 'string' && msg.model.trim() !== '' ? msg.model : about?.model;
  const identity: NodeIdentity = { id: node.id, type: node.type, label, kind, backend: about?.backend, model };
  const started = performance.now();
  const span: NodeSpan | undefined = startNodeSpan(spanName(identity), startAttributes(identity), carriedTraceparent(msg));
  if (span?.traceparent && msg._otel === undefined) msg._otel = { traceparent: span.traceparent };
  const record = metrics && recording ? metrics : undefined;
  const seconds = () => (performance.now() - started) / 1000;
  let finished = false;
  return {
    run: (work) => (span ? span.run(work) : work()),
    succeeded: (result, blocked, guardrail) => {
      if (finished) return;
      finished = true;
      span?.end(resultAttributes(kind, result, guardrail));
      record?.record(identity, { seconds: seconds(), outcome: blocked ? 'blocked' : 'ok', metrics: result, guardrail });
    },
    failed: (err, kindOfError = errorKind(err)) => {
      if (finished) return;
      finished = true;
      span?.fail(err, kindOfError);
      record?.record(identity, { seconds: seconds(), outcome: 'error', errorKind: kindOfError });
    },
  };
}
