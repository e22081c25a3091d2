import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { parsePrometheusText, PrometheusTextError } from '../../core/bench/prometheus-text';
import { bucketQuantile, scrape, ScrapeError, serverFigures, serverKind } from '../../core/bench/server-metrics';
import { closeServer, listenLoopback } from '../support/loopback';
import { MetricsModelServer, MetricsServerKind } from '../support/metrics-model-server';

const CLI = path.resolve(__dirname, '..', '..', 'bin', 'opea-flow.js');

function bench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'bench', ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('Prometheus text format', () => {
  it('reads labelled histograms, escapes, timestamps, special values and _created samples as written', () => {
    const samples = parsePrometheusText([
      '# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.',
      '# TYPE vllm:time_to_first_token_seconds histogram',
      'vllm:time_to_first_token_seconds_bucket{model_name="m",engine="0",le="0.1"} 2.0',
      'vllm:time_to_first_token_seconds_bucket{model_name="m",engine="0",le="+Inf"} 3.0',
      'vllm:time_to_first_token_seconds_sum{model_name="m",engine="0"} 0.45',
      'vllm:time_to_first_token_seconds_count{model_name="m",engine="0"} 3.0',
      'vllm:time_to_first_token_seconds_created{model_name="m",engine="0"} 1.7e9',
      'tgi_batch_inference_duration_bucket{method="prefill",le="0.5"} 4 1712345678000',
      'odd{path="C:\\\\dir",quote="say \\"hi\\"",nl="a\\nb",} NaN',
      'up +Inf',
    ].join('\n'));
    assert.equal(samples.length, 8);
    assert.deepEqual(samples[0], { name: 'vllm:time_to_first_token_seconds_bucket', labels: { model_name: 'm', engine: '0', le: '0.1' }, value: 2 });
    assert.deepEqual(samples[3], { name: 'vllm:time_to_first_token_seconds_count', labels: { model_name: 'm', engine: '0' }, value: 3 });
    assert.deepEqual(samples[5], { name: 'tgi_batch_inference_duration_bucket', labels: { method: 'prefill', le: '0.5' }, value: 4 });
    assert.deepEqual(samples[6].labels, { path: 'C:\\dir', quote: 'say "hi"', nl: 'a\nb' });
    assert.ok(Number.isNaN(samples[6].value));
    assert.equal(samples[7].value, Infinity);
  });

  it('refuses what is not the text format, naming the line', () => {
    assert.throws(() => parsePrometheusText('ok 1\n{no_name="x"} 1'), (err: Error) => err instanceof PrometheusTextError && /^line 2: a metric name is expected/.test(err.message));
    assert.throws(() => parsePrometheusText('m{a="x} 1'), /line 1: label a has no closing quote/);
    assert.throws(() => parsePrometheusText('<html>'), /line 1: a metric name is expected/);
    assert.throws(() => parsePrometheusText('m{a="x"} twelve'), /line 1: 'twelve' is not a sample value/);
  });
});

describe('server figures from two scrapes', () => {
  it('interpolates quantiles inside buckets as histogram_quantile does, the highest finite bound in +Inf', () => {
    const h = { buckets: [[1, 2], [2, 6], [Infinity, 8]] as [number, number][], sum: 10, count: 8 };
    assert.equal(bucketQuantile(0.5, h), 1.5);
    assert.equal(bucketQuantile(0.25, h), 1);
    assert.equal(bucketQuantile(0.99, h), 2);
    assert.equal(bucketQuantile(0.5, { buckets: [], sum: 0, count: 0 }), null);
  });

  it('counts only what happened between the scrapes, over every label set', () => {
    const text = (requests: number, decodeCount: number, prefillCount: number, queueSum: number) => parsePrometheusText([
      `tgi_request_count ${requests}`,
      `tgi_request_queue_duration_bucket{le="0.1"} ${requests}`,
      `tgi_request_queue_duration_bucket{le="+Inf"} ${requests}`,
      `tgi_request_queue_duration_sum ${queueSum}`,
      `tgi_request_queue_duration_count ${requests}`,
      `tgi_request_generated_tokens_sum ${requests * 10}`,
      `tgi_request_generated_tokens_count ${requests}`,
      `tgi_batch_inference_duration_count{method="prefill"} ${prefillCount}`,
      `tgi_batch_inference_duration_count{method="decode"} ${decodeCount}`,
      'tgi_batch_current_size 3',
    ].join('\n'));
    const before = text(10, 100, 10, 1.0);
    const after = text(14, 180, 14, 1.2);
    assert.equal(serverKind(after), 'tgi');
    const f = serverFigures('tgi', before, [], after, 2);
    assert.equal(f.requests, 4);
    assert.equal(f.failures, 0);
    assert.equal(f.queueTimeMs?.count, 4);
    assert.ok(Math.abs((f.queueTimeMs?.mean ?? 0) - 50) < 1e-9, String(f.queueTimeMs?.mean));
    assert.equal(f.generatedTokens, 40);
    assert.equal(f.generatedTokensPerS, 20);
    assert.deepEqual(f.batchSize, { mean: 3, max: 3, samples: 1 });
    assert.equal(serverKind(parsePrometheusText('http_requests_total{handler="/v1/chat"} 3')), null);
  });

  it('says why a scrape gave nothing: HTTP status, not the text format, no answer', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/html') res.writeHead(200).end('<html>hello</html>');
      else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end('x 1'), 3000);
      else res.writeHead(404).end();
    });
    const url = await listenLoopback(server);
    try {
      await assert.rejects(scrape(`${url}/metrics`, 2000), (err: Error) => err instanceof ScrapeError && err.message === 'HTTP 404');
      await assert.rejects(scrape(`${url}/html`, 2000), /not Prometheus text: line 1: a metric name is expected/);
      await assert.rejects(scrape(`${url}/slow`, 300), /no answer within 300 ms/);
    } finally {
      await closeServer(server);
    }
  });
});

describe('opea-flow bench with server metrics', function () {
  this.timeout(120_000);
  const servers: MetricsModelServer[] = [];
  const start = async (kind: MetricsServerKind) => {
    const s = await MetricsModelServer.start({ kind, batchSize: 1, tokens: 6, tokenDelayMs: 5 });
    servers.push(s);
    return s;
  };
  after(async () => {
    for (const s of servers) await s.close();
  });

  for (const kind of ['tgi', 'vllm'] as const) {
    it(`${kind}: reads the server's own queue time, tokens/s and batch size over the measured requests only, and the client's CPU and memory`, async () => {
      const s = await start(kind);
      const { code, stdout, stderr } = await bench(['--url', `${s.url}/v1`, '--model', 'm', '--stream', '--warmup', '2', '--requests', '6', '--concurrency', '3', '--metrics-interval', '0.1', '--json']);
      assert.equal(code, 0, stderr);
      const report = JSON.parse(stdout);
      assert.equal(s.requests, 8, 'the server saw the warm-up too');
      assert.equal(report.server.length, 1);
      const { url, figures } = report.server[0];
      assert.equal(url, `${s.url}/metrics`);
      assert.equal(figures.kind, kind);
      // Warm-up requests ended before the first scrape: the server's counts are the measured six.
      assert.equal(figures.requests, 6);
      assert.equal(figures.generatedTokens, 36);
      assert.equal(figures.queueTimeMs.count, 6);
      assert.equal(figures.timePerTokenMs.count, 6);
      // Three users against a batch of one: requests waited, and never more than one ran.
      assert.ok(s.maxWaiting >= 1);
      assert.ok(figures.queueTimeMs.mean > 0, JSON.stringify(figures.queueTimeMs));
      assert.ok(figures.batchSize.max <= 1 && figures.batchSize.samples >= 1, JSON.stringify(figures.batchSize));
      assert.ok(figures.generatedTokensPerS > 0);
      if (kind === 'vllm') assert.equal(figures.ttftMs.count, 6);
      else assert.equal(figures.ttftMs, null);
      assert.ok(report.client.cpuUserMs + report.client.cpuSystemMs > 0);
      assert.ok(report.client.rssPeakMb >= report.client.heapUsedEndMb && report.client.rssPeakMb > 10);
      assert.equal(report.metrics.completed, 6);
    });
  }

  it('tei: reads the metrics named by --metrics-url beside a JSON endpoint, and prints them in the table', async () => {
    const s = await start('tei');
    const { code, stdout, stderr } = await bench(['--url', `${s.url}/embed`, '--kind', 'json', '--requests', '5', '--concurrency', '2', '--metrics-url', `${s.url}/metrics`]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /-- Server metrics \(TEI\) -+\n/);
    assert.match(stdout, /Requests the server counted:\s+5\n/);
    assert.match(stdout, /Requests the server failed:\s+0\n/);
    assert.match(stdout, /Batch size mean\/p50\/p99:\s+1\.00 \/ [\d.]+ \/ [\d.]+ \(5 batches\)\n/);
    assert.match(stdout, /-- Client process \(this benchmark\) -+\nCPU \(% of one core\):\s+[\d.]+ \(user \d+ ms, system \d+ ms\)\n/);
    assert.match(stdout, /\n={50}\n$/);
  });

  it('a target without metrics still benchmarks: the report says why, and none is asked of a router unless named', async () => {
    const plain = http.createServer((req, res) => {
      if (req.url === '/metrics') res.writeHead(404).end();
      else req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"text": "ok"}'));
    });
    const url = await listenLoopback(plain);
    let scrapes = 0;
    plain.on('request', (req: http.IncomingMessage) => {
      if (req.url === '/metrics') scrapes++;
    });
    try {
      const openai = await bench(['--url', `${url}/v1`, '--requests', '2', '--json']);
      assert.equal(openai.code, 0, openai.stderr);
      assert.deepEqual(JSON.parse(openai.stdout).server, [{ url: `${url}/metrics`, error: 'before the run: HTTP 404' }]);
      const seen = scrapes;
      assert.ok(seen >= 2);
      const router = await bench(['--url', url, '--kind', 'gmc', '--requests', '2', '--json']);
      assert.equal(router.code, 0, router.stderr);
      assert.deepEqual(JSON.parse(router.stdout).server, []);
      const none = await bench(['--url', `${url}/v1`, '--requests', '2', '--metrics-url', 'none', '--json']);
      assert.deepEqual(JSON.parse(none.stdout).server, []);
      assert.equal(scrapes, seen, 'no /metrics asked without a model server target or --metrics-url');
      const bad = await bench(['--url', `${url}/v1`, '--metrics-url', 'ftp://x']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--metrics-url must be an http\(s\) URL or none, not 'ftp:\/\/x'/);
    } finally {
      await closeServer(plain);
    }
  });
});
