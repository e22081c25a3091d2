/**
 * The flows the studio writes on its first run: the offline ChatQnA example (its query tab first, so
 * the editor opens on a pipeline that answers at once), then every other example in flows/ that also
 * works without a model server. Examples that need servers are left to the editor's
 * Import > Examples > node-red-contrib-opea, which lists the same folder (examples/, built from flows/).
 */
import fs from 'node:fs';
import path from 'node:path';
import { findBackend } from '../core/catalog';
import { nodeTypeSpec } from '../core/node-types';

export const OFFLINE_EXAMPLE = 'chatqna-offline.json';

/** Node-RED core node types an included example may use besides the pack's own. */
const CORE_TYPES = new Set([
  'tab', 'group', 'comment', 'inject', 'debug', 'complete', 'catch', 'status', 'link in', 'link out', 'link call',
  'function', 'switch', 'change', 'range', 'template', 'delay', 'trigger', 'exec', 'rbe', 'filter',
  'http in', 'http response', 'http request', 'split', 'join', 'sort', 'batch', 'json', 'csv', 'yaml', 'xml', 'html',
]);

type FlowNode = Record<string, unknown> & { id: string; type: string };

export interface FirstRunFlows {
  flows: FlowNode[];
  /** Example files on the tabs, in order. */
  included: string[];
  /** Example files left to Import > Examples, with the reason. */
  skipped: { file: string; why: string }[];
}

function readFlow(file: string): FlowNode[] {
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  const nodes = Array.isArray(parsed) ? parsed : (parsed as { flows?: unknown }).flows;
  if (!Array.isArray(nodes)) throw new Error(`${file} holds no Node-RED flow array`);
  return nodes as FlowNode[];
}

/** The model servers a flow calls: each opea-server by name and URL, else the backend of each node that names none. */
function serversOf(flow: FlowNode[]): string[] {
  const servers = flow.filter((n) => n.type === 'opea-server').map((n) => `${typeof n.name === 'string' && n.name !== '' ? n.name : 'opea-server'} at ${String(n.baseUrl)}`);
  const unserved = new Map<string, string[]>();
  for (const node of flow) {
    const spec = nodeTypeSpec(node.type);
    const backend = spec && typeof node.backend === 'string' ? findBackend(spec.kind, node.backend) : undefined;
    if (!backend || backend.deploy.type === 'embedded' || (typeof node.server === 'string' && node.server !== '')) continue;
    unserved.set(backend.title, [...(unserved.get(backend.title) ?? []), typeof node.name === 'string' && node.name !== '' ? node.name : node.type]);
  }
  return [...servers, ...[...unserved].map(([title, nodes]) => `${title} for ${nodes.join(', ')}`)];
}

/** Why an example cannot sit on a tab of a fresh studio and deploy offline, or undefined when it can. */
export function whyNotOffline(flow: FlowNode[], packTypes: ReadonlySet<string>): string | undefined {
  const unknown = [...new Set(flow.map((n) => n.type).filter((t) => !packTypes.has(t) && !CORE_TYPES.has(t) && !t.startsWith('subflow')))];
  if (unknown.length > 0) return `uses node types a fresh studio may not have (${unknown.join(', ')})`;
  const servers = serversOf(flow);
  if (servers.length === 0) return undefined;
  // An exporter reads the flow, not the servers: such an example exports without any.
  return flow.some((n) => n.type === 'opea-exporter') ? `answers with model servers (${servers.join('; ')}) and exports without any` : `needs model servers: ${servers.join('; ')}`;
}

/** Tabs holding an LLM node first (the query path), the rest after, each group in file order. */
function queryTabsFirst(flow: FlowNode[]): FlowNode[] {
  const withLlm = new Set(flow.filter((n) => n.type === 'opea-llm').map((n) => n.z));
  const tabs = flow.filter((n) => n.type === 'tab');
  const ordered = [...tabs.filter((t) => withLlm.has(t.id)), ...tabs.filter((t) => !withLlm.has(t.id))];
  return [...ordered, ...flow.filter((n) => n.type !== 'tab')];
}

/** Entry URLs (method and path) of a flow's http in nodes. */
function routes(flow: FlowNode[]): string[] {
  return flow.filter((n) => n.type === 'http in').map((n) => `${String(n.method ?? 'get').toLowerCase()} ${String(n.url)}`);
}

export function firstRunFlows(flowsDir: string, packTypes: ReadonlySet<string>): FirstRunFlows {
  const offline = queryTabsFirst(readFlow(path.join(flowsDir, OFFLINE_EXAMPLE)));
  const flows = [...offline];
  const included = [OFFLINE_EXAMPLE];
  const skipped: { file: string; why: string }[] = [];
  const others = fs.readdirSync(flowsDir).filter((f) => f.endsWith('.json') && f !== OFFLINE_EXAMPLE).sort();
  for (const file of others) {
    let flow: FlowNode[];
    try {
      flow = readFlow(path.join(flowsDir, file));
    } catch (err) {
      skipped.push({ file, why: `cannot be read (${(err as Error).message})` });
      continue;
    }
    const ids = new Set(flows.map((n) => n.id));
    const taken = new Set(routes(flows));
    const why =
      whyNotOffline(flow, packTypes) ??
      (flow.some((n) => ids.has(n.id)) ? 'shares node ids with an example already on a tab' : undefined) ??
      (routes(flow).some((r) => taken.has(r)) ? 'serves an http in URL another example already serves' : undefined);
    if (why) {
      skipped.push({ file, why });
      continue;
    }
    // Several examples have an "Ingest" tab: later ones are told apart by their file name.
    const labels = new Set(flows.filter((n) => n.type === 'tab').map((n) => String(n.label)));
    const base = file.replace(/\.json$/, '');
    flows.push(...queryTabsFirst(flow).map((n) => (n.type === 'tab' && labels.has(String(n.label)) ? { ...n, label: `${String(n.label)} (${base})` } : n)));
    included.push(file);
  }
  // Node-RED orders the workspace tabs as they come in the file: all tabs first, in example order.
  return { flows: [...flows.filter((n) => n.type === 'tab'), ...flows.filter((n) => n.type !== 'tab')], included, skipped };
}
