/**
 * Flowise chatflows and GenAI Studio workflows -> Node-RED flow JSON.
 *
 * Both are a JSON object `{nodes, edges}` (GenAI Studio is built on Flowise): a node is
 * `{id, data: {name, label, category, inputs, ...}}`, where `data.name` is the component type (the
 * mapping key here), `data.label` what the canvas shows, `data.category` its palette group, and
 * `data.inputs` its settings (a value `{{<id>.data.instance}}` is a reference to another node). An
 * edge `{source, target, sourceHandle, targetHandle}` feeds `source` into the input named in
 * `targetHandle` (`<target>-input-<input name>-<types>`).
 *
 * Two ways of wiring, one rule for the order of our stages:
 * - GenAI Studio wires its OPEA services as a chain that follows the request (chat_input -> embedding
 *   -> retriever -> reranking -> llm -> chat_completion). When the edges between mapped stages form one
 *   such chain, it is taken as it is.
 * - A Flowise chatflow wires components *into* a chain node as its inputs (embeddings -> vector store
 *   -> chain <- chat model): the arrows say "is used by", not "runs before". There the stages are put
 *   in the order the OPEA contract runs them, which is the order a retrieval chain uses them in:
 *   guardrail, embedding (the query is embedded), retriever (the vector store searched with that
 *   embedding), rerank, llm (the chat model answers from the documents).
 *
 * Mapping, with the best backend for each source: OPEA services to what GMC deploys (embedding tei,
 * retriever redis, reranking tei, llm tgi, dataprep redis: GenAI Studio's services are exactly those
 * microservices, so the flow exports without externalUrl), OpenAI-compatible components (OpenAI,
 * Azure OpenAI, LocalAI) to openai, Ollama to ollama, HuggingFace Inference to tei / tgi, in-memory
 * vector stores (Faiss, In-Memory) to memory, Redis to redis. Model names and parameters (k/topK,
 * search type, top_n, temperature, max tokens, top p, top k, repeat penalty, streaming) are carried
 * over where the source has them; a base URL becomes an opea-server config node. GenAI Studio's
 * retriever `modelName` is the embedding model the retriever would use itself: our retriever takes
 * the embedding from the stage before it, so it is not carried.
 *
 * This pack's own Flowise nodes (flowise/nodes) map one to one, the backend read from their Backend
 * input: opeaEmbeddings, opeaRetriever (redis), opeaRerankRetriever, opeaChatModel, opeaGuardrail
 * (the in-process rule checks, which only Node-RED and Flowise run). Its ending nodes (exporter,
 * evaluator, benchmark) are tools, not stages, and are absorbed like glue.
 *
 * Not stages: glue is absorbed with no node (chains, prompts, memory, caches, output parsers, sticky
 * notes, GenAI Studio's chat input/output controls and its Redis vector store, which only stands for
 * the index between dataprep and retriever). Document loaders and text splitters that feed a vector
 * store become an ingest chain `http in /dataprep -> opea-dataprep -> http response` writing that
 * store's index (chunk size and overlap from the splitter). Any other node is listed in one problem
 * list, each with what would work instead, and no flow is returned.
 */
import { findBackend } from '../catalog';
import { isHttpUrl } from '../flow-json';
import { Kind } from '../model';
import { oneLine, ProblemList } from '../problems';
import { baseName, column, CONTRACT_ORDER, FlowNode, httpIn, httpResponse, isObject, Json, nodeId, own, row, tabNode, text, wire } from './common';

interface SourceNode {
  id: string;
  name: string;
  label: string;
  category: string;
  inputs: Json;
}

interface Mapping {
  type: string;
  kind: Kind;
  backend: string;
  /** Our property <- the source's input names (the first one present wins). */
  params?: Record<string, string[]>;
  /** The source's input that names the backend (our own Flowise nodes), used when it is one the catalog knows. */
  backendInput?: string;
  /** Settings the source node has no input for but always means (our Flowise guardrail runs only these checks). */
  fixed?: Json;
}

const RETRIEVER_PARAMS = { searchK: ['k', 'topK', 'top_k'], searchType: ['search_type', 'searchType'] };
const LLM_PARAMS = {
  temperature: ['temperature'],
  maxTokens: ['maxTokens', 'max_tokens', 'maxNewTokens', 'max_new_tokens'],
  topP: ['topP', 'top_p'],
  topK: ['topK', 'top_k', 'hfTopK'],
  repetitionPenalty: ['repetition_penalty', 'repeatPenalty', 'repetitionPenalty'],
  streaming: ['streaming'],
};

const stage = (type: string, kind: Kind, backend: string, params?: Record<string, string[]>): Mapping => ({ type, kind, backend, params });
const embedding = (backend: string) => stage('opea-embedding', 'embedding', backend);
const retriever = (backend: string, extra: Record<string, string[]> = {}) => stage('opea-retriever', 'retriever', backend, { ...RETRIEVER_PARAMS, ...extra });
const llm = (backend: string) => stage('opea-llm', 'llm', backend, LLM_PARAMS);
/** This pack's own Flowise nodes (flowise/nodes): the backend is an input of the node. */
const ours = (mapping: Mapping, params: Record<string, string[]> = {}): Mapping => ({ ...mapping, params: { ...mapping.params, ...params }, backendInput: 'backend' });

/** Components by `data.name`. */
const MAPPINGS: Record<string, Mapping> = {
  // GenAI Studio's OPEA services: what GMC deploys
  'opea_service@embedding_tei_langchain': embedding('tei'),
  'opea_service@retriever_redis': retriever('redis'),
  'opea_service@reranking_tei': stage('opea-rerank', 'rerank', 'tei', { topN: ['top_n', 'topN'] }),
  'opea_service@llm_tgi': llm('tgi'),
  'opea_service@prepare_doc_redis_prep': stage('opea-dataprep', 'dataprep', 'redis', { chunkSize: ['chunk_size'], chunkOverlap: ['chunk_overlap'] }),
  // This pack's Flowise nodes (flowise/nodes/*.ts)
  opeaEmbeddings: ours(embedding('tei'), { dimensions: ['dimensions'] }),
  opeaRetriever: retriever('redis', { indexName: ['indexName'], scoreThreshold: ['scoreThreshold'], fetchK: ['fetchK'], lambdaMult: ['lambdaMult'] }),
  opeaRerankRetriever: ours(stage('opea-rerank', 'rerank', 'tei', { topN: ['topN', 'top_n'] })),
  opeaChatModel: ours(llm('tgi')),
  opeaGuardrail: {
    ...ours(stage('opea-guardrail', 'guardrail', 'local', { pii: ['pii'], secrets: ['secrets'], injection: ['injection'], banned: ['banned'], bannedWords: ['bannedWords'] })),
    fixed: { position: 'input', characters: 'off', limits: 'off', schema: 'off', remote: 'off' },
  },
  // Flowise embeddings
  openAIEmbeddings: embedding('openai'),
  azureOpenAIEmbeddings: embedding('openai'),
  localAIEmbeddings: embedding('openai'),
  ollamaEmbedding: embedding('ollama'),
  huggingFaceInferenceEmbeddings: embedding('tei'),
  // Flowise vector stores (each is also the retriever of a retrieval chain)
  faiss: retriever('memory'),
  memoryVectorStore: retriever('memory'),
  redis: retriever('redis', { indexName: ['indexName'] }),
  // Flowise chat models and LLMs
  chatOpenAI: llm('openai'),
  azureChatOpenAI: llm('openai'),
  chatLocalAI: llm('openai'),
  openAI: llm('openai'),
  chatOllama: llm('ollama'),
  ollama: llm('ollama'),
  chatHuggingFace: llm('tgi'),
  huggingFaceInference_LLMs: llm('tgi'),
};

/** GenAI Studio services not in the table, by what their name says. */
const OPEA_SERVICE_PATTERNS: [RegExp, Mapping][] = [
  [/prep/i, MAPPINGS['opea_service@prepare_doc_redis_prep']],
  [/guardrail/i, stage('opea-guardrail', 'guardrail', 'opea')],
  [/embedding/i, embedding('tei')],
  [/retriever/i, retriever('redis')],
  [/rerank/i, MAPPINGS['opea_service@reranking_tei']],
  [/vllm/i, llm('vllm')],
  [/llm/i, llm('tgi')],
];

/** Glue with no stage of its own, by name (GenAI Studio controls and store) and by Flowise category. */
const GLUE_NAMES = new Set(['chat_input', 'chat_completion', 'doc_input', 'redis_vector_store', 'stickyNote', 'opeaExporter', 'opeaEvaluator', 'opeaBenchmark']);
const GLUE_CATEGORIES = new Set(['Chains', 'Prompts', 'Memory', 'Cache', 'Output Parsers', 'Controls']);
/** Ingest-side components: they become the ingest chain of the vector store they feed. */
const INGEST_CATEGORIES = new Set(['Document Loaders', 'Text Splitters']);

/** What would work instead, by Flowise category. */
const SUGGESTIONS: Record<string, string> = {
  Embeddings: 'use OpenAI / Azure OpenAI / LocalAI (openai), Ollama (ollama) or HuggingFace Inference (tei) embeddings, or an opea-embedding node after import',
  'Chat Models': 'use ChatOpenAI / Azure ChatOpenAI / ChatLocalAI (openai), ChatOllama (ollama) or ChatHuggingFace (tgi), or an opea-llm node after import',
  LLMs: 'use OpenAI (openai), Ollama (ollama) or HuggingFace Inference (tgi), or an opea-llm node after import',
  'Vector Stores': 'use Redis (redis), Faiss or In-Memory Vector Store (memory), or an opea-retriever node after import',
  Retrievers: 'connect the vector store to the chain directly; rerank with an opea-rerank node after import',
  Moderation: 'check input or output with an opea-guardrail node (llamaguard) after import',
  Tools: 'a pipeline of embedding, retrieval, rerank and LLM stages calls no tools: remove it',
  Agents: 'agents decide at run time which tool to call, which a fixed pipeline cannot: use a retrieval QA chain',
};

function mappingOf(node: SourceNode): Mapping | undefined {
  const known = own(MAPPINGS, node.name);
  if (known) return known;
  if (node.name.startsWith('opea_service@')) return OPEA_SERVICE_PATTERNS.find(([re]) => re.test(node.name))?.[1];
  return undefined;
}

/** A set input value: not empty, not a reference to another node. */
function inputValue(inputs: Json, names: string[]): unknown {
  for (const name of names) {
    const value = own(inputs, name);
    if (value === undefined || value === null || value === '') continue;
    if (typeof value === 'string' && value.includes('{{')) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  }
  return undefined;
}

function readNodes(raw: unknown[], problems: ProblemList): SourceNode[] {
  const nodes: SourceNode[] = [];
  const seen = new Set<string>();
  raw.forEach((item, i) => {
    const data = isObject(item) && isObject(item.data) ? item.data : null;
    const id = isObject(item) ? text(item.id) : undefined;
    if (!data || !id) {
      problems.add(id ?? '', id ?? `nodes[${i}]`, 'this element is not a chatflow node (it needs a string id and a data object)', 'export the chatflow again from Flowise or GenAI Studio');
      return;
    }
    if (seen.has(id)) {
      problems.add(id, text(data.label) ?? id, 'two nodes share this id', 'export the chatflow again; node ids must be unique');
      return;
    }
    seen.add(id);
    const name = text(data.name) ?? '';
    nodes.push({ id, name, label: text(data.label) || name || id, category: text(data.category) ?? '', inputs: isObject(data.inputs) ? data.inputs : {} });
  });
  return nodes;
}

/** A parsed `{nodes, edges}` document -> Node-RED flow JSON, or null with every problem added. */
export function flowiseToFlow(doc: unknown, fileName: string, problems: ProblemList): FlowNode[] | null {
  const source = isObject(doc) ? doc : {};
  if (!Array.isArray(source.nodes) || !Array.isArray(source.edges)) {
    problems.add('', fileName, 'this is not a Flowise chatflow ({nodes, edges})', 'export the chatflow from Flowise or GenAI Studio');
    return null;
  }
  const before = problems.items.length;
  const nodes = readNodes(source.nodes, problems);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const edges = source.edges
    .filter((e): e is Json => isObject(e) && typeof e.source === 'string' && typeof e.target === 'string')
    .map((e) => ({ source: e.source as string, target: e.target as string }))
    .filter((e) => byId.has(e.source) && byId.has(e.target));
  const inputsOf = (id: string) => edges.filter((e) => e.target === id).map((e) => byId.get(e.source) as SourceNode);

  const stages = new Map<string, Mapping>();
  for (const node of nodes) {
    const mapping = mappingOf(node);
    if (mapping) stages.set(node.id, mapping);
    else if (GLUE_NAMES.has(node.name) || GLUE_CATEGORIES.has(node.category) || INGEST_CATEGORIES.has(node.category)) continue;
    else {
      const what = node.name ? `a '${oneLine(node.name, 60)}' node` : 'a node without a component name';
      const category = node.category ? ` (${oneLine(node.category, 40)})` : '';
      problems.add(node.id, node.label, `${what}${category} has no pipeline stage here`, own(SUGGESTIONS, node.category) ?? 'remove it, or rebuild that step with an opea- node after import');
    }
  }
  // Loaders and splitters only make sense feeding a vector store: anywhere else they are listed too.
  const loaderFeeds = new Map<string, SourceNode[]>();
  for (const node of nodes.filter((n) => n.category === 'Document Loaders')) {
    const stores = edges.filter((e) => e.source === node.id && stages.get(e.target)?.kind === 'retriever').map((e) => e.target);
    if (stores.length === 0) {
      problems.add(node.id, node.label, `document loader '${oneLine(node.name, 60)}' feeds no vector store`, 'wire it into a vector store (it then becomes the ingest chain), or remove it');
    }
    for (const store of stores) loaderFeeds.set(store, [...(loaderFeeds.get(store) ?? []), node]);
  }
  for (const node of nodes.filter((n) => n.category === 'Text Splitters')) {
    if (!edges.some((e) => e.source === node.id && byId.get(e.target)?.category === 'Document Loaders')) {
      problems.add(node.id, node.label, `text splitter '${oneLine(node.name, 60)}' feeds no document loader`, 'wire it into the document loader of a vector store, or remove it');
    }
  }

  // The query path: every mapped stage but dataprep, chained as wired when the edges chain them all.
  const query = nodes.filter((n) => stages.has(n.id) && stages.get(n.id)?.kind !== 'dataprep');
  const isQuery = (id: string) => query.some((q) => q.id === id);
  const next = new Map<string, string[]>();
  for (const e of edges) if (isQuery(e.source) && isQuery(e.target)) next.set(e.source, [...(next.get(e.source) ?? []), e.target]);
  const starts = query.filter((q) => !edges.some((e) => e.target === q.id && isQuery(e.source)));
  const chained: SourceNode[] = [];
  if (starts.length === 1) {
    for (let s: SourceNode | undefined = starts[0]; s && !chained.includes(s); ) {
      chained.push(s);
      const outs: string[] = next.get(s.id) ?? [];
      s = outs.length === 1 ? byId.get(outs[0]) : undefined;
    }
  }
  const kindOf = (n: SourceNode) => (stages.get(n.id) as Mapping).kind;
  let ordered: SourceNode[];
  if (chained.length === query.length) {
    ordered = chained;
  } else {
    ordered = [...query].sort((a, b) => CONTRACT_ORDER.indexOf(kindOf(a)) - CONTRACT_ORDER.indexOf(kindOf(b)));
    for (let i = 1; i < ordered.length; i++) {
      const first = ordered.find((n) => kindOf(n) === kindOf(ordered[i]));
      if (first && first !== ordered[i]) {
        problems.add(ordered[i].id, ordered[i].label, `a second ${kindOf(ordered[i])} stage besides ${oneLine(first.label, 40)} (${oneLine(first.id, 40)}), and the chatflow's wiring does not say which runs first`, 'keep one node of each kind in the chatflow, or wire the extra one in Node-RED after import');
      }
    }
  }
  if (query.length === 0) {
    problems.add('', fileName, 'the chatflow has no embedding, vector store, reranker or chat model this importer maps', 'build the chatflow from the components listed in the README, or the pipeline in Node-RED');
  }
  if (problems.items.length > before) return null;

  const base = baseName(fileName);
  const id = (seed: string) => nodeId(`${base}/${seed}`);
  const tab = id('tab');
  const flow: FlowNode[] = [tabNode(tab, base, `Imported from ${oneLine(fileName, 120)}.`)];
  const servers = new Map<string, FlowNode>();
  const serverFor = (inputs: Json): string | undefined => {
    const url = inputValue(inputs, ['basePath', 'baseUrl', 'baseURL', 'endpoint']);
    if (typeof url !== 'string' || !isHttpUrl(url) || /\/\/[^/]*@/.test(url)) return undefined;
    let server = servers.get(url);
    if (!server) {
      server = { id: id(`server/${url}`), type: 'opea-server', z: tab, name: new URL(url).host, baseUrl: url };
      servers.set(url, server);
    }
    return server.id;
  };
  const toNode = (node: SourceNode, mapping: Mapping, x: number, y: number, extra: Json = {}): FlowNode => {
    const chosen = mapping.backendInput ? inputValue(node.inputs, [mapping.backendInput]) : undefined;
    const backendName = typeof chosen === 'string' && findBackend(mapping.kind, chosen) ? chosen : mapping.backend;
    const backend = findBackend(mapping.kind, backendName);
    const props: Json = { name: '', backend: backendName };
    if (backend?.needsModel) {
      const model = inputValue(node.inputs, ['modelName', 'model']);
      props.model = typeof model === 'string' ? model : backend.defaultModel ?? '';
    }
    Object.assign(props, mapping.fixed ?? {});
    for (const [ours, theirs] of Object.entries(mapping.params ?? {})) {
      const value = inputValue(node.inputs, theirs);
      if (value !== undefined) props[ours] = value;
    }
    Object.assign(props, extra);
    const server = serverFor(node.inputs);
    if (server) props.server = server;
    props.configVersion = 1;
    return { id: id(node.id), type: mapping.type, z: tab, ...props, x, y, wires: [[]] };
  };

  const entry = httpIn(id('entry'), tab, '/', column(0), row(0));
  flow.push(entry);
  let previous = entry;
  ordered.forEach((node, i) => {
    const flowNode = toNode(node, stages.get(node.id) as Mapping, column(1 + i), row(0));
    wire(previous, flowNode);
    flow.push(flowNode);
    previous = flowNode;
  });
  const exit = httpResponse(id('exit'), tab, 'answer', column(1 + ordered.length), row(0));
  wire(previous, exit);
  flow.push(exit);

  // Ingest chains: GenAI Studio's dataprep services, and the loaders feeding a Flowise vector store.
  let ingestRow = 2;
  const ingest = (seed: string, make: (x: number, y: number) => FlowNode) => {
    const y = row(ingestRow);
    ingestRow += 1;
    const into = httpIn(id(`${seed}/in`), tab, '/dataprep', column(0), y);
    const dp = make(column(1), y);
    const done = httpResponse(id(`${seed}/out`), tab, 'ingested', column(2), y);
    wire(into, dp);
    wire(dp, done);
    flow.push(into, dp, done);
  };
  for (const node of nodes) {
    const mapping = stages.get(node.id);
    if (mapping?.kind === 'dataprep') ingest(node.id, (x, y) => toNode(node, mapping, x, y));
  }
  for (const store of query.filter((q) => loaderFeeds.has(q.id))) {
    const mapping = stages.get(store.id) as Mapping;
    const loaders = loaderFeeds.get(store.id) as SourceNode[];
    const splitter = loaders.flatMap((l) => inputsOf(l.id)).find((n) => n.category === 'Text Splitters');
    const dataprep = stage('opea-dataprep', 'dataprep', mapping.backend === 'redis' ? 'redis' : 'memory', { chunkSize: ['chunkSize', 'chunk_size'], chunkOverlap: ['chunkOverlap', 'chunk_overlap'] });
    const index = inputValue(store.inputs, ['indexName']);
    ingest(`${store.id}/ingest`, (x, y) => {
      const from: SourceNode = splitter ? { ...splitter, id: `${store.id}/dataprep` } : { ...store, inputs: {}, id: `${store.id}/dataprep` };
      return toNode(from, dataprep, x, y, index !== undefined ? { indexName: index } : {});
    });
  }
  flow.push(...servers.values());
  return flow;
}
