import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { toNodeRedFlow } from '../../core/importers';
import { loadPipeline } from '../../core/pipeline';
import { formatProblem, ProblemList } from '../../core/problems';
import { exportPipeline, TARGETS } from '../../exporters';
import { gmcShape } from '../support/gmc-shape';
import { REFERENCE_DIR } from '../support/reference';

type Node = Record<string, unknown>;
const reference = (rel: string) => fs.readFileSync(path.join(REFERENCE_DIR, rel), 'utf8');

function imported(text: string, name: string): Node[] {
  const { flow, format, problems } = toNodeRedFlow(text, name);
  assert.deepEqual(problems.items.map(formatProblem), []);
  assert.equal(format, 'flowise');
  return flow as Node[];
}

/** The opea- nodes from the entry onwards, following the first wire. */
function chain(flow: Node[]): Node[] {
  const byId = new Map(flow.map((n) => [n.id, n]));
  const out: Node[] = [];
  let node = flow.find((n) => n.type === 'http in' && n.url === '/');
  while (node && Array.isArray(node.wires) && (node.wires as string[][])[0]?.length) {
    node = byId.get((node.wires as string[][])[0][0]);
    if (node && String(node.type).startsWith('opea-')) out.push(node);
  }
  return out;
}

describe('importers: GenAI Studio and Flowise -> flow', () => {
  it('GenAI Studio ChatQnA: its wired chain, models and parameters, deployable backends; exports to every target', () => {
    const flow = imported(reference('genaistudio/chatqna_workflow.json'), 'chatqna_workflow.json');
    assert.deepEqual(chain(flow).map((n) => `${n.type}/${n.backend}/${n.model ?? ''}`), [
      'opea-embedding/tei/BAAI/bge-large-en-v1.5',
      'opea-retriever/redis/',
      'opea-rerank/tei/BAAI/bge-reranker-base',
      'opea-llm/tgi/Intel/neural-chat-7b-v3-3',
    ]);
    const llm = chain(flow)[3];
    assert.deepEqual([llm.maxTokens, llm.topK, llm.topP, llm.temperature, llm.streaming], [17, 10, 0.95, 0.01, true]);
    assert.equal(chain(flow)[1].searchType, 'similarity');
    assert.equal(chain(flow)[2].topN, 1);
    assert.deepEqual(flow.filter((n) => n.type === 'opea-dataprep').map((n) => n.backend), ['redis']);
    const { pipeline, problems } = loadPipeline(flow);
    assert.deepEqual(problems.items.map(formatProblem), []);
    const exportProblems = new ProblemList();
    const bundle = exportPipeline(pipeline, TARGETS, { platform: 'xeon', name: 'studio', namespace: 'studio' }, exportProblems) as Record<string, string>;
    assert.deepEqual(exportProblems.items.map(formatProblem), []);
    assert.ok(bundle['compose/compose.yaml'] && bundle['ansible/site.yml']);
    const steps = gmcShape(yaml.load(bundle['gmc/studio.yaml']) as Node).steps;
    assert.deepEqual(steps.map((s) => s.name), ['Embedding', 'TeiEmbedding', 'Retriever', 'VectorDB', 'Reranking', 'TeiReranking', 'Llm', 'Tgi', 'DataPrep']);
    assert.ok(steps.every((s) => !s.external));
  });

  it('Flowise Local QnA: contract order from "used by" edges, an ingest chain from loader and splitter, base URLs as server nodes', () => {
    const flow = imported(reference('flowise/local_qna_chatflow.json'), 'Local QnA.json');
    assert.equal(flow[0].label, 'Local QnA');
    assert.deepEqual(chain(flow).map((n) => `${n.type}/${n.backend}/${n.model ?? ''}`), ['opea-embedding/openai/text-embedding-ada-002', 'opea-retriever/memory/', 'opea-llm/ollama/llama2']);
    assert.equal(chain(flow)[2].temperature, 0.9);
    const servers = flow.filter((n) => n.type === 'opea-server');
    assert.deepEqual(servers.map((s) => s.baseUrl), ['http://localhost:8080/v1', 'http://localhost:11434']);
    assert.equal(chain(flow)[0].server, servers[0].id);
    assert.equal(chain(flow)[2].server, servers[1].id);
    const dp = flow.filter((n) => n.type === 'opea-dataprep');
    assert.deepEqual(dp.map((n) => [n.backend, n.chunkSize, n.chunkOverlap]), [['memory', 1000, undefined]]);
    const { pipeline, problems } = loadPipeline(flow);
    assert.deepEqual(problems.items.map(formatProblem), []);
    assert.deepEqual(pipeline.graph.components.map((c) => `${c.kind}/${c.backend}`), ['embedding/openai', 'retriever/memory', 'llm/ollama', 'dataprep/memory']);
    // GMC cannot deploy these backends: the export says so for each of them.
    const exportProblems = new ProblemList();
    assert.equal(exportPipeline(pipeline, ['gmc'], { platform: 'xeon', name: 'q', namespace: 'q' }, exportProblems), null);
    assert.equal(exportProblems.items.length, 4);
  });

  it('the order does not depend on the order of nodes in the file', () => {
    const doc = JSON.parse(reference('flowise/local_qna_chatflow.json')) as { nodes: Node[] };
    doc.nodes.reverse();
    const flow = imported(JSON.stringify(doc), 'r.json');
    assert.deepEqual(chain(flow).map((n) => n.type), ['opea-embedding', 'opea-retriever', 'opea-llm']);
  });

  it('ids are deterministic 16-hex ids, every node on the tab', () => {
    const text = reference('genaistudio/chatqna_workflow.json');
    const a = imported(text, 'w.json');
    assert.deepEqual(imported(text, 'w.json'), a);
    assert.ok(a.every((n) => /^[0-9a-f]{16}$/.test(String(n.id))));
    assert.ok(a.slice(1).every((n) => n.z === a[0].id));
    assert.equal(new Set(a.map((n) => n.id)).size, a.length);
  });

  it('lists every node it cannot map, in one go, with the Flowise id, label and what would work', () => {
    const doc = JSON.parse(reference('flowise/local_qna_chatflow.json')) as { nodes: Node[] };
    doc.nodes.push(
      { id: 'calc_0', data: { name: 'calculator', label: 'Calculator', category: 'Tools' } },
      { id: 'cohere_0', data: { name: 'cohereEmbeddings', label: 'Cohere Embeddings', category: 'Embeddings' } },
      { id: 'proto_0', data: { name: 'constructor', label: 'Odd', category: 'Utilities' } },
      { id: 'pdf_0', data: { name: 'pdfFile', label: 'Pdf File', category: 'Document Loaders' } },
      { id: 'agent_0', data: { name: 'toolAgent', label: 'Tool Agent', category: 'Agents' } },
    );
    const { flow, problems } = toNodeRedFlow(JSON.stringify(doc), 'x.json');
    assert.equal(flow, null);
    assert.deepEqual(problems.items.map((p) => `${p.nodeId} ${p.label}`), ['calc_0 Calculator', 'cohere_0 Cohere Embeddings', 'proto_0 Odd', 'agent_0 Tool Agent', 'pdf_0 Pdf File']);
    assert.equal(formatProblem(problems.items[0]), "node calc_0 (Calculator): a 'calculator' node (Tools) has no pipeline stage here — a pipeline of embedding, retrieval, rerank and LLM stages calls no tools: remove it");
    assert.match(problems.items[1].fix, /HuggingFace Inference \(tei\) embeddings/);
    assert.match(problems.items[4].message, /document loader 'pdfFile' feeds no vector store/);
  });

  it('two chat models feeding one chain cannot be ordered: the second is named', () => {
    const doc = JSON.parse(reference('flowise/local_qna_chatflow.json')) as { nodes: Node[] };
    doc.nodes.push({ id: 'chatOpenAI_0', data: { name: 'chatOpenAI', label: 'ChatOpenAI', category: 'Chat Models', inputs: { modelName: 'gpt-4o-mini' } } });
    const { problems } = toNodeRedFlow(JSON.stringify(doc), 'x.json');
    assert.deepEqual(problems.items.map((p) => p.nodeId), ['chatOpenAI_0']);
    assert.match(problems.items[0].message, /a second llm stage besides ChatOllama \(chatOllama_0\)/);
  });

  it('refuses a chatflow with nothing to map, and malformed nodes, each named', () => {
    const empty = toNodeRedFlow(JSON.stringify({ nodes: [], edges: [] }), 'e.json');
    assert.equal(empty.flow, null);
    assert.match(formatProblem(empty.problems.items[0]), /no embedding, vector store, reranker or chat model/);
    const bad = toNodeRedFlow(JSON.stringify({ nodes: [null, { id: 'a' }, { id: 'b', data: { name: 'chatOllama' } }, { id: 'b', data: {} }], edges: [null, 7] }), 'b.json');
    assert.deepEqual(bad.problems.items.map((p) => `${p.nodeId}|${p.label}`), ['|nodes[0]', 'a|a', 'b|b']);
  });
});
