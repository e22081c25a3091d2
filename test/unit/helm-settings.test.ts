/**
 * The nodes' deploy settings (replicas, CPU and memory requests and limits, accelerators) in the
 * exports: compose's deploy block, the Helm chart's values, and a warning where GMC cannot carry them.
 */
import assert from 'node:assert/strict';
import yaml from 'js-yaml';
import { Platform } from '../../core/model';
import { loadPipeline } from '../../core/pipeline';
import { formatProblem, ProblemList } from '../../core/problems';
import { exportPipeline, Target } from '../../exporters';
import { checkComposeProject } from '../../exporters/compose/check';
import { composeCpus, composeMemory } from '../../exporters/compose/resources';
import { helm, renderChart, validateManifest, writeChart } from '../support/helm';
import { exampleFlow } from '../support/reference';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** flows/chatqna.json with deploy settings on its LLM and retriever nodes. */
function sizedFlow(llm: Json = {}, retriever: Json = {}): Json[] {
  const flow = structuredClone(exampleFlow('chatqna.json')) as Json[];
  Object.assign(flow.find((n) => n.type === 'opea-llm') as Json, llm);
  Object.assign(flow.find((n) => n.type === 'opea-retriever') as Json, retriever);
  return flow;
}

const SIZED_LLM = { replicas: 2, cpuRequest: '6', cpuLimit: '8', memoryRequest: '65Gi', memoryLimit: '70Gi', accelerators: 2 };

function exportWith(flow: unknown, targets: Target[], platform: Platform = 'xeon'): { bundle: Record<string, string> | null; problems: ProblemList } {
  const { pipeline, problems } = loadPipeline(flow);
  if (!problems.empty) return { bundle: null, problems };
  const exportProblems = new ProblemList();
  return { bundle: exportPipeline(pipeline, targets, { platform }, exportProblems), problems: exportProblems };
}

function exported(flow: unknown, targets: Target[], platform: Platform = 'xeon'): Record<string, string> {
  const { bundle, problems } = exportWith(flow, targets, platform);
  if (!bundle) throw new Error(problems.items.map(formatProblem).join('\n'));
  return bundle;
}

const composeServices = (bundle: Record<string, string>) => (yaml.load(bundle['compose/compose.yaml']) as Json).services as Json;
const helmValues = (bundle: Record<string, string>) => (yaml.load(bundle['helm/chatqna/values.yaml']) as Json).services as Json;

describe('Deploy settings of the nodes in the exports', function () {
  this.timeout(60_000);

  it('converts Kubernetes quantities to compose units', () => {
    assert.deepEqual(['500m', '2', '0.25', '1500m'].map(composeCpus), ['0.5', '2', '0.25', '1.5']);
    assert.deepEqual(['16Gi', '512Mi', '64Ki', '1Ti', '1048576'].map(composeMemory), ['16g', '512m', '64k', '1024g', '1048576b']);
  });

  it('refuses a value that is not a quantity, naming the node and the setting', () => {
    const { problems } = exportWith(sizedFlow({ memoryLimit: '70GB' }), ['helm']);
    assert.equal(problems.items.length, 1, problems.items.map(formatProblem).join('\n'));
    assert.match(formatProblem(problems.items[0]), /^node c0a1e5f0a0000006 \(llm\): memoryLimit must be a quantity such as 32Gi/);
  });

  it("compose: the LLM's model server gets the resources and the replicas, its OPEA service the replicas; the project stays valid", () => {
    const services = composeServices(exported(sizedFlow(SIZED_LLM, { replicas: 3, cpuRequest: '500m' }), ['compose'], 'nvidia'));
    assert.deepEqual(services['llm-tgi'].deploy, {
      resources: { reservations: { cpus: '6', memory: '65g', devices: [{ driver: 'nvidia', count: 2, capabilities: ['gpu'] }] }, limits: { cpus: '8', memory: '70g' } },
      replicas: 2,
    });
    assert.deepEqual(services.llm.deploy, { replicas: 2 });
    // The retriever has no model server: its own service takes the resources; its Redis is never replicated.
    assert.deepEqual(services.retriever.deploy, { replicas: 3, resources: { reservations: { cpus: '0.5' } } });
    assert.equal(services['retriever-redis'].deploy, undefined);
    assert.deepEqual(checkComposeProject(yaml.load(exported(sizedFlow(SIZED_LLM), ['compose'], 'nvidia')['compose/compose.yaml'])), []);
  });

  it('Helm: values.yaml carries them (accelerators as the platform resource), and the chart renders them valid', async () => {
    const bundle = exported(sizedFlow(SIZED_LLM, { replicas: 3 }), ['helm'], 'gaudi');
    const values = helmValues(bundle);
    assert.equal(values['llm-tgi'].replicas, 2);
    assert.deepEqual(values['llm-tgi'].resources, { limits: { cpu: '8', memory: '70Gi', 'habana.ai/gaudi': 2 }, requests: { cpu: '6', memory: '65Gi' } });
    assert.deepEqual([values.llm.replicas, values.llm.resources], [2, {}]);
    assert.deepEqual([values.retriever.replicas, values['retriever-redis'].replicas], [3, 1]);
    assert.deepEqual(values['embedding-tei'].resources, { limits: { 'habana.ai/gaudi': 1 } }, 'a node at its defaults: one card, as GenAIInfra v1.1 gaudi-values.yaml');
    const chart = writeChart(Object.fromEntries(Object.entries(bundle).filter(([f]) => f.startsWith('helm/'))));
    try {
      const lint = await helm(['lint', '--strict', chart.dir], chart.home);
      assert.equal(lint.code, 0, lint.stdout + lint.stderr);
      const rendered = await renderChart(chart);
      for (const doc of rendered) validateManifest(doc);
      const tgi = rendered.find((d) => d.kind === 'Deployment' && d.metadata.name === 'llm-tgi') as Json;
      assert.equal(tgi.spec.replicas, 2);
      assert.deepEqual(tgi.spec.template.spec.containers[0].resources.limits, { cpu: '8', memory: '70Gi', 'habana.ai/gaudi': 2 });
    } finally {
      chart.remove();
    }
  });

  it('warns, naming the node, where GMC cannot carry them, and where compose on Gaudi gives every card', () => {
    const { problems } = exportWith(sizedFlow(SIZED_LLM), ['gmc', 'compose', 'helm'], 'gaudi');
    assert.deepEqual(problems.items, []);
    const warnings = problems.warnings.map(formatProblem);
    assert.ok(
      warnings.some((w) => /^node c0a1e5f0a0000006 \(llm\): \[gmc\] GMC's GMConnector cannot carry replicas, cpuRequest, cpuLimit, memoryRequest, memoryLimit, accelerators/.test(w)),
      warnings.join('\n'),
    );
    assert.ok(warnings.some((w) => /^node c0a1e5f0a0000006 \(llm\): \[compose\] the compose project on Gaudi gives its model server every card/.test(w)), warnings.join('\n'));
    const helmOnly = exportWith(sizedFlow(SIZED_LLM), ['helm'], 'gaudi').problems.warnings.map(formatProblem);
    assert.ok(!helmOnly.some((w) => /GMConnector cannot carry|every card/.test(w)), helmOnly.join('\n'));
    const atDefaults = exportWith(exampleFlow('chatqna.json'), ['gmc', 'compose'], 'gaudi').problems.warnings.map(formatProblem);
    assert.ok(!atDefaults.some((w) => /GMConnector cannot carry|every card/.test(w)), atDefaults.join('\n'));
  });

  it('leaves every export as it was when a node sets them to their defaults', () => {
    const defaults = { replicas: 1, cpuRequest: '', cpuLimit: '', memoryRequest: '', memoryLimit: '', accelerators: 0 };
    for (const platform of ['xeon', 'gaudi', 'nvidia'] as const) {
      assert.deepEqual(exported(sizedFlow(defaults, defaults), ['gmc', 'compose', 'ansible', 'helm'], platform), exported(exampleFlow('chatqna.json'), ['gmc', 'compose', 'ansible', 'helm'], platform), platform);
    }
  });
});
