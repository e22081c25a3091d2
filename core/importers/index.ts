/** Every input format -> Node-RED flow JSON, so validation and export go through one path. */
import yaml from 'js-yaml';
import { oneLine, ProblemList } from '../problems';
import { flowiseToFlow } from './flowise';
import { gmcToFlow } from './gmc';
import { isOpeaYaml, opeaYamlToFlow } from './opea-yaml';

export type SourceFormat = 'node-red' | 'flowise' | 'gmc' | 'opea-yaml';

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

/** Parses JSON or YAML text of any supported format into Node-RED flow JSON. */
export function toNodeRedFlow(text: string, fileName: string): { flow: unknown[] | null; format: SourceFormat | null; problems: ProblemList } {
  const problems = new ProblemList();
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    try {
      // JSON is tried first; anything else must be YAML (GMConnector CRs, OPEA pipeline YAML).
      doc = yaml.load(text, { maxAliases: 100 });
    } catch (err) {
      problems.add('', fileName, `the file is neither JSON nor YAML: ${oneLine((err as Error).message, 120)}`, 'give a Node-RED flow, a Flowise or GenAI Studio chatflow, a GMConnector or OPEA pipeline YAML');
      return { flow: null, format: null, problems };
    }
  }
  const format = detectFormat(doc);
  if (format === 'node-red') return { flow: Array.isArray(doc) ? doc : ((doc as { flows: unknown[] }).flows), format, problems };
  if (format === 'gmc') return { flow: gmcToFlow(doc, problems), format, problems };
  if (format === 'flowise') return { flow: flowiseToFlow(doc, fileName, problems), format, problems };
  if (format === 'opea-yaml') return { flow: opeaYamlToFlow(doc as Record<string, unknown>, fileName, problems), format, problems };
  problems.add('', fileName, 'the file is no format opea-flow reads', 'give a Node-RED flow, a Flowise or GenAI Studio chatflow ({nodes, edges}), a GMConnector or OPEA pipeline YAML');
  return { flow: null, format: null, problems };
}
