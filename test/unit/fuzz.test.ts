import assert from 'node:assert/strict';
import yaml from 'js-yaml';
import { loadPipeline } from '../../core/pipeline';
import { ProblemList } from '../../core/problems';
import { exportPipeline, TARGETS } from '../../exporters';
import { exampleFlow } from '../support/reference';
import { seededRandom } from '../support/random';

const JUNK: unknown[] = [null, undefined, 0, -1, 1e308, NaN, true, '', ' ', '{{ x }}', 'a\nb', '"\'', 'x'.repeat(10_000), [], [[]], [null], {}, { a: 1 }, '__proto__', 'constructor', '$response', 'tei', 'redis', 'eq', 'custom'];

describe('fuzzed flows', () => {
  for (const file of ['chatqna.json', 'chatqna-switch.json']) {
    it(`never crash import or export: 1000 seeded mutations of flows/${file}`, () => {
      const base = exampleFlow(file) as Record<string, unknown>[];
      let exported = 0;
      for (let iteration = 0; iteration < 1000; iteration++) {
        const next = seededRandom(iteration + 1);
        const pick = <T>(list: T[]): T => list[Math.floor(next() * list.length)];
        const flow = structuredClone(base);
        for (let m = 0; m < 1 + Math.floor(next() * 3); m++) {
          const node = pick(flow);
          const keys = Object.keys(node);
          const key = next() < 0.8 ? pick(keys) : pick(['rules', 'wires', 'links', 'mode', 'count', 'property', 'propertyType', 'server', 'externalUrl', 'configVersion']);
          node[key] = pick(JUNK);
        }
        try {
          const { pipeline, problems } = loadPipeline(flow);
          if (!problems.empty) continue;
          const exportProblems = new ProblemList();
          const bundle = exportPipeline(pipeline, TARGETS, { platform: 'xeon' }, exportProblems);
          if (!bundle) continue;
          exported += 1;
          // A Helm chart's templates/ are Go templates, not YAML: the Helm tests render them with helm.
          for (const [path, text] of Object.entries(bundle)) if (path.endsWith('.yaml') && !path.includes('/templates/')) yaml.loadAll(text);
        } catch (err) {
          assert.fail(`iteration ${iteration}: ${(err as Error).stack}`);
        }
      }
      assert.ok(exported > 0, 'some mutations stay exportable');
    });
  }
});
