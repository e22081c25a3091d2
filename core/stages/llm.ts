/** The LLM stage: LLMParamsDoc (or a question) in, GeneratedDoc out, streamed chunk by chunk when asked. */
import { performance } from 'node:perf_hooks';
import { asLlmInput, ChatMessage, ContractError, GeneratedDoc, llmDocuments, LLMParamsDoc, renderPrompt } from '../contract/documents';
import { Endpoint } from '../clients/endpoint';
import { ChunkHandler, Generation, GenerationParams, generateRemote, RemoteLlmBackend } from '../clients/llm';
import { settingValue } from './overrides';
import { extractiveAnswer } from '../embedded/extractive';
import { applyPrompts, PromptTemplates } from '../prompts/apply';

export interface LlmConfig extends GenerationParams {
  backend: string;
  /** The node's Handlebars templates; a request's own chat_template (OPEA's {context}/{question} form) goes before them. */
  prompts?: PromptTemplates;
}

export interface LlmRunOptions {
  model?: unknown;
  onChunk?: ChunkHandler;
  signal?: AbortSignal;
  /** Templates chosen for this message (msg.prompt), instead of the node's. */
  prompts?: PromptTemplates;
  /** The message properties the templates may name. */
  variables?: Record<string, unknown>;
  /** Earlier turns kept by a memory, before the ones the request carries. */
  remembered?: ChatMessage[];
}

export interface LlmMetrics {
  ttftMs?: number;
  totalMs: number;
  completionTokens: number;
  promptTokens?: number;
  tokensFrom: Generation['tokensFrom'];
  tokensPerSecond?: number;
  finishReason?: string;
  /** Settings that did not reach the model (wire names): the backend has no field for them or drops them. */
  ignored: string[];
}

/** The OPEA {context}/{question} template a request carries as chat_template, held to the limits of the node's templates. */
function requestTemplate(template: unknown): string {
  if (typeof template !== 'string') throw new ContractError(`msg.payload.chat_template must be text, not ${typeof template}`, 'send the template as a string, or leave it out to use the node\'s templates');
  if (template.length > 20_000) throw new ContractError(`msg.payload.chat_template has ${template.length} characters, more than 20000`, 'send a shorter template, or leave it out to use the node\'s templates');
  return template;
}

/**
 * Node settings, overridden by what the request carries (as OPEA's LLM service reads LLMParamsDoc) and by
 * msg.model; every value held to the node's limits (core/node-types.ts).
 */
export function generationParams(config: LlmConfig, doc: LLMParamsDoc, modelOverride?: unknown): GenerationParams {
  if (modelOverride !== undefined && (typeof modelOverride !== 'string' || modelOverride.trim() === '')) {
    throw new ContractError('msg.model is not a model id', 'set msg.model to a string such as meta-llama/Meta-Llama-3-8B-Instruct, or remove it');
  }
  const setting = <T extends number | boolean | string>(key: string, field: keyof LLMParamsDoc, fromNode: T): T => settingValue('opea-llm', key, field, doc[field], fromNode);
  const template = typeof doc.chat_template === 'string' && doc.chat_template.trim() === '' ? undefined : doc.chat_template;
  return {
    model: (modelOverride as string | undefined) ?? doc.model ?? config.model,
    maxTokens: setting('maxTokens', 'max_tokens', config.maxTokens),
    temperature: setting('temperature', 'temperature', config.temperature),
    topP: setting('topP', 'top_p', config.topP),
    topK: setting('topK', 'top_k', config.topK),
    repetitionPenalty: setting('repetitionPenalty', 'repetition_penalty', config.repetitionPenalty),
    stream: setting('streaming', 'stream', config.stream),
    template: template === undefined ? config.template : requestTemplate(template),
  };
}

export async function runLlm(
  config: LlmConfig,
  endpoint: Endpoint | undefined,
  payload: unknown,
  options: LlmRunOptions = {},
): Promise<{ doc: GeneratedDoc; metrics: LlmMetrics; documents: string[] }> {
  const asked = asLlmInput(payload);
  if (options.remembered && options.remembered.length > 0) asked.history = [...options.remembered, ...(asked.history ?? [])];
  const params = generationParams(config, asked, options.model);
  const prompts = asked.chat_template !== undefined && asked.chat_template.trim() !== '' ? undefined : (options.prompts ?? config.prompts);
  let input = asked;
  if (prompts) ({ input, template: params.template } = applyPrompts(asked, prompts, llmDocuments(payload), options.variables));
  const onChunk = options.onChunk ?? (() => undefined);
  let generation: Generation;
  if (config.backend === 'extractive') {
    const started = performance.now();
    const answer = extractiveAnswer(asked.query, asked.documents, params.maxTokens);
    const text = answer.text || 'The retrieved documents do not answer this question.';
    if (params.stream) onChunk(text);
    const totalMs = performance.now() - started;
    generation = { text, prompt: renderPrompt(params.template, input.query, input.documents), completionTokens: text.split(/\s+/).filter(Boolean).length, tokensFrom: 'chunks', totalMs, ttftMs: params.stream ? totalMs : undefined, ignored: [] };
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
    ignored: generation.ignored,
  };
  const doc: GeneratedDoc = { text: generation.text, prompt: generation.prompt };
  if (generation.reasoning !== undefined) doc.reasoning = generation.reasoning;
  return { doc, metrics, documents: asked.documents };
}
