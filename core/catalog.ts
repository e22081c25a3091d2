/**
 * The component catalog: the one table that says, for every kind x backend, what runs, where it
 * listens, what it reads and how each target deploys it. Runtime nodes, exporters, tests and docs
 * read it; nothing else names an image, a port or an environment variable.
 *
 * Sources (facts, read from the upstream repositories; details with file paths in docs/upstream-facts.md):
 * - GenAIComps comps/* (microservice images, ports, endpoints, env names, component names),
 * - GenAIExamples ChatQnA/docker_compose (model-server images and tags, health checks, default models),
 * - GenAIInfra microservices-connector (GMC step names, the template each step deploys, the
 *   downstream config keys the controller resolves).
 */
import { Kind, Platform } from './model';

export interface Image {
  repository: string;
  tag: string;
}

export type HealthCheck = { http: string } | { command: string[] };

/** A container the exporters can deploy. */
export interface ServiceDef {
  id: string;
  title: string;
  /**
   * Image per platform; a platform missing here cannot run this service. A model server's or Redis's
   * is the one the exporters deploy beside the chain edition; an OPEA microservice's is its current
   * image (the wire formats the runtime nodes speak), which no exporter deploys: they deploy `chain`.
   */
  images: Partial<Record<Platform, Image>>;
  /** Port the container listens on. */
  port: number;
  /** Host port OPEA's compose files publish it on. */
  hostPort: number;
  /** Path of the endpoint a pipeline calls ('' for non-HTTP services such as Redis). */
  path: string;
  health: HealthCheck;
  /** The tool the image has to probe its own health endpoint; without one a container cannot check itself. */
  probeWith?: 'curl';
  /** Environment variables the image reads, with OPEA's fixed values where one is required. */
  env: Record<string, string>;
  /** Name of the environment variable that carries the model id, for model servers. */
  modelEnv?: string;
  /** How GMC deploys it: the step name per platform and the endpoint its step config names. */
  gmc?: { step: Record<Platform, string>; endpoint: string };
  /**
   * The release whose documents chain the way GMC's router passes them on (TextDoc -> EmbedDoc ->
   * SearchedDoc -> LLMParamsDoc): the pre-1.2 images GMC's own templates deploy, pinned at OPEA 1.1.
   * Their dependency variables are the GMC config keys (Dependency.gmcKey). Only OPEA microservices
   * have one; model servers and Redis run at the versions that release ran them (CHAIN_MODEL_SERVERS).
   */
  chain?: { image: Image; port: number; path: string; env: Record<string, string> };
}

/** The OPEA release of the chain edition, and of the GMC router that routes it. */
export const CHAIN_TAG = '1.1';

function chainImage(name: string): Image {
  return { repository: `opea/${name}`, tag: CHAIN_TAG };
}

/** GMC's router (GenAIInfra microservices-connector): takes the GMConnector as --graph-json, serves :8080. */
export const ROUTER = {
  image: chainImage('gmcrouter'),
  port: 8080,
  arg: '--graph-json',
  /** Its HTTP client's timeout for each step's call, answer included (cmd/router/main.go l.70). */
  callTimeoutSeconds: 30,
} as const;

/**
 * The gateway a compose project puts in front of the router (exporters/compose/gateway/gateway.js, run
 * by the official Node.js image): it fills in the flow's settings and tells a rail's refusal.
 */
export const GATEWAY = { image: { repository: 'node', tag: '20.18.1-alpine' } as Image, port: 8888 } as const;

/**
 * Seconds per generated token of a 7-8B model on TGI, per platform: planning figures (not
 * measurements) to tell whether an answer of maxTokens fits in the router's call timeout.
 */
export const DECODE_SECONDS_PER_TOKEN: Record<Platform, number> = { xeon: 0.1, gaudi: 0.03, nvidia: 0.03 };

const OPEA_TAG = '1.5';

/**
 * The model servers of the chain edition, at the versions OPEA 1.1 itself ran beside those images:
 * GenAIInfra v1.1 microservices-connector/config/manifests (tei.yaml and teirerank.yaml cpu-1.5,
 * tei_gaudi.yaml and teirerank_gaudi.yaml tei-gaudi:1.5.0, tgi.yaml 2.4.0-intel-cpu, tgi_gaudi.yaml
 * 2.0.6, tgi_nv.yaml 2.2.0) and GenAIExamples v1.1 ChatQnA/docker_compose (the same TGI tags; TEI
 * cpu-1.5, the Gaudi reranker on tei-gaudi:1.5.0, the NVIDIA reranker on the GPU build 1.5). On
 * NVIDIA both TEIs take that GPU build: the same TEI release, on the GPU compose reserves for it.
 * Moving CHAIN_TAG means choosing these again.
 */
const TEI = 'ghcr.io/huggingface/text-embeddings-inference';
const TGI = 'ghcr.io/huggingface/text-generation-inference';
const CHAIN_MODEL_SERVERS: Record<'tei' | 'tgi', Record<Platform, Image>> = {
  tei: {
    xeon: { repository: TEI, tag: 'cpu-1.5' },
    gaudi: { repository: 'ghcr.io/huggingface/tei-gaudi', tag: '1.5.0' },
    nvidia: { repository: TEI, tag: '1.5' },
  },
  tgi: {
    xeon: { repository: TGI, tag: '2.4.0-intel-cpu' },
    gaudi: { repository: 'ghcr.io/huggingface/tgi-gaudi', tag: '2.0.6' },
    nvidia: { repository: TGI, tag: '2.2.0' },
  },
};

function opea(name: string): Partial<Record<Platform, Image>> {
  const image = { repository: `opea/${name}`, tag: OPEA_TAG };
  return { xeon: image, gaudi: image, nvidia: image };
}

function everywhere(step: string): Record<Platform, string> {
  return { xeon: step, gaudi: step, nvidia: step };
}

export const SERVICES: Record<string, ServiceDef> = {
  embedding: {
    id: 'embedding',
    title: 'OPEA embedding microservice',
    images: opea('embedding'),
    port: 6000,
    hostPort: 6000,
    path: '/v1/embeddings',
    health: { http: '/v1/health_check' },
    env: { TEI_EMBEDDING_ENDPOINT: '', EMBEDDING_COMPONENT_NAME: 'OPEA_TEI_EMBEDDING' },
    gmc: { step: everywhere('Embedding'), endpoint: '/v1/embeddings' },
    chain: { image: chainImage('embedding-tei'), port: 6000, path: '/v1/embeddings', env: {} },
  },
  'tei-embedding': {
    id: 'tei-embedding',
    title: 'Text Embeddings Inference (embedding model server)',
    images: CHAIN_MODEL_SERVERS.tei,
    port: 80,
    hostPort: 6006,
    path: '/embed',
    health: { http: '/health' },
    env: { MODEL_ID: '' },
    modelEnv: 'MODEL_ID',
    gmc: { step: { xeon: 'TeiEmbedding', gaudi: 'TeiEmbeddingGaudi', nvidia: 'TeiEmbedding' }, endpoint: '/embed' },
  },
  retriever: {
    id: 'retriever',
    title: 'OPEA retriever microservice (Redis)',
    images: opea('retriever'),
    port: 7000,
    hostPort: 7000,
    path: '/v1/retrieval',
    health: { http: '/v1/health_check' },
    env: {
      REDIS_URL: '',
      INDEX_NAME: '',
      TEI_EMBEDDING_ENDPOINT: '',
      RETRIEVER_COMPONENT_NAME: 'OPEA_RETRIEVER_REDIS',
    },
    gmc: { step: everywhere('Retriever'), endpoint: '/v1/retrieval' },
    chain: { image: chainImage('retriever-redis'), port: 7000, path: '/v1/retrieval', env: { INDEX_NAME: '', HUGGINGFACEHUB_API_TOKEN: '' } },
  },
  'redis-vector-db': {
    id: 'redis-vector-db',
    title: 'Redis Stack vector database',
    images: {
      xeon: { repository: 'redis/redis-stack', tag: '7.2.0-v9' },
      gaudi: { repository: 'redis/redis-stack', tag: '7.2.0-v9' },
      nvidia: { repository: 'redis/redis-stack', tag: '7.2.0-v9' },
    },
    port: 6379,
    hostPort: 6379,
    path: '',
    health: { command: ['CMD', 'redis-cli', 'ping'] },
    env: {},
    gmc: { step: everywhere('VectorDB'), endpoint: '' },
  },
  reranking: {
    id: 'reranking',
    title: 'OPEA reranking microservice',
    images: opea('reranking'),
    port: 8000,
    hostPort: 8000,
    path: '/v1/reranking',
    health: { http: '/v1/health_check' },
    env: { TEI_RERANKING_ENDPOINT: '', RERANK_COMPONENT_NAME: 'OPEA_TEI_RERANKING' },
    gmc: { step: everywhere('Reranking'), endpoint: '/v1/reranking' },
    chain: { image: chainImage('reranking-tei'), port: 8000, path: '/v1/reranking', env: {} },
  },
  'tei-reranking': {
    id: 'tei-reranking',
    title: 'Text Embeddings Inference (reranking model server)',
    images: CHAIN_MODEL_SERVERS.tei,
    port: 80,
    hostPort: 8808,
    path: '/rerank',
    health: { http: '/health' },
    env: { MODEL_ID: '' },
    modelEnv: 'MODEL_ID',
    gmc: { step: everywhere('TeiReranking'), endpoint: '/rerank' },
  },
  'llm-textgen': {
    id: 'llm-textgen',
    title: 'OPEA LLM text-generation microservice',
    images: opea('llm-textgen'),
    port: 9000,
    hostPort: 9000,
    path: '/v1/chat/completions',
    health: { http: '/v1/health_check' },
    env: { LLM_ENDPOINT: '', LLM_MODEL_ID: '', LLM_COMPONENT_NAME: 'OpeaTextGenService', HF_TOKEN: '' },
    gmc: { step: everywhere('Llm'), endpoint: '/v1/chat/completions' },
    chain: { image: chainImage('llm-tgi'), port: 9000, path: '/v1/chat/completions', env: { HUGGINGFACEHUB_API_TOKEN: '' } },
  },
  tgi: {
    id: 'tgi',
    title: 'Text Generation Inference (LLM model server)',
    images: CHAIN_MODEL_SERVERS.tgi,
    port: 80,
    hostPort: 9009,
    path: '/generate',
    health: { http: '/health' },
    probeWith: 'curl',
    env: { MODEL_ID: '', HF_TOKEN: '' },
    modelEnv: 'MODEL_ID',
    gmc: { step: { xeon: 'Tgi', gaudi: 'TgiGaudi', nvidia: 'TgiNvidia' }, endpoint: '/generate' },
  },
  vllm: {
    id: 'vllm',
    title: 'vLLM (OpenAI-compatible LLM model server)',
    images: {
      xeon: { repository: 'public.ecr.aws/q9t5s3a7/vllm-cpu-release-repo', tag: 'v0.10.1' },
      gaudi: { repository: 'opea/vllm-gaudi', tag: '1.22.0' },
      nvidia: { repository: 'vllm/vllm-openai', tag: 'v0.10.1' },
    },
    port: 80,
    hostPort: 9009,
    path: '/v1/chat/completions',
    health: { http: '/health' },
    probeWith: 'curl',
    env: { LLM_MODEL_ID: '', HF_TOKEN: '' },
    modelEnv: 'LLM_MODEL_ID',
  },
  guardrails: {
    id: 'guardrails',
    title: 'OPEA guardrails microservice (Llama Guard)',
    images: opea('guardrails'),
    port: 9090,
    hostPort: 9090,
    path: '/v1/guardrails',
    health: { http: '/v1/health_check' },
    env: {
      SAFETY_GUARD_ENDPOINT: '',
      SAFETY_GUARD_MODEL_ID: '',
      GUARDRAILS_COMPONENT_NAME: 'OPEA_LLAMA_GUARD',
      HF_TOKEN: '',
    },
    // SAFETY_GUARD_ENDPOINT is the model-server dependency; HF_TOKEN lets it fetch the gated guard model's tokenizer.
    chain: { image: chainImage('guardrails-tgi'), port: 9090, path: '/v1/guardrails', env: { SAFETY_GUARD_MODEL_ID: '', HUGGINGFACEHUB_API_TOKEN: '', HF_TOKEN: '' } },
  },
  dataprep: {
    id: 'dataprep',
    title: 'OPEA dataprep microservice (Redis)',
    images: opea('dataprep'),
    port: 5000,
    hostPort: 6007,
    path: '/v1/dataprep/ingest',
    health: { http: '/v1/health_check' },
    env: {
      REDIS_URL: '',
      REDIS_HOST: '',
      INDEX_NAME: '',
      TEI_EMBEDDING_ENDPOINT: '',
      DATAPREP_COMPONENT_NAME: 'OPEA_DATAPREP_REDIS',
      HF_TOKEN: '',
    },
    gmc: { step: everywhere('DataPrep'), endpoint: '/v1/dataprep' },
    chain: { image: chainImage('dataprep-redis'), port: 6007, path: '/v1/dataprep', env: { INDEX_NAME: '', HUGGINGFACEHUB_API_TOKEN: '' } },
  },
};

/** A service that another one depends on and finds through an environment variable. */
export interface Dependency {
  service: string;
  /** Env name the dependent service reads the dependency's URL from (compose). */
  env: string;
  /** Config key GMC's controller resolves to the dependency's in-cluster URL. */
  gmcKey: string;
  /** The dependency serves the component's model (its MODEL_ID is the component's model). */
  servesModel: boolean;
  /**
   * Not deployed for this component: it is the dependency of that kind of the component this one
   * pairs with (a retriever uses the TEI of the embedding in front of it; dataprep writes through the
   * Redis and TEI of the retriever that reads the same index).
   */
  sharedWith?: 'embedding' | 'retriever';
  /** Left out when the pipeline has no such component to share with. */
  optional?: boolean;
}

/** How targets deploy a backend: an OPEA microservice with its dependencies, or nothing to deploy. */
export type Deployment =
  | { type: 'service'; service: string; dependencies: Dependency[] }
  /**
   * Nothing GMC can start: the exported GMConnector calls the node's externalUrl. `compose`, when
   * set, is what the compose project starts instead: an OPEA microservice and the model server it
   * reads at `modelServer.env`, serving the node's model.
   */
  | { type: 'external'; why: string; compose?: { service: string; modelServer: { service: string; env: string } } }
  /** Runs inside Node-RED only. */
  | { type: 'embedded'; why: string };

export interface BackendDef {
  kind: Kind;
  backend: string;
  title: string;
  /** The node needs a model id with this backend. */
  needsModel: boolean;
  defaultModel?: string;
  deploy: Deployment;
}

const TEI_EMBEDDING_DEP: Dependency = {
  service: 'tei-embedding',
  env: 'TEI_EMBEDDING_ENDPOINT',
  gmcKey: 'TEI_EMBEDDING_ENDPOINT',
  servesModel: true,
};
const TEI_RERANKING_DEP: Dependency = {
  service: 'tei-reranking',
  env: 'TEI_RERANKING_ENDPOINT',
  gmcKey: 'TEI_RERANKING_ENDPOINT',
  servesModel: true,
};
const TGI_DEP: Dependency = { service: 'tgi', env: 'LLM_ENDPOINT', gmcKey: 'TGI_LLM_ENDPOINT', servesModel: true };
const REDIS_DEP: Dependency = { service: 'redis-vector-db', env: 'REDIS_URL', gmcKey: 'REDIS_URL', servesModel: false };

const EMBEDDING_DEPLOY: Deployment = { type: 'service', service: 'embedding', dependencies: [TEI_EMBEDDING_DEP] };
const RERANK_DEPLOY: Deployment = { type: 'service', service: 'reranking', dependencies: [TEI_RERANKING_DEP] };
const LLM_TGI_DEPLOY: Deployment = { type: 'service', service: 'llm-textgen', dependencies: [TGI_DEP] };

/** Llama Guard served by TGI behind OPEA's guardrails microservice, as ChatQnA's guardrails compose runs it. */
const GUARDRAIL_DEPLOY: Deployment = {
  type: 'external',
  why: 'upstream GMC has no guardrail step',
  compose: { service: 'guardrails', modelServer: { service: 'tgi', env: 'SAFETY_GUARD_ENDPOINT' } },
};

const EMBEDDED = (what: string): Deployment => ({
  type: 'embedded',
  why: `the ${what} runs only inside Node-RED`,
});

const DEFAULT_MODELS = {
  embedding: 'BAAI/bge-base-en-v1.5',
  rerank: 'BAAI/bge-reranker-base',
  llm: 'meta-llama/Meta-Llama-3-8B-Instruct',
  guard: 'meta-llama/Meta-Llama-Guard-2-8B',
};

const BACKEND_LIST: BackendDef[] = [
  { kind: 'embedding', backend: 'tei', title: 'Text Embeddings Inference', needsModel: true, defaultModel: DEFAULT_MODELS.embedding, deploy: EMBEDDING_DEPLOY },
  { kind: 'embedding', backend: 'opea', title: 'OPEA embedding microservice', needsModel: true, defaultModel: DEFAULT_MODELS.embedding, deploy: EMBEDDING_DEPLOY },
  { kind: 'embedding', backend: 'openai', title: 'OpenAI-compatible /v1/embeddings', needsModel: true, deploy: { type: 'external', why: 'an OpenAI-compatible embedding server is not deployed by the exporters' } },
  { kind: 'embedding', backend: 'ollama', title: 'Ollama', needsModel: true, deploy: { type: 'external', why: 'Ollama is not deployed by the exporters' } },
  { kind: 'embedding', backend: 'hashing', title: 'Hashing embedder (lexical, offline)', needsModel: false, deploy: EMBEDDED('hashing embedder') },

  { kind: 'retriever', backend: 'redis', title: 'OPEA retriever on Redis', needsModel: false, deploy: { type: 'service', service: 'retriever', dependencies: [REDIS_DEP, { ...TEI_EMBEDDING_DEP, servesModel: false, sharedWith: 'embedding', optional: true }] } },
  { kind: 'retriever', backend: 'memory', title: 'In-process vector store (offline)', needsModel: false, deploy: EMBEDDED('in-process vector store') },

  { kind: 'rerank', backend: 'tei', title: 'Text Embeddings Inference reranker', needsModel: true, defaultModel: DEFAULT_MODELS.rerank, deploy: RERANK_DEPLOY },
  { kind: 'rerank', backend: 'opea', title: 'OPEA reranking microservice', needsModel: true, defaultModel: DEFAULT_MODELS.rerank, deploy: RERANK_DEPLOY },
  { kind: 'rerank', backend: 'bm25', title: 'BM25 reranker (lexical, offline)', needsModel: false, deploy: EMBEDDED('BM25 reranker') },

  { kind: 'llm', backend: 'tgi', title: 'Text Generation Inference', needsModel: true, defaultModel: DEFAULT_MODELS.llm, deploy: LLM_TGI_DEPLOY },
  { kind: 'llm', backend: 'opea', title: 'OPEA LLM text-generation microservice', needsModel: true, defaultModel: DEFAULT_MODELS.llm, deploy: LLM_TGI_DEPLOY },
  { kind: 'llm', backend: 'vllm', title: 'vLLM', needsModel: true, defaultModel: DEFAULT_MODELS.llm, deploy: { type: 'external', why: 'vLLM is not deployed by the exporters' } },
  { kind: 'llm', backend: 'openai', title: 'OpenAI-compatible chat completions', needsModel: true, deploy: { type: 'external', why: 'an OpenAI-compatible server is not deployed by the exporters' } },
  { kind: 'llm', backend: 'ollama', title: 'Ollama', needsModel: true, deploy: { type: 'external', why: 'Ollama is not deployed by the exporters' } },
  { kind: 'llm', backend: 'extractive', title: 'Extractive answerer (no generation, offline)', needsModel: false, deploy: EMBEDDED('extractive answerer') },

  { kind: 'guardrail', backend: 'opea', title: 'OPEA guardrails microservice', needsModel: true, defaultModel: DEFAULT_MODELS.guard, deploy: GUARDRAIL_DEPLOY },
  { kind: 'guardrail', backend: 'llamaguard', title: 'Llama Guard over an OpenAI-compatible chat endpoint', needsModel: true, defaultModel: DEFAULT_MODELS.guard, deploy: GUARDRAIL_DEPLOY },
  { kind: 'guardrail', backend: 'local', title: 'Rule-based checks (offline)', needsModel: false, deploy: EMBEDDED('rule-based guardrail') },

  { kind: 'dataprep', backend: 'redis', title: 'OPEA dataprep on Redis', needsModel: false, deploy: { type: 'service', service: 'dataprep', dependencies: [{ ...REDIS_DEP, sharedWith: 'retriever' }, { ...TEI_EMBEDDING_DEP, gmcKey: 'TEI_ENDPOINT', servesModel: false, sharedWith: 'embedding' }] } },
  { kind: 'dataprep', backend: 'memory', title: 'In-process vector store (offline)', needsModel: false, deploy: EMBEDDED('in-process vector store') },
];

export function backendsOf(kind: Kind): BackendDef[] {
  return BACKEND_LIST.filter((b) => b.kind === kind);
}

export function findBackend(kind: Kind, backend: string): BackendDef | undefined {
  return BACKEND_LIST.find((b) => b.kind === kind && b.backend === backend);
}

export function allBackends(): readonly BackendDef[] {
  return BACKEND_LIST;
}

/** The service GMC deploys for a step name on a platform. */
export function serviceByStep(step: string, platform: Platform): ServiceDef | undefined {
  return Object.values(SERVICES).find((def) => def.gmc?.step[platform] === step);
}

export function service(id: string): ServiceDef {
  const def = SERVICES[id];
  if (!def) throw new Error(`catalog: no service '${id}'`);
  return def;
}

/** What a server's /metrics speaks: the metric families its Prometheus text names (SERVER_METRICS). */
export type MetricsFamily = 'opea' | 'tei' | 'tgi' | 'vllm';

/**
 * The /metrics each deployable service serves on its own port (docs/upstream-facts.md §11): OPEA 1.1
 * microservices through prometheus_fastapi_instrumentator (GenAIComps v1.1 comps/cores/mega/http_service.py
 * l.38), TEI 1.5 and TGI 2.x on their HTTP port. Redis serves none; GMC's router has no /metrics route and
 * runs the pipeline for any path it is asked (cmd/router/main.go l.913-916), so it is never scraped.
 */
export const METRICS_OF: Record<string, MetricsFamily> = {
  embedding: 'opea',
  retriever: 'opea',
  reranking: 'opea',
  'llm-textgen': 'opea',
  guardrails: 'opea',
  dataprep: 'opea',
  'tei-embedding': 'tei',
  'tei-reranking': 'tei',
  tgi: 'tgi',
  vllm: 'vllm',
};

/**
 * Metric names per family, as the servers name them in their Prometheus text (metrics-rs exports TEI's and
 * TGI's counters without a _total suffix; histograms as _bucket/_sum/_count). Sources:
 * TEI v1.5.0 router/src/http/server.rs l.168 (te_request_count), router/src/lib.rs l.583-587, core/src/queue.rs
 * l.113 and l.202; TGI v2.4.0 router/src/server.rs l.159 and l.390-397, backends/v3/src/queue.rs l.142,
 * backends/v3/src/backend.rs l.162 and l.302; vLLM vllm/v1/metrics/loggers.py (PrometheusStatLogger);
 * prometheus_fastapi_instrumentator's default http_requests_total / http_request_duration_seconds.
 */
export const SERVER_METRICS = {
  opea: { requests: 'http_requests_total', duration: 'http_request_duration_seconds' },
  tei: {
    requests: 'te_request_count',
    failures: 'te_request_failure',
    duration: 'te_request_duration',
    queueDuration: 'te_request_queue_duration',
    queueSize: 'te_queue_size',
    batchSize: 'te_batch_next_size',
  },
  tgi: {
    requests: 'tgi_request_count',
    failures: 'tgi_request_failure',
    duration: 'tgi_request_duration',
    queueDuration: 'tgi_request_queue_duration',
    queueSize: 'tgi_queue_size',
    batchSize: 'tgi_batch_current_size',
    generatedTokens: 'tgi_request_generated_tokens',
    timePerToken: 'tgi_request_mean_time_per_token_duration',
    inferenceDuration: 'tgi_batch_inference_duration',
  },
  vllm: {
    requests: 'vllm:request_success_total',
    duration: 'vllm:e2e_request_latency_seconds',
    queueDuration: 'vllm:request_queue_time_seconds',
    queueSize: 'vllm:num_requests_waiting',
    running: 'vllm:num_requests_running',
    ttft: 'vllm:time_to_first_token_seconds',
    timePerToken: 'vllm:time_per_output_token_seconds',
    generationTokens: 'vllm:generation_tokens_total',
    promptTokens: 'vllm:prompt_tokens_total',
  },
} as const;

const pinned = (repository: string, tag: string): Image => ({ repository, tag });

/**
 * The observability profile of the compose project (and of the Ansible bundle that starts it): pinned
 * images, the ports inside the project, and the telemetry settings the services read.
 */
export const OBSERVABILITY = {
  profile: 'observability',
  collector: { service: 'otel-collector', image: pinned('otel/opentelemetry-collector-contrib', '0.116.1'), otlpGrpcPort: 4317, otlpHttpPort: 4318, metricsPort: 8889 },
  prometheus: { service: 'prometheus', image: pinned('prom/prometheus', 'v2.55.1'), port: 9090 },
  victoriametrics: { service: 'victoriametrics', image: pinned('victoriametrics/victoria-metrics', 'v1.108.1'), port: 8428 },
  grafana: { service: 'grafana', image: pinned('grafana/grafana', '11.4.0'), port: 3000 },
  /** OPEA microservices send their spans over OTLP/HTTP here (GenAIComps v1.1 comps/cores/telemetry/opea_telemetry.py l.15). */
  opeaTelemetryEnv: 'TELEMETRY_ENDPOINT',
  /** TEI and TGI export their traces over OTLP/gRPC (TEI v1.5.0 router/src/main.rs l.151-156, TGI v2.4.0 launcher/src/main.rs l.634-637). */
  modelServerOtlpEnv: 'OTLP_ENDPOINT',
  modelServerServiceNameEnv: 'OTLP_SERVICE_NAME',
  metricsPath: '/metrics',
} as const;
