/**
 * What GMC's admission webhook and controller require of a GMConnector (GenAIInfra
 * microservices-connector, api/v1alpha3/validating_webhook.go and
 * internal/controller/gmconnector_controller.go).
 */

/** Step names the webhook accepts. */
export const STEP_NAMES: readonly string[] = [
  'TeiEmbedding', 'TeiEmbeddingGaudi', 'Embedding', 'VectorDB', 'Retriever', 'Reranking', 'TeiReranking',
  'Tgi', 'TgiGaudi', 'TgiNvidia', 'Llm', 'DocSum', 'Router', 'WebRetriever', 'Asr', 'Tts', 'SpeechT5',
  'SpeechT5Gaudi', 'Whisper', 'WhisperGaudi', 'DataPrep', 'UI',
];

/** Step names the controller has a deployment template for ('Router' passes the webhook but has none). */
export const TEMPLATED_STEPS: readonly string[] = STEP_NAMES.filter((name) => name !== 'Router');

/**
 * Config keys the controller rewrites into the in-cluster URL of a downstream step; the value must
 * be the serviceName of an isDownstreamService step of the same router node.
 */
export const DOWNSTREAM_KEYS: readonly string[] = [
  'TEI_EMBEDDING_ENDPOINT', 'TEI_RERANKING_ENDPOINT', 'TGI_LLM_ENDPOINT', 'REDIS_URL', 'ASR_ENDPOINT',
  'TTS_ENDPOINT', 'TEI_ENDPOINT',
];

/** Step name for a stage GMC cannot deploy and calls at its externalUrl. No guardrail step exists. */
export const EXTERNAL_STEP_NAMES = {
  embedding: 'Embedding',
  retriever: 'Retriever',
  rerank: 'Reranking',
  llm: 'Llm',
  dataprep: 'DataPrep',
  guardrail: 'Router',
} as const;

/**
 * What the router's condition matcher can compare: it splits `key==value` and reads `key` with gjson,
 * but gives up on any condition containing '.' or '#', and trims spaces.
 */
export const CONDITION_KEY = /^[A-Za-z0-9_-]{1,63}$/;
export const CONDITION_VALUE = /^[A-Za-z0-9_:/+-]{1,63}$/;
