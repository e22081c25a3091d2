/**
 * A real Node-RED runtime (not the test helper) with its admin API secured by adminAuth, and the
 * opea-exporter node loaded from dist: run in a child process by exporter-auth.test.ts, so it has
 * Node-RED's module singletons to itself. Prints {"port": N} on stdout once it listens; stops on SIGTERM.
 *
 *   node exporter-admin-runtime.js <node-red module path> <user dir> [auth|editor|metrics] [opeaTelemetry JSON]
 *
 * auth (default): no editor, the exporter node only, adminAuth on. editor: the editor at /admin/ and
 * every node of the pack (dist/nodes), no adminAuth, flows from <user dir>/flows.json. metrics: no editor,
 * every node of the pack, adminAuth on, the flows' http in nodes under /api, opeaTelemetry from the last argument.
 *
 * API access tokens (adminAuth.tokens): `writer-token` has every permission (`*`), `reader-token` only `read`;
 * Node-RED checks a token's user exists, so both users are declared.
 */
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

interface NodeRed {
  init(server: http.Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: http.RequestListener;
  httpNode: http.RequestListener;
}

async function main(): Promise<void> {
  const [runtimePath, userDir, mode = 'auth', telemetry] = process.argv.slice(2);
  const editor = mode === 'editor';
  const metrics = mode === 'metrics';
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
    httpAdminRoot: '/admin',
    httpNodeRoot: '/api',
    disableEditor: !editor,
    credentialSecret: false,
    nodesDir: [path.resolve(__dirname, '..', '..', 'nodes', ...(editor || metrics ? [] : ['opea-exporter']))],
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    editorTheme: { tours: false, palette: { catalogues: [] } },
    // Decided, so the editor does not open its update-notification dialog over the workspace.
    telemetry: { enabled: false },
    logging: { console: { level: 'off' } },
    ...(editor ? {} : { adminAuth }),
    ...(telemetry ? { opeaTelemetry: JSON.parse(telemetry) as unknown } : {}),
  });
  server.on('request', (req, res) => {
    if (req.url?.startsWith('/admin')) {
      req.url = req.url.slice('/admin'.length) || '/';
      RED.httpAdmin(req, res);
    } else if (metrics && req.url?.startsWith('/api/')) {
      req.url = req.url.slice('/api'.length);
      RED.httpNode(req, res);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
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

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? String(err)}\n`);
  process.exit(1);
});
