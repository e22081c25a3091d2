/**
 * LangChain messages (from Flowise's chains and agents), {role, content} objects or a string, as the
 * OpenAI chat messages the model servers read. The text path hands the core {role, content} turns;
 * the tool path keeps what tool calling needs: the assistant's tool_calls and each tool answer's
 * tool_call_id (what a Tool Agent sends back after running a tool).
 */
import { isObject } from '../core/clients/wire';

interface MessageLike {
  content?: unknown;
  role?: string;
  type?: string;
  getType?: () => string;
  _getType?: () => string;
  tool_calls?: { id?: string; name: string; args: unknown }[];
  tool_call_id?: string;
  additional_kwargs?: { tool_calls?: unknown };
}

export interface TextTurn {
  role: string;
  content: string;
}

export interface OpenAiToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type OpenAiMessage = { role: string; content?: string | null; tool_calls?: OpenAiToolCall[]; tool_call_id?: string };

const ROLES: Record<string, string> = { human: 'user', user: 'user', ai: 'assistant', assistant: 'assistant', system: 'system', developer: 'system', tool: 'tool', function: 'tool' };

export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p === 'string' ? p : isObject(p) && typeof p.text === 'string' ? p.text : '')).join('');
  return content === undefined || content === null ? '' : String(content);
}

function asList(input: unknown): MessageLike[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  return (Array.isArray(input) ? input : [input]) as MessageLike[];
}

/** The OpenAI role of a message: LangChain's type (a ChatMessage's own role for 'generic'), or its role field. */
function roleOf(m: MessageLike): string {
  const kind = m.getType?.() ?? m._getType?.() ?? m.type ?? m.role ?? 'user';
  if (kind === 'generic') return ROLES[m.role ?? ''] ?? 'user';
  return ROLES[kind] ?? 'user';
}

/** {role, content} turns for the core's chat request; a tool's answer reads as a user turn there. */
export function toChatRequest(input: unknown): { messages: TextTurn[] } {
  return { messages: asList(input).map((m) => ({ role: roleOf(m) === 'tool' ? 'user' : roleOf(m), content: contentText(m.content) })) };
}

function toolCallsOf(m: MessageLike): OpenAiToolCall[] | undefined {
  if (Array.isArray(m.tool_calls) && m.tool_calls.length > 0) {
    return m.tool_calls.map((c, i) => ({ id: c.id ?? `call_${i}`, type: 'function', function: { name: c.name, arguments: typeof c.args === 'string' ? c.args : JSON.stringify(c.args ?? {}) } }));
  }
  const raw = m.additional_kwargs?.tool_calls;
  return Array.isArray(raw) && raw.length > 0 ? (raw as OpenAiToolCall[]) : undefined;
}

/**
 * OpenAI chat messages with tool calls and tool answers. An assistant turn that only calls tools has
 * no content field: TGI reads a message with `content` as text and drops its tool_calls
 * (router/src/lib.rs, untagged MessageBody: Content before Tool).
 */
export function toOpenAiMessages(input: unknown): OpenAiMessage[] {
  return asList(input).map((m) => {
    const role = roleOf(m);
    const content = contentText(m.content);
    if (role === 'assistant') {
      const calls = toolCallsOf(m);
      if (calls) return content === '' ? { role, tool_calls: calls } : { role, content, tool_calls: calls };
    }
    if (role === 'tool') return { role, content, tool_call_id: m.tool_call_id ?? '' };
    return { role, content };
  });
}
