/**
 * Tool calling for the chat model's OpenAI-compatible backends: the bound tools go out as OpenAI
 * `tools` on POST /v1/chat/completions, the answer's `tool_calls` come back as LangChain tool calls.
 *
 * - vLLM, OpenAI, Ollama: the OpenAI chat completions API (vLLM answers tool calls when started with
 *   --enable-auto-tool-choice and a --tool-call-parser).
 * - TGI: its messages API on the same path (router/src/lib.rs ChatRequest: tools, tool_choice); its
 *   tool calls have id "0" and, before 3.x, `arguments` as a JSON object rather than a string.
 * - The OPEA LLM service has none: v1.5 forwards only ALLOWED_CHATCOMPLETION_ARGS, which lack tools
 *   (comps/cores/proto/api_protocol.py l.1022-1037). Nor has the offline extractive answerer.
 *
 * A turn with tools is asked for whole (not streamed): a tool's arguments are of use only complete.
 */
import { Endpoint } from '../core/clients/endpoint';
import { chatSampling } from '../core/clients/llm';
import { isObject, unexpected } from '../core/clients/wire';
import { LlmConfig } from '../core/stages/llm';
import { OpenAiMessage } from './chat-messages';
import { hostModule } from './host';

export const TOOL_BACKENDS: readonly string[] = ['tgi', 'vllm', 'openai', 'ollama'];
/** Only these reach a tool request (OpeaChatModel checks TOOL_BACKENDS first). */
type ToolBackend = Parameters<typeof chatSampling>[0];

export interface OpenAiTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

export interface ToolCall {
  id: string;
  name: string;
  args: Record<string, unknown>;
  type: 'tool_call';
}

export interface InvalidToolCall {
  id: string;
  name: string;
  args: string;
  error: string;
  type: 'invalid_tool_call';
}

export interface ToolTurn {
  text: string;
  toolCalls: ToolCall[];
  invalidToolCalls: InvalidToolCall[];
  /** The answer's tool_calls as the server sent them (LangChain keeps them in additional_kwargs). */
  raw: unknown[];
  usage?: { input_tokens: number; output_tokens: number; total_tokens: number };
  finishReason?: string;
}

/**
 * A tool as an OpenAI tool: LangChain tools (zod or JSON schema) through the host's own
 * convertToOpenAITool, OpenAI tools as they are, and {name, description, parameters | schema}.
 */
export function toOpenAiTool(tool: unknown): OpenAiTool {
  if (isObject(tool) && tool.type === 'function' && isObject(tool.function) && typeof tool.function.name === 'string') return tool as unknown as OpenAiTool;
  const convert = hostModule('@langchain/core/utils/function_calling')?.convertToOpenAITool;
  if (typeof convert === 'function') return convert(tool) as OpenAiTool;
  if (isObject(tool) && typeof tool.name === 'string') {
    const parameters = isObject(tool.parameters) ? tool.parameters : isObject(tool.schema) ? tool.schema : { type: 'object', properties: {} };
    return { type: 'function', function: { name: tool.name, ...(typeof tool.description === 'string' ? { description: tool.description } : {}), parameters } };
  }
  throw new Error('a bound tool is neither a LangChain tool nor an OpenAI tool {type: "function", function: {name}}');
}

/** LangChain's tool_choice (a tool's name, "any", "auto", "none", "required" or OpenAI's object) in OpenAI's form. */
export function toolChoice(choice: unknown): unknown {
  if (choice === undefined || choice === null || isObject(choice)) return choice ?? undefined;
  if (choice === 'any') return 'required';
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  return { type: 'function', function: { name: String(choice) } };
}

/** The request body, sampled as core samples a chat request to the same backend (chatSampling). */
export function toolRequestBody(config: LlmConfig, messages: OpenAiMessage[], tools: OpenAiTool[], choice: unknown): Record<string, unknown> {
  const body: Record<string, unknown> = { model: config.model ?? (config.backend === 'tgi' ? 'tgi' : undefined), messages, tools, max_tokens: config.maxTokens, ...chatSampling(config.backend as ToolBackend, config), stream: false };
  const chosen = toolChoice(choice);
  if (chosen !== undefined) body.tool_choice = chosen;
  return body;
}

function parseCall(raw: unknown, index: number): ToolCall | InvalidToolCall {
  const call = isObject(raw) ? raw : {};
  const fn = isObject(call.function) ? call.function : {};
  const id = typeof call.id === 'string' && call.id !== '' ? call.id : `call_${index}`;
  const name = typeof fn.name === 'string' ? fn.name : '';
  const args = fn.arguments;
  if (isObject(args)) return { id, name, args, type: 'tool_call' };
  const text = typeof args === 'string' ? args : JSON.stringify(args ?? null);
  try {
    const parsed = text.trim() === '' ? {} : (JSON.parse(text) as unknown);
    if (name && isObject(parsed)) return { id, name, args: parsed, type: 'tool_call' };
    return { id, name, args: text, error: name ? 'the arguments are not a JSON object' : 'the tool call names no function', type: 'invalid_tool_call' };
  } catch (err) {
    return { id, name, args: text, error: `the arguments are not JSON (${(err as Error).message})`, type: 'invalid_tool_call' };
  }
}

/** One model turn with tools: the answer's text and tool calls. */
export async function runToolTurn(endpoint: Endpoint, body: Record<string, unknown>, signal?: AbortSignal): Promise<ToolTurn> {
  const url = `${endpoint.config.baseUrl.replace(/\/+$/, '')}/v1/chat/completions`;
  const answer = await endpoint.postJson('/v1/chat/completions', body, signal);
  if (!isObject(answer) || !Array.isArray(answer.choices)) throw unexpected(url, 'expected a chat completion {choices: [{message}]}');
  const choice = answer.choices[0];
  if (!isObject(choice) || !isObject(choice.message)) throw unexpected(url, 'the answer has no choices[0].message');
  const message = choice.message;
  const raw = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  const calls = raw.map(parseCall);
  const usage = isObject(answer.usage) && typeof answer.usage.prompt_tokens === 'number' && typeof answer.usage.completion_tokens === 'number'
    ? { input_tokens: answer.usage.prompt_tokens, output_tokens: answer.usage.completion_tokens, total_tokens: answer.usage.prompt_tokens + answer.usage.completion_tokens }
    : undefined;
  return {
    text: typeof message.content === 'string' ? message.content : '',
    toolCalls: calls.filter((c): c is ToolCall => c.type === 'tool_call'),
    invalidToolCalls: calls.filter((c): c is InvalidToolCall => c.type === 'invalid_tool_call'),
    raw,
    usage,
    finishReason: typeof choice.finish_reason === 'string' ? choice.finish_reason : undefined,
  };
}
