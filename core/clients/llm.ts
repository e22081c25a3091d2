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
 *   `data: [DONE]` (v1.1 llm.py:160-177), 1.5 OpenAI completion chunks, then `data: [DONE]` (service.py:236-246);
 * - what reaches the model server: 1.1 passes max_tokens, temperature, top_k, top_p and repetition_penalty
 *   to TGI (llm.py:151-159), 1.5 only max_tokens, top_p and temperature (service.py:147-154, ALLOWED_COMPLETION_ARGS);
 * - the prompt: both fill `chat_template` ({question} and {context}) and build their own without one
 *   (llm.py:136-149, service.py:131-144), so the template is always sent, in the service's syntax.
 * Both releases forward top_p whatever is asked (0.95 when absent), and TGI samples on any top_p and
 * refuses 1; so greedy decoding, "no nucleus cut" and conversations go as an OpenAI chat request, which
 * both forward to the model server's chat API without top_p unless it is sent (llm.py:227-268, service.py:191-216).
 * Each answer is read by its shape, so one client serves both releases.
 */
import { performance } from 'node:perf_hooks';
import { ChatMessage, LLMParamsDoc, renderPrompt, serviceTemplate } from '../contract/documents';
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
  /** The last user turn as the model received it (the filled template); history and system go before it as their own messages. */
  prompt: string;
  /** The model's reasoning, where the server returns it apart from the answer (vLLM, Ollama). */
  reasoning?: string;
  completionTokens: number;
  promptTokens?: number;
  /** Where the token counts come from: the server's usage report, TGI's details, or counted stream chunks. */
  tokensFrom: 'usage' | 'details' | 'chunks';
  /** Time to the first generated token, answer or reasoning (streaming only), ms. */
  ttftMs?: number;
  totalMs: number;
  finishReason?: string;
  /** Settings (by their wire names) that did not reach the model: the request has no field for them, or the service drops them. */
  ignored: string[];
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

/** Temperature 0, and top_p 0 (a nucleus of one token), leave one candidate token: greedy decoding. */
export function isGreedy(p: Pick<GenerationParams, 'temperature' | 'topP'>): boolean {
  return p.temperature === 0 || p.topP === 0;
}

/** Settings an OpenAI-style chat or completion request has no field for, where they would change the answer. */
function beyondOpenAi(p: GenerationParams): string[] {
  const ignored = isGreedy(p) ? [] : ['top_k'];
  if (p.repetitionPenalty !== 1) ignored.push('repetition_penalty');
  return ignored;
}

/**
 * temperature and top_p for a chat request that TGI may serve (its own messages API, or OPEA's service
 * in front of it). TGI decodes greedily only for temperature 0 with no top_p: any top_p below 1 makes it
 * sample (server/text_generation_server/utils/tokens.py l.62-75) and it refuses top_p ≥ 1 (router/src/validation.rs).
 */
function tgiChatSampling(p: Pick<GenerationParams, 'temperature' | 'topP'>): Json {
  if (isGreedy(p)) return { temperature: 0 };
  return p.topP < 1 ? { temperature: p.temperature, top_p: p.topP } : { temperature: p.temperature };
}

/** TGI `/generate` parameters. TGI samples as soon as do_sample, temperature, top_k or top_p is set (tokens.py l.62-75), so greedy sends none. */
function tgiParameters(p: GenerationParams): Json {
  const parameters: Json = { max_new_tokens: p.maxTokens, details: true, repetition_penalty: p.repetitionPenalty };
  if (isGreedy(p)) return parameters;
  Object.assign(parameters, { do_sample: true, temperature: p.temperature, top_k: p.topK });
  // TGI refuses top_p outside (0, 1) (validation.rs); leaving it out is no nucleus cut.
  if (p.topP < 1) parameters.top_p = p.topP;
  return parameters;
}

interface Request {
  path: string;
  body: Json;
  dialect: 'openai' | 'tgi';
  ignored: string[];
  /** An LLMParamsDoc to the OPEA service, whose 1.2+ releases drop top_k and repetition_penalty. */
  paramsDoc?: boolean;
  /** TGI before 2.2 ends a chat stream with the chunk that has a finish_reason, with no [DONE] (v2.0.4 router/src/server.rs l.1100-1150). */
  endsAtFinish?: boolean;
}

const CHAT = '/v1/chat/completions';

function buildRequest(backend: RemoteLlmBackend, input: LLMParamsDoc, p: GenerationParams, prompt: string): Request {
  const history = input.history ?? [];
  const messages: ChatMessage[] = [...history, { role: 'user', content: prompt }];
  const stream = p.stream ? { stream: true, stream_options: { include_usage: true } } : { stream: false };
  if (backend === 'tgi') {
    if (history.length === 0) {
      return { path: p.stream ? '/generate_stream' : '/generate', body: { inputs: prompt, parameters: tgiParameters(p) }, dialect: 'tgi', ignored: [] };
    }
    // The messages API (TGI 1.4 and later) applies the model's chat template to every turn, the system
    // message included. Its `model` names a LoRA adapter unless it is "tgi" (router/src/lib.rs), and TGI 2.0 requires one.
    return { path: CHAT, body: { model: 'tgi', messages, max_tokens: p.maxTokens, ...chatSampling('tgi', p), ...stream }, dialect: 'openai', ignored: beyondOpenAi(p), endsAtFinish: true };
  }
  if (backend === 'opea') {
    if (history.length > 0 || isGreedy(p) || p.topP >= 1) {
      const body: Json = { messages, max_tokens: p.maxTokens, ...tgiChatSampling(p), stream: p.stream };
      if (p.model) body.model = p.model;
      return { path: CHAT, body, dialect: 'openai', ignored: beyondOpenAi(p) };
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
      chat_template: serviceTemplate(p.template),
    };
    if (p.model) body.model = p.model;
    return { path: CHAT, body, dialect: 'openai', ignored: [], paramsDoc: true };
  }
  const body: Json = { model: p.model, messages, max_tokens: p.maxTokens, ...chatSampling(backend, p), ...stream };
  return { path: CHAT, body, dialect: 'openai', ignored: backend === 'vllm' ? [] : beyondOpenAi(p) };
}

/** The sampling fields of an OpenAI-style chat request to `backend`, greedy where the settings ask for it. */
export function chatSampling(backend: 'tgi' | 'vllm' | 'openai' | 'ollama', p: Pick<GenerationParams, 'temperature' | 'topP' | 'topK' | 'repetitionPenalty'>): Json {
  if (backend === 'tgi') return tgiChatSampling(p);
  if (backend === 'vllm') {
    // vLLM refuses top_p 0 (sampling_params.py _verify_args) and is greedy at temperature 0 whatever
    // else is set. Sampling settings left out would come from the model's generation_config, so all are sent.
    return { ...(isGreedy(p) ? { temperature: 0 } : { temperature: p.temperature, top_p: p.topP, top_k: p.topK }), repetition_penalty: p.repetitionPenalty };
  }
  // OpenAI and Ollama's OpenAI API take no top_k or repetition penalty (ollama openai/openai.go ChatCompletionRequest).
  return isGreedy(p) ? { temperature: 0 } : { temperature: p.temperature, top_p: p.topP };
}

interface Piece {
  text: string;
  reasoning: string;
  finish?: string;
  /** A whole message (`message`), not a chunk (`delta`). */
  whole: boolean;
}

/**
 * One choice in any OpenAI-style shape: chat message, chat delta or completion text. Reasoning comes
 * as `reasoning_content` (vLLM up to 0.10, vllm/entrypoints/openai/protocol.py ChatMessage and DeltaMessage)
 * or `reasoning` (later vLLM, vllm/entrypoints/openai/chat_completion/protocol.py ChatMessage; Ollama,
 * openai/openai.go Message l.35 and Delta l.46).
 */
function pieceOf(choice: unknown): Piece | null {
  if (!isObject(choice)) return null;
  const finish = typeof choice.finish_reason === 'string' ? choice.finish_reason : undefined;
  const message = isObject(choice.message) ? choice.message : isObject(choice.delta) ? choice.delta : null;
  if (message) {
    const text = typeof message.content === 'string' ? message.content : '';
    const reasoning = [message.reasoning_content, message.reasoning].find((r): r is string => typeof r === 'string' && r !== '') ?? '';
    return { text, reasoning, finish, whole: message === choice.message };
  }
  if (typeof choice.text === 'string') return { text: choice.text, reasoning: '', finish, whole: false };
  return null;
}

function usageOf(answer: Json): { prompt?: number; completion: number } | null {
  const u = answer.usage;
  if (isObject(u) && typeof u.completion_tokens === 'number') {
    return { prompt: typeof u.prompt_tokens === 'number' ? u.prompt_tokens : undefined, completion: u.completion_tokens };
  }
  return null;
}

function reportedError(url: string, answer: unknown, where: string): ServiceError | null {
  if (!isObject(answer) || (!isObject(answer.error) && typeof answer.error !== 'string')) return null;
  return new ServiceError(url, `the server reported an error${where}: ${JSON.stringify(answer.error).slice(0, 200)}`, 'check the server logs and the request parameters');
}

function noChoices(url: string): ServiceError {
  return new ServiceError(url, 'the answer has no choices and no error', 'the server generated nothing: check its logs (a request it could not serve, or a filter that removed the answer)');
}

/** What the request could not carry, and what an OPEA service of 1.2 or later dropped from an LLMParamsDoc. */
function ignoredBy(request: Request, p: GenerationParams, release11: boolean): string[] {
  return request.paramsDoc && !release11 ? beyondOpenAi(p) : request.ignored;
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
      return { text: first.generated_text, prompt, completionTokens: n ?? 0, tokensFrom: n === undefined ? 'chunks' : 'details', totalMs, finishReason: typeof details.finish_reason === 'string' ? details.finish_reason : undefined, ignored: request.ignored };
    }
    const error = reportedError(url, answer, '');
    if (error) throw error;
    if (request.paramsDoc && isObject(answer) && answer.choices === undefined && typeof answer.text === 'string') {
      // GenAIComps 1.1's GeneratedDoc: the text alone, no token counts.
      return { text: answer.text, prompt, completionTokens: 0, tokensFrom: 'chunks', totalMs, ignored: ignoredBy(request, params, true) };
    }
    if (!isObject(answer) || !Array.isArray(answer.choices)) {
      throw unexpected(url, backend === 'opea' ? 'expected a completion {choices: [...]} (GenAIComps 1.2 to 1.5) or a GeneratedDoc {text} (1.1)' : 'expected {choices: [{message: {content}}]}');
    }
    if (answer.choices.length === 0) throw noChoices(url);
    const piece = pieceOf(answer.choices[0]);
    if (!piece) throw unexpected(url, 'choices[0] has neither message, delta nor text');
    const usage = usageOf(answer);
    return {
      text: piece.text,
      prompt,
      ...(piece.reasoning ? { reasoning: piece.reasoning } : {}),
      completionTokens: usage?.completion ?? 0,
      promptTokens: usage?.prompt,
      tokensFrom: usage ? 'usage' : 'chunks',
      totalMs,
      finishReason: piece.finish,
      ignored: ignoredBy(request, params, false),
    };
  }

  let text = '';
  let reasoning = '';
  let chunks = 0;
  let ttftMs: number | undefined;
  let usage: { prompt?: number; completion: number } | null = null;
  let done = false;
  let complete = false;
  let sawChoice = false;
  let release11 = false;
  let finishReason: string | undefined;
  const generated = () => {
    if (ttftMs === undefined) ttftMs = performance.now() - started;
    chunks += 1;
  };
  const emit = (piece: string) => {
    if (piece === '') return;
    generated();
    text += piece;
    onChunk(piece);
  };
  for await (const data of endpoint.postStream(request.path, request.body, signal)) {
    if (done) throw unexpected(url, 'events after [DONE]');
    if (request.dialect === 'openai' && data.trim() === '[DONE]') {
      done = complete = true;
      continue;
    }
    const bytes = decodePythonBytes(data.trim());
    if (bytes !== null) {
      release11 = sawChoice = true;
      emit(bytes);
      continue;
    }
    const event = parseEventJson(url, data);
    const error = reportedError(url, event, ' mid-stream');
    if (error) throw error;
    if (request.dialect === 'tgi') {
      const token = isObject(event.token) ? event.token : null;
      if (token && token.special !== true && typeof token.text === 'string') emit(token.text);
      if (typeof event.generated_text === 'string') {
        complete = true;
        const details = isObject(event.details) ? event.details : {};
        if (typeof details.generated_tokens === 'number') usage = { completion: details.generated_tokens };
        if (typeof details.finish_reason === 'string') finishReason = details.finish_reason;
      }
      continue;
    }
    if (!Array.isArray(event.choices) && !event.usage) throw unexpected(url, `a stream event has no choices: ${data.slice(0, 120)}`);
    if (Array.isArray(event.choices) && event.choices.length > 0) {
      const piece = pieceOf(event.choices[0]);
      if (!piece) throw unexpected(url, `a stream event's choice has neither delta, message nor text: ${data.slice(0, 120)}`);
      sawChoice = true;
      // A whole message where chunks were expected: the server ignored `stream`.
      if (piece.whole || (piece.finish && request.endsAtFinish)) complete = true;
      if (piece.reasoning) {
        generated();
        reasoning += piece.reasoning;
      }
      emit(piece.text);
      if (piece.finish) finishReason = piece.finish;
    }
    usage = usageOf(event) ?? usage;
  }
  if (!complete) {
    throw new ServiceError(url, `the stream ended before its end marker (${request.dialect === 'tgi' ? 'the final event with generated_text' : 'data: [DONE]'}); ${chunks} chunks arrived`, 'the answer is incomplete: check the server logs or raise its timeout');
  }
  if (request.dialect === 'openai' && !sawChoice) throw noChoices(url);
  return {
    text,
    prompt,
    ...(reasoning ? { reasoning } : {}),
    completionTokens: usage?.completion ?? chunks,
    promptTokens: usage?.prompt,
    tokensFrom: usage ? (request.dialect === 'tgi' ? 'details' : 'usage') : 'chunks',
    ttftMs,
    totalMs: performance.now() - started,
    finishReason,
    ignored: ignoredBy(request, params, release11),
  };
}
