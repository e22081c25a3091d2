import assert from 'node:assert/strict';
import { RequestOutcome } from '../../core/bench/client';
import { computeMetrics, RequestRecord } from '../../core/bench/metrics';
import { escapeHtml, renderReport } from '../../core/bench/report-html';
import { DEFINITIONS } from '../../core/bench/runner';
import { countTokens } from '../../core/tokens';

function record(index: number, outcome: Partial<RequestOutcome>, startMs = index * 100): RequestRecord {
  return { index, startMs, promptText: 'Hello there', outcome: { ok: !outcome.error, contentTimesMs: [], e2eMs: 0, text: '', ...outcome } };
}

describe('bench metrics (vLLM definitions)', () => {
  const records = [
    // 5 tokens from usage: TTFT 100, TPOT (300 − 100)/4 = 50, ITL 40, 60, 50, 50.
    record(0, { contentTimesMs: [100, 140, 200, 250, 300], e2eMs: 300, text: 'a b c d e', usage: { completionTokens: 5, promptTokens: 9 } }),
    // 1 token: no TPOT (counts 0 for goodput), TTFT 20.
    record(1, { contentTimesMs: [20], e2eMs: 25, text: 'x', usage: { completionTokens: 1, promptTokens: 3 } }),
    record(2, { error: { kind: 'http', message: 'HTTP 503', status: 503 }, e2eMs: 4 }),
    record(3, { error: { kind: 'timeout', message: 'no complete answer within 50 ms' }, e2eMs: 50 }),
  ];

  it('computes TTFT, TPOT, ITL, e2e, throughput and goodput as vLLM does', () => {
    const m = computeMetrics(records, 2000, [50, 99], { ttftMs: 50 });
    assert.equal(m.completed, 2);
    assert.equal(m.failed, 2);
    assert.deepEqual([m.latencyMs.ttft.count, m.latencyMs.ttft.mean], [2, 60]);
    assert.deepEqual([m.latencyMs.tpot.count, m.latencyMs.tpot.mean], [1, 50]);
    assert.deepEqual([m.latencyMs.itl.count, m.latencyMs.itl.mean, m.latencyMs.itl.median], [4, 50, 50]);
    assert.equal(m.latencyMs.e2e.mean, 162.5);
    assert.deepEqual(m.tokens, { source: 'usage', tokenizer: 'cl100k_base', fromUsage: 2, fromTokenizer: 0, input: 12, output: 6 });
    assert.deepEqual(m.throughput, { requestsPerS: 1, outputTokensPerS: 3, totalTokensPerS: 9, goodputPerS: 0.5 });
    assert.deepEqual(m.goodput, { slo: { ttftMs: 50 }, good: 1 });
    assert.deepEqual(m.outputTokensPerSPerRequest.mean, (5 / 0.3 + 1 / 0.025) / 2);
    assert.deepEqual(m.errors.byKind, { http: 1, timeout: 1 });
    assert.deepEqual(m.errors.byStatus, { 503: 1 });
    assert.equal(m.samples[2].error, 'http: HTTP 503');
  });

  it('a TPOT SLO counts one-token answers as TPOT 0, and every SLO must hold', () => {
    assert.equal(computeMetrics(records, 1000, [50], { tpotMs: 10 }).goodput?.good, 1);
    assert.equal(computeMetrics(records, 1000, [50], { tpotMs: 60, e2eMs: 100 }).goodput?.good, 1);
    assert.equal(computeMetrics(records, 1000, [50], null).throughput.goodputPerS, null);
  });

  it('counts tokens with cl100k_base when the server sends no usage, and says so', () => {
    const text = 'The quick brown fox jumps over the lazy dog.';
    const m = computeMetrics([record(0, { contentTimesMs: [10, 20], e2eMs: 30, text }), records[0]], 1000, [50], null);
    assert.equal(countTokens(text), 10);
    assert.equal(m.tokens.source, 'mixed');
    assert.equal(m.tokens.fromTokenizer, 1);
    assert.equal(m.tokens.output, 10 + 5);
    assert.equal(m.tokens.input, countTokens('Hello there') + 9);
  });
});

describe('bench HTML report', () => {
  it('is self-contained: inline SVG charts, no scripts, everything from the server escaped', () => {
    const m = computeMetrics([record(0, { contentTimesMs: [10, 20], e2eMs: 30, text: 'a', usage: { completionTokens: 2 } }), record(1, { error: { kind: 'malformed', message: '<script>alert(1)</script>' } })], 1000, [50, 90], null);
    const html = renderReport({
      startedAt: '2026-01-01T00:00:00.000Z',
      target: { url: 'http://x/"><b>', kind: 'openai', stream: true, model: 'm', maxTokens: 8 },
      load: { kind: 'closed', concurrency: 2, requests: 2, durationMs: null, warmup: 0, timeoutMs: 1000, timeLimitMs: 10_000, seed: 0, percentiles: [50, 90] },
      stoppedBy: 'count',
      notSent: 0,
      metrics: m,
      definitions: DEFINITIONS,
    });
    assert.equal((html.match(/<svg /g) ?? []).length, 3);
    assert.doesNotMatch(html, /<script|src=|href=|<link|https?:\/\/(?!x\/|www\.w3\.org\/2000\/svg)/);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /http:\/\/x\/&quot;&gt;&lt;b&gt;/);
    assert.match(html, /End-to-end latency histogram[\s\S]*TTFT cumulative distribution[\s\S]*Throughput over time/);
    assert.match(html, /<th>p90<\/th>/);
    assert.equal(escapeHtml(`<a href='x'>&`), '&lt;a href=&#39;x&#39;&gt;&amp;');
  });
});
