/** opea-rerank: SearchedDoc in, LLMParamsDoc {query, documents} (best first, scores kept) out. */
import { runRerank } from '../../core/stages/rerank';
import { NodeConfig, Red, RedNode } from '../shared/red';
import { endpointOf, handleInput, readSettings } from '../shared/service-node';

module.exports = function register(RED: Red): void {
  function OpeaRerank(this: RedNode, config: NodeConfig) {
    RED.nodes.createNode(this, config);
    const { settings, problems } = readSettings('opea-rerank', config);
    const reranker = { backend: settings.backend, topN: settings.params.topN as number };
    handleInput(this, 'rerank', problems, async (msg, signal) => {
      const doc = await runRerank(reranker, endpointOf(RED, config.server), msg.payload, signal);
      msg.payload = doc;
      const best = doc.scores?.[0];
      return { status: `top ${doc.documents.length}${best === undefined ? '' : ` (best ${best.toFixed(2)})`}`, metrics: { documents: doc.documents.length } };
    });
  }
  RED.nodes.registerType('opea-rerank', OpeaRerank);
};
