/**
 * npm run bench:export — median in-process export time (import, plan, build, schema and rule checks,
 * YAML) of the ChatQnA flow and of generated chains of 100 and 1,000 components, per target set.
 */
import { performance } from 'node:perf_hooks';
import { loadPipeline } from '../../core/pipeline';
import { ProblemList } from '../../core/problems';
import { exportPipeline, Target, TARGETS } from '../../exporters';
import { exampleFlow } from '../support/reference';

const STAGES = [
  { type: 'opea-embedding', backend: 'tei', model: 'BAAI/bge-base-en-v1.5' },
  { type: 'opea-retriever', backend: 'redis' },
  { type: 'opea-rerank', backend: 'tei', model: 'BAAI/bge-reranker-base' },
  { type: 'opea-llm', backend: 'tgi', model: 'Intel/neural-chat-7b-v3-3' },
];

/** http in -> n components cycling embedding, retriever, rerank, llm -> http response. */
export function generatedFlow(n: number): unknown[] {
  const id = (i: number) => `c${i.toString(16).padStart(15, '0')}`;
  const nodes: Record<string, unknown>[] = [{ id: 'tab', type: 'tab', label: `chain ${n}` }];
  nodes.push({ id: 'in', type: 'http in', z: 'tab', url: '/q', method: 'post', wires: [[id(0)]] });
  for (let i = 0; i < n; i++) {
    const stage = STAGES[i % STAGES.length];
    nodes.push({ id: id(i), z: 'tab', name: `stage-${i}`, ...stage, wires: [[i + 1 < n ? id(i + 1) : 'out']] });
  }
  nodes.push({ id: 'out', type: 'http response', z: 'tab', wires: [] });
  return nodes;
}

function exportOnce(flow: unknown, targets: readonly Target[]): number {
  const start = performance.now();
  const { pipeline, problems } = loadPipeline(flow);
  const exportProblems = new ProblemList();
  const bundle = exportPipeline(pipeline, targets, { platform: 'xeon' }, exportProblems);
  const elapsed = performance.now() - start;
  if (!problems.empty || !bundle) throw new Error(`benchmark flow did not export:\n${[...problems.items, ...exportProblems.items].map((p) => p.message).join('\n')}`);
  return elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function main(): void {
  const cases: [string, unknown, number][] = [
    ['ChatQnA (flows/chatqna.json, 4 components)', exampleFlow('chatqna.json'), 200],
    ['generated chain, 100 components', generatedFlow(100), 50],
    ['generated chain, 1,000 components', generatedFlow(1000), 15],
  ];
  const targetSets: (readonly Target[])[] = [...TARGETS.map((t) => [t] as const), TARGETS];
  const cold = exportOnce(cases[0][1], TARGETS);
  console.log(`first export of all targets in this process (loads and compiles the schemas): ${cold.toFixed(2)} ms`);
  console.log(`| flow | runs | ${targetSets.map((t) => `${t.length > 1 ? 'all' : t[0]} median ms`).join(' | ')} | all per component ms |`);
  console.log(`| --- | --- | ${targetSets.map(() => '---').join(' | ')} | --- |`);
  for (const [label, flow, runs] of cases) {
    const components = (flow as { type: string }[]).filter((n) => n.type.startsWith('opea-')).length;
    const medians = targetSets.map((targets) => {
      for (let i = 0; i < 3; i++) exportOnce(flow, targets);
      return median(Array.from({ length: runs }, () => exportOnce(flow, targets)));
    });
    const all = medians[medians.length - 1];
    console.log(`| ${label} | ${runs} | ${medians.map((m) => m.toFixed(2)).join(' | ')} | ${(all / components).toFixed(3)} |`);
  }
}

if (require.main === module) main();
