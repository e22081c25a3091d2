import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScheduledSseServer } from '../support/scheduled-sse-server';

const CLI = path.resolve(__dirname, '..', '..', 'bin', 'opea-flow.js');

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('opea-flow bench', () => {
  let srv: ScheduledSseServer;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-bench-cli-'));
  before(async () => {
    srv = await ScheduledSseServer.start({ firstChunkMs: 10, intervalMs: 2, chunks: 5 });
  });
  after(async () => {
    await srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('benchmarks an OpenAI endpoint with prompts from a JSONL file, prints JSON and writes the HTML report', async () => {
    const prompts = path.join(dir, 'prompts.jsonl');
    fs.writeFileSync(prompts, '"first"\n{"messages": [{"role": "user", "content": "second"}]}\n');
    const html = path.join(dir, 'report.html');
    const { code, stdout, stderr } = await cli(['bench', '--url', `${srv.url}/v1`, '--requests', '4', '--concurrency', '2', '--stream', '--prompts', prompts, '--model', 'm', '--json', '--html', html, '--slo-ttft', '5000'], { OPEA_BENCH_API_KEY: 'sk-bench' });
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout);
    assert.equal(result.metrics.completed, 4);
    assert.equal(result.target.url, `${srv.url}/v1/chat/completions`);
    assert.equal(result.metrics.goodput.good, 4);
    assert.equal(result.metrics.tokens.source, 'usage');
    assert.ok(result.metrics.latencyMs.ttft.percentiles.p99 >= 9);
    assert.match(fs.readFileSync(html, 'utf8'), /<svg /);
    assert.ok(!JSON.stringify(result).includes('sk-bench'));
    // The bench also reads the model server's /metrics (a GET): only the chat requests carry prompts.
    const contents = srv.requests.filter((r) => r.path === '/v1/chat/completions').map((r) => (r.body.messages as { content: string }[])[0].content);
    assert.deepEqual(contents.sort(), ['first', 'first', 'second', 'second']);
  });

  it('prints a vLLM-style table by default, and exits 1 when no request completed', async () => {
    const ok = await cli(['bench', '--url', `${srv.url}/plain`, '--kind', 'json', '--rate', '200', '--burstiness', '0.5', '--requests', '5', '--seed', '3']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Successful requests:\s+5\n/);
    assert.match(ok.stdout, /open loop, 200 req\/s, burstiness 0\.5/);
    assert.match(ok.stdout, /Tokens counted from:\s+tokenizer \(cl100k_base tokenizer for 5 requests\)/);
    const failed = await cli(['bench', '--url', `${srv.url}/status/500`, '--kind', 'json', '--requests', '2']);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /Failed requests:\s+2 \(http 2\)/);
  });

  it('refuses bad options with what to fix and exit code 2', async () => {
    const both = await cli(['bench', '--url', srv.url, '--rate', '5', '--concurrency', '2']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give --concurrency \(closed loop\) or --rate \(open loop\), not both/);
    const bad = await cli(['bench', '--url', srv.url, '--requests', 'many']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--requests must be a number, not 'many'/);
    const unknown = await cli(['bench', '--url', srv.url, '--frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^opea-flow bench: unknown option --frobnicate\n/);
  });
});
