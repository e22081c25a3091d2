/**
 * Where a payload carries the text a rail checks, following the message contract
 * (core/contract/documents.ts): for input and output the same text textOf reads, for documents
 * every retrieved chunk. Each slot knows its path, so a redacted text goes back in the same shape.
 */
import { ContractError } from '../contract/documents';
import { isObject } from '../clients/wire';

export type Position = 'input' | 'output' | 'documents';

export interface TextSlot {
  path: (string | number)[];
  text: string;
}

type Json = Record<string, unknown>;

/** The path as a user reads it: payload.retrieved_docs[1].text. */
export function whereOf(path: (string | number)[]): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : `${s}.${p}`), 'payload');
}

function documentSlots(payload: Json): TextSlot[] | null {
  for (const key of ['retrieved_docs', 'documents']) {
    const docs = payload[key];
    if (!Array.isArray(docs)) continue;
    const slots: TextSlot[] = [];
    for (const [i, d] of docs.entries()) {
      if (typeof d === 'string') slots.push({ path: [key, i], text: d });
      else if (isObject(d) && typeof d.text === 'string') slots.push({ path: [key, i, 'text'], text: d.text });
      else return null;
    }
    return slots;
  }
  return null;
}

/** The last user message of a chat request: its string content, or each of its text parts. */
function chatSlots(payload: Json): TextSlot[] | null {
  if (!Array.isArray(payload.messages)) return null;
  for (let i = payload.messages.length - 1; i >= 0; i--) {
    const m = payload.messages[i] as unknown;
    if (!isObject(m) || m.role !== 'user') continue;
    if (typeof m.content === 'string') return [{ path: ['messages', i, 'content'], text: m.content }];
    if (!Array.isArray(m.content)) return null;
    const slots = m.content.flatMap((p, j) => (isObject(p) && p.type === 'text' && typeof p.text === 'string' ? [{ path: ['messages', i, 'content', j, 'text'], text: p.text }] : []));
    return slots.length > 0 ? slots : null;
  }
  return null;
}

export function textSlots(payload: unknown, position: Position): TextSlot[] {
  if (typeof payload === 'string') return [{ path: [], text: payload }];
  if (isObject(payload)) {
    if (position === 'documents') {
      const slots = documentSlots(payload);
      if (slots) return slots;
    } else {
      // Same order as textOf: the first text-bearing key wins, then the chat request's last user message.
      for (const key of ['text', 'query', 'initial_query', 'input', 'question']) if (typeof payload[key] === 'string') return [{ path: [key], text: payload[key] as string }];
      const slots = chatSlots(payload);
      if (slots) return slots;
    }
  }
  if (position === 'documents') {
    throw new ContractError('msg.payload has no documents to check', 'send a SearchedDoc {retrieved_docs: [{text}]} or an LLMParamsDoc {query, documents}, or set Position to input or output');
  }
  throw new ContractError(
    'msg.payload has no text to check',
    'send a string, {text}, a GeneratedDoc {text, prompt}, an LLMParamsDoc {query, documents} or an OpenAI chat request {messages}',
  );
}

/** A copy of the payload with new texts at the slots' paths (the payload itself is not changed). */
export function withTexts(payload: unknown, replaced: { path: (string | number)[]; text: string }[]): unknown {
  if (replaced.some((r) => r.path.length === 0)) return replaced.find((r) => r.path.length === 0)?.text;
  const copy = structuredClone(payload) as Json;
  for (const { path, text } of replaced) {
    let target = copy as Record<string | number, unknown>;
    for (const key of path.slice(0, -1)) target = target[key] as Record<string | number, unknown>;
    target[path[path.length - 1]] = text;
  }
  return copy;
}
