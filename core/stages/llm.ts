/** The LLM stage: LLMParamsDoc (or a question) in, GeneratedDoc out, streamed chunk by chunk when asked. */
import { performance } from 'node:perf_hooks';
import { asLlmInput, ContractError, GeneratedDoc, LLMParamsDoc, renderPrompt } from '../contract/documents';
import { Endpoint } from '../clients/endpoint';
import { ChunkHandler, Generation, GenerationParams, generateRemote, RemoteLlmBackend } from '../clients/llm';
import { extractiveAnswer } from '../embedded/extractive';

export interface LlmConfig extends GenerationParams {
  backend: string;
}

export interface LlmMetrics {
  ttftMs?: number;
  totalMs: number;
  completionTokens: number;
  promptTokens?: number;
  tokensFrom: Generation['tokensFrom'];
  tokensPerSecond?: number;
  finishReason?: string;
}

function pick(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** Node settings, overridden by what the request carries (as OPEA's LLM service reads LLMParamsDoc) and by msg.model. */
export function generationParams(config: LlmConfig, doc: LLMParamsDoc, modelOverride?: unknown): GenerationParams {
  if (modelOverride !== undefined && (typeof modelOverride !== 'string' || modelOverride.trim() === '')) {
    throw new ContractError('msg.model is not a model id', 'set msg.model to a string such as meta-llama/Meta-Llama-3-8B-Instruct, or remove it');
  }
  const params: GenerationParams = {
    model: (modelOverride as string | undefined) ?? doc.model ?? config.model,
    maxTokens: pick(doc.max_tokens, config.maxTokens),
    temperature: pick(doc.temperature, config.temperature),
    topP: pick(doc.top_p, config.topP),
    topK: pick(doc.top_k, config.topK),
    repetitionPenalty: pick(doc.repetition_penalty, config.repetitionPenalty),
    stream: typeof doc.stream === 'boolean' ? doc.stream : config.stream,
    template: typeof doc.chat_template === 'string' && doc.chat_template.trim() !== '' ? doc.chat_template : config.template,
  };
  if (!Number.isInteger(params.maxTokens) || params.maxTokens < 1) throw new ContractError(`max_tokens must be a whole number of at least 1, not ${params.maxTokens}`, 'fix msg.payload.max_tokens or the node setting');
  if (params.temperature < 0 || params.temperature > 2) throw new ContractError(`temperature must be from 0 to 2, not ${params.temperature}`, 'fix msg.payload.temperature or the node setting');
  if (params.topP < 0 || params.topP > 1) throw new ContractError(`top_p must be from 0 to 1, not ${params.topP}`, 'fix msg.payload.top_p or the node setting');
  return params;
}

export async function runLlm(
  config: LlmConfig,
  endpoint: Endpoint | undefined,
  payload: unknown,
  options: { model?: unknown; onChunk?: ChunkHandler; signal?: AbortSignal } = {},
): Promise<{ doc: GeneratedDoc; metrics: LlmMetrics; documents: string[] }> {
  const input = asLlmInput(payload);
  const params = generationParams(config, input, options.model);
  const onChunk = options.onChunk ?? (() => undefined);
  let generation: Generation;
  if (config.backend === 'extractive') {
    const started = performance.now();
    const answer = extractiveAnswer(input.query, input.documents, params.maxTokens);
    const text = answer.text || 'The retrieved documents do not answer this question.';
    if (params.stream) onChunk(text);
    const totalMs = performance.now() - started;
    generation = { text, prompt: renderPrompt(params.template, input.query, input.documents), completionTokens: text.split(/\s+/).filter(Boolean).length, tokensFrom: 'chunks', totalMs, ttftMs: params.stream ? totalMs : undefined };
  } else {
    if (!endpoint) throw new ContractError(`the ${config.backend} LLM backend needs a server`, 'choose an opea-server config node');
    if (!params.model && config.backend !== 'opea' && config.backend !== 'tgi') {
      throw new ContractError(`the ${config.backend} backend needs a model id`, 'set the model in the node or msg.model');
    }
    generation = await generateRemote(endpoint, config.backend as RemoteLlmBackend, input, params, onChunk, options.signal);
  }
  const decodeMs = generation.ttftMs === undefined ? generation.totalMs : generation.totalMs - generation.ttftMs;
  const metrics: LlmMetrics = {
    ttftMs: generation.ttftMs,
    totalMs: generation.totalMs,
    completionTokens: generation.completionTokens,
    promptTokens: generation.promptTokens,
    tokensFrom: generation.tokensFrom,
    tokensPerSecond: decodeMs > 0 && generation.completionTokens > 0 ? (generation.completionTokens / decodeMs) * 1000 : undefined,
    finishReason: generation.finishReason,
  };
  return { doc: { text: generation.text, prompt: generation.prompt }, metrics, documents: input.documents };
}
