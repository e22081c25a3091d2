import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { toNodeRedFlow } from '../../core/importers';
import { loadPipeline } from '../../core/pipeline';
import { formatProblem, ProblemList } from '../../core/problems';
import { exportPipeline, TARGETS } from '../../exporters';
import { gmcShape } from '../support/gmc-shape';
import { REPO_ROOT } from '../support/reference';

type Node = Record<string, unknown>;
const fixture = (name: string) => fs.readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'importers', name), 'utf8');

function imported(text: string, name: string): Node[] {
  const { flow, format, problems } = toNodeRedFlow(text, name);
  assert.deepEqual(problems.items.map(formatProblem), []);
  assert.equal(format, 'opea-yaml');
  return flow as Node[];
}

function exported(flow: Node[]): Record<string, string> {
  const { pipeline, problems } = loadPipeline(flow);
  assert.deepEqual(problems.items.map(formatProblem), []);
  const exportProblems = new ProblemList();
  const bundle = exportPipeline(pipeline, TARGETS, { platform: 'xeon', name: 'rt', namespace: 'rt' }, exportProblems);
  assert.deepEqual(exportProblems.items.map(formatProblem), []);
  return bundle as Record<string, string>;
}

const stepNames = (bundle: Record<string, string>) => gmcShape(yaml.load(bundle['gmc/rt.yaml']) as Node).steps.map((s) => s.name);

describe('importers: OPEA pipeline YAML -> flow', () => {
  it("the deployment RFC's example: a chain of OPEA services named after them, exportable to every target", () => {
    const flow = imported(fixture('rfc-deployment.yaml'), 'rfc-deployment.yaml');
    const { pipeline } = loadPipeline(flow);
    assert.deepEqual(pipeline.graph.components.map((c) => `${c.name}:${c.kind}/${c.backend}/${c.model ?? ''}`), [
      'embedding:embedding/opea/BAAI/bge-base-en-v1.5',
      'retrieval:retriever/redis/',
      'reranking:rerank/opea/BAAI/bge-reranker-base',
      'llm:llm/opea/meta-llama/Meta-Llama-3-8B-Instruct',
    ]);
    assert.deepEqual(pipeline.plan.stages.map((s) => s.type), ['component', 'component', 'component', 'component']);
    const xs = flow.filter((n) => String(n.type).startsWith('opea-')).map((n) => n.x);
    assert.deepEqual(xs, [300, 480, 660, 840]);
    assert.deepEqual(stepNames(exported(flow)), ['Embedding', 'TeiEmbedding', 'Retriever', 'VectorDB', 'Reranking', 'TeiReranking', 'Llm', 'Tgi']);
  });

  it("the ChatQnA RFC's variant: URL endpoints, a guardrail called at its URL, a dataprep megaservice as the ingest chain", () => {
    const flow = imported(fixture('rfc-chatqna-urls.yaml'), 'urls.yaml');
    const guard = flow.find((n) => n.type === 'opea-guardrail') as Node;
    assert.deepEqual([guard.name, guard.backend, guard.externalUrl], ['guardrail', 'opea', 'http://localhost:9090/v1/guardrails']);
    // Deployed backends get no externalUrl: exports deploy them.
    assert.equal(flow.filter((n) => n.externalUrl !== undefined).length, 1);
    const dp = flow.filter((n) => n.type === 'opea-dataprep');
    assert.deepEqual(dp.map((n) => [n.name, n.backend]), [['dataprep', 'redis']]);
    const steps = stepNames(exported(flow));
    assert.deepEqual(steps, ['Router', 'Embedding', 'TeiEmbedding', 'Retriever', 'VectorDB', 'Reranking', 'TeiReranking', 'Llm', 'Tgi', 'DataPrep']);
  });

  it('services by image with model servers beside them and no mega_flow: contract order, models from the servers', () => {
    const flow = imported(fixture('auto-tuning-services.yaml'), 'tuning.yaml');
    const { pipeline } = loadPipeline(flow);
    assert.deepEqual(pipeline.graph.components.map((c) => `${c.name}:${c.kind}/${c.backend}/${c.model ?? ''}`), [
      'embedding:embedding/opea/BAAI/bge-small-en-v1.5',
      'retrieval:retriever/redis/',
      'reranking:rerank/opea/BAAI/bge-reranker-large',
      'llm:llm/opea/Intel/neural-chat-7b-v3-3',
    ]);
    assert.match(String(flow[0].info), /contract order \(the file has no mega_flow\)/);
  });

  it('parallel groups and several rules make one DAG; a service fed by several waits behind a join', () => {
    const flow = imported(fixture('dag.yaml'), 'dag.yaml');
    const joins = flow.filter((n) => n.type === 'join');
    assert.deepEqual(joins.map((j) => [j.mode, j.count]), [['custom', '2']]);
    const { pipeline, problems } = loadPipeline(flow);
    assert.deepEqual(problems.items.map(formatProblem), []);
    assert.deepEqual(pipeline.plan.stages.map((s) => s.type), ['component', 'component', 'ensemble', 'component']);
    const byName = (n: string) => flow.find((f) => f.name === n) as Node;
    assert.equal(byName('retrieval').x, byName('llm').x);
    assert.notEqual(byName('retrieval').y, byName('llm').y);
  });

  it('names every service it cannot map, undefined services, model servers in the flow, and cycles', () => {
    const text = [
      'opea_micro_services:',
      '  embedding: {endpoint: /v1/embeddings}',
      '  websearch: {image: opea/web-retriever:1.1}',
      '  asr: {endpoint: /v1/asr}',
      '  tei: {image: "ghcr.io/huggingface/text-embeddings-inference:cpu-1.5"}',
      '  toString: {endpoint: /x}',
      'opea_mega_service:',
      '  mega_flow:',
      '    - embedding >> websearch >> asr >> tei >> ghost',
      '    - toString',
    ].join('\n');
    const { flow, problems } = toNodeRedFlow(text, 'p.yaml');
    assert.equal(flow, null);
    assert.deepEqual(problems.items.map((p) => p.nodeId), ['websearch', 'asr', 'tei', 'ghost', 'toString']);
    assert.equal(formatProblem(problems.items[0]), "node websearch (websearch): service 'websearch' (image opea/web-retriever:1.1) is none of embedding, retrieval, reranking, llm, guardrail, dataprep — name it (or its image) after its kind, or remove it from the pipeline");
    assert.match(problems.items[2].message, /is a model server or vector DB/);
    assert.match(problems.items[3].message, /names service 'ghost', which opea_micro_services does not define/);
    const cyclic = toNodeRedFlow(fixture('rfc-deployment.yaml').replace('embedding >> retrieval >> reranking >> llm', 'embedding >> retrieval >> llm >> retrieval'), 'c.yaml');
    assert.deepEqual(cyclic.problems.items.map((p) => p.nodeId), ['retrieval', 'llm']);
    assert.match(cyclic.problems.items[0].message, /on a cycle of mega_flow/);
  });

  it('refuses malformed rules and a second served megaservice', () => {
    const base = fixture('rfc-deployment.yaml');
    const cases: [string, RegExp][] = [
      [base.replace('- embedding >> retrieval >> reranking >> llm', '- embedding >> >> llm'), /has an empty step/],
      [base.replace('  mega_flow:\n    - embedding >> retrieval >> reranking >> llm', '  mega_flow: 3'), /mega_flow is not a list of rules/],
      [`${base}  chat:\n    mega_flow:\n      - llm\n`, /^node chat \(chat\): megaservice 'chat' is a second pipeline/],
      ['opea_mega_service: {mega_flow: []}', /defines no embedding, retrieval, reranking, llm or guardrail service/],
    ];
    for (const [text, expected] of cases) {
      const { flow, problems } = toNodeRedFlow(text, 'bad.yaml');
      assert.equal(flow, null, text);
      assert.match(problems.items.map(formatProblem).join('\n'), expected);
    }
  });
});
