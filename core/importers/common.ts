/** What every importer builds with: deterministic ids, the core nodes of a flow, the layout grid. */
import crypto from 'node:crypto';
import type { Kind } from '../model';

export type Json = Record<string, unknown>;
export type FlowNode = Json & { id: string; type: string; wires?: string[][] };

/** Layout: stages left to right, one column per stage, branches and ingest chains stacked below. */
export const X0 = 120;
export const DX = 180;
export const Y0 = 100;
export const DY = 90;

export const column = (i: number): number => X0 + DX * i;
export const row = (i: number): number => Y0 + DY * i;

/** A 16-hex-digit Node-RED id, the same for the same seed (so a re-import diffs cleanly). */
export function nodeId(seed: string): string {
  return crypto.createHash('sha1').update(seed).digest('hex').slice(0, 16);
}

/** `key` is the object's own property: input may name anything, `constructor` and `__proto__` too. */
export function own<T>(table: Record<string, T>, key: unknown): T | undefined {
  return typeof key === 'string' && Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

export { isObject } from '../clients/wire';

/** The order of the message contract: a query meets the stages in this order. */
export const CONTRACT_ORDER: readonly Kind[] = ['guardrail', 'embedding', 'retriever', 'rerank', 'llm'];

export function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The file's base name without extension: the label of the imported tab. */
export function baseName(fileName: string): string {
  return fileName.replace(/.*[\\/]/, '').replace(/\.[^.]+$/, '') || 'imported';
}

export function tabNode(id: string, label: string, info: string): FlowNode {
  return { id, type: 'tab', label, disabled: false, info };
}

export function httpIn(id: string, z: string, url: string, x: number, y: number): FlowNode {
  return { id, type: 'http in', z, name: `POST ${url}`, url, method: 'post', upload: url === '/dataprep', swaggerDoc: '', x, y, wires: [[]] };
}

export function httpResponse(id: string, z: string, name: string, x: number, y: number): FlowNode {
  return { id, type: 'http response', z, name, statusCode: '', headers: {}, x, y };
}

/** A join in manual mode that waits for `count` parts and builds one object: how a fan-out is gathered. */
export function joinNode(id: string, z: string, count: number, x: number, y: number): FlowNode {
  return {
    id, type: 'join', z, name: 'gather', mode: 'custom', build: 'object', property: 'payload', propertyType: 'msg',
    key: 'topic', joiner: '\\n', joinerType: 'str', accumulate: false, timeout: '', count: String(count), reduceRight: false,
    x, y, wires: [[]],
  };
}

export function wire(from: FlowNode, to: FlowNode, port = 0): void {
  const wires = from.wires as string[][];
  while (wires.length <= port) wires.push([]);
  if (!wires[port].includes(to.id)) wires[port].push(to.id);
}
