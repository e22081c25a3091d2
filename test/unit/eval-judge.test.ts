import assert from 'node:assert/strict';
import { createEndpoint } from '../../core/clients/endpoint';
import { answerCorrectness, answerRelevancy, averagePrecisionOfVerdicts, contextPrecision, contextRecall, factualF1, faithfulness, jsonObjectIn, JudgeClient, remoteJudge } from '../../core/eval/judge';
import { Script, ScriptedJudge, section } from '../support/scripted-judge';

const QUESTION = 'Where is the Eiffel Tower and when was it built?';
const ANSWER = 'The Eiffel Tower is in Paris. It was built in 1889. It is 500 m tall.';
const REFERENCE = 'The Eiffel Tower is in Paris and was completed in 1889.';
const CONTEXTS = ['Gustave Eiffel designed bridges.', 'The Eiffel Tower is in Paris, France.', 'It was completed in 1889.'];

const VECTORS: Record<string, number[]> = {
  [QUESTION]: [1, 0],
  'Where is the Eiffel Tower?': [1, 0],
  'When was the tower built?': [0.6, 0.8],
  'How tall is the tower?': [0, 1],
  [ANSWER]: [1, 0],
  [REFERENCE]: [0.8, 0.6],
};

/** Known verdicts: faithfulness 2/3, relevancy (1 + 0.6 + 0) / 3, precision AP of [0,1,1], recall 1/2, correctness 0.75·0.8 + 0.25·0.8. */
function script(): Script {
  let questions = 0;
  return {
    statements: (prompt) =>
      section(prompt, 'Answer') === ANSWER
        ? { statements: ['The Eiffel Tower is in Paris.', 'The Eiffel Tower was built in 1889.', 'The Eiffel Tower is 500 m tall.'] }
        : { statements: ['The Eiffel Tower is in Paris.', 'The Eiffel Tower was completed in 1889.'] },
    faithfulness: () => `Here you go:\n\`\`\`json\n${JSON.stringify({ statements: [1, 1, 0].map((verdict, i) => ({ statement: `s${i}`, reason: 'r', verdict })) })}\n\`\`\``,
    question: () => ({ question: ['Where is the Eiffel Tower?', 'When was the tower built?', 'How tall is the tower?'][questions++ % 3], noncommittal: 0 }),
    usefulness: (prompt) => ({ reason: 'r', verdict: section(prompt, 'Context') === CONTEXTS[0] ? 0 : 1 }),
    attribution: () => ({ classifications: [{ statement: 'a', reason: 'r', attributed: 1 }, { statement: 'b', reason: 'r', attributed: '0' }] }),
    classification: () => ({ TP: [{ statement: 'a', reason: 'r' }, { statement: 'b', reason: 'r' }], FP: [{ statement: 'c', reason: 'r' }], FN: [] }),
  };
}

function clientOf(judge: ScriptedJudge): JudgeClient {
  const endpoint = createEndpoint({ baseUrl: judge.url, timeoutMs: 5000, retries: 0, backoffMs: 10, headers: {}, verifyTls: true });
  return remoteJudge({ llm: endpoint, llmBackend: 'openai', llmModel: 'judge-model', maxTokens: 512, embedder: endpoint, embedBackend: 'openai', embedModel: 'embed-model' });
}

const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);

describe('eval: RAGAS judge metrics against a scripted loopback judge', () => {
  let judge: ScriptedJudge;
  let client: JudgeClient;
  const start = async (overrides: Script = {}) => {
    judge = await ScriptedJudge.start({ script: { ...script(), ...overrides }, embed: (text) => VECTORS[text] ?? [0.5, 0.5], maxRequests: 100 });
    client = clientOf(judge);
  };
  afterEach(async () => {
    await judge.close();
  });

  it('faithfulness: supported statements / statements, in 2 calls; the contexts are joined into one', async () => {
    await start();
    const score = await faithfulness(client, QUESTION, ANSWER, CONTEXTS);
    close(score.value, 2 / 3);
    assert.deepEqual([score.chatCalls, score.embedCalls], [2, 0]);
    assert.equal(section(judge.callsOf('faithfulness')[0].prompt ?? '', 'Context'), CONTEXTS.join('\n'));
    const body = judge.callsOf('statements')[0].body;
    assert.equal(body.model, 'judge-model');
    assert.equal(body.temperature, 0);
    assert.equal(body.stream, false);
  });

  it('answer relevancy: mean cosine of the generated questions to the question (strictness 3), one embedding call', async () => {
    await start();
    const score = await answerRelevancy(client, QUESTION, ANSWER, 3);
    close(score.value, (1 + 0.6 + 0) / 3);
    assert.deepEqual([score.chatCalls, score.embedCalls], [3, 1]);
    const embedded = judge.requests.find((r) => r.path === '/v1/embeddings');
    assert.deepEqual(embedded?.body.input, [QUESTION, 'Where is the Eiffel Tower?', 'When was the tower built?', 'How tall is the tower?']);
    assert.equal(embedded?.body.model, 'embed-model');
  });

  it('answer relevancy is 0 when every generation is noncommittal, and kept when only some are', async () => {
    await start({ question: () => ({ question: 'Where is the Eiffel Tower?', noncommittal: 1 }) });
    assert.equal((await answerRelevancy(client, QUESTION, "I don't know", 2)).value, 0);
    await judge.close();
    let n = 0;
    await start({ question: () => ({ question: 'Where is the Eiffel Tower?', noncommittal: n++ === 0 ? 1 : 0 }) });
    close((await answerRelevancy(client, QUESTION, 'It is in Paris', 2)).value, 1);
  });

  it('context precision: average precision of per-context verdicts, one call per context', async () => {
    await start();
    const score = await contextPrecision(client, QUESTION, REFERENCE, CONTEXTS);
    // verdicts [0, 1, 1]: (1/2 + 2/3) / 2
    close(score.value, (1 / 2 + 2 / 3) / 2);
    assert.equal(score.chatCalls, 3);
    assert.deepEqual(judge.callsOf('usefulness').map((r) => section(r.prompt ?? '', 'Answer')), [REFERENCE, REFERENCE, REFERENCE]);
  });

  it('context recall: attributed reference statements / all, one call', async () => {
    await start();
    const score = await contextRecall(client, QUESTION, REFERENCE, CONTEXTS);
    assert.equal(score.value, 0.5);
    assert.equal(score.chatCalls, 1);
  });

  it('answer correctness: 0.75 · factual F1 + 0.25 · cosine similarity, in 3 calls and 1 embedding call', async () => {
    await start();
    const score = await answerCorrectness(client, QUESTION, ANSWER, REFERENCE);
    // TP 2, FP 1, FN 0: P 2/3, R 1, F1 0.8; cosine([1,0],[0.8,0.6]) = 0.8
    close(score.value, 0.75 * 0.8 + 0.25 * 0.8);
    assert.deepEqual([score.chatCalls, score.embedCalls], [3, 1]);
    const classified = judge.callsOf('classification')[0].prompt ?? '';
    assert.match(section(classified, 'Ground-truth statements'), /was completed in 1889/);
  });

  it('answer correctness takes factuality as 1 when the answer yields no statements (as RAGAS), skipping the classifier', async () => {
    await start({ statements: (prompt) => (section(prompt, 'Answer') === ANSWER ? { statements: [] } : { statements: ['x'] }) });
    const score = await answerCorrectness(client, QUESTION, ANSWER, REFERENCE);
    close(score.value, 0.75 * 1 + 0.25 * 0.8);
    assert.equal(judge.callsOf('classification').length, 0);
  });

  it('NaN where RAGAS gives NaN: no statements, unreadable judge output, no classifications', async () => {
    await start({ statements: () => ({ statements: [] }), usefulness: () => ({ reason: 'r', verdict: 'yes' }), attribution: () => ({ classifications: [] }) });
    const f = await faithfulness(client, QUESTION, ANSWER, CONTEXTS);
    assert.ok(Number.isNaN(f.value));
    assert.equal(f.chatCalls, 1);
    assert.ok(Number.isNaN((await contextPrecision(client, QUESTION, REFERENCE, CONTEXTS)).value));
    assert.ok(Number.isNaN((await contextRecall(client, QUESTION, REFERENCE, CONTEXTS)).value));
    await judge.close();
    await start({ faithfulness: () => 'All statements look supported to me.', question: () => ({ question: '', noncommittal: 0 }) });
    assert.ok(Number.isNaN((await faithfulness(client, QUESTION, ANSWER, CONTEXTS)).value));
    const relevancy = await answerRelevancy(client, QUESTION, ANSWER, 2);
    assert.ok(Number.isNaN(relevancy.value));
    assert.deepEqual([relevancy.chatCalls, relevancy.embedCalls], [2, 0]);
  });

  it('makes no call and gives NaN when an input is missing', async () => {
    await start();
    const scores = [
      await faithfulness(client, QUESTION, ANSWER, undefined),
      await faithfulness(client, QUESTION, undefined, CONTEXTS),
      await contextPrecision(client, QUESTION, undefined, CONTEXTS),
      await contextRecall(client, QUESTION, REFERENCE, []),
      await answerCorrectness(client, QUESTION, ANSWER, undefined),
      await answerRelevancy(client, QUESTION, '', 3),
    ];
    assert.ok(scores.every((s) => Number.isNaN(s.value) && s.chatCalls === 0));
    assert.equal(judge.requests.length, 0);
  });

  it('a failed judge call is an error naming the server, not a NaN', async () => {
    await start({ faithfulness: undefined as never });
    await assert.rejects(faithfulness(client, QUESTION, ANSWER, CONTEXTS), /HTTP 500: .*no script for prompt kind faithfulness/);
  });
});

describe('eval: judge helpers', () => {
  it('reads the JSON object out of prose and fences', () => {
    assert.deepEqual(jsonObjectIn('Sure! ```json\n{"verdict": 1}\n``` done'), { verdict: 1 });
    assert.equal(jsonObjectIn('no json'), null);
    assert.equal(jsonObjectIn('[1, 2]'), null);
  });

  it("context precision's average precision as RAGAS writes it (all zero verdicts give 0)", () => {
    assert.equal(averagePrecisionOfVerdicts([0, 0]), 0);
    close(averagePrecisionOfVerdicts([1, 0, 1]), (1 + 2 / 3) / 2);
  });

  it("factual F1 with RAGAS's conventions for empty classes", () => {
    assert.equal(factualF1(0, 0, 0), 1);
    assert.equal(factualF1(0, 2, 0), 0);
    close(factualF1(2, 1, 1), 2 / 3);
  });
});
