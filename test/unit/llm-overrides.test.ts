// Message overrides (msg.payload.top_k, k, …) are held to the node's own limits (core/node-types.ts) and
// refused by name before any request is sent; what upstream would answer instead: TGI 422 on top_k 0
// (router/src/validation.rs l.278), OPEA 1.5 422 on top_k 0 (LLMParamsDoc top_k: PositiveInt,
// comps/cores/proto/docarray.py l.422), vLLM 400 on top_p 0 (sampling_params.py _verify_args).
import assert from 'node:assert/strict';
import { ContractError } from '../../core/contract/documents';
import { nodeTypeSpec, ParamSpec } from '../../core/node-types';
import { runLlm } from '../../core/stages/llm';
import { runRetriever } from '../../core/stages/retriever';
import { endpointTo, llmConfig, LlmUpstream, UpstreamKind } from '../support/llm-upstream';

function limits(nodeType: string, key: string): ParamSpec {
  const spec = nodeTypeSpec(nodeType)?.params.find((p) => p.key === key);
  assert.ok(spec, `${nodeType} ${key}`);
  return spec;
}

/** "from MIN to MAX", read from the node's own setting. */
const range = (spec: ParamSpec) => `from ${spec.min} to ${spec.max}`;

async function refused(kind: UpstreamKind, run: (url: string) => Promise<unknown>): Promise<ContractError> {
  const server = await LlmUpstream.start(kind);
  try {
    const err = await run(server.url).then(
      () => assert.fail('the override was accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ContractError, String(err));
    assert.equal(server.served.length, 0, 'no request may reach the server');
    return err;
  } finally {
    await server.close();
  }
}

describe('LLM overrides: refused by name and range before any request', () => {
  const cases: { field: string; key: string; value: unknown; kind: UpstreamKind; backend: string }[] = [
    { field: 'top_k', key: 'topK', value: 0, kind: 'tgi', backend: 'tgi' },
    { field: 'top_k', key: 'topK', value: 0, kind: 'opea-1.5', backend: 'opea' },
    { field: 'top_k', key: 'topK', value: 2.5, kind: 'vllm', backend: 'vllm' },
    { field: 'top_k', key: 'topK', value: 'ten', kind: 'vllm', backend: 'vllm' },
    { field: 'top_p', key: 'topP', value: 1.5, kind: 'vllm', backend: 'vllm' },
    { field: 'top_p', key: 'topP', value: -0.1, kind: 'ollama', backend: 'ollama' },
    { field: 'max_tokens', key: 'maxTokens', value: 0, kind: 'openai', backend: 'openai' },
    { field: 'max_tokens', key: 'maxTokens', value: 1e9, kind: 'tgi', backend: 'tgi' },
    { field: 'temperature', key: 'temperature', value: 2.5, kind: 'opea-1.1', backend: 'opea' },
    { field: 'temperature', key: 'temperature', value: -1, kind: 'tgi', backend: 'tgi' },
    { field: 'repetition_penalty', key: 'repetitionPenalty', value: -1, kind: 'vllm', backend: 'vllm' },
    { field: 'repetition_penalty', key: 'repetitionPenalty', value: 11, kind: 'tgi', backend: 'tgi' },
  ];
  for (const c of cases) {
    it(`msg.payload.${c.field} ${JSON.stringify(c.value)} (${c.backend}): a ContractError naming the field and the node's range`, async () => {
      const spec = limits('opea-llm', c.key);
      const err = await refused(c.kind, (url) => runLlm(llmConfig(c.backend), endpointTo(url), { query: 'q', [c.field]: c.value }));
      assert.ok(err.message.startsWith(`msg.payload.${c.field} must be a ${spec.type === 'int' ? 'whole number' : 'number'} ${range(spec)}, not `), err.message);
      assert.match(err.fix, new RegExp(`leave it out to use the node's ${c.key} setting`));
    });
  }

  it('msg.payload.stream must be true or false', async () => {
    const err = await refused('vllm', (url) => runLlm(llmConfig('vllm'), endpointTo(url), { query: 'q', stream: 'yes' }));
    assert.match(err.message, /^msg\.payload\.stream must be true or false, not 'yes'/);
  });

  it('an OpenAI chat request carries its overrides too: temperature 0 is greedy, top_k 0 is refused', async () => {
    const messages = [{ role: 'user', content: 'Hi' }];
    const server = await LlmUpstream.start('vllm');
    try {
      await runLlm(llmConfig('vllm'), endpointTo(server.url), { messages, temperature: 0, max_tokens: 5 });
      assert.equal(server.last.model?.decoding, 'greedy');
      assert.equal((server.last.body as { max_tokens: number }).max_tokens, 5);
    } finally {
      await server.close();
    }
    const err = await refused('vllm', (url) => runLlm(llmConfig('vllm'), endpointTo(url), { messages, top_k: 0 }));
    assert.match(err.message, /^msg\.payload\.top_k must be a whole number/);
  });

  it('an override within the limits reaches the model: top_k 5 on TGI and on OPEA 1.1', async () => {
    for (const [kind, backend] of [['tgi', 'tgi'], ['opea-1.1', 'opea']] as const) {
      const server = await LlmUpstream.start(kind);
      try {
        await runLlm(llmConfig(backend), endpointTo(server.url), { query: 'q', top_k: 5 });
        assert.equal(server.last.model?.settings.top_k, 5, kind);
      } finally {
        await server.close();
      }
    }
  });

  it('a node setting out of range (a Flowise value, unchecked by Node-RED) is refused as the setting', async () => {
    const err = await refused('tgi', (url) => runLlm(llmConfig('tgi', { topK: 0 }), endpointTo(url), { query: 'q' }));
    assert.match(err.message, /^top_k must be a whole number .*\(the node's topK setting\)/);
  });
});

describe('retriever overrides: refused by name and range before any request', () => {
  const config = { backend: 'redis', k: 4, searchType: 'similarity', scoreThreshold: 0.2, fetchK: 20, lambdaMult: 0.5, indexName: 'rag-redis' };
  const embedDoc = { text: 'q', embedding: [0.1, 0.2] };
  const cases: { field: string; key: string; value: unknown }[] = [
    { field: 'k', key: 'searchK', value: 0 },
    { field: 'k', key: 'searchK', value: 1e6 },
    { field: 'fetch_k', key: 'fetchK', value: 0 },
    { field: 'lambda_mult', key: 'lambdaMult', value: 2 },
    { field: 'score_threshold', key: 'scoreThreshold', value: -0.5 },
  ];
  for (const c of cases) {
    it(`msg.payload.${c.field} ${c.value}: refused with the node's range`, async () => {
      const spec = limits('opea-retriever', c.key);
      const err = await refused('openai', (url) => runRetriever(config, { endpoint: endpointTo(url) }, { ...embedDoc, [c.field]: c.value }));
      assert.ok(err.message.startsWith(`msg.payload.${c.field} must be a ${spec.type === 'int' ? 'whole number' : 'number'} ${range(spec)}, not ${c.value}`), err.message);
    });
  }

  it('msg.payload.search_type and index_name are checked as the node checks its own', async () => {
    const type = await refused('openai', (url) => runRetriever(config, { endpoint: endpointTo(url) }, { ...embedDoc, search_type: 'fuzzy' }));
    assert.match(type.message, /^msg\.payload\.search_type 'fuzzy' is not one it knows/);
    assert.match(type.fix, /use one of similarity, .*mmr/);
    const index = await refused('openai', (url) => runRetriever(config, { endpoint: endpointTo(url) }, { ...embedDoc, index_name: 'no spaces allowed' }));
    assert.match(index.message, /^msg\.payload\.index_name must be letters, digits/);
    const distance = await refused('openai', (url) => runRetriever(config, { endpoint: endpointTo(url) }, { ...embedDoc, distance_threshold: 'near' }));
    assert.match(distance.message, /^msg\.payload\.distance_threshold must be a number/);
  });
});
