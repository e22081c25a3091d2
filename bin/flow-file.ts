/** Reads a flow file of any supported format (Node-RED, Flowise/GenAI Studio, GMConnector, OPEA YAML) as Node-RED flow JSON. */
import fs from 'node:fs';
import path from 'node:path';
import { toNodeRedFlow } from '../core/importers';
import { ProblemList } from '../core/problems';

export function readFlowFile(file: string, problems: ProblemList): unknown[] | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    problems.add('', file, `cannot read the flow file (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'check the path');
    return undefined;
  }
  const converted = toNodeRedFlow(text, path.basename(file));
  problems.items.push(...converted.problems.items);
  problems.warnings.push(...converted.problems.warnings);
  return converted.flow ?? undefined;
}
