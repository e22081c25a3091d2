// The OPEA LLM service builds its own prompt unless it gets a chat_template it can use (GenAIComps v1.5
// comps/llms/src/text-generation/integrations/service.py l.129-145, v1.1 comps/llms/text-generation/tgi/llm.py
// l.136-149), and 1.5 drops top_k and repetition_penalty (service.py l.147-154, ALLOWED_COMPLETION_ARGS in
// comps/cores/proto/api_protocol.py l.1040-1055). msg.payload.prompt must be the prompt the model saw, and
// what was dropped must be said.
import assert from 'node:assert/strict';
import { DEFAULT_CHAT_TEMPLATE } from '../../core/contract/documents';
import { runLlm } from '../../core/stages/llm';
import { endpointTo, llmConfig, LlmUpstream, UpstreamKind } from '../support/llm-upstream';

const DOC = { query: 'Where is the {Louvre}?', documents: ['The Louvre is in Paris.', 'Use {braces} freely.'] };

const TEMPLATES: Record<string, string> = {
  'the built-in template': DEFAULT_CHAT_TEMPLATE,
  'literal braces (a JSON example)': 'Answer as {"answer": "..."} from:\n{context}\nQ: {question}',
  'only {question}': 'Q: {question}\nA:',
  'only {context}': 'Context:\n{context}',
  'no placeholder': 'Answer briefly.',
  'doubled braces around a placeholder': 'Use {{context}} then {question}',
};

async function ask(kind: UpstreamKind, template: string, stream: boolean) {
  const server = await LlmUpstream.start(kind, { modelServer: 'tgi' });
  try {
    const result = await runLlm(llmConfig('opea', { template, stream }), endpointTo(server.url), DOC, { onChunk: () => undefined });
    assert.equal(server.last.status, 200, JSON.stringify(server.last));
    return { result, served: server.last };
  } finally {
    await server.close();
  }
}

describe('OPEA LLM service: the prompt reported is the prompt the model saw', () => {
  for (const kind of ['opea-1.1', 'opea-1.5'] as const) {
    for (const [name, template] of Object.entries(TEMPLATES)) {
      it(`${kind}, ${name}: the service fills our template, and the model gets msg.payload.prompt`, async () => {
        const { result, served } = await ask(kind, template, false);
        assert.equal(served.promptFrom, 'chat_template');
        assert.equal(served.model?.input, result.doc.prompt);
        assert.match(result.doc.prompt, /Where is the \{Louvre\}\?/);
      });
    }
  }

  it('the documents reach the model through {context}, one per line', async () => {
    const { served } = await ask('opea-1.5', DEFAULT_CHAT_TEMPLATE, false);
    assert.match(served.model?.input ?? '', /The Louvre is in Paris\.\nUse \{braces\} freely\./);
  });
});

describe('OPEA LLM service: settings the service drops are reported, not pretended', () => {
  for (const stream of [false, true]) {
    const mode = stream ? 'streaming' : 'whole';
    it(`1.5, ${mode}: top_k and repetition_penalty never reach the model, and msg.metrics.llm.ignored says so`, async () => {
      const { result, served } = await ask('opea-1.5', DEFAULT_CHAT_TEMPLATE, stream);
      assert.equal(served.model?.settings.top_k, undefined);
      assert.equal(served.model?.settings.repetition_penalty, undefined);
      assert.deepEqual(result.metrics.ignored, ['top_k', 'repetition_penalty']);
    });

    it(`1.1, ${mode}: all settings reach TGI, nothing is reported ignored`, async () => {
      const { result, served } = await ask('opea-1.1', DEFAULT_CHAT_TEMPLATE, stream);
      assert.equal(served.model?.settings.top_k, 20);
      assert.equal(served.model?.settings.repetition_penalty, 1.1);
      assert.deepEqual(result.metrics.ignored, []);
    });
  }

  it('a repetition penalty of 1 (none) is not reported as dropped', async () => {
    const server = await LlmUpstream.start('opea-1.5');
    try {
      const { metrics } = await runLlm(llmConfig('opea', { repetitionPenalty: 1 }), endpointTo(server.url), DOC);
      assert.deepEqual(metrics.ignored, ['top_k']);
    } finally {
      await server.close();
    }
  });

  it('OpenAI and Ollama have no field for top_k and repetition_penalty: reported; vLLM and TGI /generate take both', async () => {
    for (const [kind, ignored] of [['openai', ['top_k', 'repetition_penalty']], ['ollama', ['top_k', 'repetition_penalty']], ['vllm', []], ['tgi', []]] as const) {
      const server = await LlmUpstream.start(kind);
      try {
        const { metrics } = await runLlm(llmConfig(kind), endpointTo(server.url), DOC);
        assert.deepEqual(metrics.ignored, ignored, kind);
      } finally {
        await server.close();
      }
    }
  });
});
