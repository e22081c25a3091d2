/**
 * `opea-flow eval` on the offline examples, in a child process each (Node-RED runs once per process):
 * the exit codes of a passing and a failing threshold, the JSON, JUnit (read back with junit2json) and
 * HTML it writes, a comparison of two pipelines that differ in one setting, and the kept results.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseJunit, TestSuites } from 'junit2json';
import { REPO_ROOT } from '../support/reference';
import { runCli } from '../support/run-cli';

const OFFLINE = path.join(REPO_ROOT, 'flows', 'chatqna-offline.json');
const COMPARE = path.join(REPO_ROOT, 'flows', 'compare-llms-offline.json');
const DATASET = path.join(REPO_ROOT, 'flows', 'datasets', 'chatqna-offline.jsonl');
const SHORT = 'ChatQnA, 20-word answers';
const LONG = 'ChatQnA, 80-word answers';

type FlowNode = Record<string, unknown> & { id: string; type: string };

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));

describe('opea-flow eval', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-eval-cli-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gates the offline example: exit 0 when F1 reaches the threshold, with JSON, JUnit and HTML written', async () => {
    const out = path.join(dir, 'out');
    const run = await runCli(['eval', OFFLINE, '--dataset', DATASET, '--metrics', 'f1,rougeL', '--threshold', 'f1>=0.5', '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /threshold f1>=0.5: passed/);

    const json = readJson(path.join(out, 'eval.json'));
    assert.equal(json.candidate.result.rows, 16);
    assert.equal(json.candidate.result.samples.length, 16);
    assert.match(json.candidate.result.samples[0].answer, /IBM/);
    assert.ok(json.candidate.result.samples.every((s: { latencyMs: number }) => s.latencyMs > 0));
    const f1 = json.candidate.result.aggregate.f1.mean;
    assert.ok(f1 >= 0.5 && f1 <= 1, String(f1));
    assert.deepEqual(json.thresholds, [{ metric: 'f1', min: 0.5, actual: f1, passed: true }]);
    assert.equal(json.passed, true);

    const junit = (await parseJunit(fs.readFileSync(path.join(out, 'junit.xml'), 'utf8'))) as TestSuites;
    assert.equal(junit.tests, 1);
    assert.equal(junit.failures, 0);
    const suite = junit.testsuite?.[0];
    assert.equal(suite?.name, 'chatqna-offline.json#ChatQnA (offline)');
    assert.deepEqual(suite?.testcase?.map((c) => [c.name, c.failure]), [['f1 >= 0.5', undefined]]);
    assert.equal(Number(suite?.properties?.find((p) => p.name === 'f1')?.value), Number(f1.toFixed(6)));

    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    assert.match(html, /<h1>chatqna-offline\.json#ChatQnA \(offline\): evaluation<\/h1>/);
    assert.match(html, /Who developed Node-RED\?/);
    assert.doesNotMatch(html, /<script/);
  });

  it('exits 3 when a metric is below its threshold, and the JUnit report has the failure', async () => {
    const junitFile = path.join(dir, 'ci', 'eval.xml');
    const run = await runCli(['eval', OFFLINE, '--dataset', DATASET, '--metrics', 'f1', '--threshold', 'f1>=0.5', '--threshold', 'f1>=0.99', '--junit', junitFile]);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stdout, /threshold f1>=0\.99: FAILED: f1 0\.\d{4} is below 0\.99/);
    const junit = (await parseJunit(fs.readFileSync(junitFile, 'utf8'))) as TestSuites;
    assert.equal(junit.tests, 2);
    assert.equal(junit.failures, 1);
    const cases = junit.testsuite?.[0].testcase ?? [];
    assert.equal(cases[0].failure, undefined);
    assert.equal(cases[1].name, 'f1 >= 0.99');
    assert.match(String(cases[1].failure?.[0].message), /^f1 0\.\d{4} is below 0\.99$/);
  });

  it('compares two tabs that differ in the LLM word budget: the 20-word answers win on F1, the CI excludes zero, a rerun gives the same numbers', async () => {
    const args = (file: string, seed: string) => ['eval', COMPARE, '--tab', SHORT, '--compare', LONG, '--dataset', DATASET, '--metrics', 'f1,rougeL', '--seed', seed, '--json', file];
    // One after the other: three embedded Node-REDs at once would only crowd a busy machine.
    const first = await runCli(args(path.join(dir, 'a.json'), '7'));
    const again = await runCli(args(path.join(dir, 'b.json'), '7'));
    const otherSeed = await runCli(args(path.join(dir, 'c.json'), '8'));
    for (const run of [first, again, otherSeed]) assert.equal(run.code, 0, run.stderr);
    const [a, b, c] = ['a', 'b', 'c'].map((n) => readJson(path.join(dir, `${n}.json`)));
    const f1 = a.comparison.quality.find((m: { metric: string }) => m.metric === 'f1');
    assert.equal(a.comparison.candidate, `compare-llms-offline.json#${SHORT}`);
    assert.equal(a.comparison.baseline, `compare-llms-offline.json#${LONG}`);
    assert.equal(f1.better, 'candidate');
    assert.ok(f1.candidate > f1.baseline);
    assert.ok(f1.interval.low > 0 && f1.interval.high >= f1.interval.difference, JSON.stringify(f1.interval));
    assert.equal(f1.paired, 16);
    assert.equal(f1.wins + f1.losses + f1.ties, 16);
    assert.ok(f1.wins > 0 && f1.losses === 0);
    assert.ok(a.comparison.mostChanged.length > 0 && a.comparison.mostChanged[0].changes.f1 > 0);
    const tokens = a.comparison.cost.find((m: { metric: string }) => m.metric === 'answer_tokens');
    assert.ok(tokens.candidate < tokens.baseline, 'the 20-word answers are shorter');
    assert.ok(a.comparison.cost.some((m: { metric: string }) => m.metric === 'latency_ms'));
    // Same seed: the same quality numbers (latency is measured anew each run).
    assert.deepEqual(b.comparison.quality, a.comparison.quality);
    assert.deepEqual(b.comparison.mostChanged, a.comparison.mostChanged);
    // Another seed resamples differently: the same difference, another interval.
    const f1Other = c.comparison.quality.find((m: { metric: string }) => m.metric === 'f1');
    assert.equal(f1Other.interval.difference, f1.interval.difference);
    assert.notDeepEqual(f1Other.interval, f1.interval);
  });

  it('compares with another flow file, and keeps each run in --results: the second report shows two runs in its trend', async () => {
    // The same example with the 20-word tab's budget back at 80 words: the two files' pipelines score alike.
    const flow = readJson(COMPARE) as FlowNode[];
    for (const n of flow) if (n.type === 'opea-llm' && n.maxTokens === 20) n.maxTokens = 80;
    const baselineFile = path.join(dir, 'baseline.json');
    fs.writeFileSync(baselineFile, JSON.stringify(flow));
    const results = path.join(dir, 'results');
    const args = (out: string) => ['eval', COMPARE, '--tab', SHORT, '--compare', baselineFile, '--compare-entry', '/v1/chatqna-20', '--dataset', DATASET, '--metrics', 'f1', '--results', results, '--out', out];
    const first = await runCli(args(path.join(dir, 'one')));
    assert.equal(first.code, 0, first.stderr);
    const second = await runCli(args(path.join(dir, 'two')));
    assert.equal(second.code, 0, second.stderr);

    const json = readJson(path.join(dir, 'two', 'eval.json'));
    assert.equal(json.baseline.label, `baseline.json#${SHORT}`);
    assert.equal(json.comparison.quality[0].better, 'candidate');
    const lines = fs.readFileSync(path.join(results, 'eval.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((r) => r.pipeline), [`baseline.json#${SHORT}`, `compare-llms-offline.json#${SHORT}`, `baseline.json#${SHORT}`, `compare-llms-offline.json#${SHORT}`]);
    const [baseline, candidate] = lines;
    assert.notEqual(baseline.flowHash, candidate.flowHash, 'the word budget is part of the flow hash');
    assert.equal(baseline.datasetHash, candidate.datasetHash);
    assert.ok(candidate.models.some((m: string) => /^llm, 20 words extractive/.test(m)), candidate.models.join(', '));
    assert.equal(candidate.settings.components['llm, 20 words'].maxTokens, 20);
    assert.equal(candidate.metrics.f1, json.candidate.result.aggregate.f1.mean);
    assert.ok(Date.parse(candidate.time) > 0);

    const html = fs.readFileSync(path.join(dir, 'two', 'report.html'), 'utf8');
    assert.match(html, /<h2>Comparison<\/h2>/);
    assert.match(html, /<h2>Trend<\/h2>/);
    assert.match(html, /2 runs of this pipeline on this dataset/);
    assert.equal((html.match(/<polyline /g) ?? []).length, 1);
    const firstHtml = fs.readFileSync(path.join(dir, 'one', 'report.html'), 'utf8');
    assert.match(firstHtml, /1 run of this pipeline on this dataset/);
  });

  it('exits 1 when the pipeline fails, naming the node; 2 for bad arguments', async () => {
    const flow = readJson(path.join(REPO_ROOT, 'flows', 'chatqna.json')) as FlowNode[];
    for (const n of flow) if (n.type === 'opea-server') Object.assign(n, { baseUrl: 'http://127.0.0.1:9', timeout: 5, retries: 0 });
    const file = path.join(dir, 'unreachable.json');
    fs.writeFileSync(file, JSON.stringify(flow));
    const failed = await runCli(['eval', file, '--dataset', DATASET, '--threshold', 'f1>=0.1']);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stderr, /^opea-flow eval: .*\(c0a1e5f0a[0-9a-f]+\).*127\.0\.0\.1:9/m);

    const unknownMetric = await runCli(['eval', OFFLINE, '--dataset', DATASET, '--metrics', 'f1', '--threshold', 'rougeL>=0.1']);
    assert.equal(unknownMetric.code, 2);
    assert.match(unknownMetric.stderr, /rougeL is not among the metrics of this run \(f1\); add it to --metrics/);
    const badThreshold = await runCli(['eval', OFFLINE, '--dataset', DATASET, '--threshold', 'f1=0.1']);
    assert.equal(badThreshold.code, 2);
    assert.match(badThreshold.stderr, /threshold 'f1=0.1' is not metric>=value/);
    const unknownTab = await runCli(['eval', COMPARE, '--tab', SHORT, '--compare', 'nope', '--dataset', DATASET]);
    assert.equal(unknownTab.code, 2);
    assert.match(unknownTab.stderr, /--compare nope is neither a flow file nor a tab of compare-llms-offline\.json \(its tabs: 'Ingest', 'ChatQnA, 80-word answers', 'ChatQnA, 20-word answers'\)/);
    const judged = await runCli(['eval', OFFLINE, '--dataset', DATASET, '--metrics', 'faithfulness']);
    assert.equal(judged.code, 2);
    assert.match(judged.stderr, /faithfulness need a judge LLM: give --judge URL/);
  });
});
