// Every chat backend receives the system message and the whole history. Flowise chains put the retrieved
// documents in the system message and memory in earlier turns; Node-RED sends `history`. TGI gets them
// through its messages API (v2.0.4 router/src/server.rs l.996-1060 applies the model's chat template to
// all messages), the OPEA service as a ChatCompletionRequest it forwards whole (v1.1 llm.py l.227-268,
// v1.5 service.py l.191-216).
import assert from 'node:assert/strict';
import { asLlmInput } from '../../core/contract/documents';
import { runLlm } from '../../core/stages/llm';
import { endpointTo, llmConfig, LlmUpstream, UpstreamKind, UpstreamOptions } from '../support/llm-upstream';

const SYSTEM = 'Answer from this context only: Paris is the capital of France.';
/** A Flowise conversational retrieval chain's call: context in the system message, memory before the question. */
const CHAT_REQUEST = {
  messages: [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: 'Hi, I am Ada.' },
    { role: 'assistant', content: 'Hello Ada!' },
    { role: 'user', content: 'What is the capital of France?' },
  ],
};
/** Flowise builds the prompt itself: its chat model's template is the question alone. */
const FLOWISE = { template: '{question}' };

const BACKENDS: { kind: UpstreamKind; backend: string; options?: UpstreamOptions }[] = [
  { kind: 'tgi', backend: 'tgi' },
  { kind: 'vllm', backend: 'vllm' },
  { kind: 'ollama', backend: 'ollama' },
  { kind: 'openai', backend: 'openai' },
  { kind: 'opea-1.1', backend: 'opea' },
  { kind: 'opea-1.5', backend: 'opea', options: { modelServer: 'tgi' } },
  { kind: 'opea-1.5', backend: 'opea', options: { modelServer: 'vllm' } },
];

describe('LLM conversations: the system message and every turn reach the model', () => {
  it('asLlmInput keeps a chat request\'s system message and earlier turns as history, in order', () => {
    const doc = asLlmInput(CHAT_REQUEST);
    assert.equal(doc.query, 'What is the capital of France?');
    assert.deepEqual(doc.history, CHAT_REQUEST.messages.slice(0, -1));
  });

  for (const b of BACKENDS) {
    for (const stream of [false, true]) {
      const label = `${b.kind}${b.options?.modelServer ? ` (${b.options.modelServer} behind)` : ''}, ${stream ? 'streaming' : 'whole'}`;
      it(`${label}: the model's input holds the system message, the history and the question`, async () => {
        const server = await LlmUpstream.start(b.kind, b.options);
        try {
          const { doc } = await runLlm(llmConfig(b.backend, { ...FLOWISE, stream }), endpointTo(server.url), CHAT_REQUEST, { onChunk: () => undefined });
          assert.equal(server.last.status, 200, JSON.stringify(server.last));
          assert.equal(server.last.model?.input, `<|system|>\n${SYSTEM}\n<|user|>\nHi, I am Ada.\n<|assistant|>\nHello Ada!\n<|user|>\nWhat is the capital of France?\n<|assistant|>\n`);
          assert.equal(doc.text, 'Hello there!');
          assert.equal(doc.prompt, 'What is the capital of France?');
        } finally {
          await server.close();
        }
      });
    }
  }

  it('Node-RED history on an LLMParamsDoc goes to TGI\'s messages API, the filled template as the last turn', async () => {
    const server = await LlmUpstream.start('tgi');
    try {
      const history = [{ role: 'user' as const, content: 'Hi' }, { role: 'assistant' as const, content: 'Hello!' }];
      const { doc, metrics } = await runLlm(llmConfig('tgi'), endpointTo(server.url), { query: 'Where is Paris?', documents: ['Paris is in France.'], history });
      assert.equal(server.last.path, '/v1/chat/completions');
      assert.equal((server.last.body as { model: string }).model, 'tgi');
      assert.equal(server.last.model?.input, `<|user|>\nHi\n<|assistant|>\nHello!\n<|user|>\n${doc.prompt}\n<|assistant|>\n`);
      assert.match(doc.prompt, /Paris is in France\.[\s\S]*Where is Paris\?/);
      // The messages API has no top_k, and takes no repetition_penalty of its own (v2.0.4 server.rs l.1019).
      assert.deepEqual(metrics.ignored, ['top_k', 'repetition_penalty']);
    } finally {
      await server.close();
    }
  });

  for (const tgiDone of [false, true]) {
    it(`TGI ${tgiDone ? '2.2+ (stream ends with [DONE])' : '2.0 (stream ends at the finish_reason chunk, no [DONE])'}: the streamed conversation is read whole`, async () => {
      const server = await LlmUpstream.start('tgi', { tgiDone });
      try {
        const chunks: string[] = [];
        const { doc, metrics } = await runLlm(llmConfig('tgi', { stream: true }), endpointTo(server.url), CHAT_REQUEST, { onChunk: (c) => chunks.push(c) });
        assert.deepEqual(chunks, ['Hello', ' there', '!']);
        assert.equal(doc.text, 'Hello there!');
        assert.equal(metrics.finishReason, 'stop');
      } finally {
        await server.close();
      }
    });
  }

  it('a question alone still goes to TGI /generate, where top_k and the repetition penalty apply', async () => {
    const server = await LlmUpstream.start('tgi');
    try {
      const { metrics } = await runLlm(llmConfig('tgi'), endpointTo(server.url), 'Where is Paris?');
      assert.equal(server.last.path, '/generate');
      assert.deepEqual(metrics.ignored, []);
    } finally {
      await server.close();
    }
  });
});
