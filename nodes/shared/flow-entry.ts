/**
 * The URL of one of this runtime's own `http in` nodes, for nodes that call the served flow the way
 * a client does (the benchmark): scheme and port of Node-RED's HTTP server, httpNodeRoot, the node's path.
 */
import type { AddressInfo } from 'node:net';
import { Red } from './red';

interface HttpInNode {
  type: string;
  url?: string;
  method?: string;
}

function hostOf(address: AddressInfo): string {
  if (address.address === '::' || address.address === '0.0.0.0' || address.address === '') return '127.0.0.1';
  return address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
}

/** The URL that reaches the POST `http in` node `entryId`; throws what to fix when there is none. */
export function flowEntryUrl(RED: Red, entryId: unknown): string {
  if (typeof entryId !== 'string' || entryId === '') throw new Error('no http in entry is chosen: choose the POST http in node of the flow to call');
  const entry = RED.nodes.getNode(entryId) as HttpInNode | null;
  if (!entry || entry.type !== 'http in') throw new Error(`the entry ${entryId} is not a deployed http in node: choose one again and deploy`);
  if (entry.method !== 'post') throw new Error(`the http in entry ${entry.url ?? ''} takes ${String(entry.method).toUpperCase()}: the benchmark POSTs, so choose a POST http in node`);
  const root = RED.settings.httpNodeRoot;
  if (root === false) throw new Error("http in nodes are switched off in this Node-RED (httpNodeRoot is false in settings.js)");
  const address = RED.server?.address();
  if (!address || typeof address === 'string') throw new Error("Node-RED's HTTP server is not listening on a TCP port, so the flow's http in entry cannot be called");
  const scheme = RED.settings.https ? 'https' : 'http';
  const base = (typeof root === 'string' ? root : '/').replace(/\/+$/, '');
  return `${scheme}://${hostOf(address)}:${address.port}${base}${entry.url ?? ''}`;
}
