/**
 * opea-memory: conversation memory for opea-llm nodes, by session (msg.sessionId, a header or a cookie
 * of the http in request), kept in a Node-RED context store of this config node.
 */
import { ContractError } from '../../core/contract/documents';
import { ConversationMemory, KeyValueStore, SessionSource, sessionIdOf, sessionSourceText } from '../../core/prompts/memory';
import { Msg, NodeConfig, Red, RedNode } from '../shared/red';

export interface MemoryNode {
  /** The message's session id, or undefined when it carries none. */
  sessionOf(msg: Msg): string | undefined;
  /** Where the session id is read, in words. */
  source: string;
  memory(): ConversationMemory;
}

interface NodeContext {
  get(key: string, store: string | undefined, callback: (err: Error | null, value?: unknown) => void): void;
  set(key: string, value: unknown, store: string | undefined, callback: (err: Error | null) => void): void;
}

const SOURCES: readonly SessionSource[] = ['msg', 'header', 'cookie'];

function wholeNumber(value: unknown, fallback: number, min: number, max: number): number | undefined {
  const n = value === undefined || value === '' ? fallback : Number(value);
  return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
}

module.exports = function register(RED: Red): void {
  function OpeaMemory(this: RedNode & MemoryNode & { context(): NodeContext }, config: NodeConfig) {
    RED.nodes.createNode(this, config);
    const label = `opea-memory ${config.name || 'memory'} (${config.id})`;
    const problems: string[] = [];
    const maxTurns = wholeNumber(config.maxTurns, 10, 1, 1000);
    const maxTokens = wholeNumber(config.maxTokens, 2000, 1, 1_000_000);
    if (maxTurns === undefined) problems.push('turns must be a whole number from 1 to 1000');
    if (maxTokens === undefined) problems.push('tokens must be a whole number from 1 to 1000000');
    const from = SOURCES.includes(config.sessionFrom as SessionSource) ? (config.sessionFrom as SessionSource) : undefined;
    if (!from) problems.push('the session id comes from msg, header or cookie');
    const key = typeof config.sessionKey === 'string' && config.sessionKey.trim() !== '' ? config.sessionKey.trim() : 'sessionId';
    if (!/^[A-Za-z0-9_$-]{1,128}$/.test(key)) problems.push(`the session key '${key.slice(0, 40)}' must be a property, header or cookie name`);
    if (problems.length > 0) this.error(`${label}: ${problems.join('; ')} — fix the memory and deploy again`);
    const store = typeof config.store === 'string' && config.store.trim() !== '' ? config.store.trim() : undefined;
    const context = this.context();
    const kv: KeyValueStore = {
      get: (k) => new Promise((resolve, reject) => context.get(k, store, (err, value) => (err ? reject(err) : resolve(value)))),
      set: (k, value) => new Promise((resolve, reject) => context.set(k, value, store, (err) => (err ? reject(err) : resolve()))),
    };
    const memory = new ConversationMemory(kv, { maxTurns: maxTurns ?? 10, maxTokens: maxTokens ?? 2000 });
    this.source = sessionSourceText(from ?? 'msg', key);
    this.sessionOf = (msg) => sessionIdOf(msg, from ?? 'msg', key);
    this.memory = () => {
      if (problems.length > 0) throw new ContractError(`its memory ${label} is not usable: ${problems[0]}`, 'fix the memory and deploy again');
      return memory;
    };
  }
  RED.nodes.registerType('opea-memory', OpeaMemory);
};
