/**
 * Exports stay byte-identical across refactors: the SHA-256 of every file that every example flow
 * exports (each tab with a pipeline, each platform, with and without the observability profile) is
 * held in test/fixtures/export-digests.json. After a change that is meant to change exports, rewrite
 * it with OPEA_UPDATE_EXPORT_DIGESTS=1 and let the diff of that file show what changed.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadPipeline } from '../../core/pipeline';
import { ProblemList } from '../../core/problems';
import { exportPipeline, TARGETS } from '../../exporters';
import { exampleFlow, REPO_ROOT } from '../support/reference';

const DIGESTS = path.join(REPO_ROOT, 'test', 'fixtures', 'export-digests.json');
const PLATFORMS = ['xeon', 'gaudi', 'nvidia'] as const;
const OBSERVABILITY = [undefined, 'prometheus', 'victoriametrics'] as const;

type Digests = Record<string, Record<string, string> | string>;

function tabsOf(flow: unknown): string[] {
  const nodes = flow as { type?: unknown; id?: unknown }[];
  return nodes.filter((n) => n.type === 'tab' && typeof n.id === 'string').map((n) => n.id as string);
}

function exportDigests(): Digests {
  const out: Digests = {};
  for (const file of fs.readdirSync(path.join(REPO_ROOT, 'flows')).filter((f) => f.endsWith('.json')).sort()) {
    const flow = exampleFlow(file);
    for (const tab of tabsOf(flow)) {
      const { pipeline, problems } = loadPipeline(flow, { tab });
      if (!problems.empty || pipeline.graph.components.length === 0) continue;
      for (const platform of PLATFORMS) {
        for (const observability of OBSERVABILITY) {
          const key = `${file} tab ${tab} ${platform}${observability ? ` observability ${observability}` : ''}`;
          const exportProblems = new ProblemList();
          const bundle = exportPipeline(pipeline, TARGETS, { platform, observability }, exportProblems);
          if (!bundle) {
            out[key] = `not exportable: ${exportProblems.items.length} problems`;
            continue;
          }
          const files: Record<string, string> = {};
          for (const name of Object.keys(bundle).sort()) files[name] = crypto.createHash('sha256').update(bundle[name]).digest('hex');
          out[key] = files;
        }
      }
    }
  }
  return out;
}

/** One line per exported file (`case: path`) or per case that does not export. */
function flatten(digests: Digests): Record<string, string> {
  return Object.fromEntries(Object.entries(digests).flatMap(([key, files]) => (typeof files === 'string' ? [[key, files]] : Object.entries(files).map(([file, hash]) => [`${key}: ${file}`, hash]))));
}

describe('export digests', () => {
  it('every example flow exports the same bytes as recorded in test/fixtures/export-digests.json', () => {
    const now = exportDigests();
    if (process.env.OPEA_UPDATE_EXPORT_DIGESTS === '1') fs.writeFileSync(DIGESTS, `${JSON.stringify(now, null, 1)}\n`);
    const recorded = JSON.parse(fs.readFileSync(DIGESTS, 'utf8')) as Digests;
    assert.ok(Object.keys(recorded).length > 0, 'no digests recorded');
    const before = flatten(recorded);
    const after = flatten(now);
    const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => before[k] !== after[k]).map((k) => `${k}: ${before[k] ?? '(none)'} -> ${after[k] ?? '(none)'}`);
    assert.deepEqual(changed, [], `exports changed (OPEA_UPDATE_EXPORT_DIGESTS=1 records them if that is meant):\n${changed.slice(0, 40).join('\n')}`);
  });
});
