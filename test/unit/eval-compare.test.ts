import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseJunit, TestSuites } from 'junit2json';
import { compareEvaluations } from '../../core/eval/compare';
import { comparisonSection } from '../../core/eval/compare-html';
import { BOOTSTRAP_DEFAULTS, checkBootstrapOptions, pairedBootstrap, unpairedBootstrap } from '../../core/eval/compare-stats';
import { appendRecord, flowHash, readRecords, ResultRecord, trendOf } from '../../core/eval/results';
import { judgeThresholds, parseThreshold } from '../../core/eval/results-gate';
import { trendSection } from '../../core/eval/results-html';
import { renderJunit, xmlText } from '../../core/eval/results-junit';
import { aggregate, EvaluationResult, SampleResult } from '../../core/eval/runner';

const options = { ...BOOTSTRAP_DEFAULTS, resamples: 2000 };

function evaluation(scores: number[], answers: string[] = scores.map((_, i) => `answer ${i}`), latency: number[] = scores.map(() => 10)): EvaluationResult {
  const samples: SampleResult[] = scores.map((f1, i) => ({ row: i + 1, question: `question <${i}>`, answer: answers[i], scores: { f1 }, chatCalls: 0, embedCalls: 0, retrieverCalls: 0, latencyMs: latency[i] }));
  return { rows: samples.length, metrics: ['f1'], samples, aggregate: aggregate(samples, ['f1']), chatCalls: 0, embedCalls: 0, retrieverCalls: 0 };
}

describe('evaluation comparison: bootstrap intervals', () => {
  it('a paired bootstrap of a clear shift excludes zero; the same seed gives the same interval, another seed another', () => {
    const first = Array.from({ length: 30 }, (_, i) => (i % 7) / 10);
    const second = first.map((v, i) => v + 0.1 + ((i % 3) - 1) / 50);
    const a = pairedBootstrap(first, second, options);
    assert.ok(a && a.excludesZero && a.low > 0.08 && a.high < 0.12, JSON.stringify(a));
    assert.ok(Math.abs(a.difference - 0.1) < 1e-9);
    assert.ok(a.low <= a.difference && a.difference <= a.high);
    assert.deepEqual(pairedBootstrap(first, second, options), a);
    assert.notDeepEqual(pairedBootstrap(first, second, { ...options, seed: 2 }), a);
  });

  it('differences that cancel out give an interval holding zero', () => {
    const first = Array.from({ length: 40 }, () => 0.5);
    const second = first.map((v, i) => v + (i % 2 === 0 ? 0.3 : -0.3));
    const ci = pairedBootstrap(first, second, options);
    assert.ok(ci && !ci.excludesZero && ci.low < 0 && ci.high > 0, JSON.stringify(ci));
  });

  it('the unpaired bootstrap compares independent samples; empty sides give no interval; the options are checked', () => {
    const ci = unpairedBootstrap([100, 110, 90, 105, 95, 100], [50, 55, 45, 52, 48, 50], options);
    assert.ok(ci && ci.excludesZero && ci.high < 0 && Math.abs(ci.difference + 50) < 1e-9, JSON.stringify(ci));
    assert.equal(unpairedBootstrap([], [1], options), null);
    assert.equal(pairedBootstrap([], [], options), null);
    assert.throws(() => pairedBootstrap([1], [1, 2], options), /as many values on each side/);
    assert.deepEqual(checkBootstrapOptions({ seed: 1.5, resamples: 10, confidence: 1 }).length, 3);
  });
});

describe('evaluation comparison: two pipelines on the same rows', () => {
  it('counts wins, losses and ties over the rows both scored, names the better side, lists the rows that changed most', () => {
    const baseline = evaluation([0.2, 0.5, 0.5, NaN, 0.1, 0.3, 0.2, 0.4], undefined, [5, 5, 5, 5, 5, 5, 5, 5]);
    const candidate = evaluation([0.9, 0.5, 0.4, 0.8, 0.6, 0.7, 0.6, 0.9], ['short', 'a', 'b', 'c', 'd', 'e', 'f', 'g'], [9, 9, 9, 9, 9, 9, 9, 9]);
    const c = compareEvaluations({ label: 'old', result: baseline }, { label: 'new', result: candidate }, options, 2);
    const [f1] = c.quality;
    assert.deepEqual([f1.paired, f1.wins, f1.losses, f1.ties], [7, 5, 1, 1]);
    // Means over the 7 rows both scored, so that the difference shown is theirs.
    assert.ok(Math.abs(f1.baseline - 2.2 / 7) < 1e-9 && Math.abs(f1.candidate - 4.6 / 7) < 1e-9);
    assert.ok(Math.abs((f1.interval?.difference ?? 0) - 2.4 / 7) < 1e-9);
    assert.equal(f1.better, 'candidate');
    // Row 1 moved 0.7; rows 5 and 8 moved 0.5 each, the earlier row first; 2 asked for.
    assert.deepEqual(c.mostChanged.map((r) => r.row), [1, 5]);
    assert.equal(c.mostChanged[0].candidateAnswer, 'short');
    const latency = c.cost.find((m) => m.metric === 'latency_ms');
    assert.equal(latency?.better, 'baseline', 'slower by 4 ms on every row');
    assert.deepEqual([latency?.wins, latency?.losses], [0, 8]);
    const tokens = c.cost.find((m) => m.metric === 'answer_tokens');
    assert.ok(tokens && tokens.candidate < tokens.baseline);
    const html = comparisonSection(c);
    assert.match(html, /question &lt;0&gt;/);
    assert.match(html, /candidate better/);
    assert.throws(() => compareEvaluations({ label: 'a', result: evaluation([1]) }, { label: 'b', result: evaluation([1, 1]) }, options), /1 and 2 rows/);
  });
});

describe('results kept over time', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-results-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const record = (pipeline: string, f1: number | null, datasetHash = 'd1'): ResultRecord => ({ kind: 'eval', time: new Date(0).toISOString(), pipeline, models: [], settings: {}, datasetHash, metrics: { f1 } });

  it('appends one line a run, skips a torn last line and starts the next record on a line of its own', () => {
    const sub = path.join(dir, 'nested', 'results');
    appendRecord(sub, record('p', 0.5));
    fs.appendFileSync(path.join(sub, 'eval.jsonl'), '{"kind": "eval", "time": "2026');
    appendRecord(sub, record('p', 0.7));
    appendRecord(sub, record('q', null));
    appendRecord(sub, record('p', 0.9, 'd2'));
    const { records, skipped } = readRecords(sub, 'eval');
    assert.equal(skipped, 1);
    assert.deepEqual(records.map((r) => [r.pipeline, r.metrics.f1]), [['p', 0.5], ['p', 0.7], ['q', null], ['p', 0.9]]);
    assert.deepEqual(trendOf(records, { pipeline: 'p', datasetHash: 'd1' }).map((r) => r.metrics.f1), [0.5, 0.7]);
    assert.deepEqual(readRecords(sub, 'bench'), { records: [], skipped: 0 });
    const html = trendSection(trendOf(records, { pipeline: 'p', datasetHash: 'd1' }), ['f1'], sub);
    assert.match(html, /2 runs of this pipeline/);
    assert.match(html, /<polyline [^>]*points="4\.0,36\.0 236\.0,4\.0"/);
  });

  it('hashes a flow by its settings, not by where its nodes sit', () => {
    const flow = [{ id: 'b', type: 'opea-llm', maxTokens: 80, x: 10, y: 20 }, { id: 'a', type: 'tab', label: 't' }];
    const moved = [{ id: 'a', type: 'tab', label: 't' }, { y: 99, x: 50, maxTokens: 80, type: 'opea-llm', id: 'b' }];
    assert.equal(flowHash(flow), flowHash(moved));
    assert.notEqual(flowHash(flow), flowHash([flow[1], { ...flow[0], maxTokens: 20 }]));
  });
});

describe('thresholds and JUnit XML', () => {
  it('reads metric>=value, refuses what it cannot read or a metric the run does not report', () => {
    assert.deepEqual(parseThreshold(' f1 >= 0.5 ', ['f1']), { metric: 'f1', min: 0.5 });
    assert.deepEqual(parseThreshold('hits@5>=1', ['hits@5']), { metric: 'hits@5', min: 1 });
    assert.throws(() => parseThreshold('f1>0.5', ['f1']), /not metric>=value/);
    assert.throws(() => parseThreshold('f1>=high', ['f1']), /high is not a number/);
    assert.throws(() => parseThreshold('bleu>=0.1', ['f1']), /bleu is not among the metrics of this run \(f1\)/);
  });

  it('fails a threshold below it or on NaN, and the JUnit XML reads back with the failures and the escaped names', async () => {
    const result = evaluation([0.4, 0.6]);
    result.metrics = ['f1', 'rougeL'];
    result.aggregate.rougeL = { mean: NaN, scored: 0, nan: 2 };
    const verdicts = judgeThresholds([{ metric: 'f1', min: 0.5 }, { metric: 'f1', min: 0.6 }, { metric: 'rougeL', min: 0 }], result.aggregate);
    assert.deepEqual(verdicts.map((v) => v.passed), [true, false, false]);
    assert.match(String(verdicts[2].reason), /NaN: no row could be scored/);
    const xml = renderJunit([{ name: 'flow.json#tab <"A"> & B', result, verdicts, seconds: 1.5 }, { name: 'baseline', result, verdicts: [], seconds: 1 }], new Date('2026-01-02T03:04:05.678Z'));
    const parsed = (await parseJunit(xml)) as TestSuites;
    assert.deepEqual([parsed.tests, parsed.failures], [5, 3]);
    const [gated, baseline] = parsed.testsuite ?? [];
    assert.equal(gated.name, 'flow.json#tab <"A"> & B');
    assert.equal(gated.timestamp, '2026-01-02T03:04:05');
    assert.deepEqual(gated.testcase?.map((c) => [c.name, c.failure?.[0].message]), [['f1 >= 0.5', undefined], ['f1 >= 0.6', 'f1 0.5000 is below 0.6'], ['rougeL >= 0', 'rougeL is NaN: no row could be scored on it']]);
    // Without thresholds, a case per metric, failed when nothing was scored.
    assert.deepEqual(baseline.testcase?.map((c) => [c.name, c.failure !== undefined]), [['f1', false], ['rougeL', true]]);
    assert.equal(xmlText('a\u0000b\u001bc'), 'abc');
  });
});
