import assert from 'node:assert/strict';
import { loadPipeline } from '../../core/pipeline';
import { formatProblem } from '../../core/problems';
import { Stage } from '../../core/plan';
import { exampleFlow } from '../support/reference';

type Node = Record<string, unknown>;

function problemsOf(flow: unknown, tab?: string): string[] {
  return loadPipeline(flow, { tab }).problems.items.map(formatProblem);
}

function shape(stages: Stage[]): unknown[] {
  return stages.map((s) =>
    s.type === 'component' ? s.component.id : s.type === 'switch' ? { switch: s.route.id, branches: s.branches.map((b) => [b.value, shape(b.stages)]) } : { ensemble: s.join.id, branches: s.branches.map(shape) },
  );
}

const emb = (id: string, z: string, to: string[]): Node => ({ id, type: 'opea-embedding', z, backend: 'tei', model: 'BAAI/bge-base-en-v1.5', wires: [to] });
const llm = (id: string, z: string, to: string[]): Node => ({ id, type: 'opea-llm', z, backend: 'tgi', model: 'm/x', wires: [to] });

describe('importing Node-RED flows', () => {
  it('accepts the editor export, a flows file and the Admin API shape alike', () => {
    const flow = exampleFlow('chatqna.json') as Node[];
    const direct = loadPipeline(flow).pipeline.plan;
    assert.deepEqual(loadPipeline({ flows: flow, rev: 'abc' }).pipeline.plan, direct);
    assert.deepEqual(shape(direct.stages), ['c0a1e5f0a0000003', 'c0a1e5f0a0000004', 'c0a1e5f0a0000005', 'c0a1e5f0a0000006']);
    assert.match(problemsOf({ nodes: [] })[0], /this is not Node-RED flow JSON/);
    assert.match(problemsOf([{ id: 'a', type: 'tab' }, { id: 'a', type: 'tab' }, emb('e', 'a', [])]).join('\n'), /node a \(tab\): two nodes share this id/);
  });

  it('asks for --tab when several tabs hold pipelines, and takes it by id or label', () => {
    const flow = [{ id: 't1', type: 'tab', label: 'One' }, { id: 't2', type: 'tab', label: 'Two' }, emb('e1', 't1', []), llm('l2', 't2', [])];
    assert.match(problemsOf(flow)[0], /^flow \(input\): 2 tabs hold pipelines: 'One', 'Two' — choose one with --tab$/);
    assert.deepEqual(problemsOf(flow, 'Two'), []);
    assert.deepEqual(problemsOf(flow, 't1'), []);
    assert.match(problemsOf(flow, 'Three')[0], /no tab with this id or label holds opea- nodes — choose one of 'One', 'Two'/);
    const disabled = [{ id: 't1', type: 'tab', label: 'One', disabled: true }, { id: 't2', type: 'tab', label: 'Two' }, emb('e1', 't1', []), llm('l2', 't2', [])];
    assert.deepEqual(problemsOf(disabled), []);
  });

  it('follows link out -> link in across tabs and junctions; ignores debug, comment, inject and disabled nodes', () => {
    const flow: Node[] = [
      { id: 'ta', type: 'tab', label: 'A' },
      { id: 'tb', type: 'tab', label: 'B' },
      { id: 'in', type: 'http in', z: 'ta', url: '/q', method: 'post', wires: [['j1']] },
      { id: 'j1', type: 'junction', z: 'ta', wires: [['e']] },
      emb('e', 'ta', ['lo', 'dbg']),
      { id: 'dbg', type: 'debug', z: 'ta', wires: [] },
      { id: 'cm', type: 'comment', z: 'ta', wires: [] },
      { id: 'inj', type: 'inject', z: 'ta', wires: [['e']] },
      { id: 'lo', type: 'link out', z: 'ta', mode: 'link', links: ['li'], wires: [] },
      { id: 'li', type: 'link in', z: 'tb', links: ['lo'], wires: [['l']] },
      llm('l', 'tb', ['out']),
      { ...llm('off', 'ta', ['out']), d: true },
      { id: 'out', type: 'http response', z: 'tb', wires: [] },
    ];
    const { pipeline, problems } = loadPipeline(flow);
    assert.deepEqual(problems.items.map(formatProblem), []);
    assert.deepEqual(shape(pipeline.plan.stages), ['e', 'l']);
  });

  it('ignores the benchmark, evaluator and exporter: an evaluator feeding the pipeline and taking its answers back is no cycle', () => {
    const flow: Node[] = [
      { id: 't', type: 'tab', label: 'T' },
      { id: 'in', type: 'http in', z: 't', url: '/q', method: 'post', wires: [['e']] },
      emb('e', 't', []),
      llm('l', 't', ['out', 'ev']),
      { id: 'out', type: 'http response', z: 't', wires: [] },
      { id: 'ev', type: 'opea-evaluator', z: 't', answers: 'pipeline', wires: [[], ['e']] },
      { id: 'bench', type: 'opea-benchmark', z: 't', kind: 'flow', entry: 'in', wires: [[]] },
      { id: 'export', type: 'opea-exporter', z: 't', wires: [[]] },
    ];
    (flow[2].wires as string[][])[0].push('l');
    const { pipeline, problems } = loadPipeline(flow);
    assert.deepEqual(problems.items.map(formatProblem), []);
    assert.deepEqual(shape(pipeline.plan.stages), ['e', 'l']);
  });

  it('takes only the first output of a service node as the pipeline: a guardrail\'s blocked branch is not a stage', () => {
    const flow: Node[] = [
      { id: 't', type: 'tab', label: 'T' },
      { id: 'in', type: 'http in', z: 't', url: '/q', method: 'post', wires: [['g']] },
      { id: 'g', type: 'opea-guardrail', z: 't', backend: 'opea', model: 'meta-llama/Meta-Llama-Guard-2-8B', position: 'input', externalUrl: 'http://guard:9090/v1/guardrails', wires: [['e'], ['refuse']] },
      { id: 'refuse', type: 'change', z: 't', wires: [['out2']] },
      { id: 'out2', type: 'http response', z: 't', wires: [] },
      emb('e', 't', ['l']),
      llm('l', 't', ['out']),
      { id: 'out', type: 'http response', z: 't', wires: [] },
    ];
    const { pipeline, problems } = loadPipeline(flow);
    assert.deepEqual(problems.items.map(formatProblem), []);
    assert.deepEqual(shape(pipeline.plan.stages), ['g', 'e', 'l']);
    assert.deepEqual(pipeline.graph.exits.map((x) => x.id), ['out']);
  });

  it('takes the dataprep nodes that write the index its retriever reads, the embedded store counting as part of the index', () => {
    const prep = (id: string, z: string, store: string) => ({ id, type: 'opea-dataprep', z, name: id, backend: 'memory', store, indexName: 'rag-redis', wires: [[]] });
    const flow: Node[] = [
      { id: 'q', type: 'tab', label: 'Query' },
      { id: 'i1', type: 'tab', label: 'Ingest A' },
      { id: 'i2', type: 'tab', label: 'Ingest B' },
      { id: 'storeA', type: 'opea-vectorstore', folder: 'a' },
      { id: 'storeB', type: 'opea-vectorstore', folder: 'b' },
      { id: 'in', type: 'http in', z: 'q', url: '/q', method: 'post', wires: [['e']] },
      { ...emb('e', 'q', ['r']), backend: 'hashing', model: '' },
      { id: 'r', type: 'opea-retriever', z: 'q', backend: 'memory', store: 'storeA', indexName: 'rag-redis', wires: [['out']] },
      { id: 'out', type: 'http response', z: 'q', wires: [] },
      prep('prepA', 'i1', 'storeA'),
      prep('prepB', 'i2', 'storeB'),
    ];
    const { graph } = loadPipeline(flow).pipeline;
    assert.deepEqual(graph.components.filter((c) => c.kind === 'dataprep').map((c) => c.id), ['prepA']);
  });

  it('reports an unmappable core node in the pipeline, but not one standing apart', () => {
    const flow: Node[] = [
      { id: 't', type: 'tab', label: 'T' },
      emb('e', 't', ['fn']),
      { id: 'fn', type: 'function', z: 't', name: 'massage', wires: [['l']] },
      llm('l', 't', []),
      { id: 'apart', type: 'function', z: 't', wires: [[]] },
      { id: 'call', type: 'link call', z: 't', wires: [[]] },
    ];
    assert.deepEqual(problemsOf(flow), [
      "node fn (massage): a 'function' node cannot become a pipeline stage — remove or disable it; only opea- nodes, switch, join, link, junction and http in/response carry a pipeline",
    ]);
  });

  it('reads switch rules on the original request and refuses what GMC cannot test', () => {
    const sw = (property: string, rules: Node[], z = 't'): Node => ({ id: 's', type: 'switch', z, name: 'route', property, propertyType: 'msg', rules, wires: rules.map((_, i) => [`l${i}`]) });
    const flow = (s: Node): Node[] => [
      { id: 't', type: 'tab', label: 'T' },
      { id: 'in', type: 'http in', z: 't', url: '/', method: 'post', wires: [['s']] },
      s,
      llm('l0', 't', ['out']),
      llm('l1', 't', ['out']),
      { id: 'out', type: 'http response', z: 't', wires: [] },
    ];
    const ok = loadPipeline(flow(sw('req.body["model-id"]', [{ t: 'eq', v: 'a', vt: 'str' }, { t: 'eq', v: 'b', vt: 'str' }])));
    assert.deepEqual(ok.problems.items, []);
    assert.deepEqual(shape(ok.pipeline.plan.stages), [{ switch: 's', branches: [['a', ['l0']], ['b', ['l1']]] }]);
    assert.equal(ok.pipeline.graph.switches[0].key, 'model-id');
    const bad = problemsOf(flow(sw('payload.a.b', [{ t: 'regex', v: 'a.*' }, { t: 'eq', v: 'x', vt: 'jsonata' }])));
    assert.match(bad.join('\n'), /node s \(route\): it tests 'payload\.a\.b', which is not a request property/);
    assert.match(bad.join('\n'), /rule 1 is 'regex'; a GMC Switch only tests equality/);
    assert.match(bad.join('\n'), /rule 2 compares with a jsonata value/);
  });

  it('turns a fan-out into an ensemble only through a join waiting for every branch', () => {
    const flow = (join: Node): Node[] => [
      { id: 't', type: 'tab', label: 'T' },
      { id: 'in', type: 'http in', z: 't', url: '/', method: 'post', wires: [['a', 'b']] },
      llm('a', 't', ['j']),
      { ...emb('b', 't', ['j']) },
      join,
      { id: 'out', type: 'http response', z: 't', wires: [] },
    ];
    const good = loadPipeline(flow({ id: 'j', type: 'join', z: 't', mode: 'custom', count: '2', wires: [['out']] }));
    assert.deepEqual(good.problems.items, []);
    assert.deepEqual(shape(good.pipeline.plan.stages), [{ ensemble: 'j', branches: [['a'], ['b']] }]);
    assert.match(problemsOf(flow({ id: 'j', type: 'join', z: 't', mode: 'auto', wires: [['out']] }))[0], /^node j \(join\): it does not wait for the 2 branches of the fan-out — set the join to manual mode/);
  });

  it('reports structure problems: cycles, two entries, unreachable stages, missing exits, contract order', () => {
    const twoSources: Node[] = [{ id: 't', type: 'tab', label: 'T' }, emb('e1', 't', []), emb('e2', 't', [])];
    assert.match(problemsOf(twoSources).join('\n'), /node e2 \(opea-embedding\): a second entry/);
    const noExit: Node[] = [{ id: 't', type: 'tab', label: 'T' }, { id: 'in', type: 'http in', z: 't', url: '/', method: 'get', wires: [['e']] }, emb('e', 't', [])];
    const noExitProblems = problemsOf(noExit).join('\n');
    assert.match(noExitProblems, /node in \(http in\): it accepts GET requests/);
    assert.match(noExitProblems, /node in \(http in\): the pipeline has an http in but no http response/);
    const order: Node[] = [{ id: 't', type: 'tab', label: 'T' }, { id: 'r', type: 'opea-retriever', z: 't', backend: 'redis', wires: [['rr']] }, { id: 'rr', type: 'opea-rerank', z: 't', backend: 'tei', model: 'm/r', wires: [[]] }];
    const orderProblems = problemsOf(order);
    assert.equal(orderProblems.length, 1);
    assert.match(orderProblems[0], /^node r \(opea-retriever\): a retriever searches by vector, but no embedding comes before it/);
  });
});
