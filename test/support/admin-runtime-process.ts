/** Starts test/support/exporter-admin-runtime.js (a real Node-RED) in a child process and waits for its port. */
import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const SCRIPT = path.resolve(__dirname, 'exporter-admin-runtime.js');

export function startAdminRuntime(runtimePath: string, userDir: string, mode: 'auth' | 'editor' | 'metrics', limitMs: number, telemetry?: unknown): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, runtimePath, userDir, mode, ...(telemetry === undefined ? [] : [JSON.stringify(telemetry)])], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`Node-RED did not start within ${limitMs / 1000} s: ${err}`)), limitMs);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve({ child, port: (JSON.parse(line) as { port: number }).port });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Node-RED exited (${code}): ${err}`));
    });
  });
}
