/** A real Prometheus (Debian's /usr/bin/prometheus) started on loopback for a test, and Debian's promtool. */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './loopback';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

export function prometheusInstalled(): boolean {
  return fs.existsSync(PROMETHEUS) && fs.existsSync(PROMTOOL);
}

/** `promtool check config FILE`, run in the file's folder (files it names are relative to it). */
export function promtoolCheckConfig(file: string): { status: number | null; output: string } {
  const run = spawnSync(PROMTOOL, ['check', 'config', path.basename(file)], { cwd: path.dirname(file), encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

export interface RunningPrometheus {
  url: string;
  /** The answer of /api/v1/query: status 'success' with data, or 'error' with errorType and error. */
  query(expr: string): Promise<{ status: string; data?: { result: unknown[] }; errorType?: string; error?: string }>;
  stop(): Promise<void>;
}

/** Starts Prometheus with `config` (YAML text) on a free loopback port and waits until it is ready. */
export async function startPrometheus(config: string, readyWithinMs = 60_000): Promise<RunningPrometheus> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-prometheus-'));
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(PROMETHEUS, [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + readyWithinMs;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with ${child.exitCode}: ${log}`);
    }
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready within ${readyWithinMs} ms: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    async query(expr: string) {
      const answer = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(10_000) });
      return (await answer.json()) as Awaited<ReturnType<RunningPrometheus['query']>>;
    },
    stop,
  };
}
