/**
 * What GMC's admission webhook and controller require of a GMConnector (GenAIInfra
 * microservices-connector, api/v1alpha3/validating_webhook.go and
 * internal/controller/gmconnector_controller.go), and the same for Enterprise RAG's fork of GMC.
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


/** The rules one GMC controller applies: its CRD, its webhook's step names, its templates and wiring keys. */
export interface GmcDialect {
  /** File name under exporters/gmc/crd. */
  crdFile: string;
  stepNames: readonly string[];
  templatedSteps: readonly string[];
  downstreamKeys: readonly string[];
}

export const UPSTREAM_DIALECT: GmcDialect = {
  crdFile: 'gmc.opea.io_gmconnectors.yaml',
  stepNames: STEP_NAMES,
  templatedSteps: TEMPLATED_STEPS,
  downstreamKeys: DOWNSTREAM_KEYS,
};

/**
 * Enterprise RAG's GMC (opea-project/Enterprise-RAG, commit 367581e2: src/gmc/api/v1alpha3/
 * validating_webhook.go stepNames, src/gmc/internal/controller/gmconnector_controller.go yamlDict and
 * isDownStreamEndpointKey). Its CRD (deployment/components/gmc/crds) has the upstream schema, apart from
 * the controller-gen version annotation, so the upstream file checks it.
 */
export const ENTERPRISE_DIALECT: GmcDialect = {
  crdFile: 'gmc.opea.io_gmconnectors.yaml',
  stepNames: [
    'Fingerprint', 'TeiEmbedding', 'TeiEmbeddingGaudi', 'Embedding', 'Retriever', 'Reranking', 'TeiReranking',
    'TeiRerankingGaudi', 'PromptTemplate', 'Llm', 'Router', 'WebRetriever', 'Asr', 'Tts', 'SpeechT5', 'SpeechT5Gaudi',
    'Whisper', 'WhisperGaudi', 'DataPrep', 'Ingestion', 'TorchserveEmbedding', 'TorchserveEmbeddingGaudi',
    'VLLMEmbedding', 'TorchserveReranking', 'LLMGuardInput', 'LLMGuardOutput', 'VLLMGaudi', 'VLLM',
    'LanguageDetection', 'TextExtractor', 'TextCompression', 'TextSplitter', 'DocSum',
  ],
  templatedSteps: [
    'Fingerprint', 'TeiEmbedding', 'TeiEmbeddingGaudi', 'TorchserveEmbedding', 'TorchserveReranking', 'VLLMEmbedding',
    'Embedding', 'Retriever', 'Reranking', 'PromptTemplate', 'TeiReranking', 'TeiRerankingGaudi', 'Llm', 'WebRetriever',
    'Asr', 'Tts', 'SpeechT5', 'SpeechT5Gaudi', 'Whisper', 'WhisperGaudi', 'DataPrep', 'LLMGuardInput', 'LLMGuardOutput',
    'Ingestion', 'VLLMGaudi', 'VLLM', 'LanguageDetection', 'TextExtractor', 'TextCompression', 'TextSplitter', 'DocSum',
    'LateChunking',
  ],
  downstreamKeys: [
    'TEI_EMBEDDING_ENDPOINT', 'VLLM_EMBEDDING_ENDPOINT', 'RERANKING_SERVICE_ENDPOINT', 'VLLM_ENDPOINT',
    'LLM_MODEL_SERVER_ENDPOINT', 'EMBEDDING_MODEL_SERVER_ENDPOINT', 'DOCSUM_LLM_USVC_ENDPOINT', 'ASR_ENDPOINT',
    'TTS_ENDPOINT', 'TEI_ENDPOINT',
  ],
};
