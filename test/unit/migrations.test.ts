import assert from 'node:assert/strict';
import { loadPipeline } from '../../core/pipeline';
import { migrateNode } from '../../core/migrations';
import { CONFIG_VERSION } from '../../core/node-types';

describe('config migrations', () => {
  it('renames the retriever\'s k (a name the Node-RED editor reserves) to searchK, without changing the input', () => {
    const saved = { id: 'r', type: 'opea-retriever', k: 7, configVersion: 1 };
    assert.deepEqual(migrateNode(saved), { id: 'r', type: 'opea-retriever', searchK: 7, configVersion: 1 });
    assert.equal(saved.k, 7);
    assert.equal(CONFIG_VERSION, 2);
  });

  it('keeps searchK when a node has both, and leaves other node types alone', () => {
    assert.deepEqual(migrateNode({ id: 'r', type: 'opea-retriever', k: 7, searchK: 3 }), { id: 'r', type: 'opea-retriever', searchK: 3 });
    const llm = { id: 'l', type: 'opea-llm', k: 7 };
    assert.equal(migrateNode(llm), llm);
  });

  it('lets the importer read a flow saved with k', () => {
    const flow = [
      { id: 't', type: 'tab', label: 'T' },
      { id: 'in', type: 'http in', z: 't', url: '/q', method: 'post', wires: [['e']] },
      { id: 'e', type: 'opea-embedding', z: 't', backend: 'tei', model: 'BAAI/bge-base-en-v1.5', wires: [['r']] },
      { id: 'r', type: 'opea-retriever', z: 't', backend: 'redis', k: 9, configVersion: 1, wires: [['out']] },
      { id: 'out', type: 'http response', z: 't', wires: [] },
    ];
    const { pipeline, problems } = loadPipeline(flow);
    assert.deepEqual(problems.items, []);
    assert.equal(pipeline.graph.components.find((c) => c.id === 'r')?.params.searchK, 9);
  });
});
