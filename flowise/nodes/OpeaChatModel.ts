/**
 * OPEA Chat Model: a LangChain BaseChatModel over our LLM client (OPEA LLM service, TGI, vLLM,
 * OpenAI-compatible, Ollama). `.stream()` yields the server's tokens as they come
 * (_streamResponseChunks); `bindTools` gives the OpenAI-compatible backends (TGI's messages API, vLLM,
 * OpenAI, Ollama) tool calling for Flowise's Tool Agent and Agentflow.
 */
import { LlmConfig, LlmMetrics, runLlm } from '../../core/stages/llm';
import { PromptTemplates } from '../../core/prompts/apply';
import { PROMPTS } from '../../core/prompts/settings';
import { describeTemplateError } from '../../core/prompts/template';
import { Endpoint } from '../../core/clients/endpoint';
import { toChatRequest, toOpenAiMessages } from '../chat-messages';
import { baseUrlParam, bool, credentialParam, endpointFor, inputNamed, limitedNumber, options, str, timeoutParam } from '../common';
import { hostClass } from '../host';
import { ICommonObject, INode, INodeData, INodeParams } from '../interface';
import { AiMessageFields, GenerationChunkLike, makeAiMessage, makeGenerationChunk } from '../langchain';
import { piecesOf } from '../stream-bridge';
import { OpenAiTool, runToolTurn, TOOL_BACKENDS, toolRequestBody, toOpenAiTool, ToolTurn } from '../tool-calls';
import { asFlowise, inFlowise, nodeName } from '../words';

export const LLM_BACKENDS = options(['tgi', 'TGI'], ['opea', 'OPEA LLM service'], ['vllm', 'vLLM'], ['openai', 'OpenAI-compatible'], ['ollama', 'Ollama'], ['extractive', 'Extractive answerer (offline)']);
/** Backends whose server needs to be told the model (TGI serves one; the OPEA service has its own). */
const NEEDS_MODEL = ['vllm', 'openai', 'ollama'];

const backendLabel = (backend: string) => LLM_BACKENDS.find((b) => b.name === backend)?.label ?? backend;

interface CallOptions {
  signal?: AbortSignal;
  tools?: unknown[];
  tool_choice?: unknown;
}

interface RunManagerLike {
  handleLLMNewToken?: (token: string, idx?: unknown, runId?: unknown, parentRunId?: unknown, tags?: unknown, fields?: { chunk: unknown }) => unknown;
}

class PlainChatModel {
  constructor(_fields?: unknown) {}
}

export interface ChatModelLike {
  _llmType(): string;
  _generate(messages: unknown[], options?: CallOptions, runManager?: RunManagerLike): Promise<{ generations: { text: string; message: unknown }[]; llmOutput?: Record<string, unknown> }>;
  _streamResponseChunks(messages: unknown[], options?: CallOptions, runManager?: RunManagerLike): AsyncGenerator<GenerationChunkLike>;
  bindTools(tools: unknown[], kwargs?: Record<string, unknown>): { invoke(input: unknown, options?: CallOptions): Promise<unknown> };
  invoke(input: unknown, options?: CallOptions): Promise<{ content: unknown }>;
  stream(input: unknown, options?: CallOptions): Promise<AsyncIterable<{ content: unknown }>>;
  fromHost: boolean;
}

/** Token counts LangChain sums over a run, when the server reported both. */
function usageOf(metrics: LlmMetrics): AiMessageFields['usage_metadata'] {
  if (metrics.promptTokens === undefined || metrics.tokensFrom === 'chunks') return undefined;
  return { input_tokens: metrics.promptTokens, output_tokens: metrics.completionTokens, total_tokens: metrics.promptTokens + metrics.completionTokens };
}

/** The server's tool calls as sent, kept as ChatOpenAI keeps them (LangChain warns about raw calls without parsed ones). */
const rawCalls = (turn: ToolTurn) => (turn.toolCalls.length > 0 ? { tool_calls: turn.raw } : {});

function toolTurnFields(turn: ToolTurn): AiMessageFields {
  return { content: turn.text, tool_calls: turn.toolCalls, invalid_tool_calls: turn.invalidToolCalls, additional_kwargs: rawCalls(turn), ...(turn.usage ? { usage_metadata: turn.usage } : {}), response_metadata: turn.finishReason ? { finish_reason: turn.finishReason } : {} };
}

/** The same turn as one stream chunk: LangChain assembles tool calls from tool_call_chunks. */
function toolTurnChunk(turn: ToolTurn): AiMessageFields {
  const chunks = [...turn.toolCalls.map((c) => ({ ...c, args: JSON.stringify(c.args) })), ...turn.invalidToolCalls].map((c, index) => ({ name: c.name, args: c.args, id: c.id, index, type: 'tool_call_chunk' }));
  return { content: turn.text, tool_call_chunks: chunks, additional_kwargs: rawCalls(turn), ...(turn.usage ? { usage_metadata: turn.usage } : {}), response_metadata: turn.finishReason ? { finish_reason: turn.finishReason } : {} };
}

export function makeChatModel(config: LlmConfig, endpoint: Endpoint | undefined, node: string): ChatModelLike {
  const { base, fromHost } = hostClass('@langchain/core/language_models/chat_models', 'BaseChatModel', PlainChatModel);
  const noTools = () =>
    new Error(`Backend '${backendLabel(config.backend)}' cannot call tools (${config.backend === 'opea' ? "the OPEA LLM service does not pass tools on to the model" : 'it runs no model'}): choose Backend TGI, vLLM, OpenAI-compatible or Ollama with a model that calls tools, or use this node where no tools are connected`);
  /** The tools of this call: bound by bindTools (LangChain passes them in the call options), or given to the call itself. */
  const toolsOf = (options?: CallOptions): OpenAiTool[] | undefined => {
    if (!Array.isArray(options?.tools) || options.tools.length === 0) return undefined;
    if (!TOOL_BACKENDS.includes(config.backend) || !endpoint) throw noTools();
    return options.tools.map(toOpenAiTool);
  };
  const toolTurn = (messages: unknown[], tools: OpenAiTool[], options: CallOptions) =>
    runToolTurn(endpoint as Endpoint, toolRequestBody(config, toOpenAiMessages(messages), tools, options.tool_choice), options.signal);
  const newToken = (runManager: RunManagerLike | undefined, text: string, chunk: unknown) => runManager?.handleLLMNewToken?.(text, undefined, undefined, undefined, undefined, { chunk });

  class OpeaChatModelInstance extends base {
    fromHost = fromHost;
    lc_namespace = ['opea', 'chat_models'];
    constructor() {
      super({});
    }
    _llmType(): string {
      return `opea-${config.backend}`;
    }
    async _generate(messages: unknown[], options: CallOptions = {}, runManager?: RunManagerLike) {
      return asFlowise(node, async () => {
        const tools = toolsOf(options);
        if (tools) {
          const turn = await toolTurn(messages, tools, options);
          if (turn.text) await newToken(runManager, turn.text, undefined);
          const tokenUsage = turn.usage ? { promptTokens: turn.usage.input_tokens, completionTokens: turn.usage.output_tokens, totalTokens: turn.usage.total_tokens } : undefined;
          return { generations: [{ text: turn.text, message: makeAiMessage(toolTurnFields(turn)) }], llmOutput: tokenUsage ? { tokenUsage } : {} };
        }
        const { doc, metrics } = await runLlm(config, endpoint, toChatRequest(messages), { onChunk: (chunk: string) => void newToken(runManager, chunk, undefined), signal: options.signal });
        const usage = usageOf(metrics);
        const message = makeAiMessage({ content: doc.text, ...(usage ? { usage_metadata: usage } : {}), response_metadata: metrics.finishReason ? { finish_reason: metrics.finishReason } : {} });
        return { generations: [{ text: doc.text, message }], llmOutput: { tokenUsage: { completionTokens: metrics.completionTokens, promptTokens: metrics.promptTokens }, metrics } };
      });
    }
    async *_streamResponseChunks(messages: unknown[], options: CallOptions = {}, runManager?: RunManagerLike): AsyncGenerator<GenerationChunkLike> {
      let tools: OpenAiTool[] | undefined;
      try {
        tools = toolsOf(options);
      } catch (err) {
        throw inFlowise(node, err);
      }
      if (tools) {
        const turn = await asFlowise(node, () => toolTurn(messages, tools, options));
        const chunk = makeGenerationChunk(toolTurnChunk(turn), turn.finishReason ? { finish_reason: turn.finishReason } : undefined);
        yield chunk;
        if (turn.text) await newToken(runManager, turn.text, chunk);
        return;
      }
      const pieces = piecesOf((onChunk, signal) => runLlm(config, endpoint, toChatRequest(messages), { onChunk, signal }), options.signal);
      let streamed = false;
      try {
        for (;;) {
          const next = await pieces.next().catch((err: unknown) => {
            throw inFlowise(node, err);
          });
          if (next.done) {
            const { doc, metrics } = next.value;
            if (!streamed && doc.text !== '') {
              // Streaming is off (or the server ignored it): the whole answer is one chunk.
              const chunk = makeGenerationChunk({ content: doc.text });
              yield chunk;
              await newToken(runManager, doc.text, chunk);
            }
            // Always a last chunk: LangChain refuses a stream of none (an empty answer).
            const usage = usageOf(metrics);
            yield makeGenerationChunk({ content: '', ...(usage ? { usage_metadata: usage } : {}), response_metadata: metrics.finishReason ? { finish_reason: metrics.finishReason } : {} }, metrics.finishReason ? { finish_reason: metrics.finishReason } : undefined);
            return;
          }
          streamed = true;
          const chunk = makeGenerationChunk({ content: next.value });
          yield chunk;
          await newToken(runManager, next.value, chunk);
        }
      } finally {
        await pieces.return(undefined as never);
      }
    }
    bindTools(tools: unknown[], kwargs: Record<string, unknown> = {}) {
      if (!TOOL_BACKENDS.includes(config.backend)) throw inFlowise(node, noTools());
      const bound: CallOptions = { tools: tools.map(toOpenAiTool), ...kwargs };
      const self = this as unknown as ChatModelLike & { withConfig?: (config: Record<string, unknown>) => unknown };
      // The host's Runnable hands bound options to every call, as ChatOpenAI's bindTools does.
      if (typeof self.withConfig === 'function') return self.withConfig(bound as Record<string, unknown>);
      return { invoke: (input: unknown, options?: CallOptions) => self.invoke(input, { ...options, ...bound }), stream: (input: unknown, options?: CallOptions) => self.stream(input, { ...options, ...bound }) };
    }
  }
  const instance = new OpeaChatModelInstance() as unknown as ChatModelLike;
  if (!fromHost) {
    // Runnable's invoke and stream are the host's; these take a string or messages as LangChain's do.
    const asMessages = (input: unknown) => (Array.isArray(input) ? input : [typeof input === 'string' ? { role: 'user', content: input } : input]);
    instance.invoke = async (input, options) => (await instance._generate(asMessages(input), options)).generations[0].message as { content: unknown };
    instance.stream = async (input, options) =>
      (async function* () {
        for await (const chunk of instance._streamResponseChunks(asMessages(input), options)) yield chunk.message;
      })();
  }
  return instance;
}

export class OpeaChatModel implements INode {
  label = 'OPEA Chat Model';
  name = 'opeaChatModel';
  version = 1.0;
  type = 'ChatOpea';
  icon = 'opea-llm.svg';
  category = 'Chat Models';
  description = 'Chat model served by the OPEA LLM microservice, TGI, vLLM, an OpenAI-compatible server or Ollama (same client as the Node-RED opea-llm node); streams tokens, and calls tools on TGI, vLLM, OpenAI-compatible and Ollama';
  baseClasses = [this.type, 'BaseChatModel', 'BaseLanguageModel', 'Runnable'];
  credential = credentialParam();
  inputs: INodeParams[] = [
    { label: 'Backend', name: 'backend', type: 'options', options: LLM_BACKENDS, default: 'tgi' },
    { label: 'Model Name', name: 'modelName', type: 'string', optional: true, placeholder: 'Intel/neural-chat-7b-v3-3', description: 'The model the server runs; needed for vLLM, OpenAI-compatible and Ollama' },
    { label: 'Temperature', name: 'temperature', type: 'number', step: 0.1, default: 0.01, optional: true },
    { label: 'Max Tokens', name: 'maxTokens', type: 'number', default: 1024, optional: true, additionalParams: true },
    { label: 'Top P', name: 'topP', type: 'number', step: 0.05, default: 0.95, optional: true, additionalParams: true },
    { label: 'Top K', name: 'topK', type: 'number', default: 10, optional: true, additionalParams: true },
    { label: 'Repetition Penalty', name: 'repetitionPenalty', type: 'number', step: 0.01, default: 1.03, optional: true, additionalParams: true },
    { label: 'Streaming', name: 'streaming', type: 'boolean', default: true, optional: true, additionalParams: true },
    {
      label: 'System Prompt',
      name: 'systemPrompt',
      type: 'string',
      rows: 3,
      optional: true,
      additionalParams: true,
      description: 'Handlebars template sent as the system message first, as opea-llm does: {{question}}, {{history}}; empty: none',
    },
    {
      label: 'Prompt Template',
      name: 'promptTemplate',
      type: 'string',
      rows: 4,
      optional: true,
      additionalParams: true,
      description: 'Handlebars template the last user message goes through, as opea-llm: {{question}}, {{history}} (earlier messages, then not sent again), helpers truncate, join, default; empty: the message as it is',
    },
    baseUrlParam(),
    timeoutParam(),
  ];

  async init(nodeData: INodeData, _input: string, opts?: ICommonObject): Promise<unknown> {
    const node = nodeName(nodeData);
    return asFlowise(node, async () => {
      const backend = str(nodeData.inputs, 'backend', 'tgi');
      if (!LLM_BACKENDS.some((b) => b.name === backend)) throw new Error(`Backend '${backend}' is not one of ${LLM_BACKENDS.map((b) => b.name).join(', ')}`);
      const model = str(nodeData.inputs, 'modelName') || undefined;
      if (!model && NEEDS_MODEL.includes(backend)) throw new Error(`Backend '${backendLabel(backend)}' needs Model Name: set it to the model the server runs`);
      const limited = (name: string) => limitedNumber(nodeData, inputNamed(this.inputs, name), 'opea-llm', name);
      const config: LlmConfig = {
        backend,
        model,
        temperature: limited('temperature'),
        maxTokens: limited('maxTokens'),
        topP: limited('topP'),
        topK: limited('topK'),
        repetitionPenalty: limited('repetitionPenalty'),
        stream: bool(nodeData.inputs, 'streaming', true),
        template: '{question}', // Flowise's chains have built the prompt already
        prompts: chatPrompts(str(nodeData.inputs, 'systemPrompt'), str(nodeData.inputs, 'promptTemplate')),
      };
      return makeChatModel(config, await endpointFor(nodeData, opts, backend !== 'extractive'), node);
    });
  }
}

/** The node's templates, compiled once; an error names the input, the line and the column. */
function chatPrompts(system: string, user: string): PromptTemplates | undefined {
  if (system.trim() === '' && user.trim() === '') return undefined;
  const compiled = (label: string, source: string) => {
    try {
      return PROMPTS.get(source);
    } catch (err) {
      throw new Error(`${label} has a ${describeTemplateError(err)}`);
    }
  };
  const templates: PromptTemplates = { user: compiled('Prompt Template', user.trim() === '' ? '{{question}}' : user) };
  if (system.trim() !== '') templates.system = compiled('System Prompt', system);
  return templates;
}

export const nodeClass = OpeaChatModel;
