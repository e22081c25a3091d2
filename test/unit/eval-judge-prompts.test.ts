// The judge's prompts are Handlebars templates (core/eval/judge.ts JUDGE_TEMPLATES): what a sample
// holds is printed as it is, never read as template syntax or escaped as HTML.
import assert from 'node:assert/strict';
import { PROMPTS } from '../../core/eval/judge';

describe('judge prompts as Handlebars templates', () => {
  it('faithfulness: the context and the statements (as JSON) go in as they are', () => {
    assert.equal(
      PROMPTS.faithfulness('C1 {{ctx}}\nC2 <b> & "q"', ['s1 {x}', 's"2']),
      [
        'TASK: faithfulness',
        'For each statement, decide whether it can be directly inferred from the context. verdict is 1 if it can, 0 if it cannot. Keep the statements in the given order.',
        'Reply with JSON only: {"statements": [{"statement": "...", "reason": "...", "verdict": 1}]}',
        'Context:\nC1 {{ctx}}\nC2 <b> & "q"',
        'Statements:\n["s1 {x}","s\\"2"]',
      ].join('\n\n'),
    );
  });

  it('classification and attribution name their inputs in order', () => {
    const classification = PROMPTS.classification('Q?', ['a1'], ['g1', 'g2']);
    assert.match(classification, /^TASK: classification\n\n/);
    assert.ok(classification.endsWith('Question:\nQ?\n\nAnswer statements:\n["a1"]\n\nGround-truth statements:\n["g1","g2"]'));
    assert.ok(PROMPTS.attribution('Q?', 'ctx', 'ref {{r}}').endsWith('Question:\nQ?\n\nContext:\nctx\n\nAnswer:\nref {{r}}'));
    assert.ok(PROMPTS.question("It's {{x}}").endsWith("Answer:\nIt's {{x}}"));
  });
});
