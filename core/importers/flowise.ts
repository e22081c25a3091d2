/**
 * Flowise chatflows and GenAI Studio workflows (a Flowise-format `{nodes, edges}` with
 * `opea_service@...` nodes) -> Node-RED flow JSON.
 *
 * GenAI Studio wires its OPEA services into a chain (chat_input -> embedding -> retriever -> reranking
 * -> llm -> chat_completion), which is followed as it is. A Flowise chatflow instead feeds components
 * into a chain node as inputs (embeddings -> vector store -> chain <- chat model): there the stages are
 * ordered as the OPEA contract orders them (embedding, retriever, rerank, llm). Glue that has no stage
 * of its own (chains, prompts, memory, splitters, loaders, vector stores a retriever already stands
 * for, UI controls) is absorbed; anything else is listed, every node at once, as a problem.
 */
import crypto from 'node:crypto';
import { findBackend } from '../catalog';
import { Kind } from '../model';
import { oneLine, ProblemList } from '../problems';

type Json = Record<string, unknown>;
type FlowNode = Json & { id: string; type: string };

interface SourceNode {
  id: string;
  data: { name?: string; label?: string; category?: string; inputs?: Json };
}

interface Mapping {
  type: string;
  kind: Kind;
  backend: string;
  /** Our property <- the source's input name. */
  params?: Record<string, string>;
}

const MAPPINGS: Record<string, Mapping> = {
  'opea_service@embedding_tei_langchain': { type: 'opea-embedding', kind: 'embedding', backend: 'tei' },
  'opea_service@retriever_redis': { type: 'opea-retriever', kind: 'retriever', backend: 'redis', params: { searchType: 'search_type', k: 'k' } },
  'opea_service@reranking_tei': { type: 'opea-rerank', kind: 'rerank', backend: 'tei', params: { topN: 'top_n' } },
  'opea_service@llm_tgi': { type: 'opea-llm', kind: 'llm', backend: 'tgi', params: { maxTokens: 'max_tokens', topK: 'top_k', topP: 'top_p', temperature: 'temperature', streaming: 'streaming' } },
  'opea_service@prepare_doc_redis_prep': { type: 'opea-dataprep', kind: 'dataprep', backend: 'redis' },
  openAIEmbeddings: { type: 'opea-embedding', kind: 'embedding', backend: 'openai' },
  localAIEmbeddings: { type: 'opea-embedding', kind: 'embedding', backend: 'openai' },
  ollamaEmbedding: { type: 'opea-embedding', kind: 'embedding', backend: 'ollama' },
  huggingFaceInferenceEmbeddings: { type: 'opea-embedding', kind: 'embedding', backend: 'tei' },
  faiss: { type: 'opea-retriever', kind: 'retriever', backend: 'memory', params: { k: 'topK' } },
  memoryVectorStore: { type: 'opea-retriever', kind: 'retriever', backend: 'memory', params: { k: 'topK' } },
  redis: { type: 'opea-retriever', kind: 'retriever', backend: 'redis', params: { k: 'topK', indexName: 'indexName' } },
  chatOpenAI: { type: 'opea-llm', kind: 'llm', backend: 'openai', params: { temperature: 'temperature', maxTokens: 'maxTokens', topP: 'topP' } },
  chatLocalAI: { type: 'opea-llm', kind: 'llm', backend: 'openai', params: { temperature: 'temperature', maxTokens: 'maxTokens', topP: 'topP' } },
  chatOllama: { type: 'opea-llm', kind: 'llm', backend: 'ollama', params: { temperature: 'temperature', topP: 'topP', topK: 'topK' } },
};

/** Nodes with no stage of their own: what they do is part of a stage, of the entry or of the exit. */
const ABSORBED = new Set([
  'chat_input', 'chat_completion', 'doc_input', 'redis_vector_store',
  'conversationalRetrievalQAChain', 'retrievalQAChain', 'recursiveCharacterTextSplitter', 'characterTextSplitter',
  'textFile', 'pdfFile', 'plainText', 'bufferMemory', 'promptTemplate', 'chatPromptTemplate',
]);

const CONTRACT_ORDER: Kind[] = ['guardrail', 'embedding', 'retriever', 'rerank', 'llm'];

function id(seed: string): string {
  return crypto.createHash('sha1').update(seed).digest('hex').slice(0, 16);
}

function params(mapping: Mapping, inputs: Json): Json {
  const out: Json = {};
  for (const [ours, theirs] of Object.entries(mapping.params ?? {})) {
    const value = inputs[theirs];
    if (value !== undefined && value !== '' && value !== null) out[ours] = value;
  }
  return out;
}

/** A parsed `{nodes, edges}` document -> Node-RED flow JSON, or null with every problem added. */
export function flowiseToFlow(doc: unknown, fileName: string, problems: ProblemList): FlowNode[] | null {
  const source = doc as { nodes?: unknown; edges?: unknown };
  if (!Array.isArray(source.nodes) || !Array.isArray(source.edges)) {
    problems.add('', fileName, 'this is not a Flowise chatflow ({nodes, edges})', 'export the chatflow from Flowise or GenAI Studio');
    return null;
  }
  const nodes = source.nodes.filter((n): n is SourceNode => !!n && typeof n === 'object' && typeof (n as SourceNode).id === 'string' && !!(n as SourceNode).data);
  const edges = source.edges.filter((e): e is { source: string; target: string } => !!e && typeof (e as Json).source === 'string' && typeof (e as Json).target === 'string');
  const before = problems.items.length;
  const stages = new Map<string, { node: SourceNode; mapping: Mapping }>();
  for (const node of nodes) {
    const name = String(node.data.name ?? '');
    const mapping = MAPPINGS[name];
    if (mapping) stages.set(node.id, { node, mapping });
    else if (!ABSORBED.has(name)) {
      problems.add(node.id, String(node.data.label ?? name), `a ${oneLine(name, 60)} node (${oneLine(String(node.data.category ?? 'uncategorised'), 40)}) has no pipeline stage here`, 'remove it, or rebuild that step with an opea- node after import');
    }
  }
  if (problems.items.length > before) return null;

  const tab = id(`${fileName}/tab`);
  const flow: FlowNode[] = [{ id: tab, type: 'tab', label: fileName.replace(/\.[^.]+$/, '').replace(/.*[\\/]/, ''), disabled: false, info: `Imported from ${fileName}.` }];
  const toNode = (stage: { node: SourceNode; mapping: Mapping }, x: number, y: number): FlowNode => {
    const inputs = stage.node.data.inputs ?? {};
    const needsModel = findBackend(stage.mapping.kind, stage.mapping.backend)?.needsModel ?? false;
    const model = needsModel && typeof inputs.modelName === 'string' && inputs.modelName !== '' ? { model: inputs.modelName } : {};
    return { id: id(`${fileName}/${stage.node.id}`), type: stage.mapping.type, z: tab, name: '', backend: stage.mapping.backend, ...model, ...params(stage.mapping, inputs), configVersion: 1, x, y, wires: [[]] };
  };

  // Query stages: the chain their edges form when they form one (GenAI Studio), else the contract order.
  const query = [...stages.values()].filter((s) => s.mapping.kind !== 'dataprep');
  const next = new Map(edges.filter((e) => stages.has(e.source) && stages.has(e.target)).map((e) => [e.source, e.target]));
  const start = query.find((s) => !edges.some((e) => e.target === s.node.id && stages.has(e.source) && stages.get(e.source)?.mapping.kind !== 'dataprep'));
  const chained: typeof query = [];
  for (let s = start; s && !chained.includes(s); s = stages.get(next.get(s.node.id) ?? '')) chained.push(s);
  const ordered = chained.length === query.length ? chained : [...query].sort((a, b) => CONTRACT_ORDER.indexOf(a.mapping.kind) - CONTRACT_ORDER.indexOf(b.mapping.kind));

  const entry: FlowNode = { id: id(`${fileName}/entry`), type: 'http in', z: tab, name: 'POST /', url: '/', method: 'post', upload: false, swaggerDoc: '', x: 120, y: 100, wires: [[]] };
  const exit: FlowNode = { id: id(`${fileName}/exit`), type: 'http response', z: tab, name: 'answer', statusCode: '', headers: {}, x: 320 + 200 * ordered.length, y: 100 };
  flow.push(entry);
  let previous = entry;
  ordered.forEach((stage, i) => {
    const node = toNode(stage, 320 + 200 * i, 100);
    (previous.wires as string[][])[0].push(node.id);
    flow.push(node);
    previous = node;
  });
  (previous.wires as string[][])[0].push(exit.id);
  flow.push(exit);

  [...stages.values()].filter((s) => s.mapping.kind === 'dataprep').forEach((stage, i) => {
    const y = 260 + 90 * i;
    const dp = toNode(stage, 320, y);
    const ingest: FlowNode = { id: id(`${fileName}/${stage.node.id}/in`), type: 'http in', z: tab, name: 'POST /dataprep', url: '/dataprep', method: 'post', upload: true, swaggerDoc: '', x: 120, y, wires: [[dp.id]] };
    const done: FlowNode = { id: id(`${fileName}/${stage.node.id}/out`), type: 'http response', z: tab, name: 'ingested', statusCode: '', headers: {}, x: 520, y };
    (dp.wires as string[][])[0].push(done.id);
    flow.push(ingest, dp, done);
  });
  return flow;
}
