import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { helper, nextError, nextMessage, onEachRuntime, TestNode } from '../support/runtimes';
import { ScriptedJudge, section } from '../support/scripted-judge';

const TAB = 'tab1';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodes = [require('../../nodes/opea-server/opea-server'), require('../../nodes/opea-evaluator/opea-evaluator')];

function server(id: string, url: string) {
  return { id, type: 'opea-server', name: 'judge', baseUrl: url, timeout: 2, retries: 0, backoff: 10, headers: '', verifyTls: true };
}

function evaluator(props: Record<string, unknown>) {
  return { id: 'ev', type: 'opea-evaluator', z: TAB, name: 'eval', source: 'msg', metrics: ['exact_match', 'f1'], hitsK: 1, assertions: '[]', judgeBackend: 'openai', judgeModel: 'judge', embedBackend: 'openai', strictness: 2, concurrency: 2, wires: [['out']], ...props };
}

const ROWS = [
  { question: 'What is the capital of France?', answer: 'Paris.', contexts: ['Paris is the capital of France.', 'Lyon is in France.'], reference: 'Paris', reference_contexts: ['Paris is the capital of France.'] },
  { question: 'Who wrote Hamlet?', answer: 'Christopher Marlowe', contexts: ['Marlowe wrote plays.', 'Shakespeare wrote Hamlet.'], reference: 'William Shakespeare', reference_contexts: ['Shakespeare wrote Hamlet.'] },
];

const statusTexts = (node: TestNode) => (node.status.args ?? []).map((a) => (a[0] as { text?: string }).text ?? '');

onEachRuntime('opea-evaluator', (userDir) => {
  let judge: ScriptedJudge;
  beforeEach(async () => {
    judge = await ScriptedJudge.start({
      script: {
        statements: (prompt) => ({ statements: [section(prompt, 'Answer')] }),
        // The first row's statement is supported, the second's is not.
        faithfulness: (prompt) => ({ statements: [{ statement: 's', reason: 'r', verdict: section(prompt, 'Context').includes('capital') ? 1 : 0 }] }),
        question: (prompt) => ({ question: section(prompt, 'Answer'), noncommittal: 0 }),
      },
      embed: (text) => (text.startsWith('Who') ? [0, 1] : [1, 0]),
      maxRequests: 50,
    });
  });
  afterEach(async () => {
    await judge.close();
  });

  it('scores rows from msg.payload with lexical, retrieval, assertion and judge metrics, with an HTML report', async () => {
    await helper.load(nodes, [
      { id: TAB, type: 'tab' },
      server('llm', judge.url),
      evaluator({ metrics: ['exact_match', 'f1', 'hits', 'mrr', 'faithfulness', 'answer_relevancy'], assertions: '[{"type": "contains", "value": "Paris"}]', judgeServer: 'llm', embedServer: 'llm' }),
      { id: 'out', type: 'helper', z: TAB },
    ]);
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('ev').receive({ payload: ROWS });
    const msg = await out;
    const { aggregate, samples, chatCalls, embedCalls } = msg.payload;
    assert.deepEqual(samples.map((s: { scores: Record<string, number> }) => s.scores), [
      { exact_match: 1, f1: 1, 'hits@1': 1, mrr: 1, faithfulness: 1, answer_relevancy: 1, 'assert:contains Paris': 1 },
      { exact_match: 0, f1: 0, 'hits@1': 0, mrr: 0.5, faithfulness: 0, answer_relevancy: 0, 'assert:contains Paris': 0 },
    ]);
    assert.deepEqual(aggregate.mrr, { mean: 0.75, scored: 2, nan: 0 });
    // per row: faithfulness 2 calls, answer relevancy 2 (strictness) + 1 embedding request
    assert.equal(chatCalls, 8);
    assert.equal(embedCalls, 2);
    assert.equal(judge.requests.length, 10);
    assert.match(msg.report, /^<!DOCTYPE html>/);
    assert.match(msg.report, /Who wrote Hamlet\?/);
    assert.equal(msg.metrics.evaluator.rows, 2);
    const texts = statusTexts(helper.getNode('ev'));
    assert.ok(texts.includes('row 2/2'), texts.join(' | '));
    assert.match(texts[texts.length - 1], /^2 rows · exact_match 0\.500 · 10 judge calls/);
  });

  it('reads a CSV file relative to the user directory', async () => {
    fs.mkdirSync(path.join(userDir(), 'eval'), { recursive: true });
    fs.writeFileSync(path.join(userDir(), 'eval', 'set.csv'), 'question,answer,reference\n"Capital, of France?",Paris,"[""Paris"", ""Paris, France""]"\nLargest planet?,Saturn,Jupiter\n');
    await helper.load(nodes, [{ id: TAB, type: 'tab' }, evaluator({ source: 'file', file: 'eval/set.csv', metrics: ['exact_match', 'rougeL', 'bleu'] }), { id: 'out', type: 'helper', z: TAB }]);
    const out = nextMessage(helper.getNode('out'));
    helper.getNode('ev').receive({ payload: 'go' });
    const msg = await out;
    assert.deepEqual(msg.payload.aggregate.exact_match, { mean: 0.5, scored: 2, nan: 0 });
    assert.equal(msg.payload.samples[0].scores.exact_match, 1);
    assert.equal(msg.payload.samples[1].scores.rougeL, 0);
    assert.equal(msg.payload.rows, 2);
    assert.equal(typeof msg.payload.corpusBleu, 'number');
  });

  it('names the node, the row and the fix when the dataset is wrong', async () => {
    await helper.load(nodes, [{ id: TAB, type: 'tab' }, evaluator({}), { id: 'out', type: 'helper', z: TAB }]);
    const error = nextError(helper.getNode('ev'));
    helper.getNode('ev').receive({ payload: [{ question: 'ok' }, { answer: 'no question' }] });
    assert.match(await error, /^eval \(ev\): row 2: question is missing or not text — fix the dataset and send again$/);
  });

  it('refuses judge metrics without a judge server, in the status and on each message', async () => {
    await helper.load(nodes, [{ id: TAB, type: 'tab' }, evaluator({ metrics: ['faithfulness', 'answer_correctness'] }), { id: 'out', type: 'helper', z: TAB }]);
    const ev = helper.getNode('ev');
    assert.match(statusTexts(ev)[0], /^invalid: faithfulness, answer_correctness need a judge LLM/);
    const error = nextError(ev);
    ev.receive({ payload: ROWS });
    assert.match(await error, /need an embedding server.*fix the node's settings and deploy again/);
  });

  it('stops with an error naming the row and the server when the judge is unreachable', async () => {
    const url = judge.url;
    await judge.close();
    await helper.load(nodes, [{ id: TAB, type: 'tab' }, server('llm', url), evaluator({ metrics: ['faithfulness'], judgeServer: 'llm' }), { id: 'out', type: 'helper', z: TAB }]);
    const error = nextError(helper.getNode('ev'));
    helper.getNode('ev').receive({ payload: ROWS });
    assert.match(await error, /^eval \(ev\): row \d: http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: connection refused/);
    judge = await ScriptedJudge.start({ script: {} });
  });

  it('cancels the judge calls in flight when the flow is stopped, and sends nothing', async () => {
    await judge.close();
    judge = await ScriptedJudge.start({ script: { statements: () => ({ statements: ['s'] }) }, delayMs: 400 });
    await helper.load(nodes, [{ id: TAB, type: 'tab' }, server('llm', judge.url), evaluator({ metrics: ['faithfulness'], judgeServer: 'llm', concurrency: 1 }), { id: 'out', type: 'helper', z: TAB }]);
    let sent = false;
    helper.getNode('out').on('input', () => (sent = true));
    helper.getNode('ev').receive({ payload: ROWS });
    while (judge.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    await helper.unload();
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(judge.requests.length, 1);
    assert.equal(sent, false);
  });
});
