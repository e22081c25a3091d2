/**
 * npm run bench:loadgen — the benchmark's own load generator against autocannon, side by side, on the
 * same loopback server: plain HTTP POSTs of the same JSON body, answered at once with a tiny JSON, over
 * the same number of kept-alive connections (one request at a time on each: autocannon's pipelining 1)
 * for the same time.
 *
 * Every process has a job of its own. The server is a child process: a bare node:http server (the
 * scheduled test server keeps a record of every request, and hundreds of thousands of them would slow
 * its later runs). Each measured run is a fresh client process that first warms its tool up with a
 * 1-second run, so neither tool runs with the other's heap, compiled code or leftover timers. One
 * uncounted run of each warms the server first. Runs alternate A B, B A, ...; req/s is each tool's
 * completed requests ÷ its own run time (autocannon's 2xx ÷ its duration, ours the measured run's
 * requests/s), and the ratio is of the medians.
 *
 * Our runner keeps a record per request and stops at LIMITS.requests (100,000), so a run must end by
 * its duration well before that: a short calibration run measures our rate first, and the runs last
 * LOADGEN_SECONDS or, on a machine fast enough to reach the cap, as long as stays within CAP_SHARE of
 * it at that rate (both tools run for the same time).
 *
 * Environment: LOADGEN_SECONDS (default 3), LOADGEN_CONNECTIONS (default 16), LOADGEN_ROUNDS
 * (default 5). Exits 1 when ours reaches less than 0.9× autocannon's median req/s.
 */
import { ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LIMITS, runBenchmark } from '../../core/bench/runner';
import { median } from '../support/bench-math';

const SECONDS = Number(process.env.LOADGEN_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.LOADGEN_CONNECTIONS ?? 16);
const ROUNDS = Number(process.env.LOADGEN_ROUNDS ?? 5);
const WARMUP_SECONDS = 1;
/** Short enough that no loopback client reaches the request cap in it (that would take 400,000 req/s). */
const CALIBRATION_SECONDS = 0.25;
const CALIBRATION_RUNS = 3;
/** The share of the request cap a run may expect to use: rounds vary about 2× on a shared machine. */
const CAP_SHARE = 0.4;
const MIN_RATIO = 0.9;
const PROMPT = 'hi';
const ANSWER = JSON.stringify({ text: 'ok' });

type Tool = 'ours' | 'autocannon';

interface AutocannonResult {
  duration: number;
  '2xx': number;
  non2xx: number;
  errors: number;
}
/** Loaded only in autocannon's own client processes. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadAutocannon = () => require('autocannon') as (options: Record<string, unknown>) => Promise<AutocannonResult>;

function serve(): void {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(ANSWER));
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => process.send?.(`http://127.0.0.1:${(server.address() as AddressInfo).port}/plain`));
  process.on('disconnect', () => process.exit(0));
}

async function ours(url: string, seconds: number): Promise<number> {
  const result = await runBenchmark({
    target: { url, kind: 'json', stream: false },
    prompts: [PROMPT],
    load: { kind: 'closed', concurrency: CONNECTIONS },
    requests: LIMITS.requests,
    durationMs: seconds * 1000,
    warmup: 0,
    timeoutMs: 10_000,
    timeLimitMs: 10 * 60_000,
    seed: 0,
    percentiles: [50],
    slo: null,
  });
  if (result.stoppedBy !== 'duration') throw new Error(`our ${seconds} s run stopped by ${result.stoppedBy}, not its duration, at ${result.metrics.throughput.requestsPerS.toFixed(0)} req/s, over ${(CAP_SHARE ** -1).toFixed(1)}× the calibrated rate`);
  if (result.metrics.failed > 0) throw new Error(`our run had ${result.metrics.failed} failures: ${JSON.stringify(result.metrics.errors.byKind)}`);
  return result.metrics.throughput.requestsPerS;
}

async function theirs(url: string, seconds: number): Promise<number> {
  const result = await loadAutocannon()({
    url,
    method: 'POST',
    body: JSON.stringify({ text: PROMPT }),
    headers: { 'content-type': 'application/json' },
    connections: CONNECTIONS,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`autocannon had ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  return result['2xx'] / result.duration;
}

/** In a client process: a warm-up run, then the measured one of `seconds`, whose req/s goes to the parent. */
async function measure(tool: Tool, url: string, seconds: number): Promise<void> {
  const run = tool === 'ours' ? ours : theirs;
  await run(url, Math.min(WARMUP_SECONDS, seconds));
  const rate = await run(url, seconds);
  process.send?.(rate, () => process.exit(0));
}

function started(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(String(m)));
    child.once('exit', (code) => reject(new Error(`a child process exited (${code}) before answering`)));
  });
}

async function runInChild(tool: Tool, url: string, seconds: number): Promise<number> {
  const child = fork(__filename, ['--measure', tool, url, String(seconds)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const rate = Number(await started(child));
  // The next run starts when this process is gone, not while it winds down.
  await once(child, 'exit');
  return rate;
}

/** LOADGEN_SECONDS, or less when at `rate` a run that long would use more than CAP_SHARE of the request cap. */
export function runSeconds(rate: number, seconds = SECONDS): number {
  return Math.min(seconds, (CAP_SHARE * LIMITS.requests) / rate);
}

async function compare(): Promise<number> {
  const server = fork(__filename, ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const url = await started(server);
    // Runs of each, not counted, warm the server (the first measured run would otherwise meet it cold),
    // and ours measures the rate the run length is sized from.
    await runInChild('autocannon', url, CALIBRATION_SECONDS);
    // The fastest of a few calibration runs: on a shared machine one short run may fall in a busy
    // moment and measure a third of the rate a later run reaches, which then passes the request cap.
    let calibrated = 0;
    for (let i = 0; i < CALIBRATION_RUNS; i++) calibrated = Math.max(calibrated, await runInChild('ours', url, CALIBRATION_SECONDS));
    const seconds = runSeconds(calibrated);
    if (seconds < SECONDS) process.stdout.write(`${calibrated.toFixed(0)} req/s in calibration: runs of ${seconds.toFixed(2)} s instead of ${SECONDS} s keep ours within ${CAP_SHARE * 100}% of its ${LIMITS.requests}-request cap\n`);
    const rates: Record<Tool, number[]> = { ours: [], autocannon: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order: Tool[] = round % 2 === 0 ? ['ours', 'autocannon'] : ['autocannon', 'ours'];
      for (const tool of order) rates[tool].push(await runInChild(tool, url, seconds));
      const [a, b] = [rates.ours[round], rates.autocannon[round]];
      process.stdout.write(`round ${round + 1} (${order.join(' then ')}): ours ${a.toFixed(0)} req/s, autocannon ${b.toFixed(0)} req/s, ratio ${(a / b).toFixed(3)}\n`);
    }
    const [a, b] = [median(rates.ours), median(rates.autocannon)];
    const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
    process.stdout.write(
      `${seconds.toFixed(2)} s per run, ${CONNECTIONS} connections, ${ROUNDS} rounds: median ours ${a.toFixed(0)} req/s (${range(rates.ours)}), ` +
        `autocannon ${b.toFixed(0)} req/s (${range(rates.autocannon)}), ratio ${(a / b).toFixed(3)} (need ≥ ${MIN_RATIO})\n`,
    );
    return a / b >= MIN_RATIO ? 0 : 1;
  } finally {
    server.disconnect();
  }
}

const fail = (err: Error) => {
  process.stderr.write(`bench:loadgen: ${err.stack ?? err.message}\n`);
  process.exit(1);
};

if (require.main === module) {
  const measuring = process.argv.indexOf('--measure');
  if (process.argv.includes('--serve')) serve();
  else if (measuring !== -1) measure(process.argv[measuring + 1] as Tool, process.argv[measuring + 2], Number(process.argv[measuring + 3])).catch(fail);
  else compare().then((code) => (process.exitCode = code), fail);
}
