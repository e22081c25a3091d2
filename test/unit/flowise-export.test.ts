/**
 * A Flowise chatflow built from this pack's nodes -> GMC, compose and Ansible (through the Flowise
 * importer and the exporters), in the shapes Flowise keeps a chatflow in; and the ending nodes
 * (exporter, evaluator, benchmark) run() as Flowise calls them.
 */
import assert from 'node:assert/strict';
import yaml from 'js-yaml';
import { chatflowDocument, exportChatflow } from '../../flowise/export';
import { ICommonObject, INode, INodeData } from '../../flowise/interface';
import { nodeClass as Exporter } from '../../flowise/nodes/OpeaExporter';
import { nodeClass as Evaluator } from '../../flowise/nodes/OpeaEvaluator';
import { nodeClass as Benchmark } from '../../flowise/nodes/OpeaBenchmark';
import { nodeClass as ChatModel } from '../../flowise/nodes/OpeaChatModel';
import { nodeClass as Embeddings } from '../../flowise/nodes/OpeaEmbeddings';
import { nodeClass as Retriever } from '../../flowise/nodes/OpeaRetriever';
import { checkGmConnector } from '../../exporters/gmc/check';
import { checkComposeProject } from '../../exporters/compose/check';
import { gmcShape } from '../support/gmc-shape';
import { ProtocolServer } from '../support/protocol-server';

/** A node as the Flowise canvas saves it in flowData (position, data with inputs and anchors). */
function canvasNode(id: string, name: string, label: string, category: string, inputs: ICommonObject, x: number): ICommonObject {
  return { id, position: { x, y: 100 }, type: 'customNode', width: 300, height: 500, data: { id, label, name, version: 1, type: name, category, baseClasses: [], credential: 'cred-uuid', inputs, inputAnchors: [], inputParams: [], outputAnchors: [], outputs: {}, selected: false } };
}
const edge = (source: string, target: string, input: string) => ({ source, sourceHandle: `${source}-output-${source}`, target, targetHandle: `${target}-input-${input}-Any`, type: 'buttonedge', id: `${source}-${target}` });

function ragFlowData(withGuardrail = false): ICommonObject {
  const nodes = [
    canvasNode('opeaEmbeddings_0', 'opeaEmbeddings', 'OPEA Embeddings', 'Embeddings', { backend: 'tei', modelName: 'BAAI/bge-large-en-v1.5', baseUrl: 'http://embedding:6000' }, 0),
    canvasNode('opeaRetriever_0', 'opeaRetriever', 'OPEA Retriever', 'Retrievers', { embeddings: '{{opeaEmbeddings_0.data.instance}}', topK: '3', searchType: 'similarity', indexName: 'docs' }, 400),
    canvasNode('opeaRerankRetriever_0', 'opeaRerankRetriever', 'OPEA Rerank Retriever', 'Retrievers', { baseRetriever: '{{opeaRetriever_0.data.instance}}', backend: 'tei', topN: 2, modelName: 'BAAI/bge-reranker-large' }, 800),
    canvasNode('opeaChatModel_0', 'opeaChatModel', 'OPEA Chat Model', 'Chat Models', { backend: 'tgi', modelName: 'Intel/neural-chat-7b-v3-3', temperature: '0.2', maxTokens: 256 }, 800),
    canvasNode('retrievalQAChain_0', 'retrievalQAChain', 'Retrieval QA Chain', 'Chains', { model: '{{opeaChatModel_0.data.instance}}', vectorStoreRetriever: '{{opeaRerankRetriever_0.data.instance}}', inputModeration: withGuardrail ? ['{{opeaGuardrail_0.data.instance}}'] : '' }, 1200),
  ];
  const edges = [
    edge('opeaEmbeddings_0', 'opeaRetriever_0', 'embeddings'),
    edge('opeaRetriever_0', 'opeaRerankRetriever_0', 'baseRetriever'),
    edge('opeaRerankRetriever_0', 'retrievalQAChain_0', 'vectorStoreRetriever'),
    edge('opeaChatModel_0', 'retrievalQAChain_0', 'model'),
  ];
  if (withGuardrail) {
    nodes.push(canvasNode('opeaGuardrail_0', 'opeaGuardrail', 'OPEA Guardrail', 'Moderation', { pii: 'redact', injection: 'block' }, 1200));
    edges.push(edge('opeaGuardrail_0', 'retrievalQAChain_0', 'inputModeration'));
  }
  return { nodes, edges, viewport: { x: 0, y: 0, zoom: 1 } };
}

function nodeData(node: INode, inputs: ICommonObject): INodeData {
  return { id: `${node.name}_0`, label: node.label, name: node.name, type: node.type, icon: node.icon, version: node.version, category: node.category, baseClasses: node.baseClasses, inputs, outputs: {} };
}

/** The canvas menu's Export (Flowise UI generateExportFlowData): {nodes, edges}, no viewport, credential ids removed. */
function uiExport(flow: ICommonObject): ICommonObject {
  return { nodes: flow.nodes.map((n: ICommonObject) => ({ ...n, selected: false, data: Object.fromEntries(Object.entries(n.data).filter(([k]) => k !== 'credential')) })), edges: flow.edges };
}

describe('Flowise chatflow export', () => {
  const flowData = JSON.stringify(ragFlowData());

  it('reads saved flowData, a chatflow record and the Export Data file', () => {
    assert.equal(chatflowDocument(flowData, 'x').name, 'x');
    assert.equal(chatflowDocument({ id: '1', name: 'OPEA RAG', flowData }).name, 'OPEA RAG');
    const exported = { ChatFlow: [{ id: '1', name: 'OPEA RAG', flowData }, { id: '2', name: 'Other', flowData: '{"nodes":[],"edges":[]}' }], AgentFlow: [] };
    assert.deepEqual((chatflowDocument(exported, 'OPEA RAG').doc as ICommonObject).nodes.length, 5);
    assert.throws(() => chatflowDocument(exported), /holds 2 chatflows/);
  });

  for (const [shape, input] of [
    ['saved flowData', flowData],
    ['UI export file', JSON.stringify(uiExport(ragFlowData()))],
    ['chatflow record', { id: 'a1', name: 'OPEA RAG', flowData }],
    ['Export Data file', { ChatFlow: [{ id: 'a1', name: 'OPEA RAG', flowData }] }],
  ] as const) {
    it(`exports the ${shape} to GMC, compose and Ansible`, () => {
      const result = exportChatflow(input, { targets: ['gmc', 'compose', 'ansible'], chatflowName: 'OPEA RAG' });
      assert.deepEqual(result.problems.items, []);
      const bundle = result.bundle as Record<string, string>;
      const cr = yaml.load(bundle['gmc/opea-rag.yaml']) as Record<string, unknown>;
      assert.deepEqual(checkGmConnector(cr), []);
      const steps = gmcShape(cr).steps.map((s) => s.name);
      assert.deepEqual(steps, ['Embedding', 'TeiEmbedding', 'Retriever', 'VectorDB', 'Reranking', 'TeiReranking', 'Llm', 'Tgi']);
      assert.match(bundle['gmc/opea-rag.yaml'], /MODEL_ID: BAAI\/bge-large-en-v1\.5/);
      assert.match(bundle['gmc/opea-rag.yaml'], /MODEL_ID: BAAI\/bge-reranker-large/);
      assert.match(bundle['gmc/opea-rag.yaml'], /MODEL_ID: Intel\/neural-chat-7b-v3-3/);
      assert.deepEqual(checkComposeProject(yaml.load(bundle['compose/compose.yaml'])), []);
      assert.ok(bundle['ansible/site.yml']);
      assert.ok(bundle['ansible/roles/gmc_pipeline/files/gmconnector.yaml']);
    });
  }

  it('carries the retriever and LLM settings', () => {
    const result = exportChatflow(flowData, { targets: ['gmc'], chatflowName: 'OPEA RAG' });
    const text = (result.bundle as Record<string, string>)['gmc/opea-rag.yaml'];
    assert.ok(text.includes('docs'), 'index name');
  });

  it('names what cannot be exported: the in-process guardrail, an unknown target', () => {
    const guarded = exportChatflow(JSON.stringify(ragFlowData(true)), { targets: ['gmc'], chatflowName: 'OPEA RAG' });
    assert.equal(guarded.bundle, null);
    const rail = guarded.problems.items.find((p) => /runs only inside/.test(p.message));
    assert.ok(rail, JSON.stringify(guarded.problems.items));
    assert.equal(rail.label, 'OPEA Guardrail (opeaGuardrail_0)', 'the chatflow node, by its canvas label and id');
    assert.match(rail.message, /runs only inside Flowise/);
    assert.equal(rail.fix, "remove this node from the chatflow to export the rest (Flowise's OPEA nodes have no external URL setting)");
    const bad = exportChatflow(flowData, { targets: ['kustomize' as never] });
    assert.match(bad.problems.items[0].message, /not an export target/);
  });
});

describe('Flowise ending nodes', function () {
  this.timeout(60000);
  let server: ProtocolServer;
  before(async () => {
    server = await ProtocolServer.start({ chunkBoundary: 'whole' });
  });
  after(() => server.close());

  it('OPEA Exporter exports the chatflow it reads from Flowise\'s database', async () => {
    const node = new Exporter();
    await node.init();
    const saved = { id: 'cf-1', name: 'OPEA RAG', flowData: JSON.stringify(ragFlowData()) };
    const options = {
      chatflowid: 'cf-1',
      databaseEntities: { ChatFlow: 'ChatFlowEntity' },
      appDataSource: { getRepository: (entity: string) => ({ findOneBy: async (where: { id: string }) => (entity === 'ChatFlowEntity' && where.id === saved.id ? saved : null) }) },
    };
    const result = (await node.run(nodeData(node, { targets: '["gmc","compose"]', platform: 'xeon' }), 'export', options)) as ICommonObject;
    assert.match(result.text, /Exported 'OPEA RAG' to gmc, compose/);
    assert.ok(result.files['gmc/opea-rag.yaml']);
    assert.ok(result.files['compose/compose.yaml']);
    assert.ok(!result.files['ansible/site.yml']);
    const guarded = (await node.run(nodeData(node, { targets: ['gmc'] }), 'export', { ...options, appDataSource: { getRepository: () => ({ findOneBy: async () => ({ ...saved, flowData: JSON.stringify(ragFlowData(true)) }) }) } })) as ICommonObject;
    assert.match(guarded.text, /cannot be exported:\n- OPEA Guardrail \(opeaGuardrail_0\): the rule-based guardrail runs only inside Flowise/);
    await assert.rejects(node.run(nodeData(node, { chatflowId: 'nope' }), '', options), /no chatflow with id nope/);
  });

  it('OPEA Evaluator scores the connected retriever and chat model', async () => {
    const emb = await new Embeddings().init(nodeData(new Embeddings(), { backend: 'tei', baseUrl: server.url }), '', {});
    const retriever = await new Retriever().init(nodeData(new Retriever(), { embeddings: emb, topK: 2, baseUrl: server.url }), '', {});
    const model = await new ChatModel().init(nodeData(new ChatModel(), { backend: 'tgi', baseUrl: server.url, streaming: false }), '', {});
    const node = new Evaluator();
    await node.init();
    const dataset = JSON.stringify([
      { question: 'Say hello', reference: 'Hello, wörld 🌍!' },
      { question: 'Greet me', reference: 'Goodbye' },
    ]);
    const result = (await node.run(nodeData(node, { model, retriever, dataset, metrics: '["exact_match","f1"]' }), '')) as ICommonObject;
    assert.match(result.text, /^Evaluated 2 rows\.\nCalls: 2 to the chat model, 2 to the retriever\.\n/);
    assert.deepEqual(result.calls, { chat: 2, retriever: 2 });
    assert.deepEqual(result.samples.map((s: ICommonObject) => [s.chatCalls, s.retrieverCalls]), [[1, 1], [1, 1]]);
    assert.equal(result.aggregate.exact_match.mean, 0.5);
    assert.equal(result.samples[0].contexts.length, 2);
    await assert.rejects(node.run(nodeData(node, { dataset, metrics: '["nope"]' }), ''), /^Error: OPEA Evaluator \(opeaEvaluator_0\): unknown metrics nope/);
  });

  it('OPEA Evaluator says which row fields the connected nodes replaced, and names unknown row keys', async () => {
    const model = await new ChatModel().init(nodeData(new ChatModel(), { backend: 'extractive', streaming: false }), '', {});
    const node = new Evaluator();
    const rows = [{ question: 'Say hello', answer: 'Hello', contexts: ['Hello is a greeting.'], reference: 'Hello' }, { question: 'Greet me', reference: 'Hi' }];
    const result = (await node.run(nodeData(node, { model, dataset: JSON.stringify(rows), metrics: '["f1"]' }), '')) as ICommonObject;
    assert.match(result.text, /The answer of 1 row was replaced by the chat model's answer \(disconnect the chat model to score the dataset's answers\)\./);
    assert.doesNotMatch(result.text, /contexts of/, 'no retriever connected: the rows keep their contexts');
    assert.deepEqual(result.calls, { chat: 2, retriever: 0 });
    const unscored = (await node.run(nodeData(node, { dataset: JSON.stringify(rows), metrics: '["f1"]' }), '')) as ICommonObject;
    assert.match(unscored.text, /Calls: 0 to the chat model, 0 to the retriever\.\n\n/, 'nothing connected: nothing replaced, nothing called');
    const ragas = '{"user_input": "Say hello", "ground_truth": "Hello"}';
    await assert.rejects(node.run(nodeData(node, { dataset: ragas }), ''), /^Error: OPEA Evaluator \(opeaEvaluator_0\): row 1 \(line 1\): unknown fields user_input, ground_truth \(expected id, question, answer, contexts, reference, reference_contexts\); user_input is called question here, ground_truth is called reference here$/);
  });

  it('OPEA Benchmark measures an OpenAI-compatible server', async () => {
    const node = new Benchmark();
    await node.init();
    const result = (await node.run(nodeData(node, { targetUrl: server.url, targetKind: 'openai', modelName: 'm', requests: 4, concurrency: 2, prompts: 'one\ntwo' }), '')) as ICommonObject;
    assert.equal(result.metrics.completed, 4);
    assert.equal(result.metrics.failed, 0);
    assert.match(result.text, /4 completed, 0 failed/);
    await assert.rejects(node.run(nodeData(node, { targetUrl: server.url, targetKind: 'grpc' }), ''), /OPEA Benchmark \(opeaBenchmark_0\): Target Kind 'grpc' is not one of/);
  });
});
