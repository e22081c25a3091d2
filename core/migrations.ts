/**
 * Flow JSON saved by an older release, brought up to CONFIG_VERSION as it is read (by the importer and
 * by the runtime nodes), so a shared flow keeps working after an upgrade. Each step keys on the old
 * property being there, so a node an editor saved half-way (old version number, new properties) is safe.
 */

import { handlebarsFromPlaceholders } from './prompts/placeholders';

type NodeJson = Record<string, unknown> & { type?: unknown };

interface Rename {
  type: string;
  from: string;
  to: string;
  /** Why the old name had to go. */
  why: string;
  /** The old value in the new property's terms; such a value also replaces an empty new one (an editor that saved the new field blank). */
  convert?: (value: unknown) => unknown;
}

/** Version 2: Node-RED's editor drops every one-letter property name (it reserves a–z), so `k` never saved. */
const RENAMES: Rename[] = [
  { type: 'opea-retriever', from: 'k', to: 'searchK', why: 'one-letter names are reserved by the Node-RED editor' },
  {
    type: 'opea-llm',
    from: 'template',
    to: 'userTemplate',
    why: 'the prompt became a Handlebars template; the {context}/{question} one is said in Handlebars, rendering the same prompt',
    convert: (value) => (typeof value === 'string' && value.trim() !== '' ? handlebarsFromPlaceholders(value) : value),
  },
];

/** The node with old property names replaced by their current ones; the input is not changed. */
export function migrateNode<T extends NodeJson>(node: T): T {
  const renames = RENAMES.filter((r) => r.type === node.type && r.from in node);
  if (renames.length === 0) return node;
  const out: NodeJson = { ...node };
  for (const r of renames) {
    const blank = out[r.to] === undefined || (r.convert !== undefined && out[r.to] === '');
    if (blank) out[r.to] = r.convert ? r.convert(out[r.from]) : out[r.from];
    delete out[r.from];
  }
  return out as T;
}
