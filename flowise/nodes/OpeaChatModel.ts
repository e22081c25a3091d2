/** OPEA Chat Model: a LangChain BaseChatModel over our LLM client (OPEA LLM service, TGI, vLLM, OpenAI-compatible, Ollama). */
import { LlmConfig, runLlm } from '../../core/stages/llm';
import { Endpoint } from '../../core/clients/endpoint';
import { baseUrlParam, bool, credentialParam, endpointFor, num, options, str, timeoutParam } from '../common';
import { hostClass, hostModule } from '../host';
import { ICommonObject, INode, INodeData, INodeParams } from '../interface';

export const LLM_BACKENDS = options(['tgi', 'TGI'], ['opea', 'OPEA LLM service'], ['vllm', 'vLLM'], ['openai', 'OpenAI-compatible'], ['ollama', 'Ollama'], ['extractive', 'Extractive answerer (offline)']);

interface MessageLike {
  content: unknown;
  role?: string;
  type?: string;
  getType?: () => string;
  _getType?: () => string;
}

const ROLES: Record<string, string> = { human: 'user', user: 'user', ai: 'assistant', assistant: 'assistant', system: 'system', generic: 'user' };

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p === 'string' ? p : p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('');
  return String(content ?? '');
}

/** LangChain messages (or {role, content} objects, or a string) -> an OpenAI chat request body. */
export function toChatRequest(input: unknown): { messages: { role: string; content: string }[] } {
  if (typeof input === 'string') return { messages: [{ role: 'user', content: input }] };
  const list = (Array.isArray(input) ? input : [input]) as MessageLike[];
  return {
    messages: list.map((m) => {
      const kind = m.getType?.() ?? m._getType?.() ?? m.role ?? m.type ?? 'user';
      return { role: ROLES[kind] ?? 'user', content: contentText(m.content) };
    }),
  };
}

class PlainChatModel {
  constructor(_fields?: unknown) {}
}

export interface ChatModelLike {
  _llmType(): string;
  _generate(messages: unknown[], options?: unknown, runManager?: { handleLLMNewToken?: (t: string) => unknown }): Promise<{ generations: { text: string; message: unknown }[]; llmOutput?: Record<string, unknown> }>;
  invoke(input: unknown): Promise<{ content: unknown }>;
  fromHost: boolean;
}

export function makeChatModel(config: LlmConfig, endpoint: Endpoint | undefined): ChatModelLike {
  const { base, fromHost } = hostClass('@langchain/core/language_models/chat_models', 'BaseChatModel', PlainChatModel);
  const AIMessage = hostModule('@langchain/core/messages')?.AIMessage;
  const message = (text: string) => (typeof AIMessage === 'function' ? new AIMessage(text) : { role: 'assistant', type: 'ai', content: text });
  class OpeaChatModelInstance extends base {
    fromHost = fromHost;
    lc_namespace = ['opea', 'chat_models'];
    constructor() {
      super({});
    }
    _llmType(): string {
      return `opea-${config.backend}`;
    }
    async _generate(messages: unknown[], _options?: unknown, runManager?: { handleLLMNewToken?: (t: string) => unknown }) {
      const { doc, metrics } = await runLlm(config, endpoint, toChatRequest(messages), { onChunk: (chunk: string) => void runManager?.handleLLMNewToken?.(chunk) });
      return { generations: [{ text: doc.text, message: message(doc.text) }], llmOutput: { tokenUsage: { completionTokens: metrics.completionTokens, promptTokens: metrics.promptTokens }, metrics } };
    }
  }
  const instance = new OpeaChatModelInstance();
  if (!fromHost) {
    // Runnable.invoke is the host's; ours takes a string or messages and answers with the AI message.
    (instance as unknown as ChatModelLike).invoke = async (input: unknown) => (await instance._generate(Array.isArray(input) ? input : [typeof input === 'string' ? { role: 'user', content: input } : input])).generations[0].message as { content: unknown };
  }
  return instance as unknown as ChatModelLike;
}

export class OpeaChatModel implements INode {
  label = 'OPEA Chat Model';
  name = 'opeaChatModel';
  version = 1.0;
  type = 'ChatOpea';
  icon = 'opea-llm.svg';
  category = 'Chat Models';
  description = 'Chat model served by the OPEA LLM microservice, TGI, vLLM, an OpenAI-compatible server or Ollama (same client as the Node-RED opea-llm node)';
  baseClasses = [this.type, 'BaseChatModel', 'BaseLanguageModel', 'Runnable'];
  credential = credentialParam();
  inputs: INodeParams[] = [
    { label: 'Backend', name: 'backend', type: 'options', options: LLM_BACKENDS, default: 'tgi' },
    { label: 'Model Name', name: 'modelName', type: 'string', optional: true, placeholder: 'Intel/neural-chat-7b-v3-3' },
    { label: 'Temperature', name: 'temperature', type: 'number', step: 0.1, default: 0.01, optional: true },
    { label: 'Max Tokens', name: 'maxTokens', type: 'number', default: 1024, optional: true, additionalParams: true },
    { label: 'Top P', name: 'topP', type: 'number', step: 0.05, default: 0.95, optional: true, additionalParams: true },
    { label: 'Top K', name: 'topK', type: 'number', default: 10, optional: true, additionalParams: true },
    { label: 'Repetition Penalty', name: 'repetitionPenalty', type: 'number', step: 0.01, default: 1.03, optional: true, additionalParams: true },
    { label: 'Streaming', name: 'streaming', type: 'boolean', default: true, optional: true, additionalParams: true },
    baseUrlParam(),
    timeoutParam(),
  ];

  async init(nodeData: INodeData, _input: string, opts?: ICommonObject): Promise<unknown> {
    const backend = str(nodeData.inputs, 'backend', 'tgi');
    const config: LlmConfig = {
      backend,
      model: str(nodeData.inputs, 'modelName') || undefined,
      temperature: num(nodeData.inputs, 'temperature', 0.01),
      maxTokens: num(nodeData.inputs, 'maxTokens', 1024),
      topP: num(nodeData.inputs, 'topP', 0.95),
      topK: num(nodeData.inputs, 'topK', 10),
      repetitionPenalty: num(nodeData.inputs, 'repetitionPenalty', 1.03),
      stream: bool(nodeData.inputs, 'streaming', true),
      template: '{question}', // Flowise's chains have built the prompt already
    };
    return makeChatModel(config, await endpointFor(nodeData, opts, backend !== 'extractive'));
  }
}

export const nodeClass = OpeaChatModel;
