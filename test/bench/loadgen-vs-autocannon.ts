/**
 * npm run bench:loadgen — the benchmark's own load generator against autocannon, side by side, on the
 * same loopback server: plain HTTP POSTs answered at once with a tiny JSON (the scheduled server's
 * /plain), the same number of connections for the same time. The server runs in a child process so
 * both generators get the same server and keep a core of their own; rounds alternate which goes first.
 * Both run for a duration (autocannon with `amount` only stops on its next 1-second sample tick, which
 * would count idle time against it); req/s is each tool's completed requests ÷ its own run time.
 *
 * Environment: LOADGEN_SECONDS (default 3), LOADGEN_CONNECTIONS (default 16), LOADGEN_ROUNDS
 * (default 3). Exits 1 when ours reaches less than 0.9× autocannon's median req/s.
 */
import { fork } from 'node:child_process';
import { LIMITS, runBenchmark } from '../../core/bench/runner';
import { ScheduledSseServer } from '../support/scheduled-sse-server';

const SECONDS = Number(process.env.LOADGEN_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.LOADGEN_CONNECTIONS ?? 16);
const ROUNDS = Number(process.env.LOADGEN_ROUNDS ?? 3);
const MIN_RATIO = 0.9;
const BODY = JSON.stringify({ text: 'hi' });

interface AutocannonResult {
  duration: number;
  '2xx': number;
  non2xx: number;
  errors: number;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as (options: Record<string, unknown>) => Promise<AutocannonResult>;

async function serve(): Promise<void> {
  const server = await ScheduledSseServer.start({ maxRequests: 100_000_000, lifetimeMs: 30 * 60_000 });
  process.send?.(server.url);
  process.on('disconnect', () => void server.close());
}

async function ours(url: string): Promise<number> {
  const result = await runBenchmark({
    target: { url, kind: 'json', stream: false },
    prompts: ['hi'],
    load: { kind: 'closed', concurrency: CONNECTIONS },
    requests: LIMITS.requests,
    durationMs: SECONDS * 1000,
    warmup: 0,
    timeoutMs: 10_000,
    timeLimitMs: 10 * 60_000,
    seed: 0,
    percentiles: [50],
    slo: null,
  });
  if (result.stoppedBy !== 'duration') throw new Error(`our run stopped by ${result.stoppedBy}, not its duration: lower LOADGEN_SECONDS`);
  if (result.metrics.failed > 0) throw new Error(`our run had ${result.metrics.failed} failures: ${JSON.stringify(result.metrics.errors.byKind)}`);
  return result.metrics.throughput.requestsPerS;
}

async function theirs(url: string): Promise<number> {
  const result = await autocannon({ url, method: 'POST', body: BODY, headers: { 'content-type': 'application/json' }, connections: CONNECTIONS, duration: SECONDS });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`autocannon had ${result.non2xx} non-2xx answers and ${result.errors} errors`);
  return result['2xx'] / result.duration;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function compare(): Promise<number> {
  const child = fork(__filename, ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const base = await new Promise<string>((resolve, reject) => {
      child.once('message', (m) => resolve(String(m)));
      child.once('exit', (code) => reject(new Error(`the server exited (${code})`)));
    });
    const url = `${base}/plain`;
    // Warms the server and both clients' code paths.
    await theirs(url);
    await ours(url);
    const rates = { ours: [] as number[], autocannon: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      const order: ('ours' | 'autocannon')[] = round % 2 === 0 ? ['ours', 'autocannon'] : ['autocannon', 'ours'];
      for (const who of order) rates[who].push(who === 'ours' ? await ours(url) : await theirs(url));
      process.stdout.write(`round ${round + 1}: ours ${rates.ours[round].toFixed(0)} req/s, autocannon ${rates.autocannon[round].toFixed(0)} req/s\n`);
    }
    const ratio = median(rates.ours) / median(rates.autocannon);
    process.stdout.write(`${SECONDS} s per run, ${CONNECTIONS} connections, ${ROUNDS} rounds: median ours ${median(rates.ours).toFixed(0)} req/s, autocannon ${median(rates.autocannon).toFixed(0)} req/s, ratio ${ratio.toFixed(3)} (need ≥ ${MIN_RATIO})\n`);
    return ratio >= MIN_RATIO ? 0 : 1;
  } finally {
    child.disconnect();
  }
}

if (process.argv.includes('--serve')) {
  void serve();
} else {
  compare().then(
    (code) => (process.exitCode = code),
    (err: Error) => {
      process.stderr.write(`bench:loadgen: ${err.stack ?? err.message}\n`);
      process.exitCode = 1;
    },
  );
}
