// Reading answers: an empty `choices` list with no error is a failure naming the server, not an empty
// answer; reasoning that the server returns apart from the answer (vLLM `reasoning_content` up to 0.10 and
// `reasoning` after, vllm/entrypoints/openai/chat_completion/protocol.py ChatMessage; Ollama `reasoning`,
// openai/openai.go l.35 and l.46) lands on msg.payload.reasoning, and streamed reasoning stays out of the answer.
import assert from 'node:assert/strict';
import { ServiceError } from '../../core/clients/endpoint';
import { runLlm } from '../../core/stages/llm';
import { endpointTo, llmConfig, LlmUpstream, UpstreamKind, UpstreamOptions } from '../support/llm-upstream';

async function withServer<T>(kind: UpstreamKind, options: UpstreamOptions, run: (url: string) => Promise<T>): Promise<T> {
  const server = await LlmUpstream.start(kind, options);
  try {
    return await run(server.url);
  } finally {
    await server.close();
  }
}

describe('LLM answers: no choices is an error', () => {
  for (const kind of ['vllm', 'openai'] as const) {
    for (const stream of [false, true]) {
      it(`${kind}, ${stream ? 'streaming' : 'whole'}: choices [] without an error is a ServiceError naming the URL`, async () => {
        await withServer(kind, { noChoices: true }, async (url) => {
          const err = await runLlm(llmConfig(kind, { stream }), endpointTo(url), 'Hi').then(
            () => assert.fail('an answer without choices was accepted'),
            (e: unknown) => e,
          );
          assert.ok(err instanceof ServiceError, String(err));
          assert.equal(err.url, `${url}/v1/chat/completions`);
          assert.match(err.message, /no choices and no error/);
        });
      });
    }
  }
});

describe('LLM answers: reasoning is kept apart from the answer', () => {
  const REASONING = ['The user', ' greets;', ' greet back.'];
  const cases: { name: string; kind: UpstreamKind; field: 'reasoning_content' | 'reasoning' }[] = [
    { name: 'vLLM up to 0.10 (reasoning_content)', kind: 'vllm', field: 'reasoning_content' },
    { name: 'vLLM after 0.10 (reasoning)', kind: 'vllm', field: 'reasoning' },
    { name: 'Ollama (reasoning)', kind: 'ollama', field: 'reasoning' },
  ];
  for (const c of cases) {
    it(`${c.name}, whole: msg.payload.reasoning holds it, the text is the answer alone`, async () => {
      await withServer(c.kind, { reasoning: { field: c.field, tokens: REASONING } }, async (url) => {
        const { doc } = await runLlm(llmConfig(c.kind === 'vllm' ? 'vllm' : 'ollama'), endpointTo(url), 'Hi');
        assert.deepEqual(doc, { text: 'Hello there!', prompt: doc.prompt, reasoning: REASONING.join('') });
      });
    });

    it(`${c.name}, streaming: reasoning chunks are collected apart, and only the answer is streamed`, async () => {
      await withServer(c.kind, { reasoning: { field: c.field, tokens: REASONING } }, async (url) => {
        const chunks: string[] = [];
        const { doc, metrics } = await runLlm(llmConfig(c.kind === 'vllm' ? 'vllm' : 'ollama', { stream: true }), endpointTo(url), 'Hi', { onChunk: (t) => chunks.push(t) });
        assert.deepEqual(chunks, ['Hello', ' there', '!']);
        assert.equal(doc.text, 'Hello there!');
        assert.equal(doc.reasoning, REASONING.join(''));
        assert.equal(metrics.completionTokens, 6, 'usage counts reasoning tokens too');
      });
    });
  }

  it('an answer without reasoning has no reasoning field', async () => {
    await withServer('vllm', {}, async (url) => {
      const { doc } = await runLlm(llmConfig('vllm'), endpointTo(url), 'Hi');
      assert.deepEqual(Object.keys(doc).sort(), ['prompt', 'text']);
    });
  });
});
