/**
 * `opea-flow bench --compare-url`: two loopback servers whose first token comes 10 ms and 150 ms after
 * the request; the faster one, as the candidate, wins on TTFT with a CI below zero; --results keeps
 * each run in bench.jsonl and the report shows the trend.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../support/run-cli';
import { ScheduledSseServer } from '../support/scheduled-sse-server';

describe('opea-flow bench --compare-url', function () {
  this.timeout(90_000);
  let fast: ScheduledSseServer;
  let slow: ScheduledSseServer;
  let dir: string;
  before(async () => {
    fast = await ScheduledSseServer.start({ firstChunkMs: 10, intervalMs: 2, chunks: 4 });
    slow = await ScheduledSseServer.start({ firstChunkMs: 150, intervalMs: 2, chunks: 4 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-bench-compare-'));
  });
  after(async () => {
    await fast.close();
    await slow.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs the baseline after the candidate with the same prompts and compares them; the faster server wins on TTFT', async () => {
    const results = path.join(dir, 'results');
    const html = path.join(dir, 'report.html');
    const args = ['bench', '--url', `${fast.url}/v1`, '--compare-url', `${slow.url}/v1`, '--requests', '12', '--concurrency', '2', '--stream', '--model', 'm', '--metrics-url', 'none', '--seed', '5', '--results', results];
    const first = await runCli([...args, '--json']);
    assert.equal(first.code, 0, first.stderr);
    const report = JSON.parse(first.stdout);
    assert.equal(report.metrics.completed, 12);
    assert.equal(report.baseline.metrics.completed, 12);
    assert.equal(report.baseline.target.url, `${slow.url}/v1/chat/completions`);
    const ttft = report.comparison.latency.find((l: { metric: string }) => l.metric === 'ttft_ms');
    assert.equal(ttft.better, 'candidate');
    // The fast server answers its first token at least 100 ms sooner, whatever the load adds to both.
    assert.ok(ttft.interval.high < 0 && ttft.interval.difference < -100, JSON.stringify(ttft));
    assert.equal(report.comparison.bootstrap.seed, 5);

    const second = await runCli([...args, '--html', html]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /ttft_ms mean .* candidate faster/);
    const lines = fs.readFileSync(path.join(results, 'bench.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((r) => r.pipeline), [`openai ${slow.url}/v1/chat/completions`, `openai ${fast.url}/v1/chat/completions`, `openai ${slow.url}/v1/chat/completions`, `openai ${fast.url}/v1/chat/completions`]);
    assert.equal(lines[1].metrics.completed, 12);
    assert.ok(lines[3].metrics.ttft_mean_ms < lines[2].metrics.ttft_mean_ms);
    assert.deepEqual(lines[1].models, ['m']);
    const page = fs.readFileSync(html, 'utf8');
    assert.match(page, /<h2>Comparison<\/h2>/);
    assert.match(page, /2 runs of this pipeline on this dataset/);
  });

  it('refuses a comparison setting without --compare-url', async () => {
    const run = await runCli(['bench', '--url', `${fast.url}/v1`, '--compare-model', 'x']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--compare-kind and --compare-model need --compare-url/);
  });
});
