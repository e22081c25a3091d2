/**
 * A real Flowise for test/flowise-real: found where scripts/flowise-real/setup.sh installed it, given
 * the current build of the pack, started on 127.0.0.1 with all its data in a temporary folder, and
 * driven through the REST API as Flowise's own UI drives it (session and token cookies from
 * /api/v1/auth/login, header `x-request-from: internal`; packages/server/src/index.ts and
 * enterprise/middleware/passport/index.ts of Flowise 3.1).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildFlowise } from '../../flowise/build';
import { freePort } from '../support/loopback';
import { jsonOrText } from '../support/response-body';

export interface Installation {
  flowiseVersion: string;
  nodeVersion: string;
  /** Node 24's bin/node: runs Flowise and nothing else. */
  node: string;
  /** Flowise's bin/run. */
  flowise: string;
  /** Its flowise-components package, where install-local.sh puts the pack. */
  components: string;
}

const SETUP = 'bash scripts/flowise-real/setup.sh';

export function installationHome(): string {
  return process.env.OPEA_FLOWISE_HOME || path.join(os.homedir(), '.cache', 'opea-flowise');
}

/** What setup.sh installed, or why it cannot be used. */
export function findInstallation(): { installation?: Installation; missing?: string } {
  const manifest = path.join(installationHome(), 'installed.json');
  if (!fs.existsSync(manifest)) return { missing: `no Flowise installed (${manifest} is missing): run ${SETUP}` };
  const installation = JSON.parse(fs.readFileSync(manifest, 'utf8')) as Installation;
  for (const file of [installation.node, installation.flowise, installation.components]) {
    if (!fs.existsSync(file)) return { missing: `${file} is gone: run ${SETUP} again` };
  }
  return { installation };
}

/** For a describe's before(): the installation; skips the suite locally without one, fails it in CI. */
export function requireFlowise(context: Mocha.Context): Installation {
  const { installation, missing } = findInstallation();
  if (installation) return installation;
  if (process.env.CI) throw new Error(`${missing}; CI must run the real-Flowise tests (.ci/run runs the setup)`);
  process.stdout.write(`      skipping the real-Flowise tests: ${missing}\n`);
  context.skip();
}

/**
 * Builds the pack from the compiled code (dist/) and installs it into the installation's components
 * package with install-local.sh --skip-npm, which keeps the runtime dependencies setup.sh installed.
 */
export function installPack(installation: Installation, work: string): void {
  const pack = path.join(work, 'dist-flowise');
  buildFlowise(pack);
  execFileSync('sh', [path.join(pack, 'install-local.sh'), '--skip-npm', installation.components], { encoding: 'utf8' });
  const dependencies = path.join(installation.components, 'node_modules', 'node-red-contrib-opea', 'node_modules');
  if (!fs.existsSync(dependencies)) throw new Error(`the pack's dependencies are not installed in ${dependencies}: run ${SETUP}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ApiAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** One `data:` event of Flowise's SSE stream (SSEStreamer: `message:\ndata:{"event":..,"data":..}`). */
export interface StreamEvent {
  event: string;
  data: unknown;
}

export class FlowiseProcess {
  private readonly cookies = new Map<string, string>();
  private log = '';
  private exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess, readonly url: string) {
    child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /**
   * Starts Flowise with its database, files, logs and keys under `work` and waits until it answers
   * /api/v1/ping (it initialises every node first: 20-60 s on two cores).
   */
  static async start(installation: Installation, work: string, env: Record<string, string>, readyWithinMs = 240_000): Promise<FlowiseProcess> {
    const port = await freePort();
    const dirs = Object.fromEntries(['database', 'storage', 'logs', 'keys', 'home'].map((d) => [d, path.join(work, d)]));
    for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { recursive: true });
    const child = spawn(installation.node, [installation.flowise, 'start'], {
      cwd: work,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dirs.home,
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_PATH: dirs.database,
        BLOB_STORAGE_PATH: dirs.storage,
        LOG_PATH: dirs.logs,
        SECRETKEY_PATH: dirs.keys,
        DISABLE_FLOWISE_TELEMETRY: 'true',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const flowise = new FlowiseProcess(child, `http://127.0.0.1:${port}`);
    let exitCode: number | null | undefined;
    void flowise.exited.then((code) => (exitCode = code));
    const deadline = Date.now() + readyWithinMs;
    while (Date.now() < deadline) {
      if (exitCode !== undefined) throw new Error(`Flowise exited with ${exitCode} before it was ready:\n${flowise.tail()}`);
      try {
        if ((await fetch(`${flowise.url}/api/v1/ping`, { signal: AbortSignal.timeout(5000) })).status === 200) return flowise;
      } catch {
        // not listening yet
      }
      await sleep(500);
    }
    await flowise.stop();
    throw new Error(`Flowise did not answer /api/v1/ping within ${readyWithinMs / 1000} s:\n${flowise.tail()}`);
  }

  /** Everything Flowise printed. */
  output(): string {
    return this.log;
  }

  tail(lines = 40): string {
    return this.log.split('\n').slice(-lines).join('\n');
  }

  /** SIGTERM, then SIGKILL after 10 s. Idempotent. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const killed = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(killed);
  }

  /**
   * The first start of Flowise (open source) asks for an admin account: registers it
   * (POST /api/v1/account/register) and logs in, keeping the session and token cookies.
   */
  async signUp(email = 'admin@example.com', password = 'Opea-Test-1234!'): Promise<void> {
    const registered = await this.api('POST', '/api/v1/account/register', { user: { name: 'OPEA Test', email, credential: password } });
    if (registered.status !== 201 && registered.status !== 200) throw new Error(`registering the admin failed (${registered.status}): ${JSON.stringify(registered.body)}`);
    const login = await this.api('POST', '/api/v1/auth/login', { email, password });
    if (login.status !== 200 || !this.cookies.has('token')) throw new Error(`login failed (${login.status}): ${JSON.stringify(login.body)}`);
  }

  private request(method: string, route: string, body?: unknown, timeoutMs = 120_000): Promise<Response> {
    return fetch(`${this.url}${route}`, {
      method,
      headers: {
        'content-type': 'application/json',
        'x-request-from': 'internal',
        ...(this.cookies.size ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  }

  /** A JSON request as the signed-in UI makes it. */
  async api(method: string, route: string, body?: unknown): Promise<ApiAnswer> {
    const res = await this.request(method, route, body);
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      if (at > 0) this.cookies.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
    return { status: res.status, body: jsonOrText(await res.text()) };
  }

  /** POST /api/v1/chatflows; the new chatflow's id. */
  async createChatflow(name: string, flowData: unknown, type: 'CHATFLOW' | 'AGENTFLOW' = 'CHATFLOW'): Promise<string> {
    const created = await this.api('POST', '/api/v1/chatflows', { name, flowData: JSON.stringify(flowData), type, deployed: false });
    if (created.status !== 200 && created.status !== 201) throw new Error(`creating chatflow ${name} failed (${created.status}): ${JSON.stringify(created.body)}`);
    return created.body.id as string;
  }

  /** POST /api/v1/credentials; the credential's id. */
  async createCredential(name: string, credentialName: string, plainDataObj: Record<string, string>): Promise<string> {
    const created = await this.api('POST', '/api/v1/credentials', { name, credentialName, plainDataObj });
    if (created.status !== 200 && created.status !== 201) throw new Error(`creating credential ${name} failed (${created.status}): ${JSON.stringify(created.body)}`);
    return created.body.id as string;
  }

  /** POST /api/v1/prediction/:id (a public route: no cookie needed, as for an embedded chat). */
  predict(chatflowId: string, body: Record<string, unknown>): Promise<ApiAnswer> {
    return this.api('POST', `/api/v1/prediction/${chatflowId}`, body);
  }

  /** The same with `streaming: true`: the SSE events, in order. */
  async predictStream(chatflowId: string, body: Record<string, unknown>): Promise<{ status: number; contentType: string; events: StreamEvent[] }> {
    const res = await this.request('POST', `/api/v1/prediction/${chatflowId}`, { ...body, streaming: true });
    const text = await res.text();
    const events: StreamEvent[] = [];
    for (const block of text.split(/\n\n+/)) {
      const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5)).join('\n');
      if (data) events.push(JSON.parse(data) as StreamEvent);
    }
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', events };
  }
}
