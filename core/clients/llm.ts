/**
 * Text generation: OpenAI-compatible chat completions (vLLM, TGI's messages API, Ollama, OpenAI),
 * TGI's native `/generate(_stream)`, and the OPEA LLM microservice.
 *
 * The OPEA LLM service takes an LLMParamsDoc in every release, but GenAIComps 1.1 and 1.2–1.5 differ:
 * - the switch: 1.1 reads `streaming` (v1.1 comps/cores/proto/docarray.py:187), 1.2 and later read
 *   `stream` (v1.5 docarray.py:429); each ignores the other's field, so both are sent, always equal;
 * - the whole answer: 1.1 a GeneratedDoc `{text, prompt}` (v1.1 comps/llms/text-generation/tgi/llm.py:182),
 *   1.5 an OpenAI completion `{choices: [{text}]}` (v1.5 comps/llms/src/text-generation/integrations/service.py:230,249);
 * - the stream: 1.1 sends each token as Python's repr of its UTF-8 bytes, `data: b'...'`, then
 *   `data: [DONE]` (v1.1 llm.py:160-177), 1.5 OpenAI completion chunks, then `data: [DONE]` (service.py:236-246).
 * Each answer is read by its shape, so one client serves both releases.
 */
import { performance } from 'node:perf_hooks';
import { ChatMessage, DEFAULT_CHAT_TEMPLATE, LLMParamsDoc, renderPrompt } from '../contract/documents';
import { Endpoint, ServiceError } from './endpoint';
import { isObject, parseEventJson, unexpected } from './wire';

export type RemoteLlmBackend = 'tgi' | 'opea' | 'vllm' | 'openai' | 'ollama';

export interface GenerationParams {
  model?: string;
  maxTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  repetitionPenalty: number;
  stream: boolean;
  template: string;
}

export interface Generation {
  text: string;
  prompt: string;
  completionTokens: number;
  promptTokens?: number;
  /** Where the token counts come from: the server's usage report, TGI's details, or counted stream chunks. */
  tokensFrom: 'usage' | 'details' | 'chunks';
  /** Time to the first non-empty chunk (streaming only), ms. */
  ttftMs?: number;
  totalMs: number;
  finishReason?: string;
}

type Json = Record<string, unknown>;
export type ChunkHandler = (text: string) => void;

/** Python's repr of bytes (`b'..'` / `b".."`), as GenAIComps 1.1 streams tokens, back to text. */
export function decodePythonBytes(literal: string): string | null {
  const m = /^b(['"])([\s\S]*)\1$/.exec(literal);
  if (!m) return null;
  const bytes: number[] = [];
  const body = m[2];
  const simple: Record<string, number> = { n: 10, r: 13, t: 9, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11, '0': 0 };
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const n = body[++i];
    if (n === 'x') {
      bytes.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (n !== undefined && n in simple) {
      bytes.push(simple[n]);
    } else {
      bytes.push(92, ...(n === undefined ? [] : Buffer.from(n, 'utf8')));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function chatMessages(history: ChatMessage[] | undefined, prompt: string): ChatMessage[] {
  return [...(history ?? []), { role: 'user', content: prompt }];
}

/** Text of one chunk or whole answer in any OpenAI-style shape (chat or completion). */
function choiceText(answer: Json): { text: string; finish?: string } | null {
  if (!Array.isArray(answer.choices)) return null;
  const choice = answer.choices[0];
  if (choice === undefined) return { text: '' };
  if (!isObject(choice)) return null;
  const finish = typeof choice.finish_reason === 'string' ? choice.finish_reason : undefined;
  if (isObject(choice.delta)) return { text: typeof choice.delta.content === 'string' ? choice.delta.content : '', finish };
  if (isObject(choice.message)) return { text: typeof choice.message.content === 'string' ? choice.message.content : '', finish };
  if (typeof choice.text === 'string') return { text: choice.text, finish };
  return null;
}

function usageOf(answer: Json): { prompt?: number; completion: number } | null {
  const u = answer.usage;
  if (isObject(u) && typeof u.completion_tokens === 'number') {
    return { prompt: typeof u.prompt_tokens === 'number' ? u.prompt_tokens : undefined, completion: u.completion_tokens };
  }
  return null;
}

interface Request {
  path: string;
  body: Json;
  dialect: 'openai' | 'tgi';
}

function buildRequest(backend: RemoteLlmBackend, input: LLMParamsDoc, p: GenerationParams, prompt: string): Request {
  if (backend === 'tgi') {
    const parameters: Json = { max_new_tokens: p.maxTokens, details: true, repetition_penalty: p.repetitionPenalty, top_k: p.topK };
    // TGI refuses temperature 0 and top_p outside (0, 1): those mean greedy / no nucleus cut.
    if (p.temperature > 0) Object.assign(parameters, { temperature: p.temperature, do_sample: true });
    if (p.topP > 0 && p.topP < 1) parameters.top_p = p.topP;
    return { path: p.stream ? '/generate_stream' : '/generate', body: { inputs: prompt, parameters }, dialect: 'tgi' };
  }
  if (backend === 'opea') {
    if (input.history && input.history.length > 0) {
      // LLMParamsDoc has no history; OPEA's ChatCompletionRequest has.
      return {
        path: '/v1/chat/completions',
        body: { messages: chatMessages(input.history, prompt), max_tokens: p.maxTokens, temperature: p.temperature, top_p: p.topP, top_k: p.topK, stream: p.stream, ...(p.model ? { model: p.model } : {}) },
        dialect: 'openai',
      };
    }
    const body: Json = {
      query: input.query,
      documents: input.documents,
      max_tokens: p.maxTokens,
      max_new_tokens: p.maxTokens,
      top_k: p.topK,
      top_p: p.topP,
      temperature: p.temperature,
      repetition_penalty: p.repetitionPenalty,
      stream: p.stream,
      streaming: p.stream,
    };
    if (p.model) body.model = p.model;
    // The service builds ChatQnA's own prompt unless given a template.
    if (p.template !== DEFAULT_CHAT_TEMPLATE) body.chat_template = p.template;
    return { path: '/v1/chat/completions', body, dialect: 'openai' };
  }
  const body: Json = {
    model: p.model,
    messages: chatMessages(input.history, prompt),
    max_tokens: p.maxTokens,
    temperature: p.temperature,
    top_p: p.topP,
    stream: p.stream,
  };
  if (p.stream) body.stream_options = { include_usage: true };
  // OpenAI itself refuses unknown sampling fields; vLLM takes these two.
  if (backend === 'vllm') Object.assign(body, { top_k: p.topK, repetition_penalty: p.repetitionPenalty });
  return { path: '/v1/chat/completions', body, dialect: 'openai' };
}

export async function generateRemote(
  endpoint: Endpoint,
  backend: RemoteLlmBackend,
  input: LLMParamsDoc,
  params: GenerationParams,
  onChunk: ChunkHandler,
  signal?: AbortSignal,
): Promise<Generation> {
  const prompt = renderPrompt(params.template, input.query, input.documents);
  const request = buildRequest(backend, input, params, prompt);
  const url = `${endpoint.config.baseUrl.replace(/\/+$/, '')}${request.path}`;
  const started = performance.now();
  if (!params.stream) {
    const answer = await endpoint.postJson(request.path, request.body, signal);
    const totalMs = performance.now() - started;
    if (request.dialect === 'tgi') {
      const first = Array.isArray(answer) ? answer[0] : answer;
      if (!isObject(first) || typeof first.generated_text !== 'string') throw unexpected(url, 'expected {generated_text}');
      const details = isObject(first.details) ? first.details : {};
      const n = typeof details.generated_tokens === 'number' ? details.generated_tokens : undefined;
      return { text: first.generated_text, prompt, completionTokens: n ?? 0, tokensFrom: n === undefined ? 'chunks' : 'details', totalMs, finishReason: typeof details.finish_reason === 'string' ? details.finish_reason : undefined };
    }
    if (backend === 'opea' && isObject(answer) && answer.choices === undefined && typeof answer.text === 'string') {
      // GenAIComps 1.1's GeneratedDoc: the text alone, no token counts.
      return { text: answer.text, prompt, completionTokens: 0, tokensFrom: 'chunks', totalMs };
    }
    const choice = isObject(answer) ? choiceText(answer) : null;
    if (!choice || !isObject(answer)) throw unexpected(url, backend === 'opea' ? 'expected a completion {choices: [...]} (GenAIComps 1.2 to 1.5) or a GeneratedDoc {text} (1.1)' : 'expected {choices: [{message: {content}}]}');
    const usage = usageOf(answer);
    return { text: choice.text, prompt, completionTokens: usage?.completion ?? 0, promptTokens: usage?.prompt, tokensFrom: usage ? 'usage' : 'chunks', totalMs, finishReason: choice.finish };
  }

  let text = '';
  let chunks = 0;
  let ttftMs: number | undefined;
  let usage: { prompt?: number; completion: number } | null = null;
  let finished = false;
  let finishReason: string | undefined;
  const emit = (piece: string) => {
    if (piece === '') return;
    if (ttftMs === undefined) ttftMs = performance.now() - started;
    chunks += 1;
    text += piece;
    onChunk(piece);
  };
  for await (const data of endpoint.postStream(request.path, request.body, signal)) {
    if (finished && request.dialect === 'openai') throw unexpected(url, 'events after [DONE]');
    if (request.dialect === 'openai' && data.trim() === '[DONE]') {
      finished = true;
      continue;
    }
    const bytes = decodePythonBytes(data.trim());
    if (bytes !== null) {
      emit(bytes);
      continue;
    }
    const event = parseEventJson(url, data);
    if (isObject(event.error) || typeof event.error === 'string') {
      throw new ServiceError(url, `the server reported an error mid-stream: ${JSON.stringify(event.error).slice(0, 200)}`, 'check the server logs and the request parameters');
    }
    if (request.dialect === 'tgi') {
      const token = isObject(event.token) ? event.token : null;
      if (token && token.special !== true && typeof token.text === 'string') emit(token.text);
      if (typeof event.generated_text === 'string') {
        finished = true;
        const details = isObject(event.details) ? event.details : {};
        if (typeof details.generated_tokens === 'number') usage = { completion: details.generated_tokens };
        if (typeof details.finish_reason === 'string') finishReason = details.finish_reason;
      }
      continue;
    }
    const choice = choiceText(event);
    if (choice === null && !event.usage) {
      throw unexpected(url, `a stream event has no choices: ${data.slice(0, 120)}`);
    }
    if (choice) {
      // A whole answer where chunks were expected: the server ignored `stream`.
      if (Array.isArray(event.choices) && isObject(event.choices[0]) && isObject(event.choices[0].message)) finished = true;
      emit(choice.text);
      if (choice.finish) finishReason = choice.finish;
    }
    usage = usageOf(event) ?? usage;
  }
  if (!finished) {
    throw new ServiceError(url, `the stream ended before its end marker (${request.dialect === 'tgi' ? 'the final event with generated_text' : 'data: [DONE]'}); ${chunks} chunks arrived`, 'the answer is incomplete: check the server logs or raise its timeout');
  }
  return {
    text,
    prompt,
    completionTokens: usage?.completion ?? chunks,
    promptTokens: usage?.prompt,
    tokensFrom: usage ? (request.dialect === 'tgi' ? 'details' : 'usage') : 'chunks',
    ttftMs,
    totalMs: performance.now() - started,
    finishReason,
  };
}
