/**
 * The config keys of GMConnector steps in each dialect GMC has spoken, and what the importer makes of
 * each. Facts read from GenAIInfra microservices-connector at v0.6 to v1.4 (the controller
 * internal/controller/gmconnector_controller.go, config/samples, the templates it deploys), from the
 * sample of OPEA's deployment RFC (opea-project/docs community/rfcs/24-05-17-OPEA-001-Deployment-Design.md)
 * and from the exporter's Enterprise RAG dialect (exporters/gmc/enterprise.ts):
 * - 0.6 fills fixed template fields: modelId, hostPath (model directory on the host) and
 *   gmcTokenSecret (Secret with the Hugging Face token) on TeiEmbedding, TeiReranking and Tgi;
 *   RedisUrl, IndexName and tei_endpoint on Retriever; tei_endpoint on Embedding,
 *   tei_reranking_endpoint on Reranking, tgi_endpoint on Llm; no_proxy, http_proxy, https_proxy on
 *   every step. An endpoint names its downstream step by serviceName (the RFC) or in-cluster URL (samples).
 * - 0.7 passes every key but `endpoint` to the service as an environment variable; its model servers
 *   read LLM_MODEL_ID, EMBEDDING_MODEL_ID, RERANK_MODEL_ID, and the controller points the services at
 *   the TeiEmbedding, TeiReranking, Tgi and VectorDB step without a key naming them.
 * - 0.8 to 1.4 pass keys as environment variables too, resolving TEI_EMBEDDING_ENDPOINT,
 *   TEI_RERANKING_ENDPOINT, TGI_LLM_ENDPOINT, REDIS_URL and TEI_ENDPOINT from the serviceName of a
 *   downstream step of the same router node; model servers take MODEL_ID. The Llm template also reads
 *   vLLM_ENDPOINT (1.1), LLM_ENDPOINT and LLM_MODEL_ID (1.2 on), Retriever and DataPrep REDIS_HOST (1.2
 *   on): the controller passes these on as written.
 * - Enterprise RAG names model servers with EMBEDDING_MODEL_SERVER_ENDPOINT, RERANKING_SERVICE_ENDPOINT
 *   and LLM_MODEL_SERVER_ENDPOINT, and the embedding model with EMBEDDING_MODEL_NAME.
 */
import { serviceByStep } from '../catalog';
import { PLATFORMS } from '../model';
import { oneLine } from '../problems';

/** What a downstream step serves: the model of a stage of that kind, or the vector DB. */
export type Served = 'embedding' | 'rerank' | 'llm' | 'vectordb';

export const SERVING_STEPS: Readonly<Record<string, Served>> = {
  TeiEmbedding: 'embedding',
  TeiEmbeddingGaudi: 'embedding',
  TeiReranking: 'rerank',
  TeiRerankingGaudi: 'rerank',
  Tgi: 'llm',
  TgiGaudi: 'llm',
  TgiNvidia: 'llm',
  VLLM: 'llm',
  VLLMGaudi: 'llm',
  VectorDB: 'vectordb',
};

/** The model GMC 0.8 to 1.4 deploy when the step names none (config/manifests tei, teirerank, tgi*). */
export const TEMPLATE_MODELS: Readonly<Record<string, string>> = {
  TeiEmbedding: 'BAAI/bge-base-en-v1.5',
  TeiEmbeddingGaudi: 'BAAI/bge-base-en-v1.5',
  TeiReranking: 'BAAI/bge-reranker-base',
  Tgi: 'Intel/neural-chat-7b-v3-3',
  TgiGaudi: 'Intel/neural-chat-7b-v3-3',
  TgiNvidia: 'Intel/neural-chat-7b-v3-3',
};

/** GMC 0.7's (manifests/ChatQnA/qna_configmap_*.yaml): the one GMC whose CRs name no server at all. */
export const TEMPLATE_MODELS_0_7: Readonly<Record<string, string>> = { ...TEMPLATE_MODELS, TeiReranking: 'BAAI/bge-reranker-large' };

/** Keys naming the downstream step a step calls, by what it serves. */
export const SERVER_KEYS: Readonly<Record<string, Served>> = {
  TEI_EMBEDDING_ENDPOINT: 'embedding',
  TEI_ENDPOINT: 'embedding',
  tei_endpoint: 'embedding',
  EMBEDDING_MODEL_SERVER_ENDPOINT: 'embedding',
  TEI_RERANKING_ENDPOINT: 'rerank',
  tei_reranking_endpoint: 'rerank',
  RERANKING_SERVICE_ENDPOINT: 'rerank',
  TGI_LLM_ENDPOINT: 'llm',
  tgi_endpoint: 'llm',
  LLM_ENDPOINT: 'llm',
  vLLM_ENDPOINT: 'llm',
  LLM_MODEL_SERVER_ENDPOINT: 'llm',
  REDIS_URL: 'vectordb',
  RedisUrl: 'vectordb',
  REDIS_HOST: 'vectordb',
};

/** Keys whose value is a model id, by the kind of model ('any': the one of the step that has it). */
export const MODEL_KEYS: Readonly<Record<string, Served | 'any'>> = {
  MODEL_ID: 'any',
  modelId: 'any',
  LLM_MODEL_ID: 'llm',
  EMBEDDING_MODEL_ID: 'embedding',
  RERANK_MODEL_ID: 'rerank',
  EMBEDDING_MODEL_NAME: 'embedding',
};

export const INDEX_KEYS: readonly string[] = ['INDEX_NAME', 'IndexName'];

/** Enterprise RAG keys with the one value its export writes for the stages the importer builds. */
const FIXED_VALUES: Readonly<Record<string, string>> = {
  EMBEDDING_MODEL_SERVER: 'tei',
  EMBEDDING_CONNECTOR: 'langchain',
  RERANKING_MODEL_SERVER: 'tei',
  LLM_MODEL_SERVER: 'vllm',
  LLM_OUTPUT_GUARD_EXISTS: 'True',
};

export const isFixedValue = (key: string, value: string): boolean => Object.prototype.hasOwnProperty.call(FIXED_VALUES, key) && FIXED_VALUES[key] === value;

/** Paths of the Enterprise RAG steps the catalog does not know. */
const ENTERPRISE_PATHS: Readonly<Record<string, string>> = { LLMGuardInput: '/v1/llmguardinput', LLMGuardOutput: '/v1/llmguardoutput' };

/** The `endpoint` an export writes for an executed step: the path GMC's router calls. */
export function stepPath(stepName: string): string | undefined {
  for (const platform of PLATFORMS) {
    const path = serviceByStep(stepName, platform)?.gmc?.endpoint;
    if (path !== undefined) return path;
  }
  return Object.prototype.hasOwnProperty.call(ENTERPRISE_PATHS, stepName) ? ENTERPRISE_PATHS[stepName] : undefined;
}

const SECRET = /token|secret|passw|api_?key|credential/i;

/** A key and its value as a warning may print them: never the value of a secret, nor a URL's credentials. */
export function shown(key: string, value: string): string {
  const name = oneLine(key, 60);
  if (SECRET.test(key)) return `${name} (value not shown)`;
  return /^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(value) ? `${name} (a URL with credentials, not shown)` : `${name} = '${oneLine(value, 100)}'`;
}

/** Why the flow cannot hold a key, and how to make up for it after export (`where`: the config to add it to). */
export function unplaced(key: string, where: string): { why: string; fix: string } {
  const name = oneLine(key, 60);
  if (key === 'gmcTokenSecret') {
    return {
      why: 'the Secret GMC 0.6 read the Hugging Face token from, which no node setting holds',
      fix: 'GMC 0.8 and later take the token from the manifests GMC is installed with: install GMC with your Hugging Face token (opea-flow deploy also keeps HF_TOKEN in the Secret hf-token)',
    };
  }
  if (SECRET.test(key)) {
    return { why: 'a credential, which no node setting holds: exports never carry secrets', fix: "set it where GMC is installed (the ConfigMaps of its templates) rather than in the CR, where it would be plain text" };
  }
  if (/^(no|https?)_proxy$/i.test(key)) {
    return { why: 'a proxy setting, which no node setting holds', fix: `set proxies where GMC is installed (http_proxy, https_proxy, no_proxy in its manifests), or add ${name} to ${where}` };
  }
  if (key === 'hostPath') {
    return { why: 'the host directory GMC 0.6 mounted as the model cache, which no node setting holds', fix: 'GMC 0.8 and later mount the directory chosen when GMC is installed (MOUNT_DIR, /mnt/opea-models by default) for every model server: install GMC with that directory' };
  }
  return { why: 'no node setting holds it', fix: `add ${name} to ${where} (GMC passes a step's config to its service as environment variables)` };
}
