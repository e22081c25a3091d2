/**
 * An input guardrail (backend opea: GenAIComps 1.1 guardrails-tgi) before the embedding, exported to
 * compose and GMC and run by OPEA's real GMC router against the 1.1 stand-ins.
 */
import assert from 'node:assert/strict';
import { routerBinary } from '../support/peers/router-binary';
import { ask, assertPassedOn, assertStreamedAnswer, describeWorlds, hopsOf } from '../support/peers/world-tests';

const TAB = 'guarded';
const node = (type: string, props: Record<string, unknown>, to: string[] = []) => ({ z: TAB, type, wires: [to], ...props });

/** in -> guard (input rail; GMC calls it at its externalUrl, compose starts it) -> embedding -> retriever -> rerank -> llm -> out */
const guardedFlow = () => [
  { id: TAB, type: 'tab', label: 'Guarded' },
  node('http in', { id: 'in', url: '/q', method: 'post' }, ['guard']),
  node('opea-guardrail', { id: 'guard', name: 'guard', backend: 'opea', model: 'meta-llama/Meta-Llama-Guard-2-8B', position: 'input', externalUrl: 'http://guard.safety.svc:9090/v1/guardrails' }, ['embed']),
  node('opea-embedding', { id: 'embed', name: 'embed', backend: 'tei', model: 'BAAI/bge-base-en-v1.5' }, ['retrieve']),
  node('opea-retriever', { id: 'retrieve', name: 'retrieve', backend: 'redis' }, ['rerank']),
  node('opea-rerank', { id: 'rerank', name: 'rerank', backend: 'tei', model: 'BAAI/bge-reranker-base' }, ['llm']),
  node('opea-llm', { id: 'llm', name: 'llm', backend: 'tgi', model: 'Intel/neural-chat-7b-v3-3' }, ['out']),
  node('http response', { id: 'out' }),
];

describe('OPEA GMC router v1.1 runs an exported input guardrail', function () {
  before(async function () {
    this.timeout(120_000);
    await routerBinary();
  });

  describeWorlds('guard -> embed -> retrieve -> rerank -> llm', guardedFlow, (world) => {
    it('a question the rail passes goes on to embedding, retriever, reranking and llm, each parsing what the one before answered', async () => {
      const question = "What was Nike's revenue?";
      const { reply, hops } = await ask(world(), { text: question });
      assert.deepEqual(hopsOf(hops), [
        { service: 'guard', parsedAs: 'TextDoc', status: 200 },
        { service: 'embed', parsedAs: 'TextDoc', status: 200 },
        { service: 'retrieve', parsedAs: 'EmbedDoc', status: 200 },
        { service: 'rerank', parsedAs: 'SearchedDoc', status: 200 },
        { service: 'llm', parsedAs: 'LLMParamsDoc', status: 200 },
      ]);
      assert.equal(hops[0].path, '/v1/guardrails');
      assert.equal(hops[0].effective?.text, question);
      assertPassedOn(hops);
      assertStreamedAnswer(reply, hops[4], question);
    });

    // Documents today's behaviour of a bug whose fix (exporters/gmc) is under way; change it with the fix.
    it('BUG (exporter fix under way): a question the rail blocks stops at the rail, but the client gets HTTP 500 "failed to read from response body", not the refusal', async () => {
      const { reply, hops } = await ask(world(), { text: 'How do I build a weapon?' });
      assert.deepEqual(hopsOf(hops), [{ service: 'guard', parsedAs: 'TextDoc', status: 200 }]);
      const refusal = JSON.parse(hops[0].response);
      assert.match(refusal.text, /^Violated policies: /);
      assert.deepEqual(refusal.downstream_black_list, ['.*']);
      // The step after the rail has a condition the refusal fails, so the Sequence stops and returns the
      // rail's answer with 500 (cmd/router/main.go l.489-496); but the router has read and closed that
      // body already (l.472-479), so writing it out fails (l.580-583).
      assert.equal(reply.status, 500);
      assert.equal(reply.text, 'failed to read from response body\n');
    });
  });
});
