/** Runs the opea-flow command line in its own process (Node-RED is a per-process singleton). */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './reference';

export const CLI = path.join(REPO_ROOT, 'dist', 'bin', 'opea-flow.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI without blocking this process; kills it after `limitMs`. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, limitMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`opea-flow ${args.join(' ')} did not end within ${limitMs} ms; stderr: ${stderr}`));
    }, limitMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
