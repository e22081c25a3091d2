/** The small part of Node-RED's API our nodes use (typed here so the pack has no runtime dependency on it). */
import type { AddressInfo } from 'node:net';

export type Msg = Record<string, unknown> & { _msgid?: string; payload?: unknown };
export type Send = (msg: Msg | (Msg | Msg[] | null)[] | null) => void;
export type Done = (err?: Error) => void;

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export interface RedNode {
  id: string;
  type: string;
  name?: string;
  credentials?: Record<string, string | undefined>;
  status(status: NodeStatus | Record<string, never>): void;
  send: Send;
  error(err: unknown, msg?: Msg): void;
  warn(message: string): void;
  log(message: string): void;
  on(event: 'input', handler: (msg: Msg, send: Send, done: Done) => void): void;
  on(event: 'close', handler: (removed: boolean, done: () => void) => void): void;
}

export interface Red {
  nodes: {
    createNode(node: object, config: object): void;
    registerType(type: string, constructor: unknown, options?: { credentials?: Record<string, { type: 'text' | 'password' }> }): void;
    getNode(id: string): unknown;
  };
  settings: { userDir?: string; [key: string]: unknown };
  /** Node-RED's HTTP server (editor and http in nodes). */
  server?: { address(): AddressInfo | string | null };
  /** Node-RED's message hooks; `onComplete` reports every message a node finished, with its error. (The test helper's RED lacks them.) */
  hooks?: {
    add(id: string, hook: (event: { msg: Msg; error?: unknown; node: { id: string } }) => void): void;
    remove(id: string): void;
  };
  util: {
    cloneMessage<T>(msg: T): T;
    getSetting(node: unknown, name: string): unknown;
  };
}

export type NodeConfig = Record<string, unknown> & { id: string; type: string; name?: string };
