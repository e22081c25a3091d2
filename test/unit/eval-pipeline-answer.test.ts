import assert from 'node:assert/strict';
import { readPipelineAnswer } from '../../core/eval/pipeline-answer';

describe('readPipelineAnswer', () => {
  it('reads a GeneratedDoc with the contexts opea-llm records', () => {
    assert.deepEqual(readPipelineAnswer({ payload: { text: 'Paris.', prompt: 'p' }, contexts: ['Paris is the capital.'] }), { answer: 'Paris.', contexts: ['Paris is the capital.'] });
  });

  it('reads a string, an OpenAI chat completion and a TGI answer; contexts only when they are strings', () => {
    assert.deepEqual(readPipelineAnswer({ payload: 'Paris.', contexts: [1, 2] }), { answer: 'Paris.' });
    assert.deepEqual(readPipelineAnswer({ payload: { choices: [{ index: 0, message: { role: 'assistant', content: 'Lyon' } }] } }), { answer: 'Lyon' });
    assert.deepEqual(readPipelineAnswer({ payload: { generated_text: 'Nice' } }), { answer: 'Nice' });
  });

  it('answers with the refusal of a guardrail that blocked the message, without contexts', () => {
    const guardrail = { verdict: 'blocked', violatedPolicies: 'Violated policies: pii (email), please check your input.', findings: [] };
    assert.deepEqual(readPipelineAnswer({ payload: { text: 'mail me at a@b.c' }, contexts: ['x'], guardrail }), { answer: guardrail.violatedPolicies });
    assert.deepEqual(readPipelineAnswer({ payload: { text: 'fine' }, guardrail: { verdict: 'redacted', findings: [] } }), { answer: 'fine' });
  });

  it('says what came back and which node to wire when the payload is no answer', () => {
    assert.throws(() => readPipelineAnswer({ payload: { initial_query: 'q', retrieved_docs: [] } }), /answered with an object with initial_query, retrieved_docs on msg\.payload, not an answer: wire the evaluator's input from the node that gives the answer/);
    assert.throws(() => readPipelineAnswer({ payload: [1] }), /answered with an array/);
  });
});
