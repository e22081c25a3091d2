/**
 * A Flowise chatflow -> OPEA bundle, through the same path as `opea-flow export`: the Flowise importer
 * (core/importers/flowise.ts) makes Node-RED flow JSON, loadPipeline checks it, exportPipeline writes
 * GMC / compose / Ansible. Accepts the shapes Flowise keeps a chatflow in: the saved `flowData` (a JSON
 * string or object `{nodes, edges, viewport}`), a chatflow record (`{name, flowData}`, as the API and
 * the database hold it), and the UI's Export Data file (`{ChatFlow: [records]}`).
 */
import { toNodeRedFlow } from '../core/importers';
import { Platform, PLATFORMS } from '../core/model';
import { loadPipeline } from '../core/pipeline';
import { ProblemList } from '../core/problems';
import { Bundle } from '../exporters/bundle';
import { exportPipeline, Target, TARGETS } from '../exporters';
import { isObject } from '../core/clients/wire';
import { baseName, nodeId } from '../core/importers/common';
import { flowiseWords } from './words';

export interface ChatflowExport {
  bundle: Bundle | null;
  problems: ProblemList;
  name: string;
}


/** The `{nodes, edges}` document and name of a chatflow, from any of the shapes above. */
export function chatflowDocument(input: unknown, chatflowName?: string): { doc: unknown; name: string } {
  let value = input;
  if (typeof value === 'string') value = JSON.parse(value);
  if (isObject(value) && Array.isArray(value.ChatFlow)) {
    const flows = value.ChatFlow.filter(isObject);
    const chosen = chatflowName ? flows.find((f) => f.name === chatflowName || f.id === chatflowName) : flows.length === 1 ? flows[0] : undefined;
    if (!chosen) throw new Error(`the export holds ${flows.length} chatflows: name the one to export (${flows.map((f) => String(f.name)).join(', ')})`);
    value = chosen;
  }
  if (isObject(value) && value.flowData !== undefined) {
    const name = typeof value.name === 'string' && value.name.trim() !== '' ? value.name : chatflowName ?? 'chatflow';
    return { doc: typeof value.flowData === 'string' ? JSON.parse(value.flowData) : value.flowData, name };
  }
  return { doc: value, name: chatflowName ?? 'chatflow' };
}

/**
 * The problems as a Flowise user reads them: each names the chatflow node it is about (label and id;
 * the importer gives an imported node the id nodeId('<file base name>/<Flowise id>')), in Flowise's
 * words. Flowise's OPEA nodes have no external URL, so a fix that asks for one says what can be done.
 */
function forFlowise(problems: ProblemList, doc: unknown, fileName: string): ProblemList {
  const labels = new Map<string, string>();
  const nodes = isObject(doc) && Array.isArray(doc.nodes) ? doc.nodes.filter(isObject) : [];
  for (const n of nodes) {
    const data = isObject(n.data) ? n.data : {};
    if (typeof n.id === 'string') labels.set(nodeId(`${baseName(fileName)}/${n.id}`), `${typeof data.label === 'string' ? data.label : n.id} (${n.id})`);
  }
  const fix = (text: string) => {
    if (!/externalUrl/.test(text)) return flowiseWords(text);
    const deployable = /or choose backend ([\w-]+(?:, [\w-]+)*)/.exec(text)?.[1];
    return `remove this node from the chatflow to export the rest${deployable ? `, or set its Backend to ${deployable}` : ''} (Flowise's OPEA nodes have no external URL setting)`;
  };
  const out = new ProblemList();
  for (const p of problems.items) out.add(p.nodeId, labels.get(p.nodeId) ?? p.label, flowiseWords(p.message), fix(p.fix));
  for (const p of problems.warnings) out.warn(p.nodeId, labels.get(p.nodeId) ?? p.label, flowiseWords(p.message), fix(p.fix));
  return out;
}

export function exportChatflow(input: unknown, options: { targets: readonly Target[]; platform?: Platform; name?: string; namespace?: string; chatflowName?: string }): ChatflowExport {
  const problems = new ProblemList();
  let found: { doc: unknown; name: string };
  try {
    found = chatflowDocument(input, options.chatflowName);
  } catch (err) {
    problems.add('', options.chatflowName ?? 'chatflow', `the chatflow cannot be read: ${err instanceof Error ? err.message : String(err)}`, 'pass the flowData of a saved chatflow, a chatflow record or Flowise\'s Export Data file');
    return { bundle: null, problems, name: options.chatflowName ?? 'chatflow' };
  }
  for (const t of options.targets) if (!TARGETS.includes(t)) problems.add('', found.name, `'${t}' is not an export target`, `use ${TARGETS.join(', ')}`);
  const platform = options.platform ?? 'xeon';
  if (!PLATFORMS.includes(platform)) problems.add('', found.name, `'${platform}' is not a platform`, `use ${PLATFORMS.join(', ')}`);
  if (!problems.empty) return { bundle: null, problems, name: found.name };
  const fileName = `${found.name}.json`;
  const imported = toNodeRedFlow(JSON.stringify(found.doc), fileName);
  if (!imported.flow) return { bundle: null, problems: forFlowise(imported.problems, found.doc, fileName), name: found.name };
  const { pipeline, problems: loaded } = loadPipeline(imported.flow);
  if (!loaded.empty) return { bundle: null, problems: forFlowise(loaded, found.doc, fileName), name: found.name };
  const bundle = exportPipeline(pipeline, options.targets, { platform, name: options.name, namespace: options.namespace }, loaded);
  return { bundle, problems: forFlowise(loaded, found.doc, fileName), name: found.name };
}
