/**
 * `npm run bench:loadgen` sizes its runs from its duration and the rate it measures, so that our runner
 * (which stops at LIMITS.requests) ends each run by its duration, on a fast machine as on a slow one.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { LIMITS } from '../../core/bench/runner';
import { runSeconds } from '../bench/loadgen-vs-autocannon';
import { REPO_ROOT } from '../support/reference';

const BENCH = path.join(REPO_ROOT, 'dist', 'test', 'bench', 'loadgen-vs-autocannon.js');

describe('bench:loadgen', function () {
  this.timeout(180_000);

  it('keeps a run within 40% of the request cap at the calibrated rate, and no longer than asked', () => {
    // 62,000 req/s for 3 s would be 186,000 requests: the run is shortened to stay at 40,000.
    assert.ok(Math.abs(runSeconds(62_000, 3) * 62_000 - 0.4 * LIMITS.requests) < 1e-6);
    assert.equal(runSeconds(5_000, 3), 3);
    for (const rate of [1_000, 20_000, 62_000, 250_000]) assert.ok(runSeconds(rate, 3) * rate <= 0.4 * LIMITS.requests + 1e-6, String(rate));
  });

  it('asked for runs far beyond the cap, ends every run by its duration', async () => {
    // 60 s at any loopback rate of this machine (thousands of req/s) would pass the 100,000-request cap.
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [BENCH], { env: { ...process.env, LOADGEN_SECONDS: '60', LOADGEN_ROUNDS: '1', LOADGEN_CONNECTIONS: '4' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 170_000);
      child.on('error', reject);
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve({ code: c, stdout: out, stderr: err });
      });
    });
    assert.doesNotMatch(stderr, /stopped by/, stderr);
    assert.match(stdout, /req\/s in calibration: runs of [\d.]+ s instead of 60 s keep ours within 40% of its 100000-request cap/);
    // The verdict (exit 1 below 0.9× autocannon) depends on the machine's load; the run itself must complete.
    assert.match(stdout, /s per run, 4 connections, 1 rounds: median ours \d+ req\/s/, stdout + stderr);
    assert.ok(code === 0 || code === 1, String(code));
  });
});
