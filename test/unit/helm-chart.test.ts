/**
 * The Helm chart target against real helm 3.17 (`helm lint --strict`, `helm template`) and the
 * Kubernetes OpenAPI schemas (kubernetes-models): every example flow that exports, and a flow with a
 * switch and an ensemble, on every platform.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { Platform, PLATFORMS } from '../../core/model';
import { loadPipeline } from '../../core/pipeline';
import { formatProblem, ProblemList } from '../../core/problems';
import { exportPipeline, Target } from '../../exporters';
import { helmManifests } from '../../exporters/helm/manifests';
import { resolve, templateText, ValueRef } from '../../exporters/helm/values-ref';
import { helm, renderChart, validateManifest, WrittenChart, writeChart } from '../support/helm';
import { switchAndEnsembleFlow } from '../support/helm-flows';
import { exampleFlow, REPO_ROOT } from '../support/reference';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function exportFlow(flow: unknown, targets: Target[], platform: Platform = 'xeon'): Record<string, string> {
  const { pipeline, problems } = loadPipeline(flow);
  const exportProblems = new ProblemList();
  const bundle = problems.empty ? exportPipeline(pipeline, targets, { platform }, exportProblems) : null;
  if (!bundle) throw new Error([...problems.items, ...exportProblems.items].map(formatProblem).join('\n'));
  return bundle;
}

function manifestsOf(flow: unknown, platform: Platform): Json[] {
  const { pipeline } = loadPipeline(flow);
  const problems = new ProblemList();
  const docs = helmManifests(pipeline, { platform }, problems);
  if (!docs) throw new Error(problems.items.map(formatProblem).join('\n'));
  return docs as Json[];
}

const byKindAndName = (a: Json, b: Json) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`);
const find = (docs: Json[], kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name) as Json;

/** The graph the compose project's router runs (`--graph-json`, compose's `$$` for `$`). */
function composeGraph(bundle: Record<string, string>): Json {
  const compose = yaml.load(bundle['compose/compose.yaml']) as Json;
  return JSON.parse(String(compose.services['router-service'].command[1]).replace(/\$\$/g, '$'));
}

const EXAMPLES = fs.readdirSync(path.join(REPO_ROOT, 'flows')).filter((f) => f.endsWith('.json'));
const FLOWS: [string, () => unknown][] = [...EXAMPLES.map((f): [string, () => unknown] => [`flows/${f}`, () => exampleFlow(f)]), ['a flow with a switch and an ensemble', switchAndEnsembleFlow]];

function exportsToHelm(flow: unknown): boolean {
  try {
    exportFlow(flow, ['helm']);
    return true;
  } catch (err) {
    // Examples built for Node-RED alone: stages embedded in it, or several pipelines (a comparison).
    assert.match((err as Error).message, /runs only inside Node-RED|choose one with --tab/);
    return false;
  }
}

describe('Helm chart target (real helm 3.17)', function () {
  this.timeout(120_000);

  it('exports every example flow whose stages can be deployed, and the switch-and-ensemble flow', () => {
    const exported = FLOWS.filter(([, flow]) => exportsToHelm(flow())).map(([title]) => title);
    for (const title of ['flows/chatqna-guardrails.json', 'flows/chatqna-switch.json', 'flows/chatqna.json', 'flows/export-all-targets.json', 'flows/retriever-ensemble.json', 'a flow with a switch and an ensemble']) {
      assert.ok(exported.includes(title), title);
    }
  });

  for (const [title, flow] of FLOWS.filter(([, f]) => exportsToHelm(f()))) {
    for (const platform of PLATFORMS) {
      describe(`${title} on ${platform}`, () => {
        let chart: WrittenChart | undefined;
        let bundle: Record<string, string> = {};
        before(() => {
          bundle = exportFlow(flow(), ['helm', 'compose'], platform);
          chart = writeChart(Object.fromEntries(Object.entries(bundle).filter(([file]) => file.startsWith('helm/'))));
        });
        after(() => chart?.remove());

        it('passes helm lint --strict', async () => {
          const run = await helm(['lint', '--strict', (chart as WrittenChart).dir], (chart as WrittenChart).home);
          assert.equal(run.code, 0, run.stdout + run.stderr);
          assert.match(run.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
        });

        it('renders with helm template into manifests valid against the Kubernetes schemas, equal to helmManifests()', async () => {
          const rendered = await renderChart(chart as WrittenChart);
          for (const doc of rendered) validateManifest(doc);
          assert.deepEqual([...rendered].sort(byKindAndName), [...manifestsOf(flow(), platform)].sort(byKindAndName));
        });

        it("runs the compose export's router graph from a ConfigMap, every service it calls a Service at the port it calls", async () => {
          const rendered = await renderChart(chart as WrittenChart);
          const graph = JSON.parse(find(rendered, 'ConfigMap', 'router-graph').data['graph.json']);
          assert.deepEqual(graph, composeGraph(bundle));
          const router = find(rendered, 'Deployment', 'router-service').spec.template.spec.containers[0];
          assert.deepEqual(router.args, ['--graph-json', '$(GRAPH_JSON)']);
          assert.deepEqual(router.env[0], { name: 'GRAPH_JSON', valueFrom: { configMapKeyRef: { name: 'router-graph', key: 'graph.json' } } });
          const compose = yaml.load(bundle['compose/compose.yaml']) as Json;
          assert.deepEqual(router.image, String(compose.services['router-service'].image).replace('${REGISTRY:-opea}', 'opea').replace('${TAG:-1.1}', '1.1'));
          for (const node of Object.values(graph.spec.nodes) as Json[]) {
            for (const step of node.steps as Json[]) {
              if (!step.serviceUrl || step.externalService) continue;
              const url = new URL(step.serviceUrl);
              const service = find(rendered, 'Service', url.hostname);
              assert.ok(service, `no Service ${url.hostname} for step ${step.name}`);
              assert.equal(service.spec.ports[0].port, Number(url.port || (url.protocol === 'http:' ? 80 : 0)), step.serviceUrl);
              assert.ok(find(rendered, 'Deployment', url.hostname), `no Deployment ${url.hostname}`);
            }
          }
          assert.deepEqual(
            rendered.filter((d) => d.kind === 'Deployment').map((d) => d.metadata.name).sort(),
            Object.keys(compose.services).sort(),
            'one Deployment per compose service',
          );
        });
      });
    }
  }

  describe('values', () => {
    let chart: WrittenChart | undefined;
    before(() => {
      chart = writeChart(exportFlow(exampleFlow('chatqna.json'), ['helm'], 'gaudi'));
    });
    after(() => chart?.remove());

    it('sets replicas, resources, nodeSelector, tolerations, the model, the image and an HPA per service; all still valid', async () => {
      const set = [
        'services.llm-tgi.replicas=3',
        'services.llm-tgi.resources.requests.cpu=4',
        'services.llm-tgi.resources.limits.habana\\.ai/gaudi=2',
        'services.llm-tgi.nodeSelector.pool=gaudi',
        'services.llm-tgi.tolerations[0].key=habana.ai/gaudi,services.llm-tgi.tolerations[0].operator=Exists,services.llm-tgi.tolerations[0].effect=NoSchedule',
        'services.llm-tgi.model=meta-llama/Meta-Llama-3-8B-Instruct',
        'services.embedding.image.tag=1.1.1',
        'services.embedding.autoscaling.enabled=true,services.embedding.autoscaling.maxReplicas=7',
        'global.modelCache.emptyDir=null,global.modelCache.persistentVolumeClaim.claimName=models',
        'entry.serviceType=NodePort',
      ];
      const rendered = await renderChart(chart as WrittenChart, set);
      for (const doc of rendered) validateManifest(doc);
      const tgi = find(rendered, 'Deployment', 'llm-tgi');
      const container = tgi.spec.template.spec.containers[0];
      assert.equal(tgi.spec.replicas, 3);
      assert.deepEqual(container.resources, { limits: { 'habana.ai/gaudi': 2 }, requests: { cpu: 4 } });
      assert.deepEqual(tgi.spec.template.spec.nodeSelector, { pool: 'gaudi' });
      assert.deepEqual(tgi.spec.template.spec.tolerations, [{ key: 'habana.ai/gaudi', operator: 'Exists', effect: 'NoSchedule' }]);
      assert.deepEqual(container.args.slice(0, 2), ['--model-id', 'meta-llama/Meta-Llama-3-8B-Instruct']);
      assert.deepEqual(tgi.spec.template.spec.volumes[0], { name: 'model-cache', persistentVolumeClaim: { claimName: 'models' } });
      assert.equal(find(rendered, 'Deployment', 'embedding').spec.template.spec.containers[0].image, 'opea/embedding-tei:1.1.1');
      const hpa = find(rendered, 'HorizontalPodAutoscaler', 'embedding');
      assert.deepEqual([hpa.spec.scaleTargetRef.name, hpa.spec.minReplicas, hpa.spec.maxReplicas], ['embedding', 1, 7]);
      assert.equal(rendered.filter((d) => d.kind === 'HorizontalPodAutoscaler').length, 1, 'only the service that enables one has an HPA');
      assert.equal(find(rendered, 'Service', 'gateway').spec.type, 'NodePort');
    });

    it('asks for one accelerator per model server on Gaudi and NVIDIA (GenAIInfra v1.1), none on Xeon or for the microservices', () => {
      const limits = (platform: Platform) => {
        const docs = manifestsOf(exampleFlow('chatqna.json'), platform).filter((d) => d.kind === 'Deployment');
        return Object.fromEntries(docs.map((d) => [d.metadata.name, d.spec.template.spec.containers[0].resources.limits ?? {}]).filter(([, l]) => Object.keys(l).length));
      };
      assert.deepEqual(limits('xeon'), {});
      assert.deepEqual(limits('gaudi'), { 'embedding-tei': { 'habana.ai/gaudi': 1 }, 'reranking-tei': { 'habana.ai/gaudi': 1 }, 'llm-tgi': { 'habana.ai/gaudi': 1 } });
      assert.deepEqual(limits('nvidia'), { 'embedding-tei': { 'nvidia.com/gpu': 1 }, 'reranking-tei': { 'nvidia.com/gpu': 1 }, 'llm-tgi': { 'nvidia.com/gpu': 1 } });
    });
  });

  it('takes the Hugging Face token from the Secret named in values, never the token itself', () => {
    const saved = process.env.HF_TOKEN;
    process.env.HF_TOKEN = 'hf_secret_value_for_the_test';
    try {
      const bundle = exportFlow(exampleFlow('chatqna.json'), ['helm']);
      for (const [file, text] of Object.entries(bundle)) assert.ok(!text.includes('hf_secret_value_for_the_test'), file);
      const values = yaml.load(bundle['helm/chatqna/values.yaml']) as Json;
      assert.deepEqual(values.global.hfTokenSecret, { name: 'hf-token', key: 'HF_TOKEN' });
      const docs = manifestsOf(exampleFlow('chatqna.json'), 'xeon');
      const tokenRefs = docs.filter((d) => d.kind === 'Deployment').flatMap((d) => (d.spec.template.spec.containers[0].env ?? []).filter((e: Json) => /TOKEN/.test(e.name)).map((e: Json) => [d.metadata.name, e]));
      assert.ok(tokenRefs.length > 0);
      for (const [name, e] of tokenRefs) {
        assert.equal(e.value, undefined, `${name} ${e.name} has a value`);
        assert.equal(e.valueFrom.secretKeyRef.name, 'hf-token');
        // TGI cannot start without the token (compose requires it too); the others run without it.
        assert.equal(e.valueFrom.secretKeyRef.optional, name !== 'llm-tgi', `${name} ${e.name}`);
      }
    } finally {
      if (saved === undefined) delete process.env.HF_TOKEN;
      else process.env.HF_TOKEN = saved;
    }
  });

  it('is byte-stable: the same flow gives the same files', () => {
    assert.deepEqual(exportFlow(switchAndEnsembleFlow(), ['helm'], 'nvidia'), exportFlow(switchAndEnsembleFlow(), ['helm'], 'nvidia'));
  });

  it('prints text holding Go template actions as it is, beside the references to values', async () => {
    const text = '{{ .Release.Name }} {{ fail "templated" }} {{- x }}';
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'literal' }, data: { text, ref: ValueRef.text('[%s]', ['a']) } };
    const chart = writeChart({
      'helm/literal/Chart.yaml': 'apiVersion: v2\nname: literal\nversion: 0.1.0\n',
      'helm/literal/values.yaml': 'a: "{{ .Release.Name }}"\n',
      'helm/literal/templates/configmap.yaml': templateText(configMap),
    });
    try {
      const [rendered] = await renderChart(chart);
      assert.deepEqual(rendered.data, { text, ref: '[{{ .Release.Name }}]' });
      assert.deepEqual(resolve(configMap, { a: '{{ .Release.Name }}' }), rendered);
    } finally {
      chart.remove();
    }
  });
});
