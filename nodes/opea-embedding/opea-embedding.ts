/** opea-embedding: text on msg.payload in, EmbedDoc {text, embedding} out. */
import { runEmbedding } from '../../core/stages/embedding';
import { NodeConfig, Red, RedNode } from '../shared/red';
import { endpointOf, handleInput, readSettings } from '../shared/service-node';

module.exports = function register(RED: Red): void {
  function OpeaEmbedding(this: RedNode, config: NodeConfig) {
    RED.nodes.createNode(this, config);
    const { settings, problems } = readSettings('opea-embedding', config);
    const embedder = { backend: settings.backend, model: settings.model, dimensions: settings.params.dimensions as number, batchSize: settings.params.batchSize as number };
    handleInput(this, 'embedding', problems, async (msg, signal) => {
      const result = await runEmbedding(embedder, endpointOf(RED, config.server), msg.payload, signal);
      msg.payload = result;
      const first = Array.isArray(result) ? result[0] : result;
      const count = Array.isArray(result) ? result.length : 1;
      return { status: `${count} × ${first?.embedding.length ?? 0} dims`, metrics: { texts: count, dimensions: first?.embedding.length ?? 0 } };
    });
  }
  RED.nodes.registerType('opea-embedding', OpeaEmbedding);
};
