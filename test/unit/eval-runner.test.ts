import assert from 'node:assert/strict';
import { compileAssertions } from '../../core/eval/assertions';
import { EvalRow } from '../../core/eval/dataset';
import { JudgeClient } from '../../core/eval/judge';
import { renderReport, escapeHtml } from '../../core/eval/report-html';
import { runEvaluation } from '../../core/eval/runner';

const ROWS: EvalRow[] = [
  { question: 'Capital of France?', answer: 'Paris', contexts: ['Paris is the capital of France.', 'Lyon is a city.'], references: ['Paris'], referenceContexts: ['Paris is the capital of France.'] },
  { question: 'Who wrote <Hamlet> & "Macbeth"?', answer: 'Marlowe', contexts: ['Noise.', 'Shakespeare wrote Hamlet.'], references: ['Shakespeare', 'William Shakespeare'], referenceContexts: ['Shakespeare wrote Hamlet.'] },
  { question: 'Unanswered?', references: [] },
];

/** A judge that always supports everything, counting its calls. */
function agreeingJudge(): JudgeClient & { calls: number } {
  const judge = {
    calls: 0,
    chat: async (prompt: string) => {
      judge.calls++;
      if (prompt.startsWith('TASK: statements')) return JSON.stringify({ statements: ['s'] });
      return JSON.stringify({ statements: [{ statement: 's', reason: 'r', verdict: 1 }] });
    },
    embed: async (texts: string[]) => texts.map(() => [1, 0]),
  };
  return judge;
}

describe('eval: runner and report', () => {
  it('scores each row, aggregates the mean over numbers and counts NaN', async () => {
    const progress: number[] = [];
    const judge = agreeingJudge();
    const result = await runEvaluation(ROWS, {
      metrics: ['exact_match', 'f1', 'bleu', 'hits', 'mrr', 'map', 'faithfulness'],
      k: 1,
      assertions: compileAssertions([{ type: 'contains', value: 'Paris' }]),
      judge,
      strictness: 3,
      concurrency: 2,
      onProgress: (done) => progress.push(done),
    });
    assert.deepEqual(result.metrics, ['exact_match', 'f1', 'bleu', 'hits@1', 'mrr', 'map', 'faithfulness', 'assert:contains Paris']);
    assert.deepEqual(result.samples.map((s) => s.row), [1, 2, 3]);
    assert.deepEqual(result.samples[0].scores, { exact_match: 1, f1: 1, bleu: 0.1 ** 0.75, 'hits@1': 1, mrr: 1, map: 1, faithfulness: 1, 'assert:contains Paris': 1 });
    assert.equal(result.samples[1].scores['hits@1'], 0);
    assert.equal(result.samples[1].scores.mrr, 0.5);
    assert.ok(Object.values(result.samples[2].scores).every(Number.isNaN));
    assert.deepEqual(result.aggregate.exact_match, { mean: 0.5, scored: 2, nan: 1 });
    assert.deepEqual(result.aggregate['assert:contains Paris'], { mean: 0.5, scored: 2, nan: 1 });
    assert.deepEqual(result.aggregate.mrr, { mean: 0.75, scored: 2, nan: 1 });
    assert.equal(result.chatCalls, 4);
    assert.equal(judge.calls, 4);
    // One-word answers have no 2- to 4-grams: method 1 counts each as 0.1 of 1 (as NLTK); corpus unigrams 1 of 2.
    assert.ok(Math.abs((result.corpusBleu as number) - (0.5 * 0.1 ** 3) ** 0.25) < 1e-12);
    assert.deepEqual(progress, [1, 2, 3]);
  });

  it("counts the calls prepare reports with the judge's", async () => {
    const judge = agreeingJudge();
    const result = await runEvaluation(ROWS.slice(0, 2), {
      metrics: ['faithfulness'],
      k: 1,
      assertions: [],
      judge,
      strictness: 3,
      concurrency: 1,
      prepare: async (row, _i, _signal, calls) => {
        calls.retriever += 1;
        calls.chat += 1;
        return row;
      },
    });
    assert.deepEqual(result.samples.map((s) => [s.chatCalls, s.embedCalls, s.retrieverCalls]), [[3, 0, 1], [3, 0, 1]]);
    assert.deepEqual([result.chatCalls, result.retrieverCalls], [judge.calls + 2, 2]);
  });

  it('fails naming the row when a judge call fails, and stops taking rows', async () => {
    let calls = 0;
    const failing: JudgeClient = {
      chat: async () => {
        calls++;
        throw new Error('http://judge: connection refused');
      },
      embed: async () => [],
    };
    await assert.rejects(runEvaluation(ROWS, { metrics: ['faithfulness'], k: 1, assertions: [], judge: failing, strictness: 1, concurrency: 1 }), /row 1: http:\/\/judge: connection refused/);
    assert.equal(calls, 1);
  });

  it('writes a self-contained report with every text escaped', async () => {
    const result = await runEvaluation(ROWS, { metrics: ['exact_match'], k: 1, assertions: [], strictness: 3, concurrency: 1 });
    const html = renderReport(result, 'Eval <run>', new Date('2026-01-01T00:00:00Z'));
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<title>Eval &lt;run&gt;<\/title>/);
    assert.ok(html.includes('Who wrote &lt;Hamlet&gt; &amp; &quot;Macbeth&quot;?'));
    assert.ok(!html.includes('<Hamlet>'));
    assert.doesNotMatch(html, /<script|<link|src=/);
    assert.match(html, /<td>exact_match<\/td><td class="n" [^>]*>0\.500<\/td><td class="n">2<\/td><td class="n">1<\/td>/);
    assert.equal(escapeHtml(`<'&">`), '&lt;&#39;&amp;&quot;&gt;');
  });
});
