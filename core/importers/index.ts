/**
 * Every input format -> Node-RED flow JSON, so validation and export go through the one path
 * `loadPipeline(flow)`. Formats are told apart by content, never by file name:
 * - an array, or an object with a `flows` array: Node-RED flow JSON, passed through unchanged;
 * - `kind: GMConnector` (YAML or JSON): a GMC custom resource (./gmc);
 * - `opea_micro_services` / `opea_mega_service` (YAML or JSON): OPEA pipeline YAML (./opea-yaml);
 * - an object with `nodes` and `edges` arrays: a Flowise chatflow or GenAI Studio workflow (./flowise).
 * Anything else, or text that does not parse, is one problem and no flow: text that opens with { or [
 * is JSON, and its syntax error says where (line and column); any other text is read as YAML.
 */
import yaml from 'js-yaml';
import { oneLine, ProblemList } from '../problems';
import { flowiseToFlow } from './flowise';
import { gmcToFlow } from './gmc';
import { isOpeaYaml, opeaYamlToFlow } from './opea-yaml';

export type SourceFormat = 'node-red' | 'opea-yaml' | 'flowise' | 'gmc';

/** Bigger inputs are refused before parsing: no pipeline description comes near it. */
export const MAX_INPUT_CHARS = 10_000_000;

/**
 * js-yaml limits for untrusted text: aliases shared by reference would let a few bytes expand into a
 * huge tree for anything that walks it ("billion laughs"); nesting is bounded as well.
 */
const YAML_OPTIONS = { maxAliases: 20, maxDepth: 64 } as const;

const FORMATS_HELP = 'give a Node-RED flow, a Flowise or GenAI Studio chatflow ({nodes, edges}), a GMConnector or OPEA pipeline YAML';

export function detectFormat(doc: unknown): SourceFormat | null {
  if (Array.isArray(doc)) return 'node-red';
  if (!doc || typeof doc !== 'object') return null;
  const o = doc as Record<string, unknown>;
  if (Array.isArray(o.flows)) return 'node-red';
  if (o.kind === 'GMConnector') return 'gmc';
  if (isOpeaYaml(o)) return 'opea-yaml';
  if (Array.isArray(o.nodes) && Array.isArray(o.edges)) return 'flowise';
  return null;
}

/** Text that opens as JSON does ({ or [ first) is read as JSON only, so a syntax error in it is told as JSON's. */
const JSON_OPENING = /^\s*[[{]/;

/** JSON.parse's complaint, with the line and column of the position it names (the end, when it ran out of text). */
function jsonSyntaxError(text: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const at = /at position (\d+)/.exec(message);
  const lines = text.slice(0, at ? Number(at[1]) : text.length).split('\n');
  const what = message
    .replace(/\s*\(line \d+ column \d+\)/, '')
    .replace(/ in JSON at position \d+/, '')
    .replace(/^Unexpected end of JSON input$/, 'the text ends before the JSON does');
  return `${what} at line ${lines.length}, column ${lines[lines.length - 1].length + 1}`;
}

function parse(raw: string): { doc: unknown } | { error: string; fix: string } {
  const text = raw.replace(/^\uFEFF/, '');
  if (JSON_OPENING.test(text)) {
    try {
      return { doc: JSON.parse(text) };
    } catch (err) {
      return { error: `the file is not valid JSON: ${jsonSyntaxError(text, err)}`, fix: 'correct the JSON there, or export the flow again (the editor\'s Export > JSON)' };
    }
  }
  // Not JSON: GMConnector CRs and OPEA pipeline files are YAML (of which JSON is a subset).
  try {
    return { doc: yaml.load(text, YAML_OPTIONS) };
  } catch (err) {
    return { error: `the file is neither JSON nor YAML: ${err instanceof Error ? err.message : String(err)}`, fix: FORMATS_HELP };
  }
}

/** Parses JSON or YAML text of any supported format into Node-RED flow JSON. */
export function toNodeRedFlow(text: string, fileName: string): { flow: Record<string, unknown>[] | null; format: SourceFormat | null; problems: ProblemList } {
  const problems = new ProblemList();
  const label = oneLine(fileName, 80) || 'input';
  if (typeof text !== 'string' || text.length > MAX_INPUT_CHARS) {
    problems.add('', label, `the file is larger than ${MAX_INPUT_CHARS} characters`, FORMATS_HELP);
    return { flow: null, format: null, problems };
  }
  const parsed = parse(text);
  if ('error' in parsed) {
    problems.add('', label, oneLine(parsed.error, 160), parsed.fix);
    return { flow: null, format: null, problems };
  }
  const doc = parsed.doc;
  const format = detectFormat(doc);
  let flow: Record<string, unknown>[] | null = null;
  try {
    if (format === 'node-red') flow = (Array.isArray(doc) ? doc : (doc as { flows: unknown[] }).flows) as Record<string, unknown>[];
    else if (format === 'gmc') flow = gmcToFlow(doc, problems);
    else if (format === 'flowise') flow = flowiseToFlow(doc, fileName, problems);
    else if (format === 'opea-yaml') flow = opeaYamlToFlow(doc as Record<string, unknown>, fileName, problems);
    else problems.add('', label, 'the file is no format opea-flow reads', FORMATS_HELP);
  } catch (err) {
    // A bug, not the user's fault: still one problem rather than a crash of the caller.
    problems.add('', label, `internal error while importing it as ${format}: ${oneLine(err instanceof Error ? err.message : String(err), 120)}`, 'report this with the file');
    flow = null;
  }
  return { flow: problems.empty ? flow : null, format, problems };
}
