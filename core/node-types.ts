/**
 * The flow-JSON shape of our node types. People share flows, so these property names and defaults
 * are public API: add properties freely, never rename or re-purpose one without a migration.
 */
import { DEFAULT_EMBED_BATCH_SIZE } from './clients/embedding';
import { Kind, ParamValue } from './model';
import { promptTemplateProblem, variableNamesProblem } from './prompts/settings';

/** The config version this release writes and reads; flows saved by a newer release are refused. */
export const CONFIG_VERSION = 2;

/** The vector index OPEA's retriever and dataprep use unless told otherwise (Redis INDEX_NAME). */
export const DEFAULT_INDEX_NAME = 'rag-redis';

export interface ParamSpec {
  key: string;
  /** string: a name (letters, digits, _ . : -); text: free text; model: a model id or empty. */
  type: 'int' | 'number' | 'boolean' | 'string' | 'enum' | 'text' | 'model';
  default: ParamValue;
  min?: number;
  max?: number;
  values?: readonly string[];
  doc: string;
  /** A further check of a text value: what is wrong with it, or undefined. */
  check?: (value: string) => string | undefined;
}

export interface NodeTypeSpec {
  type: string;
  kind: Kind;
  params: readonly ParamSpec[];
}

const int = (key: string, dflt: number, min: number, doc: string, max?: number): ParamSpec => ({
  key,
  type: 'int',
  default: dflt,
  min,
  max,
  doc,
});
const num = (key: string, dflt: number, min: number, max: number, doc: string): ParamSpec => ({
  key,
  type: 'number',
  default: dflt,
  min,
  max,
  doc,
});
const str = (key: string, dflt: string, doc: string): ParamSpec => ({ key, type: 'string', default: dflt, doc });
/** A guardrail check: off, or what a finding does to the message. Redacting needs spans, so not every check offers it. */
const SPAN_ACTIONS = ['off', 'block', 'redact', 'annotate'] as const;
const REPORT_ACTIONS = ['off', 'block', 'annotate'] as const;
const check = (key: string, dflt: string, values: readonly string[], doc: string): ParamSpec => ({ key, type: 'enum', default: dflt, values, doc: `${doc}; off, or what a finding does` });
const storeRef: ParamSpec = { key: 'store', type: 'string', default: '', doc: 'id of the opea-vectorstore config node (memory backend)' };
const hashingDimensions = int('dimensions', 384, 8, 'vector size of the hashing embedder', 8192);
const embedBatch = (key: string) => int(key, DEFAULT_EMBED_BATCH_SIZE, 1, 'most texts per embedding request of a remote embedder (TEI refuses more than its --max-client-batch-size, default 32)', 100_000);

/** Kubernetes quantities that compose can take too: cores (2, 0.5, 500m) and bytes (16Gi, 512Mi). */
const CPU_QUANTITY = /^(?:\d+(?:\.\d{1,3})?|\d+m)$/;
const MEMORY_QUANTITY = /^\d+(?:Ki|Mi|Gi|Ti)?$/;
const quantity = (key: string, pattern: RegExp, example: string, doc: string): ParamSpec => ({
  key,
  type: 'string',
  default: '',
  doc: `${doc}, such as ${example}; empty: none (OPEA's charts set none by default)`,
  check: (value) => (pattern.test(value) ? undefined : `must be a quantity such as ${example}`),
});

/**
 * How exports run a stage (issue 20): on its model server when it has one (TEI, TGI), else on its OPEA
 * service. Defaults are OPEA's (GenAIInfra v1.1 helm-charts, docs/upstream-facts.md). GMC's
 * GMConnector cannot carry them.
 */
export const DEPLOY_PARAMS: readonly ParamSpec[] = [
  int('replicas', 1, 1, 'copies of the stage an export runs (its OPEA service and its model server; never the vector database)', 100),
  quantity('cpuRequest', CPU_QUANTITY, '2 or 500m', 'CPU the model server (else the service) requests'),
  quantity('cpuLimit', CPU_QUANTITY, '4 or 1500m', 'most CPU the model server (else the service) may use'),
  quantity('memoryRequest', MEMORY_QUANTITY, '16Gi', 'memory the model server (else the service) requests'),
  quantity('memoryLimit', MEMORY_QUANTITY, '32Gi', 'most memory the model server (else the service) may use'),
  int('accelerators', 0, 0, 'Gaudi cards or NVIDIA GPUs of the model server; 0: the platform default (Helm: 1 on Gaudi and NVIDIA; compose on NVIDIA: all)', 16),
];

export const NODE_TYPES: readonly NodeTypeSpec[] = [
  { type: 'opea-embedding', kind: 'embedding', params: [hashingDimensions, embedBatch('batchSize'), ...DEPLOY_PARAMS] },
  {
    type: 'opea-retriever',
    kind: 'retriever',
    params: [
      int('searchK', 4, 1, 'number of documents to return (OPEA k)', 1000),
      {
        key: 'searchType',
        type: 'enum',
        default: 'similarity',
        values: ['similarity', 'similarity_distance_threshold', 'similarity_score_threshold', 'mmr'],
        doc: 'search strategy (OPEA RetrieverParms search_type)',
      },
      num('scoreThreshold', 0.2, 0, 1, 'minimum similarity for similarity_score_threshold'),
      int('fetchK', 20, 1, 'candidates fetched before MMR re-selection', 10000),
      num('lambdaMult', 0.5, 0, 1, 'MMR diversity: 0 most diverse, 1 most relevant'),
      str('indexName', DEFAULT_INDEX_NAME, 'vector index to search (Redis INDEX_NAME); dataprep writing the same index feeds it'),
      storeRef,
      ...DEPLOY_PARAMS,
    ],
  },
  {
    type: 'opea-rerank',
    kind: 'rerank',
    params: [int('topN', 1, 1, 'documents kept after reranking', 1000), ...DEPLOY_PARAMS],
  },
  {
    type: 'opea-llm',
    kind: 'llm',
    params: [
      int('maxTokens', 1024, 1, 'maximum tokens to generate', 1_000_000),
      num('temperature', 0.01, 0, 2, 'sampling temperature'),
      num('topP', 0.95, 0, 1, 'nucleus sampling probability mass'),
      int('topK', 10, 1, 'sample from the k most likely tokens', 100_000),
      num('repetitionPenalty', 1.03, 0, 10, 'penalty for repeated tokens (1 = none)'),
      { key: 'streaming', type: 'boolean', default: true, doc: 'stream tokens as they are generated' },
      {
        key: 'systemTemplate',
        type: 'text',
        default: '',
        doc: 'system prompt, a Handlebars template with the same variables as the prompt, sent as the system message; empty: none',
        check: promptTemplateProblem,
      },
      {
        key: 'userTemplate',
        type: 'text',
        default: '',
        doc: 'prompt, a Handlebars template: {{question}}, {{#each documents}}{{text}} {{score}} {{metadata.source}}{{/each}}, {{context}}, {{history}} and the message properties named in variables; empty: the built-in RAG template',
        check: promptTemplateProblem,
      },
      { key: 'variables', type: 'text', default: '', doc: 'message properties the templates may name, such as topic, user (msg.topic, msg.user), separated by commas or spaces', check: variableNamesProblem },
      { key: 'promptLibrary', type: 'string', default: '', doc: 'id of an opea-prompt config node (prompt library); its prompt promptName replaces the two templates' },
      str('promptName', '', 'name of the library prompt to use; msg.prompt names another at run time'),
      str('promptVersion', '', 'version of that prompt; empty: its highest version'),
      { key: 'messageTemplates', type: 'boolean', default: false, doc: 'let msg.prompt carry template text ({template, system}) instead of a library prompt name' },
      { key: 'memory', type: 'string', default: '', doc: 'id of an opea-memory config node: the conversation of the message\'s session goes before the question, and the turn is kept' },
      ...DEPLOY_PARAMS,
    ],
  },
  {
    type: 'opea-guardrail',
    kind: 'guardrail',
    params: [
      {
        key: 'position',
        type: 'enum',
        default: 'input',
        values: ['input', 'output', 'documents'],
        doc: 'what the rail checks: the user input, the generated output or retrieved documents',
      },
      check('pii', 'redact', SPAN_ACTIONS, 'personal data: e-mail, phone, IP address, payment card (Luhn), IBAN (mod-97), US SSN, UK NINO'),
      check('secrets', 'block', SPAN_ACTIONS, 'credentials: AWS access key ids, GitHub tokens, OpenAI-style sk- keys, private key blocks, JWTs, high-entropy secret assignments'),
      check('injection', 'block', REPORT_ACTIONS, 'prompt-injection phrasing: instruction overrides, role changes, system-prompt extraction, chat-template markup'),
      check('banned', 'block', SPAN_ACTIONS, 'the words and topics of bannedWords and bannedTopics'),
      { key: 'bannedWords', type: 'text', default: '', doc: 'banned words or phrases, one per line, matched case-insensitively on whole words' },
      { key: 'bannedTopics', type: 'text', default: '', doc: 'banned topics, one per line as topic: keyword, keyword' },
      check('characters', 'redact', SPAN_ACTIONS, 'invisible and control characters (zero-width, bidirectional, tag characters); redact removes them'),
      check('limits', 'block', REPORT_ACTIONS, 'the length limits maxChars and maxTokens'),
      int('maxChars', 0, 0, 'most characters per text; 0: no limit', 10_000_000),
      int('maxTokens', 0, 0, 'most tokens per text (cl100k_base); 0: no limit', 10_000_000),
      check('schema', 'block', REPORT_ACTIONS, 'the text must be JSON valid against jsonSchema'),
      { key: 'jsonSchema', type: 'text', default: '', doc: 'JSON Schema the text must satisfy (a fenced ```json block is read as its content); empty: no schema check' },
      check('remote', 'block', REPORT_ACTIONS, 'the check of the backend through the server: OPEA guardrail services or Llama Guard'),
      { key: 'remoteChecks', type: 'text', default: 'guardrails', doc: 'OPEA services to call, /v1/<name> each: guardrails, pii, injection, toxicity, bias' },
      {
        key: 'llamaGuardVersion',
        type: 'enum',
        default: 'auto',
        values: ['auto', '1', '2', '3', '4'],
        doc: 'Llama Guard version, which decides the category taxonomy; auto reads it from the model id',
      },
      ...DEPLOY_PARAMS,
    ],
  },
  {
    type: 'opea-dataprep',
    kind: 'dataprep',
    params: [
      int('chunkSize', 1500, 1, 'characters per chunk', 1_000_000),
      int('chunkOverlap', 100, 0, 'characters shared by neighbouring chunks', 1_000_000),
      str('indexName', DEFAULT_INDEX_NAME, 'vector index to write (Redis INDEX_NAME)'),
      storeRef,
      {
        key: 'embedBackend',
        type: 'enum',
        default: 'hashing',
        values: ['hashing', 'tei', 'opea', 'openai', 'ollama'],
        doc: 'embedder for the memory backend (through the node\'s server when remote); must match the query path\'s opea-embedding',
      },
      { key: 'embedModel', type: 'model', default: '', doc: 'model id of that embedder' },
      hashingDimensions,
      embedBatch('embedBatchSize'),
      ...DEPLOY_PARAMS,
    ],
  },
];

/** Properties every opea- service node has besides its kind's params. */
export const COMMON_PROPERTIES = [
  { key: 'name', doc: 'label in the editor; also the base of the Kubernetes service name' },
  { key: 'backend', doc: 'what serves this stage (see the backends table)' },
  { key: 'model', doc: 'model id, where the backend serves a model (e.g. BAAI/bge-base-en-v1.5)' },
  { key: 'server', doc: 'id of the opea-server config node with the base URL the node calls' },
  {
    key: 'externalUrl',
    doc: 'URL an exported pipeline calls for this stage when the target cannot deploy its backend; it must speak the OPEA contract of the kind',
  },
  { key: 'configVersion', doc: `version of this property set (${CONFIG_VERSION})` },
] as const;

export function nodeTypeSpec(type: string): NodeTypeSpec | undefined {
  return NODE_TYPES.find((t) => t.type === type);
}
