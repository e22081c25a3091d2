/**
 * Conversation memory: the turns of each session, kept in a key-value store (a Node-RED context store
 * in the runtime, so the user's choice of memory or file store applies), within a turn limit and a
 * token window; the oldest turns go first.
 */
import { ChatMessage, ContractError } from '../contract/documents';
import { countTokens } from '../tokens';

export interface KeyValueStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<void>;
}

export interface MemoryLimits {
  /** Most question-and-answer turns kept. */
  maxTurns: number;
  /** Most tokens (cl100k_base) of the kept turns' text. */
  maxTokens: number;
}

export type SessionSource = 'msg' | 'header' | 'cookie';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/** A cookie's value from a Cookie header, for requests that came without a cookie parser. */
function cookieFromHeader(header: unknown, name: string): string | undefined {
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) {
      const value = part.slice(at + 1).trim();
      try {
        return decodeURIComponent(value);
      } catch {
        return value;
      }
    }
  }
  return undefined;
}

/** Where a message's session id is read, in words: "msg.sessionId", "header X-Session-Id", "cookie sid". */
export function sessionSourceText(from: SessionSource, key: string): string {
  return from === 'msg' ? `msg.${key}` : `${from === 'header' ? 'header' : 'cookie'} ${key} of the http in request (msg.req)`;
}

/** The session id a message carries (msg.<key>, a request header or cookie), or undefined. */
export function sessionIdOf(msg: Json, from: SessionSource, key: string): string | undefined {
  let value: unknown;
  if (from === 'msg') value = msg[key];
  else {
    const req = isObject(msg.req) ? msg.req : {};
    if (from === 'header') value = isObject(req.headers) ? req.headers[key.toLowerCase()] : undefined;
    else value = isObject(req.cookies) && typeof req.cookies[key] === 'string' ? req.cookies[key] : cookieFromHeader(isObject(req.headers) ? req.headers.cookie : undefined, key);
  }
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number') value = String(value);
  if (typeof value !== 'string' || value.length > 256) {
    throw new ContractError(`the session id (${sessionSourceText(from, key)}) is not a string of at most 256 characters`, 'send the session id as a short string');
  }
  return value;
}

function turnsOf(stored: unknown): ChatMessage[][] {
  if (!Array.isArray(stored)) return [];
  return stored.filter((t): t is ChatMessage[] => Array.isArray(t) && t.every((m) => isObject(m) && typeof m.role === 'string' && typeof m.content === 'string'));
}

/** The newest turns within the limits, oldest first. */
export function withinWindow(turns: ChatMessage[][], limits: MemoryLimits): ChatMessage[][] {
  const kept: ChatMessage[][] = [];
  let tokens = 0;
  for (let i = turns.length - 1; i >= 0 && kept.length < limits.maxTurns; i--) {
    const cost = turns[i].reduce((sum, m) => sum + countTokens(m.content), 0);
    if (tokens + cost > limits.maxTokens) break;
    tokens += cost;
    kept.unshift(turns[i]);
  }
  return kept;
}

export class ConversationMemory {
  constructor(
    private readonly store: KeyValueStore,
    readonly limits: MemoryLimits,
  ) {}

  /** A context key that is one key: Node-RED reads dots and brackets in a key as a path into its value. */
  private key(session: string): string {
    return `session_${encodeURIComponent(session).replace(/\./g, '%2E')}`;
  }

  /** The session's earlier turns as chat messages, oldest first. */
  async recall(session: string): Promise<ChatMessage[]> {
    return withinWindow(turnsOf(await this.store.get(this.key(session))), this.limits).flat();
  }

  /** Keeps one turn; the oldest turns go when the limits are passed. */
  async remember(session: string, question: string, answer: string): Promise<void> {
    const turns = [...turnsOf(await this.store.get(this.key(session))), [{ role: 'user', content: question } as ChatMessage, { role: 'assistant', content: answer } as ChatMessage]];
    await this.store.set(this.key(session), withinWindow(turns, this.limits));
  }

  async forget(session: string): Promise<void> {
    await this.store.set(this.key(session), undefined);
  }
}
