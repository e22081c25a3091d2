/**
 * `npm start`: the studio, an embedded Node-RED with its editor and admin API on 127.0.0.1:1880 and
 * this pack loaded from its own folder. On the first run (no flows file in the user directory) it
 * writes the example flows that work offline, the offline ChatQnA on the first tab; a flows file that
 * exists is never written by the studio (only by the editor's Deploy, as in any Node-RED).
 *
 *   node dist/bin/studio.js [--port N] [--host H] [--user-dir DIR]
 *
 * Environment: PORT, OPEA_STUDIO_HOST, OPEA_STUDIO_USER_DIR (flags win). SIGINT/SIGTERM stop Node-RED
 * and exit 0; a second signal exits at once.
 *
 * It listens before Node-RED has started, and answers 503 with Retry-After while it starts: the editor
 * until the runtime is up, the flows' http in entries until the flows' start-up messages (the examples'
 * ingest) have completed, so nobody gets an answer from an empty vector store.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { NodeRedModule, PACKAGE_ROOT, RuntimeStartError, listen, loadNodeRed, prepareUserDir, startNodeRed, stopNodeRed, watchStartup } from './embedded-runtime';
import { firstRunFlows } from './studio-flows';

export const FLOWS_FILE = 'flows.json';
const DEFAULT_PORT = 1880;
const DEFAULT_HOST = '127.0.0.1';
/** The longest the flows' entries wait for the start-up messages before they answer anyway. */
const STARTUP_LIMIT_MS = 60_000;

export interface StudioOptions {
  host: string;
  port: number;
  userDir: string;
}

export class StudioUsageError extends Error {}

const USAGE = `usage: node dist/bin/studio.js [--port N] [--host H] [--user-dir DIR]
  --port N        port of the editor and the flows' http in nodes (default 1880, env PORT; 0: any free port)
  --host H        address to listen on (default 127.0.0.1, env OPEA_STUDIO_HOST); the editor has no login,
                  so keep it on a loopback address
  --user-dir DIR  Node-RED user directory: flows, credentials, the embedded vector store
                  (default: .node-red/ in a writable package folder, else ~/.node-red-opea; env OPEA_STUDIO_USER_DIR)`;

/**
 * The default user directory: `.node-red/` inside the package folder when that is a writable clone
 * (not an installed copy under node_modules), so a checkout keeps its own flows and `rm -rf .node-red`
 * starts afresh; else `~/.node-red-opea`. Never `~/.node-red`, which belongs to the user's own Node-RED.
 */
export function defaultUserDir(packageRoot = PACKAGE_ROOT): string {
  const installed = packageRoot.split(path.sep).includes('node_modules');
  if (!installed) {
    try {
      fs.accessSync(packageRoot, fs.constants.W_OK);
      return path.join(packageRoot, '.node-red');
    } catch {
      // read-only checkout: fall through to the home directory
    }
  }
  return path.join(os.homedir(), '.node-red-opea');
}

export function parseStudioArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): StudioOptions | 'help' {
  const options: StudioOptions = {
    host: env.OPEA_STUDIO_HOST || DEFAULT_HOST,
    port: env.PORT ? parsePort(env.PORT, 'PORT') : DEFAULT_PORT,
    userDir: env.OPEA_STUDIO_USER_DIR || defaultUserDir(),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new StudioUsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--help' || flag === '-h') return 'help';
    else if (flag === '--port') options.port = parsePort(value(), '--port');
    else if (flag === '--host') options.host = value();
    else if (flag === '--user-dir') options.userDir = value();
    else throw new StudioUsageError(`unknown argument ${arg}`);
  }
  options.userDir = path.resolve(options.userDir);
  return options;
}

function parsePort(value: string, what: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new StudioUsageError(`${what} must be a port number (0-65535), not ${JSON.stringify(value)}`);
  return n;
}

function packTypes(): Set<string> {
  const pkg = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
  return new Set(Object.keys(pkg['node-red'].nodes));
}

/**
 * Writes the example flows when the user directory has no flows file; leaves an existing one alone.
 * Returns the lines to tell the user.
 */
export function ensureFlowsFile(userDir: string): string[] {
  const file = path.join(userDir, FLOWS_FILE);
  if (fs.existsSync(file)) return [`Flows: ${file}`];
  // examples/ is what Node-RED's Import > Examples lists: the build's copy of flows/, and what the package ships.
  const { flows, included, skipped } = firstRunFlows(path.join(PACKAGE_ROOT, 'examples'), packTypes());
  // Written beside and renamed, so a crash never leaves half a flows file that later runs would keep.
  const temporary = path.join(userDir, `.${FLOWS_FILE}.${process.pid}.tmp`);
  fs.writeFileSync(temporary, `${JSON.stringify(flows, null, 4)}\n`, { flag: 'w' });
  fs.renameSync(temporary, file);
  const lines = [`First run: wrote the example flows to ${file} (${included.join(', ')}); later runs keep your edits`];
  for (const s of skipped) lines.push(`  ${s.file} ${s.why}: import it from the editor's menu, Import > Examples > node-red-contrib-opea`);
  return lines;
}

function loadExpress(): (() => ExpressApp) {
  // express comes with Node-RED (it is Node-RED's web framework); resolve it from there.
  const from = path.dirname(require.resolve('node-red'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve('express', { paths: [from] })) as () => ExpressApp;
}

interface ExpressApp extends http.RequestListener {
  use(route: string, ...handlers: unknown[]): void;
}

/** Answers 503 with Retry-After: 1 (and why) until opened, then passes every request on. */
function startupGate(why: string): { handler: (req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => void; open(): void } {
  let open = false;
  return {
    handler: (_req, res, next) => {
      if (open) return next();
      res.writeHead(503, { 'Retry-After': '1', 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`${why}; retry in a second\n`);
    },
    open: () => {
      open = true;
    },
  };
}

export interface Studio {
  url: string;
  userDir: string;
  stop(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Starts Node-RED with the editor; resolves once the flows have started (or wait for missing types). */
export async function startStudio(options: StudioOptions, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<Studio> {
  const RED: NodeRedModule = loadNodeRed();
  prepareUserDir(options.userDir, 'node-red-contrib-opea studio');
  out(`User directory: ${options.userDir}`);
  for (const line of ensureFlowsFile(options.userDir)) out(line);
  const express = loadExpress();
  const app = express();
  const server = http.createServer(app);
  RED.init(server, {
    userDir: options.userDir,
    flowFile: FLOWS_FILE,
    flowFilePretty: true,
    uiHost: options.host,
    uiPort: options.port,
    httpAdminRoot: '/',
    httpNodeRoot: '/',
    // Nothing leaves the machine unasked: no update check, no consent prompt on the first visit.
    telemetry: { enabled: false, updateNotification: false },
    // The pack's Prometheus metrics at <admin root>/opea/metrics; traces go out when the OTEL_* variables ask for them.
    opeaTelemetry: { metrics: true },
    editorTheme: {
      page: { title: 'Node-RED · OPEA studio' },
      header: { title: 'Node-RED · OPEA studio' },
      projects: { enabled: false },
      tours: false,
      palette: { categories: ['subflows', 'OPEA', 'common', 'function', 'network', 'sequence', 'parser', 'storage'] },
    },
    logging: { console: { level: 'info', metrics: false, audit: false } },
  });
  const editorGate = startupGate('Node-RED is starting');
  const entryGate = startupGate("the flows' start-up messages (the examples' ingest) are still running");
  app.use('/', editorGate.handler, RED.httpAdmin);
  app.use('/', entryGate.handler, RED.httpNode);
  let port: number;
  try {
    port = await listen(server, options.host, options.port);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new RuntimeStartError(`port ${options.port} on ${options.host} is in use (another Node-RED?); start with --port N or PORT=N`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new RuntimeStartError(`cannot listen on ${options.host}: no such local address`);
    throw err;
  }
  const startup = watchStartup(RED, 'opea-studio');
  const flowFile = path.join(options.userDir, FLOWS_FILE);
  const flow = () => {
    try {
      const parsed = JSON.parse(fs.readFileSync(flowFile, 'utf8')) as unknown;
      return Array.isArray(parsed) ? parsed : [];
    } catch {
      return [];
    }
  };
  let stopping: Promise<void> | undefined;
  const stop = () => {
    startup.stop();
    return (stopping ??= stopNodeRed(RED, server));
  };
  let flowsRunning = true;
  const missing = await startNodeRed(RED, flow).catch((err: Error) => {
    out(`Warning: ${err.message}; the editor is up, see the log above`);
    flowsRunning = false;
    return [] as string[];
  });
  editorGate.open();
  if (flowsRunning && missing.length === 0) {
    void startup.settled(flow(), STARTUP_LIMIT_MS).then((settled) => {
      startup.stop();
      entryGate.open();
      if (!settled && !stopping) out(`Warning: the flows' start-up messages were still running after ${STARTUP_LIMIT_MS / 1000} s; their http in entries answer from now on`);
    });
  } else {
    startup.stop();
    entryGate.open();
  }
  if (missing.length > 0) out(`Warning: the flows wait for node types that are not installed: ${missing.join(', ')}; install them from the editor's Manage palette, or delete those nodes`);
  const shownHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host.includes(':') ? `[${options.host}]` : options.host;
  if (!isLoopback(options.host)) out(`Warning: the editor listens on ${options.host} without a login; anyone who can reach this port can run code here`);
  const url = `http://${shownHost}:${port}/`;
  // Before the editor's line, which callers (and the tests) wait for as the last one.
  out(`Prometheus metrics: ${url}opea/metrics`);
  out(`Node-RED editor: ${url}`);
  return { url, userDir: options.userDir, stop };
}

async function main(): Promise<void> {
  let options: StudioOptions | 'help';
  try {
    options = parseStudioArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`studio: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let studio: Studio | undefined;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(130);
    signalled = true;
    process.stdout.write(`\n${signal}: stopping Node-RED\n`);
    const limit = setTimeout(() => {
      process.stderr.write('studio: Node-RED did not stop within 10 s\n');
      process.exit(1);
    }, 10_000);
    limit.unref();
    (studio ? studio.stop() : Promise.resolve()).then(
      () => process.exit(0),
      (err: Error) => {
        process.stderr.write(`studio: ${err.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    studio = await startStudio(options);
  } catch (err) {
    process.stderr.write(`studio: ${(err as Error).message}\n`);
    process.exit(err instanceof RuntimeStartError ? 2 : 1);
  }
  if (signalled) await studio.stop().then(() => process.exit(0));
}

if (require.main === module) void main();
