/**
 * An embedded Node-RED runtime with this pack loaded: flows held in memory (the flow file is never
 * written), logs on stderr, HTTP on 127.0.0.1. Node-RED is not a dependency of the pack; it is
 * required when this starts, and a missing one is explained.
 *
 * The pieces any embedding of Node-RED with this pack needs (loading Node-RED, making the pack an
 * installed module of the user directory, log filtering, listening, waiting for the flows to start)
 * are exported for the studio (bin/studio.ts), which runs the same pack with the editor.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { flushTracing } from '../core/telemetry/tracing';

export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');
export const FLOW_START_LIMIT_MS = 15_000;
/** Node-RED's numeric log levels: fatal 10, error 20, warn 30. */
const ERROR_LEVEL = 20;

export interface RuntimeOptions {
  flow: unknown[];
  /** Plain credentials by node id ({apiKey} for opea-server nodes); never written to disk. */
  credentials?: Record<string, Record<string, string>>;
  /** Where the embedded vector store and Node-RED's own files live; a temporary folder when absent. */
  userDir?: string;
  host?: string;
  port?: number;
  /** Called with every error a node reports (done(err) or node.error), which is then not logged. */
  onNodeError?: (error: string, nodeId: string) => void;
  /** Node-RED log lines at warn and above. */
  onLog?: (line: string) => void;
}

export interface EmbeddedRuntime {
  url: string;
  userDir: string;
  /** Resolves once start-up injects have fired and every message in flight has completed. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export interface NodeRedModule {
  init(server: http.Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpNode: http.RequestListener;
  /** The editor and admin API (an express app); absent behaviour when httpAdminRoot is false. */
  httpAdmin: http.RequestListener;
  hooks: { add(name: string, fn: (event: Record<string, any>) => void): void; clear(name: string): void };
  events: { once(event: string, listener: () => void): void };
  nodes: { getType(type: string): unknown };
}

/** The runtime could not start for a reason the user can fix (Node-RED missing, node types missing). */
export class RuntimeStartError extends Error {}

export function loadNodeRed(): NodeRedModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('node-red') as NodeRedModule;
  } catch {
    throw new RuntimeStartError('Node-RED is not installed here: run `npm install node-red` (4.x or newer) beside node-red-contrib-opea');
  }
}

/** Node-RED storage that keeps flows and credentials in memory and refuses nothing. */
function memoryStorage(flow: unknown[], credentials: Record<string, unknown>) {
  let flows = flow;
  let creds = credentials;
  let settings: Record<string, unknown> = {};
  let sessions: Record<string, unknown> = {};
  return {
    init: async () => undefined,
    getFlows: async () => flows,
    saveFlows: async (f: unknown[]) => {
      flows = f;
    },
    getCredentials: async () => creds,
    saveCredentials: async (c: Record<string, unknown>) => {
      creds = c;
    },
    getSettings: async () => settings,
    saveSettings: async (s: Record<string, unknown>) => {
      settings = s;
    },
    getSessions: async () => sessions,
    saveSessions: async (s: Record<string, unknown>) => {
      sessions = s;
    },
    getLibraryEntry: async () => [],
    saveLibraryEntry: async () => undefined,
  };
}

/** Makes the pack visible to Node-RED as an installed module of the user directory. */
function linkPack(userDir: string): void {
  const modules = path.join(userDir, 'node_modules');
  const link = path.join(modules, 'node-red-contrib-opea');
  fs.mkdirSync(modules, { recursive: true });
  if (!fs.existsSync(link)) fs.symlinkSync(PACKAGE_ROOT, link, 'dir');
}

/**
 * Creates the user directory if needed, links the pack into its node_modules and gives it the
 * package.json Node-RED reads (as one it created itself would be). Never overwrites either.
 */
export function prepareUserDir(userDir: string, description: string): void {
  fs.mkdirSync(userDir, { recursive: true });
  linkPack(userDir);
  const pkg = path.join(userDir, 'package.json');
  if (!fs.existsSync(pkg)) fs.writeFileSync(pkg, `${JSON.stringify({ name: 'node-red-project', description, version: '0.0.1', private: true }, null, 2)}\n`);
}

export interface LogEntry {
  level: number;
  msg: unknown;
  type?: string;
  name?: string;
  id?: string;
}

/** One log entry as a line: `[type:name] message`. */
export function formatLogEntry(entry: LogEntry): string {
  const text = entry.msg instanceof Error ? entry.msg.message : String(entry.msg);
  return `${entry.type ? `[${entry.type}${entry.name ? `:${entry.name}` : ''}] ` : ''}${text}`;
}

/** Listens on host:port (port 0: any free port) and resolves with the port taken. */
export function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const failed = (err: Error) => reject(err);
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops Node-RED, then the HTTP server, cutting connections still waiting for an answer. */
export async function stopNodeRed(RED: NodeRedModule, server: http.Server): Promise<void> {
  await RED.stop();
  // Spans still waiting for their batch go out before the process exits.
  await flushTracing();
  // A request still waiting for its answer (the flow failed before its http response) would keep close() waiting.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
}

/**
 * Starts Node-RED (after init) and resolves with the node types the flows use that no installed module
 * registers (empty when all is well); rejects when the flows do not start within the limit.
 * Node-RED would otherwise wait for missing node types forever.
 */
export async function startNodeRed(RED: NodeRedModule, flow: () => unknown[]): Promise<string[]> {
  // RED.start() resolves before the flows have started; the event says when they have.
  let timer: NodeJS.Timeout | undefined;
  const flowsStarted = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), FLOW_START_LIMIT_MS);
    RED.events.once('flows:started', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  await RED.start();
  // The registry is loaded once start() resolves.
  const missing = missingTypes(RED, flow());
  if (missing.length > 0) {
    clearTimeout(timer);
    return missing;
  }
  if (!(await flowsStarted)) throw new RuntimeStartError(`the flows did not start within ${FLOW_START_LIMIT_MS / 1000} s`);
  return [];
}

/**
 * Whether a node calls done() for every message, so that its messages can be counted in flight.
 * Nodes with a one- or two-argument input handler (the core switch node, for one) never do; Node-RED
 * counts the three-argument handlers in _expectedDoneCount.
 */
function reportsCompletion(node: { type?: string; _expectedDoneCount?: number } | undefined): boolean {
  if (!node) return false;
  return typeof node._expectedDoneCount === 'number' ? node._expectedDoneCount > 0 : String(node.type).startsWith('opea-');
}

/** How long after the flows start their last start-up inject fires (its onceDelay, default 0.1 s), with 50 ms to spare. */
function startupInjectDelayMs(flow: unknown[]): number {
  const injects = flow.map((n) => n as Record<string, unknown>).filter((n) => n.type === 'inject' && n.once === true && n.d !== true);
  return Math.max(0, ...injects.map((n) => (Number(n.onceDelay) || 0.1) * 1000 + 50));
}

export interface StartupWatch {
  /**
   * Resolves true once the flows have started, their start-up injects have fired and every message in
   * flight has completed; false after `limitMs`, or when stopped first.
   */
  settled(flow: unknown[], limitMs?: number): Promise<boolean>;
  /** Removes the message hooks. */
  stop(): void;
}

/**
 * Counts the messages in flight through Node-RED's message hooks, from before the flows start (call it
 * before RED.start), so that a caller can wait for the work the flows start by themselves: the start-up
 * ingest of the examples.
 */
export function watchStartup(RED: NodeRedModule, name: string): StartupWatch {
  let inFlight = 0;
  let started: number | undefined;
  let stopped = false;
  RED.events.once('flows:started', () => {
    started = Date.now();
  });
  // Node-RED treats a hook that declares no parameter as callback-style and would wait on it forever.
  RED.hooks.add(`onReceive.${name}`, (event) => {
    if (reportsCompletion(event.destination?.node)) inFlight += 1;
  });
  RED.hooks.add(`onComplete.${name}`, (event) => {
    if (reportsCompletion(event.node?.node)) inFlight -= 1;
  });
  return {
    settled: async (flow, limitMs = Infinity) => {
      const delayMs = startupInjectDelayMs(flow);
      const until = Date.now() + limitMs;
      // Quiet means nothing in flight twice in a row, 50 ms apart: a node between hops is never seen as idle.
      let quiet = 0;
      while (quiet < 2) {
        if (stopped || Date.now() > until) return false;
        await new Promise((r) => setTimeout(r, 50));
        quiet = started !== undefined && Date.now() - started >= delayMs && inFlight <= 0 ? quiet + 1 : 0;
      }
      return true;
    },
    stop: () => {
      stopped = true;
      RED.hooks.clear(`onReceive.${name}`);
      RED.hooks.clear(`onComplete.${name}`);
    },
  };
}

/** Types in the flow that no installed module registers (tabs, groups and subflow instances aside). */
export function missingTypes(RED: NodeRedModule, flow: unknown[]): string[] {
  const types = new Set(flow.map((n) => String((n as { type?: unknown }).type)).filter((t) => !['tab', 'group', 'subflow'].includes(t) && !t.startsWith('subflow:')));
  return [...types].filter((t) => !RED.nodes.getType(t));
}

export async function startRuntime(options: RuntimeOptions): Promise<EmbeddedRuntime> {
  const RED = loadNodeRed();
  const temporary = options.userDir === undefined;
  const userDir = options.userDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'opea-flow-'));
  prepareUserDir(userDir, 'opea-flow');
  const server = http.createServer((req, res) => RED.httpNode(req, res));
  const logLine = options.onLog ?? ((line: string) => process.stderr.write(`${line}\n`));
  RED.init(server, {
    userDir,
    httpAdminRoot: false,
    httpNodeRoot: '/',
    disableEditor: true,
    credentialSecret: false,
    storageModule: memoryStorage(options.flow, options.credentials ?? {}),
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    logging: {
      console: { level: 'off' },
      stderr: {
        level: 'warn',
        handler: () => (entry: LogEntry) => {
          const text = entry.msg instanceof Error ? entry.msg.message : String(entry.msg);
          // Credentials live in memory only here, so Node-RED's advice to encrypt them does not apply.
          if (text.startsWith('Using unencrypted credentials')) return;
          // done(err) and node.error() both log at error level with the node's id; the caller reports those.
          if (entry.level <= ERROR_LEVEL && entry.id && options.onNodeError) {
            options.onNodeError(text, entry.id);
            return;
          }
          logLine(formatLogEntry(entry));
        },
      },
    },
  });
  const startup = watchStartup(RED, 'opea-flow');
  const port = await listen(server, options.host ?? '127.0.0.1', options.port ?? 0);
  const stop = async () => {
    startup.stop();
    await stopNodeRed(RED, server);
    if (temporary) fs.rmSync(userDir, { recursive: true, force: true });
  };
  let missing: string[];
  try {
    missing = await startNodeRed(RED, () => options.flow);
  } catch (err) {
    await stop();
    throw err;
  }
  if (missing.length > 0) {
    await stop();
    throw new RuntimeStartError(`the flow uses node types that are not installed: ${missing.join(', ')}; install their modules into the user directory or remove those nodes`);
  }
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    userDir,
    settled: async () => {
      await startup.settled(options.flow);
    },
    stop,
  };
}
