/**
 * Loopback LLM servers that decide as the upstream projects do: whether a request is accepted, which
 * sampling settings reach the model, whether the model decodes greedily or samples, and the text the
 * model is given (raw prompt, or chat messages through a chat template). Every rule cites its source.
 * Kinds: TGI (native and messages API), vLLM, Ollama's OpenAI API, OpenAI, and the OPEA LLM service of
 * GenAIComps 1.1 and 1.5 with TGI or vLLM behind it. Test-only: binds 127.0.0.1 on an ephemeral port.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { createEndpoint, Endpoint } from '../../core/clients/endpoint';
import { DEFAULT_CHAT_TEMPLATE } from '../../core/contract/documents';
import { LlmConfig } from '../../core/stages/llm';
import { listenLoopback } from './loopback';

type Json = Record<string, unknown>;

export type UpstreamKind = 'tgi' | 'vllm' | 'ollama' | 'openai' | 'opea-1.1' | 'opea-1.5';

/** What the model server did with one request. */
export interface ModelCall {
  /** What the model was given: the prompt, or the chat messages after the (fake) chat template. */
  input: string;
  decoding: 'greedy' | 'sampling';
  /** The settings the model server applied (a setting not listed: the server's default). */
  settings: Json;
}

export interface Served {
  path: string;
  body: unknown;
  status: number;
  /** The model server's call (for an OPEA service: the one behind it). */
  model?: ModelCall;
  /** OPEA: who built the prompt — the chat_template sent, the service's own RAG template, or the query alone. */
  promptFrom?: 'chat_template' | 'service' | 'query';
}

export interface UpstreamOptions {
  tokens?: string[];
  /** Reasoning the model produces before the answer, in the field the server names it by. */
  reasoning?: { field: 'reasoning_content' | 'reasoning'; tokens: string[] };
  /** TGI 2.2 and later end a chat stream with [DONE] (v2.2.0 router/src/server.rs l.1180); 2.0 does not (v2.0.4 l.1100-1150). */
  tgiDone?: boolean;
  /** The model server behind an OPEA service (1.5 runs either; 1.1's llm-tgi runs TGI). */
  modelServer?: 'tgi' | 'vllm';
  /** Chat answers with an empty `choices` list and no error, which the response type allows (vLLM ChatCompletionResponse.choices: list, no minimum). */
  noChoices?: boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Json,
  ) {
    super(JSON.stringify(body));
  }
}

const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

export function endpointTo(url: string): Endpoint {
  return createEndpoint({ baseUrl: url, timeoutMs: 5000, retries: 0, backoffMs: 10, headers: {}, verifyTls: true });
}

/** An opea-llm configuration that samples (temperature 0.7, top_p 0.9, top_k 20, repetition penalty 1.1), not streaming. */
export function llmConfig(backend: string, overrides: Partial<LlmConfig> = {}): LlmConfig {
  return { backend, model: 'org/model', maxTokens: 16, temperature: 0.7, topP: 0.9, topK: 20, repetitionPenalty: 1.1, stream: false, template: DEFAULT_CHAT_TEMPLATE, ...overrides };
}

// ---------------------------------------------------------------------------------------------------------
// Model servers

/** TGI's checks of generate parameters (router/src/validation.rs l.241-287) and its decoding choice (server/text_generation_server/utils/tokens.py l.62-77). */
function tgiDecode(input: string, p: { temperature?: number; top_k?: number; top_p?: number; do_sample?: boolean; repetition_penalty?: number; max_new_tokens?: number }): ModelCall {
  const refuse = (error: string) => {
    throw new HttpError(422, { error: `Input validation error: ${error}`, error_type: 'validation' });
  };
  if (p.temperature !== undefined && p.temperature <= 0) refuse('`temperature` must be strictly positive');
  if (p.repetition_penalty !== undefined && p.repetition_penalty <= 0) refuse('`repetition_penalty` must be strictly positive');
  if (p.top_p !== undefined && (p.top_p <= 0 || p.top_p >= 1)) refuse('`top_p` must be > 0.0 and < 1.0');
  if (p.top_k !== undefined && p.top_k <= 0) refuse('`top_k` must be strictly positive');
  if (p.max_new_tokens === 0) refuse('`max_new_tokens` must be strictly positive');
  const warpers = (p.temperature !== undefined && p.temperature !== 1) || (p.top_k !== undefined && p.top_k !== 0) || (p.top_p !== undefined && p.top_p < 1);
  const settings: Json = {};
  for (const [k, v] of Object.entries(p)) if (v !== undefined) settings[k] = v;
  return { input, decoding: p.do_sample === true || warpers ? 'sampling' : 'greedy', settings };
}

/** A chat template for the fake model: every turn, in order, with its role. */
function chatTemplate(messages: Json[]): string {
  return `${messages.map((m) => `<|${String(m.role)}|>\n${String(m.content)}`).join('\n')}\n<|assistant|>\n`;
}

function requireMessages(body: Json): Json[] {
  if (!Array.isArray(body.messages) || body.messages.length === 0 || !body.messages.every((m) => isObject(m) && typeof m.role === 'string' && typeof m.content === 'string')) {
    throw new HttpError(422, { error: 'Failed to deserialize the JSON body into the target type: messages', error_type: 'validation' });
  }
  return body.messages as Json[];
}

/**
 * TGI's messages API: `model` required in 2.0 (v2.0.4 router/src/lib.rs l.698); temperature 0 means greedy
 * and unsets temperature, anything else samples; top_k is never set; repetition_penalty is presence_penalty + 2
 * (v2.0.4 router/src/server.rs l.1019-1028); then the generate checks.
 */
function tgiChat(body: Json): ModelCall {
  if (typeof body.model !== 'string') throw new HttpError(422, { error: 'Failed to deserialize the JSON body into the target type: missing field `model`', error_type: 'validation' });
  const greedy = body.temperature === 0;
  return tgiDecode(chatTemplate(requireMessages(body)), {
    temperature: greedy ? undefined : num(body.temperature),
    do_sample: !greedy,
    top_p: num(body.top_p),
    repetition_penalty: num(body.presence_penalty) === undefined ? undefined : (body.presence_penalty as number) + 2,
    max_new_tokens: num(body.max_tokens),
  });
}

/** TGI's completions API: as the messages API, with repetition_penalty passed through (router/src/server.rs l.741-789). */
function tgiCompletion(body: Json): ModelCall {
  const greedy = body.temperature === 0;
  return tgiDecode(String(body.prompt), {
    temperature: greedy ? undefined : num(body.temperature),
    do_sample: !greedy,
    top_p: num(body.top_p),
    repetition_penalty: num(body.repetition_penalty),
    max_new_tokens: num(body.max_tokens),
  });
}

/**
 * vLLM (vllm/sampling_params.py at 00388f65, SamplingParams._verify_args: temperature in [0, 2], top_p in
 * (0, 1], top_k ≥ -1, repetition_penalty > 0, max_tokens ≥ 1, answered 400; __post_init__: temperature
 * below 1e-5 is greedy and resets top_p and top_k).
 */
function vllmDecode(input: string, body: Json): ModelCall {
  const refuse = (message: string) => {
    throw new HttpError(400, { object: 'error', message, type: 'BadRequestError', code: 400 });
  };
  const temperature = num(body.temperature) ?? 1;
  const topP = num(body.top_p) ?? 1;
  const topK = num(body.top_k) ?? 0;
  const rp = num(body.repetition_penalty) ?? 1;
  if (rp <= 0) refuse(`repetition_penalty must be greater than zero, got ${rp}.`);
  if (temperature < 0 || temperature > 2) refuse(`temperature must be in [0, 2], got ${temperature}.`);
  if (!(topP > 0 && topP <= 1)) refuse(`top_p must be in (0, 1], got ${topP}.`);
  if (topK < -1 || !Number.isInteger(topK)) refuse(`top_k must be 0 (disable), or at least 1, got ${topK}.`);
  if (body.max_tokens !== undefined && (body.max_tokens as number) < 1) refuse(`max_tokens must be at least 1, got ${String(body.max_tokens)}.`);
  const greedy = temperature < 1e-5;
  return { input, decoding: greedy ? 'greedy' : 'sampling', settings: { temperature, top_p: greedy ? 1 : topP, top_k: greedy ? 0 : topK, repetition_penalty: rp } };
}

/**
 * Ollama's OpenAI API: only the fields of its ChatCompletionRequest become options, temperature and top_p
 * defaulting to 1 (openai/openai.go l.113-116, l.655-682; others, top_k included, are dropped by the
 * JSON decoder); temperature 0 takes the argmax (x/mlxrunner/sample/sample.go l.782).
 */
function ollamaDecode(body: Json): ModelCall {
  const settings: Json = { temperature: num(body.temperature) ?? 1, top_p: num(body.top_p) ?? 1 };
  if (body.max_tokens !== undefined) settings.num_predict = body.max_tokens;
  return { input: chatTemplate(requireMessages(body)), decoding: settings.temperature === 0 ? 'greedy' : 'sampling', settings };
}

/** OpenAI refuses fields it does not know (400 "Unrecognized request argument supplied"). */
const OPENAI_CHAT_FIELDS = new Set(['model', 'messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stream', 'stream_options', 'n', 'stop', 'seed', 'user', 'frequency_penalty', 'presence_penalty']);

function openaiDecode(body: Json): ModelCall {
  const unknown = Object.keys(body).find((k) => !OPENAI_CHAT_FIELDS.has(k));
  if (unknown) throw new HttpError(400, { error: { message: `Unrecognized request argument supplied: ${unknown}`, type: 'invalid_request_error', param: null, code: null } });
  return { input: chatTemplate(requireMessages(body)), decoding: body.temperature === 0 ? 'greedy' : 'sampling', settings: { temperature: num(body.temperature) ?? 1, top_p: num(body.top_p) ?? 1 } };
}

// ---------------------------------------------------------------------------------------------------------
// The OPEA LLM service

/**
 * Python's str.format over a LangChain f-string PromptTemplate (v1.5 service.py l.188, v1.1 llm.py l.81):
 * `{{` and `}}` are literal braces, `{name}` a variable; a lone brace is an error (the service answers 500).
 */
function fString(template: string): { variables: string[]; format(values: Record<string, string>): string } {
  const parts: ({ text: string } | { name: string })[] = [];
  let text = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if ((c === '{' || c === '}') && template[i + 1] === c) {
      text += c;
      i++;
    } else if (c === '{') {
      const end = template.indexOf('}', i);
      if (end < 0) throw new HttpError(500, { detail: "Single '{' encountered in format string" });
      parts.push({ text }, { name: template.slice(i + 1, end) });
      text = '';
      i = end;
    } else if (c === '}') {
      throw new HttpError(500, { detail: "Single '}' encountered in format string" });
    } else {
      text += c;
    }
  }
  parts.push({ text });
  const variables = [...new Set(parts.flatMap((p) => ('name' in p ? [p.name] : [])))];
  return { variables, format: (values) => parts.map((p) => ('name' in p ? values[p.name] : p.text)).join('') };
}

/** The service's own RAG prompt when no template is given (v1.5 integrations/template.py, v1.1 tgi/template.py), abridged. */
const serviceRagPrompt = (question: string, documents: string[]) => `### Search results: ${documents.join('\n')} \n### Question: ${question} \n### Answer:`;

/** The prompt the service builds from an LLMParamsDoc (v1.5 service.py l.129-145, v1.1 llm.py l.136-149). */
function servicePrompt(body: Json): { prompt: string; from: Served['promptFrom'] } {
  const query = String(body.query);
  const documents = Array.isArray(body.documents) ? (body.documents as string[]) : [];
  if (typeof body.chat_template === 'string' && body.chat_template !== '') {
    const t = fString(body.chat_template);
    const vars = [...t.variables].sort();
    if (vars.join() === 'context,question') return { prompt: t.format({ question: query, context: documents.join('\n') }), from: 'chat_template' };
    if (vars.join() === 'question') return { prompt: t.format({ question: query }), from: 'chat_template' };
    return { prompt: query, from: 'query' };
  }
  return documents.length > 0 ? { prompt: serviceRagPrompt(query, documents), from: 'service' } : { prompt: query, from: 'query' };
}

/** LLMParamsDoc's checks (pydantic; v1.5 comps/cores/proto/docarray.py l.417-429: PositiveInt, NonNegativeFloat; v1.1 l.175-187 plain int and float). */
function checkParamsDoc(body: Json, release: '1.1' | '1.5'): void {
  const problems: Json[] = [];
  const positiveInt = release === '1.5' ? ['max_new_tokens', 'top_k'] : [];
  const nonNegative = release === '1.5' ? ['top_p', 'typical_p', 'temperature', 'frequency_penalty', 'presence_penalty', 'repetition_penalty'] : [];
  for (const k of positiveInt) if (body[k] !== undefined && !((body[k] as number) > 0 && Number.isInteger(body[k]))) problems.push({ type: 'greater_than', loc: ['body', 'LLMParamsDoc', k], msg: 'Input should be greater than 0' });
  for (const k of nonNegative) if (body[k] !== undefined && !((body[k] as number) >= 0)) problems.push({ type: 'greater_than_equal', loc: ['body', 'LLMParamsDoc', k], msg: 'Input should be greater than or equal to 0' });
  if (problems.length > 0) throw new HttpError(422, { detail: problems });
}

/** Only the allowed, non-null arguments go on (v1.5 service.py l.251-265 over api_protocol.py l.1022-1055). */
function filtered(params: Json, allowed: string[]): Json {
  return Object.fromEntries(allowed.filter((k) => params[k] !== undefined && params[k] !== null).map((k) => [k, params[k]]));
}
const ALLOWED_COMPLETION = ['model', 'prompt', 'echo', 'frequency_penalty', 'max_tokens', 'n', 'presence_penalty', 'seed', 'stop', 'stream', 'suffix', 'temperature', 'top_p', 'user'];
const ALLOWED_CHAT = ['model', 'messages', 'frequency_penalty', 'max_tokens', 'n', 'presence_penalty', 'response_format', 'seed', 'stop', 'stream', 'stream_options', 'temperature', 'top_p', 'user'];

// ---------------------------------------------------------------------------------------------------------
// The server

export class LlmUpstream {
  readonly served: Served[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly tokens: string[];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    readonly kind: UpstreamKind,
    private readonly options: UpstreamOptions,
  ) {
    this.tokens = options.tokens ?? ['Hello', ' there', '!'];
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
  }

  static async start(kind: UpstreamKind, options: UpstreamOptions = {}): Promise<LlmUpstream> {
    let self: LlmUpstream | undefined;
    const server = http.createServer((req, res) => void self?.handle(req, res));
    self = new LlmUpstream(server, await listenLoopback(server), kind, options);
    return self;
  }

  /** The last request's record. */
  get last(): Served {
    const last = this.served[this.served.length - 1];
    if (!last) throw new Error('no request served');
    return last;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > 1 << 20) return void res.destroy();
      chunks.push(c as Buffer);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      body = undefined;
    }
    const record: Served = { path: req.url ?? '', body, status: 200 };
    this.served.push(record);
    try {
      if (req.method !== 'POST' || !isObject(body)) throw new HttpError(422, { error: 'expected a JSON object' });
      this.route(record, body, res);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      record.status = err.status;
      res.writeHead(err.status, { 'content-type': 'application/json' }).end(JSON.stringify(err.body));
    }
  }

  private route(record: Served, body: Json, res: http.ServerResponse): void {
    const path = record.path;
    const chat = path === '/v1/chat/completions';
    switch (this.kind) {
      case 'tgi':
        if (path === '/generate' || path === '/generate_stream') {
          const p = isObject(body.parameters) ? body.parameters : {};
          record.model = tgiDecode(String(body.inputs), { temperature: num(p.temperature), top_k: num(p.top_k), top_p: num(p.top_p), do_sample: p.do_sample === true, repetition_penalty: num(p.repetition_penalty), max_new_tokens: num(p.max_new_tokens) });
          return this.tgiAnswer(res, path === '/generate_stream');
        }
        if (chat) {
          record.model = tgiChat(body);
          return this.chatAnswer(res, body, this.options.tgiDone ?? false);
        }
        break;
      case 'vllm':
        if (chat) {
          record.model = vllmDecode(chatTemplate(requireMessages(body)), body);
          return this.chatAnswer(res, body, true, this.options.reasoning);
        }
        break;
      case 'ollama':
        if (chat) {
          record.model = ollamaDecode(body);
          return this.chatAnswer(res, body, true, this.options.reasoning);
        }
        break;
      case 'openai':
        if (chat) {
          record.model = openaiDecode(body);
          return this.chatAnswer(res, body, true);
        }
        break;
      case 'opea-1.5':
      case 'opea-1.1':
        if (chat) return this.opea(record, body, res, this.kind === 'opea-1.1' ? '1.1' : '1.5');
        break;
    }
    throw new HttpError(404, { detail: 'Not Found' });
  }

  /**
   * The OPEA LLM service. The input type is the first member of Union[LLMParamsDoc, ChatCompletionRequest,
   * SearchedDoc] the body fits. 1.5: an LLMParamsDoc becomes a completion with max_tokens, top_p, stream,
   * frequency_penalty and temperature (service.py l.147-154, l.226-230), a chat request goes on filtered
   * (l.191-216); answers as the model server gave them, streams end in [DONE] (l.236-246). 1.1: an
   * LLMParamsDoc goes to TGI's generate with max_new_tokens = max_tokens, repetition_penalty, temperature,
   * top_k and top_p (llm.py l.151-159), answered as a GeneratedDoc or `data: b'..'` chunks (l.160-182);
   * a chat request goes to TGI's messages API (l.246-268), answered in OpenAI shape.
   */
  private opea(record: Served, body: Json, res: http.ServerResponse, release: '1.1' | '1.5'): void {
    const behind = release === '1.1' ? 'tgi' : (this.options.modelServer ?? 'tgi');
    const modelError = (err: unknown) => {
      // The service does not catch the model server's refusal: FastAPI answers 500.
      if (err instanceof HttpError) throw new HttpError(500, { detail: 'Internal Server Error', modelServer: err.body });
      throw err;
    };
    if (typeof body.query === 'string') {
      checkParamsDoc(body, release);
      const stream = release === '1.1' ? (body.streaming ?? true) : (body.stream ?? true);
      const { prompt, from } = servicePrompt(body);
      record.promptFrom = from;
      const d = (k: string, fallback: number) => num(body[k]) ?? fallback; // LLMParamsDoc defaults, docarray.py
      try {
        if (release === '1.1') {
          record.model = tgiDecode(prompt, { max_new_tokens: d('max_tokens', 1024), repetition_penalty: d('repetition_penalty', 1.03), temperature: d('temperature', 0.01), top_k: d('top_k', 10), top_p: d('top_p', 0.95), do_sample: false });
        } else {
          const sent = filtered({ model: 'served-model', prompt, max_tokens: d('max_tokens', 1024), top_p: d('top_p', 0.95), stream, frequency_penalty: d('frequency_penalty', 0), temperature: d('temperature', 0.01) }, ALLOWED_COMPLETION);
          record.model = behind === 'tgi' ? tgiCompletion(sent) : vllmDecode(prompt, sent);
        }
      } catch (err) {
        modelError(err);
      }
      if (release === '1.1') return stream ? this.bytesAnswer(res) : void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ text: this.tokens.join(''), prompt: body.query }));
      return this.completionAnswer(res, stream === true);
    }
    if (Array.isArray(body.messages)) {
      const messages = requireMessages(body);
      if (release === '1.5') checkParamsDoc({ top_k: body.top_k, temperature: body.temperature, top_p: body.top_p }, '1.5');
      // ChatCompletionRequest defaults: temperature 0.01, top_p None, max_tokens 1024 (api_protocol.py l.274-330).
      const sent = filtered({ model: release === '1.1' ? 'tgi' : 'served-model', messages, max_tokens: body.max_tokens ?? 1024, temperature: body.temperature ?? 0.01, top_p: body.top_p, stream: body.stream ?? false }, ALLOWED_CHAT);
      try {
        record.model = behind === 'tgi' ? tgiChat(sent) : vllmDecode(chatTemplate(messages), sent);
      } catch (err) {
        modelError(err);
      }
      return this.chatAnswer(res, sent, true);
    }
    throw new HttpError(422, { detail: [{ type: 'missing', loc: ['body', 'query'], msg: 'Field required' }] });
  }

  // --- Answers ---------------------------------------------------------------------------------------

  private sse(res: http.ServerResponse, events: unknown[], done: boolean): void {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const e of events) res.write(`data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`);
    if (done) res.write('data: [DONE]\n\n');
    res.end();
  }

  private tgiAnswer(res: http.ServerResponse, stream: boolean): void {
    const text = this.tokens.join('');
    const details = { finish_reason: 'eos_token', generated_tokens: this.tokens.length };
    if (!stream) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([{ generated_text: text, details }]));
    const last = this.tokens.length - 1;
    this.sse(res, this.tokens.map((t, i) => ({ index: i, token: { id: i, text: t, logprob: -0.1, special: false }, generated_text: i === last ? text : null, details: i === last ? details : null })), false);
  }

  /** An OpenAI chat answer; reasoning first, in its own field (message and delta alike). */
  private chatAnswer(res: http.ServerResponse, body: Json, done: boolean, reasoning?: UpstreamOptions['reasoning']): void {
    const base = { id: 'chatcmpl-1', created: 1, model: String(body.model ?? 'm') };
    const usage = { prompt_tokens: 3, completion_tokens: this.tokens.length + (reasoning?.tokens.length ?? 0), total_tokens: 0 };
    if (this.options.noChoices) {
      if (body.stream !== true) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...base, object: 'chat.completion', choices: [], usage }));
      return this.sse(res, [{ ...base, object: 'chat.completion.chunk', choices: [], usage }], done);
    }
    if (body.stream !== true) {
      const message: Json = { role: 'assistant', content: this.tokens.join('') };
      if (reasoning) message[reasoning.field] = reasoning.tokens.join('');
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message, finish_reason: 'stop' }], usage }));
    }
    const chunk = (delta: Json, finish: string | null) => ({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] });
    const events: unknown[] = [
      chunk({ role: 'assistant', content: '' }, null),
      ...(reasoning?.tokens ?? []).map((t) => chunk({ [reasoning!.field]: t }, null)),
      ...this.tokens.map((t) => chunk({ content: t }, null)),
      chunk({}, 'stop'),
    ];
    if (isObject(body.stream_options) && body.stream_options.include_usage === true) events.push({ ...base, object: 'chat.completion.chunk', choices: [], usage });
    this.sse(res, events, done);
  }

  private completionAnswer(res: http.ServerResponse, stream: boolean): void {
    const base = { id: 'cmpl-1', object: 'text_completion', created: 1, model: 'served-model' };
    if (!stream) return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...base, choices: [{ index: 0, text: this.tokens.join(''), finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: this.tokens.length, total_tokens: 0 } }));
    this.sse(res, [...this.tokens.map((t) => ({ ...base, choices: [{ index: 0, text: t, finish_reason: null }] })), { ...base, choices: [{ index: 0, text: '', finish_reason: 'stop' }] }], true);
  }

  /** GenAIComps 1.1: each token as Python's repr of its UTF-8 bytes (ASCII tokens here), then [DONE]. */
  private bytesAnswer(res: http.ServerResponse): void {
    this.sse(res, this.tokens.map((t) => `b'${t.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`), true);
  }
}
