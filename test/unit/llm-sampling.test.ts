// Temperature 0 (and top_p 0, a nucleus of one token) is greedy decoding on every backend, decided as
// each upstream server decides it (test/support/llm-upstream.ts cites the rules); sampling settings
// otherwise reach the model.
import assert from 'node:assert/strict';
import { LLMParamsDoc } from '../../core/contract/documents';
import { LlmConfig, runLlm } from '../../core/stages/llm';
import { endpointTo, llmConfig, LlmUpstream, UpstreamKind, UpstreamOptions } from '../support/llm-upstream';

interface Case {
  name: string;
  kind: UpstreamKind;
  backend: string;
  options?: UpstreamOptions;
  /** Earlier turns, which send TGI through its messages API. */
  history?: boolean;
}

const CASES: Case[] = [
  { name: 'TGI /generate', kind: 'tgi', backend: 'tgi' },
  { name: 'TGI messages API (a conversation)', kind: 'tgi', backend: 'tgi', history: true },
  { name: 'vLLM', kind: 'vllm', backend: 'vllm' },
  { name: 'Ollama', kind: 'ollama', backend: 'ollama' },
  { name: 'OpenAI', kind: 'openai', backend: 'openai' },
  { name: 'OPEA 1.1 (TGI behind)', kind: 'opea-1.1', backend: 'opea' },
  { name: 'OPEA 1.5, TGI behind', kind: 'opea-1.5', backend: 'opea', options: { modelServer: 'tgi' } },
  { name: 'OPEA 1.5, vLLM behind', kind: 'opea-1.5', backend: 'opea', options: { modelServer: 'vllm' } },
];

function question(c: Case): LLMParamsDoc {
  const doc: LLMParamsDoc = { query: 'Where is Paris?', documents: ['Paris is in France.'] };
  if (c.history) doc.history = [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }];
  return doc;
}

async function ask(c: Case, overrides: Partial<LlmConfig>) {
  const server = await LlmUpstream.start(c.kind, c.options);
  try {
    const result = await runLlm(llmConfig(c.backend, overrides), endpointTo(server.url), question(c), { onChunk: () => undefined });
    assert.equal(server.served.length, 1);
    return { result, served: server.last };
  } finally {
    await server.close();
  }
}

describe('LLM sampling: greedy where asked, on every backend', () => {
  for (const c of CASES) {
    for (const stream of [false, true]) {
      const mode = stream ? 'streaming' : 'whole';
      it(`${c.name}, ${mode}: temperature 0 is greedy and the answer arrives`, async () => {
        const { result, served } = await ask(c, { temperature: 0, stream });
        assert.equal(served.status, 200, JSON.stringify(served));
        assert.equal(served.model?.decoding, 'greedy', JSON.stringify(served.model));
        assert.equal(result.doc.text, 'Hello there!');
      });

      it(`${c.name}, ${mode}: top_p 0 (a nucleus of one token) is greedy too`, async () => {
        const { served } = await ask(c, { topP: 0, stream });
        assert.equal(served.status, 200, JSON.stringify(served));
        assert.equal(served.model?.decoding, 'greedy', JSON.stringify(served.model));
      });
    }

    it(`${c.name}: temperature 0.7 samples, and top_p 1 (no nucleus cut) is accepted`, async () => {
      const sampled = await ask(c, { temperature: 0.7 });
      assert.equal(sampled.served.model?.decoding, 'sampling');
      assert.equal(sampled.served.model?.settings.temperature, 0.7);
      const uncut = await ask(c, { temperature: 0.7, topP: 1 });
      assert.equal(uncut.served.status, 200, JSON.stringify(uncut.served));
      assert.ok([undefined, 1].includes(uncut.served.model?.settings.top_p as number | undefined), JSON.stringify(uncut.served.model));
    });
  }

  it('TGI /generate and vLLM get every sampling setting when sampling', async () => {
    const tgi = await ask(CASES[0], {});
    assert.deepEqual(tgi.served.model?.settings, { temperature: 0.7, top_k: 20, top_p: 0.9, do_sample: true, repetition_penalty: 1.1, max_new_tokens: 16 });
    const vllm = await ask(CASES[2], {});
    assert.deepEqual(vllm.served.model?.settings, { temperature: 0.7, top_p: 0.9, top_k: 20, repetition_penalty: 1.1 });
  });

  it('greedy TGI /generate keeps the repetition penalty and sends no sampling field at all', async () => {
    const { served } = await ask(CASES[0], { temperature: 0 });
    assert.deepEqual((served.body as { parameters: object }).parameters, { max_new_tokens: 16, details: true, repetition_penalty: 1.1 });
  });
});
