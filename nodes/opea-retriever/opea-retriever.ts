/** opea-retriever: EmbedDoc in, SearchedDoc {initial_query, retrieved_docs} out. */
import { runRetriever, RetrieverConfig } from '../../core/stages/retriever';
import { NodeConfig, Red, RedNode } from '../shared/red';
import { endpointOf, handleInput, indexesOf, readSettings } from '../shared/service-node';

module.exports = function register(RED: Red): void {
  function OpeaRetriever(this: RedNode, config: NodeConfig) {
    RED.nodes.createNode(this, config);
    const { settings, problems } = readSettings('opea-retriever', config);
    const p = settings.params;
    const retriever: RetrieverConfig = {
      backend: settings.backend,
      k: p.searchK as number,
      searchType: p.searchType as string,
      scoreThreshold: p.scoreThreshold as number,
      fetchK: p.fetchK as number,
      lambdaMult: p.lambdaMult as number,
      indexName: p.indexName as string,
    };
    handleInput(this, 'retriever', problems, async (msg, signal) => {
      const deps = settings.backend === 'memory' ? { indexes: indexesOf(RED, config.store) } : { endpoint: endpointOf(RED, config.server) };
      const doc = await runRetriever(retriever, deps, msg.payload, signal);
      msg.payload = doc;
      const best = doc.retrieved_docs[0]?.score;
      return { status: `${doc.retrieved_docs.length} docs${best === undefined ? '' : ` (best ${best.toFixed(2)})`}`, metrics: { documents: doc.retrieved_docs.length } };
    });
  }
  RED.nodes.registerType('opea-retriever', OpeaRetriever);
};
