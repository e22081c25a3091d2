/**
 * The core speaks to Node-RED users: its hints name the opea-server config node, msg.model, the
 * node's externalUrl. In Flowise the same settings are the node's Base URL and Model Name inputs and
 * the OPEA Server credential; every message that leaves an adapter goes through `flowiseWords`.
 */
import { INodeData } from './interface';

/** Node-RED phrase -> Flowise phrase, applied in this order (longer phrases before their parts). */
const PHRASES: [RegExp, string][] = [
  [/raise the timeout of the opea-server config node/g, "raise the node's Timeout (ms)"],
  [/raise "(largest answer|stream limit)" of the opea-server config node, or /g, ''],
  [/check the API key in the server's config node/g, 'check the API Key of the OPEA Server credential'],
  [/choose an opea-server config node/g, 'set Base URL or connect an OPEA Server credential'],
  [/the opea-server's base URL/g, 'Base URL'],
  [/, or untick "verify TLS" for a self-signed server you trust/g, " for Flowise's Node.js (NODE_EXTRA_CA_CERTS)"],
  [/the node was stopped or redeployed/g, 'the chatflow run was stopped'],
  [/set the model in the node or msg\.model/g, 'set Model Name'],
  [/msg\.model/g, 'Model Name'],
  [/\(backend setting\)/g, '(the Backend input)'],
  [/the backend setting/g, 'the Backend input'],
  [/backend setting/g, 'Backend input'],
  [/the base URL/gi, 'Base URL'],
  [/runs? only (inside|in) Node-RED/g, 'runs only inside Flowise'],
];

export function flowiseWords(text: string): string {
  return PHRASES.reduce((out, [from, to]) => out.replace(from, to), text);
}

/** How an error names its node: label and id, as Flowise shows them on the canvas. */
export function nodeName(nodeData: Pick<INodeData, 'label' | 'name' | 'id'>): string {
  const label = nodeData.label || nodeData.name;
  return nodeData.id ? `${label} (${nodeData.id})` : label;
}

/** `err` in Flowise's words, prefixed with the node's name once. */
export function inFlowise(node: string, err: unknown): Error {
  const message = flowiseWords(err instanceof Error ? err.message : String(err));
  const wrapped = new Error(message.startsWith(node) ? message : `${node}: ${message}`, { cause: err });
  if (err instanceof Error && err.name === 'AbortError') wrapped.name = err.name;
  return wrapped;
}

/** Runs `work`, rethrowing its failure in Flowise's words. */
export async function asFlowise<T>(node: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw inFlowise(node, err);
  }
}
