/**
 * A real Node-RED (4.1 or 5.0, by module path) with this pack installed as a module of its user
 * directory (a link in node_modules, as the studio does), so its plugins load as from npm — which a
 * nodesDir does not do. Run in a child process: Node-RED's module singletons are one per process.
 *
 *   node packaged-runtime.js <node-red module path> <user dir> [auth]
 *
 * Editor and admin API at /, http in nodes at /. With `auth`, adminAuth is on with API tokens:
 * `writer-token` has every permission (`*`), `reader-token` only `read` (both users are declared, as
 * Node-RED checks a token's user exists). Prints {"port": N} once it listens; stops on SIGTERM.
 */
import { ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { prepareUserDir } from '../../bin/embedded-runtime';

interface NodeRed {
  init(server: http.Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: http.RequestListener;
  httpNode: http.RequestListener;
}

export interface PackagedRuntime {
  child: ChildProcess;
  url: string;
  /** Everything it printed on stderr. */
  errors(): string;
  stop(): Promise<void>;
}

export function startPackagedRuntime(runtimePath: string, userDir: string, options: { auth?: boolean; limitMs?: number } = {}): Promise<PackagedRuntime> {
  const limitMs = options.limitMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, runtimePath, userDir, ...(options.auth ? ['auth'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Node-RED did not start within ${limitMs / 1000} s: ${err}`));
    }, limitMs);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      clearTimeout(timer);
      resolve({
        child,
        url: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}/`,
        errors: () => err,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`Node-RED exited (${child.exitCode ?? child.signalCode}): ${err}`));
    });
  });
}

async function main(): Promise<void> {
  const [runtimePath, userDir, mode] = process.argv.slice(2);
  prepareUserDir(userDir, 'packaged-runtime test');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED = require(runtimePath) as NodeRed;
  const server = http.createServer();
  const adminAuth = {
    type: 'credentials',
    // Never logged in with (the tokens below name them), so the password is no hash of anything.
    users: [
      { username: 'writer', password: '!', permissions: '*' },
      { username: 'reader', password: '!', permissions: 'read' },
    ],
    tokens: [
      { token: 'writer-token', user: 'writer', scope: ['*'] },
      { token: 'reader-token', user: 'reader', scope: ['read'] },
    ],
  };
  RED.init(server, {
    userDir,
    flowFile: 'flows.json',
    httpAdminRoot: '/',
    httpNodeRoot: '/',
    credentialSecret: false,
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    editorTheme: { tours: false, palette: { catalogues: [] } },
    // Decided, so the editor does not open its update-notification dialog over the workspace.
    telemetry: { enabled: false },
    logging: { console: { level: 'warn' } },
    ...(mode === 'auth' ? { adminAuth } : {}),
  });
  // Both at /: the flows' http in routes first, the editor and admin API for every other request.
  server.on('request', (req, res) => (RED.httpNode as unknown as (q: typeof req, s: typeof res, next: () => void) => void)(req, res, () => RED.httpAdmin(req, res)));
  await RED.start();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
  process.on('SIGTERM', () => {
    void RED.stop().finally(() => {
      server.close();
      process.exit(0);
    });
  });
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`${err.stack ?? String(err)}\n`);
    process.exit(1);
  });
}
