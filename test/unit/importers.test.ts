import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { toNodeRedFlow } from '../../core/importers';
import { loadPipeline } from '../../core/pipeline';
import { formatProblem, ProblemList } from '../../core/problems';
import { exportPipeline, Target, TARGETS } from '../../exporters';
import { gmcShape } from '../support/gmc-shape';
import { REFERENCE_DIR, REPO_ROOT } from '../support/reference';

function exportFlow(flow: unknown, targets: readonly Target[] = ['gmc']): Record<string, string> {
  const { pipeline, problems } = loadPipeline(flow);
  assert.deepEqual(problems.items.map(formatProblem), []);
  const exportProblems = new ProblemList();
  const bundle = exportPipeline(pipeline, targets, { platform: 'xeon', name: 'rt', namespace: 'rt' }, exportProblems);
  assert.deepEqual(exportProblems.items.map(formatProblem), []);
  return bundle as Record<string, string>;
}

function gmcText(flow: unknown): string {
  return exportFlow(flow)['gmc/rt.yaml'];
}

function imported(text: string, name: string): unknown[] {
  const { flow, problems } = toNodeRedFlow(text, name);
  assert.deepEqual(problems.items.map(formatProblem), []);
  return flow as unknown[];
}

const reference = (rel: string) => fs.readFileSync(path.join(REFERENCE_DIR, rel), 'utf8');

describe('importers', () => {
  describe('GMConnector -> flow', () => {
    for (const file of ['chatqna.json', 'chatqna-switch.json']) {
      it(`round trip flows/${file} -> GMC -> flow -> GMC is byte-stable`, () => {
        const gmc1 = gmcText(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'flows', file), 'utf8')));
        assert.equal(gmcText(imported(gmc1, 'rt.yaml')), gmc1);
      });
    }

    for (const file of ['chatQnA_xeon.yaml', 'chatQnA_switch_xeon.yaml', 'chatQnA_dataprep_xeon_with_ui.yaml']) {
      it(`OPEA sample ${file}: imports to a flow that exports the same routing, then round-trips byte-stable`, () => {
        const sample = reference(`gmc/${file}`);
        const gmcA = gmcText(imported(sample, file));
        const sampleShape = gmcShape(yaml.load(sample) as Record<string, unknown>);
        const withoutUi = { ...sampleShape, steps: sampleShape.steps.filter((s) => s.name !== 'UI') };
        assert.deepEqual(gmcShape(yaml.load(gmcA) as Record<string, unknown>), withoutUi);
        assert.equal(gmcText(imported(gmcA, 'again.yaml')), gmcA);
      });
    }

    it('lays nodes out left to right and carries models and indexes over', () => {
      const flow = imported(reference('gmc/chatQnA_switch_xeon.yaml'), 'switch.yaml') as Record<string, unknown>[];
      const byName = (n: string) => flow.find((f) => f.name === n) as Record<string, unknown>;
      assert.equal(byName('llm-svc-llama').model, 'openlm-research/open_llama_3b');
      assert.ok((byName('embedding-svc-large').x as number) < (byName('retriever-svc-large').x as number));
      assert.ok((byName('retriever-svc-large').x as number) < (byName('reranking-svc').x as number));
      assert.equal(flow.filter((f) => f.type === 'switch').length, 2);
    });

    it('names GMC steps it has no node type for', () => {
      const cr = yaml.load(reference('gmc/chatQnA_xeon.yaml')) as { spec: { nodes: { root: { steps: unknown[] } } } };
      cr.spec.nodes.root.steps.push({ name: 'DocSum', data: '$response', internalService: { serviceName: 'docsum' } });
      const { problems } = toNodeRedFlow(JSON.stringify(cr), 'x.json');
      assert.deepEqual(problems.items.map(formatProblem), ["node root (step DocSum): GMC step 'DocSum' has no node type here — remove the step, or build that stage in Node-RED by hand"]);
    });
  });

  describe('GenAI Studio and Flowise -> flow', () => {
    it('GenAI Studio ChatQnA: the chain and its dataprep import, and export to GMC, compose and Ansible', () => {
      const flow = imported(reference('genaistudio/chatqna_workflow.json'), 'chatqna_workflow.json');
      const { pipeline } = loadPipeline(flow);
      assert.deepEqual(pipeline.graph.components.map((c) => `${c.kind}/${c.backend}/${c.model ?? ''}`), [
        'embedding/tei/BAAI/bge-large-en-v1.5',
        'retriever/redis/',
        'rerank/tei/BAAI/bge-reranker-base',
        'llm/tgi/Intel/neural-chat-7b-v3-3',
        'dataprep/redis/',
      ]);
      const llm = pipeline.graph.components.find((c) => c.kind === 'llm');
      assert.deepEqual([llm?.params.maxTokens, llm?.params.topK, llm?.params.topP, llm?.params.temperature], [17, 10, 0.95, 0.01]);
      const bundle = exportFlow(flow, TARGETS);
      assert.ok(bundle['gmc/rt.yaml'] && bundle['compose/compose.yaml'] && bundle['ansible/site.yml']);
      assert.deepEqual(gmcShape(yaml.load(bundle['gmc/rt.yaml']) as Record<string, unknown>).steps.map((s) => s.name), ['Embedding', 'TeiEmbedding', 'Retriever', 'VectorDB', 'Reranking', 'TeiReranking', 'Llm', 'Tgi', 'DataPrep']);
    });

    it('Flowise Local QnA imports in contract order; its export names the backends GMC cannot deploy', () => {
      const flow = imported(reference('flowise/local_qna_chatflow.json'), 'Local QnA.json');
      const { pipeline, problems } = loadPipeline(flow);
      assert.deepEqual(problems.items, []);
      assert.deepEqual(pipeline.graph.components.map((c) => `${c.kind}/${c.backend}`), ['embedding/openai', 'retriever/memory', 'llm/ollama']);
      const exportProblems = new ProblemList();
      assert.equal(exportPipeline(pipeline, ['gmc'], { platform: 'xeon' }, exportProblems), null);
      assert.equal(exportProblems.items.length, 3);
    });

    it('lists every node it cannot map, in one go', () => {
      const doc = JSON.parse(reference('flowise/local_qna_chatflow.json')) as { nodes: Record<string, unknown>[] };
      doc.nodes.push({ id: 'calc_0', data: { name: 'calculator', label: 'Calculator', category: 'Tools' } }, { id: 'web_0', data: { name: 'serpAPI', label: 'Serp API', category: 'Tools' } });
      const { flow, problems } = toNodeRedFlow(JSON.stringify(doc), 'x.json');
      assert.equal(flow, null);
      assert.deepEqual(problems.items.map((p) => p.nodeId), ['calc_0', 'web_0']);
      assert.match(formatProblem(problems.items[0]), /^node calc_0 \(Calculator\): a calculator node \(Tools\) has no pipeline stage here — /);
    });
  });

  describe('OPEA pipeline YAML -> flow', () => {
    const rag = [
      'opea_micro_services:',
      '  embedding: {endpoint: /v1/embeddings, port: 6000}',
      '  retrieval: {endpoint: /v1/retrieval, port: 7000}',
      '  reranking: {endpoint: /v1/reranking, port: 8000}',
      '  llm: {endpoint: /v1/chat/completions, port: 9000}',
      '  dataprep: {endpoint: "http://localhost:5000/v1/dataprep"}',
      'opea_mega_service:',
      '  port: 8080',
      '  mega_flow:',
      '    - embedding >> retrieval >> reranking >> llm',
      '    - dataprep',
    ].join('\n');

    it("reads the deployment RFC's ChatQnA example as a chain plus an ingest dataprep, exportable to every target", () => {
      const { flow, format, problems } = toNodeRedFlow(rag, 'rag.yaml');
      assert.equal(format, 'opea-yaml');
      assert.deepEqual(problems.items, []);
      const { pipeline } = loadPipeline(flow);
      assert.deepEqual(pipeline.graph.components.map((c) => `${c.name}:${c.kind}/${c.backend}`), ['embedding:embedding/opea', 'retrieval:retriever/redis', 'reranking:rerank/opea', 'llm:llm/opea', 'dataprep:dataprep/redis']);
      const bundle = exportFlow(flow, TARGETS);
      assert.deepEqual(gmcShape(yaml.load(bundle['gmc/rt.yaml']) as Record<string, unknown>).steps.map((s) => s.name), ['Embedding', 'TeiEmbedding', 'Retriever', 'VectorDB', 'Reranking', 'TeiReranking', 'Llm', 'Tgi', 'DataPrep']);
    });

    it('turns a parallel group into a fan-out gathered by a join', () => {
      const text = rag.replace('embedding >> retrieval >> reranking >> llm', 'embedding >> (retrieval, llm) >> reranking').replace('    - dataprep', '');
      const { pipeline, problems } = loadPipeline(toNodeRedFlow(text, 'p.yaml').flow);
      assert.deepEqual(problems.items.map(formatProblem), []);
      assert.deepEqual(pipeline.plan.stages.map((s) => s.type), ['component', 'ensemble', 'component']);
    });

    it('names services it cannot map and flows over undefined services', () => {
      const text = rag.replace('- dataprep', '- dataprep >> websearch');
      assert.deepEqual(toNodeRedFlow(text, 'p.yaml').problems.items.map((p) => p.message), [
        "service 'websearch' is none of embedding, retrieval, reranking, llm, guardrail, dataprep",
        'mega_flow names a service that opea_micro_services does not define',
      ]);
    });
  });

  describe('robustness', () => {
    it('refuses what it cannot read, with a clear problem and no crash', () => {
      const cases: [string, RegExp][] = [
        ['just text: [', /neither JSON nor YAML|no format opea-flow reads/],
        ['42', /no format opea-flow reads/],
        ['kind: GMConnector\nspec: {}', /not a GMConnector with a root node/],
        ['kind: GMConnector\nspec:\n  nodes:\n    root: {steps: [null]}', /has no list of steps/],
        [`a: &a ["x","x"]\n${Array.from({ length: 200 }, (_, i) => `k${i}: *a`).join('\n')}`, /neither JSON nor YAML/],
      ];
      for (const [text, expected] of cases) {
        const { flow, problems } = toNodeRedFlow(text, 'bad.yaml');
        assert.equal(flow, null, text.slice(0, 40));
        assert.match(problems.items.map(formatProblem).join('\n'), expected);
      }
    });

    it('hostile service names and conditions in a CR give problems or safe output', () => {
      const cr = yaml.load(reference('gmc/chatQnA_switch_xeon.yaml')) as { spec: { nodes: Record<string, { steps: Record<string, unknown>[] }> } };
      cr.spec.nodes.root.steps[1].internalService = { serviceName: "{{ lookup('pipe','id') }}\nx: 1", config: { endpoint: '/v1/reranking', TEI_RERANKING_ENDPOINT: 'tei-reranking-svc' } };
      cr.spec.nodes.node2.steps[0].condition = 'model-id==a.b';
      const { flow } = toNodeRedFlow(JSON.stringify(cr), 'x.json');
      const { pipeline, problems } = loadPipeline(flow);
      const exportProblems = new ProblemList();
      const bundle = problems.empty ? exportPipeline(pipeline, TARGETS, { platform: 'xeon' }, exportProblems) : null;
      assert.equal(bundle, null);
      assert.match(exportProblems.items.map(formatProblem).join('\n'), /rule 1 value 'a\.b' cannot be matched by GMC's router/);
    });
  });

  it('opea-flow import writes the Node-RED flow of any format', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-import-'));
    try {
      const out = path.join(dir, 'flow.json');
      const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'bin', 'opea-flow.js'), 'import', path.join(REFERENCE_DIR, 'gmc', 'chatQnA_xeon.yaml'), '--out', out], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 0, r.stderr);
      const flow = JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>[];
      assert.deepEqual(flow.filter((n) => String(n.type).startsWith('opea-')).map((n) => n.type), ['opea-embedding', 'opea-retriever', 'opea-rerank', 'opea-llm']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
