/** Reads the shared reference data (CI has ../shared beside the checkout). */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const REFERENCE_DIR = path.resolve(REPO_ROOT, '..', 'shared', 'reference');

export function referenceYaml(rel: string): Record<string, unknown> {
  return yaml.load(fs.readFileSync(path.join(REFERENCE_DIR, rel), 'utf8')) as Record<string, unknown>;
}

export function exampleFlow(name: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'flows', name), 'utf8'));
}
