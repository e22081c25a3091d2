/**
 * The Node-RED runtimes the node tests run on: the development one (4.1.x) and 5.0.x (installed as the
 * alias node-red-5). Each suite runs once per runtime through node-red-node-test-helper.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const helper = require('node-red-node-test-helper') as TestHelper;

export interface TestNode {
  id: string;
  on(event: string, handler: (...args: any[]) => void): void;
  receive(msg: Record<string, unknown>): void;
  status: { (s: unknown): void; args?: unknown[][]; lastCall?: { args: unknown[] } };
  error: { (e: unknown): void; lastCall?: { args: unknown[] } };
  [key: string]: unknown;
}

export interface TestHelper {
  init(runtimePath: string, settings?: Record<string, unknown>): void;
  settings(settings: Record<string, unknown>): void;
  startServer(done: (err?: unknown) => void): void;
  stopServer(done: (err?: unknown) => void): void;
  load(nodes: unknown, flow: unknown[], credentials?: Record<string, unknown>): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): TestNode;
}

export const RUNTIMES = [
  { name: 'node-red', path: require.resolve('node-red') },
  { name: 'node-red-5', path: require.resolve('node-red-5') },
].map((r) => ({ ...r, version: JSON.parse(fs.readFileSync(path.join(path.dirname(r.path), '..', 'package.json'), 'utf8')).version as string }));

export type Runtime = (typeof RUNTIMES)[number];

/**
 * node-red-node-test-helper (0.3.6) registers the catch, status and complete modules once per node of
 * that type in a flow, so a flow with two catch nodes (one per tab) fails with "catch already
 * registered"; Node-RED itself registers each once. Each is made to register once per load.
 */
function registerCoreModulesOnce(): void {
  const modules = (helper as unknown as { _nodeModules?: Record<string, (red: object) => unknown> })._nodeModules ?? {};
  for (const [type, register] of Object.entries(modules)) {
    const loaded = new WeakSet<object>();
    modules[type] = (red) => {
      if (loaded.has(red)) return undefined;
      loaded.add(red);
      return register(red);
    };
  }
}

/** Runs `suite` once on each runtime, with a fresh user directory per runtime. */
export function onEachRuntime(title: string, suite: (userDir: () => string, runtime: Runtime) => void): void {
  for (const runtime of RUNTIMES) {
    describe(`${title} (Node-RED ${runtime.version})`, function () {
      let userDir = '';
      before(function (done) {
        userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-nodes-'));
        helper.init(runtime.path, { userDir });
        registerCoreModulesOnce();
        helper.startServer(done);
      });
      afterEach(async () => {
        await helper.unload();
      });
      after(function (done) {
        helper.stopServer(() => {
          fs.rmSync(userDir, { recursive: true, force: true });
          done();
        });
      });
      suite(() => userDir, runtime);
    });
  }
}

/**
 * The runtime's own message hooks (the module its nodes trigger `onComplete` on), which the test
 * helper leaves out of the RED object it gives nodes; a real Node-RED gives them as RED.hooks.
 */
export function runtimeHooks(runtime: Runtime): unknown {
  const runtimeDir = path.dirname(require.resolve('@node-red/runtime', { paths: [path.dirname(runtime.path)] }));
  return (require(require.resolve('@node-red/util', { paths: [runtimeDir] })) as { hooks: unknown }).hooks;
}

/** Core node modules of the runtime (e.g. 'common/60-link.js'), which the test helper does not load itself. */
export function coreNodes(runtime: Runtime, files: string[]): unknown[] {
  return files.map((file) => require(require.resolve(`@node-red/nodes/core/${file}`, { paths: [path.dirname(runtime.path)] })));
}

/** The compiled node modules of the pack, as helper.load wants them. */
export function packNodes(): unknown[] {
  const root = path.resolve(__dirname, '..', '..', '..');
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
  return Object.values(pkg['node-red'].nodes).map((file) => require(path.join(root, file)));
}

/** Resolves with the first message a helper node receives, or rejects after `ms`. */
export function nextMessage(node: TestNode, ms = 5000): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message at ${node.id} within ${ms} ms`)), ms);
    node.on('input', (msg: Record<string, any>) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

/** Resolves with the error a node reports through done(err), or rejects after `ms`. */
export function nextError(node: TestNode, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no error from ${node.id} within ${ms} ms`)), ms);
    node.on('call:error', (call: { args: unknown[] }) => {
      clearTimeout(timer);
      const e = call.args[0];
      resolve(e instanceof Error ? e.message : String(e));
    });
  });
}
