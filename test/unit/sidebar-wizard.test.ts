/**
 * The OPEA sidebar without a browser: the new-pipeline wizard (plugins/opea-sidebar/pipeline-wizard.ts)
 * and the live check (tab-check.ts), which must find what `opea-flow validate` finds.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backendsOf } from '../../core/catalog';
import { LaidOutNode, overlappingNodes } from '../../core/flow-layout';
import { formatProblem } from '../../core/problems';
import { TARGETS } from '../../exporters';
import { buildPipeline, StageChoice, StageRole, USE_CASES, wizardCatalog } from '../../plugins/opea-sidebar/pipeline-wizard';
import { checkTab, targetsOf } from '../../plugins/opea-sidebar/tab-check';
import { exampleFlow } from '../support/reference';
import { runCli } from '../support/run-cli';

type Node = LaidOutNode & { wires?: string[][]; z?: string };

/** Offline backends (nothing to reach) and the model servers of the chatqna example, per stage. */
const OFFLINE: Record<StageRole, StageChoice> = {
  'input-rail': { backend: 'local' },
  embedding: { backend: 'hashing' },
  retriever: { backend: 'memory' },
  rerank: { backend: 'bm25' },
  llm: { backend: 'extractive' },
  'output-rail': { backend: 'local' },
};

function servedChoice(): Record<StageRole, StageChoice> {
  const stages = {} as Record<StageRole, StageChoice>;
  for (const u of wizardCatalog().useCases) {
    for (const s of u.stages) {
      const b = s.backends.find((x) => x.deploy === 'service') ?? s.backends.find((x) => x.defaultUrl !== '');
      assert.ok(b, `${s.role} has a backend with a server`);
      stages[s.role] = { backend: b.backend, model: b.defaultModel || 'some/model', url: b.defaultUrl || 'http://guard.example:9090' };
    }
  }
  return stages;
}

/** The ids reached from the http in along first outputs, as types. */
function mainPath(flow: Node[]): string[] {
  const byId = new Map(flow.map((n) => [n.id, n]));
  let node = flow.find((n) => n.type === 'http in');
  const types: string[] = [];
  while (node) {
    types.push(node.type);
    const next: string | undefined = node.wires?.[0]?.[0];
    node = next ? byId.get(next) : undefined;
  }
  return types;
}

describe('OPEA sidebar: the new-pipeline wizard', () => {
  it("offers every backend the catalog has for each stage's kind, and the example's server URLs as defaults", () => {
    const catalog = wizardCatalog();
    assert.deepEqual(catalog.useCases.map((u) => u.id), USE_CASES.map((u) => u.id));
    for (const u of catalog.useCases) {
      for (const s of u.stages) assert.deepEqual(s.backends.map((b) => b.backend), backendsOf(s.kind).map((b) => b.backend), `${u.id} ${s.role}`);
    }
    // The chatqna example's opea-server URLs are the ports OPEA's compose files publish.
    const example = exampleFlow('chatqna.json') as Node[];
    const chatqna = catalog.useCases.find((u) => u.id === 'chatqna')!;
    for (const type of ['opea-embedding', 'opea-retriever', 'opea-rerank', 'opea-llm']) {
      const node = example.find((n) => n.type === type)!;
      const server = example.find((n) => n.id === node.server)!;
      const stage = chatqna.stages.find((s) => `opea-${s.kind}` === type)!;
      const offered = stage.backends.find((b) => b.backend === node.backend)!;
      assert.equal(offered.defaultUrl, server.baseUrl, type);
    }
  });

  for (const useCase of USE_CASES) {
    for (const [what, stages] of [['offline backends', OFFLINE], ['model servers', servedChoice()]] as const) {
      it(`${useCase.title} with ${what}: a valid pipeline on a new tab, wired in order, laid out without overlap`, () => {
        const { flow, problems } = buildPipeline({ useCase: useCase.id, stages });
        assert.deepEqual(problems, []);
        const nodes = flow as Node[];
        const tab = nodes[0];
        assert.equal(tab.type, 'tab');
        assert.equal(tab.label, useCase.title);
        const placed = nodes.filter((n) => n.z !== undefined);
        assert.ok(placed.every((n) => n.z === tab.id));
        assert.deepEqual(overlappingNodes(nodes), []);
        assert.deepEqual(mainPath(nodes), ['http in', ...useCase.stages.map((r) => (r.endsWith('rail') ? 'opea-guardrail' : `opea-${r}`)), 'http response']);
        const caught = nodes.find((n) => n.type === 'catch')!;
        const answer = nodes.find((n) => n.id === nodes.find((c) => c.id === caught.wires![0][0])!.wires![0][0])!;
        assert.equal(answer.type, 'http response');
        const check = checkTab(nodes, tab.id, []);
        assert.deepEqual(check.problems, []);
        assert.equal(check.pipeline, true);
        if (what === 'model servers' && useCase.id !== 'chatqna-guardrails') {
          // Upstream GMC has no guardrail step: rails need an external URL, which the wizard does not ask for.
          assert.deepEqual(checkTab(nodes, tab.id, TARGETS).problems.map(formatProblem), []);
        }
      });
    }
  }

  it('answers a rail refusal with 403, and shares one server between stages with the same URL', () => {
    const stages = { ...OFFLINE, 'input-rail': { backend: 'opea', model: 'm', url: 'http://guard:9090' }, 'output-rail': { backend: 'opea', model: 'm', url: 'http://guard:9090' } };
    const nodes = buildPipeline({ useCase: 'chatqna-guardrails', stages }).flow as Node[];
    const rails = nodes.filter((n) => n.type === 'opea-guardrail');
    assert.deepEqual(rails.map((r) => r.position), ['input', 'output']);
    const servers = nodes.filter((n) => n.type === 'opea-server');
    assert.equal(servers.length, 1);
    assert.ok(rails.every((r) => r.server === servers[0].id));
    const refusal = nodes.find((n) => n.id === rails[0].wires![1][0])!;
    assert.equal(refusal.type, 'change');
    assert.equal(rails[1].wires![1][0], refusal.id);
    const answer = nodes.find((n) => n.id === refusal.wires![0][0])!;
    assert.equal(answer.statusCode, '403');
  });

  it('uses a vector store the editor has, or writes a new one', () => {
    const existing = buildPipeline({ useCase: 'retrieval', stages: { ...OFFLINE, retriever: { backend: 'memory', store: 'abc' } } }, ['abc']).flow as Node[];
    assert.equal(existing.find((n) => n.type === 'opea-retriever')!.store, 'abc');
    assert.equal(existing.filter((n) => n.type === 'opea-vectorstore').length, 0);
    const fresh = buildPipeline({ useCase: 'retrieval', stages: OFFLINE }).flow as Node[];
    const store = fresh.find((n) => n.type === 'opea-vectorstore')!;
    assert.equal(fresh.find((n) => n.type === 'opea-retriever')!.store, store.id);
  });

  it('names the stage and the fix for every choice it cannot write', () => {
    const cases: [Parameters<typeof buildPipeline>, RegExp][] = [
      [[{ useCase: 'helm', stages: {} }], /unknown use case 'helm'.*choose one of chatqna/],
      [[{ useCase: 'chat', stages: { llm: { backend: 'gpt' } } }], /llm: no backend 'gpt'.*choose one of tgi, opea, vllm/],
      [[{ useCase: 'chat', stages: { llm: { backend: 'openai', url: 'http://x:1' } } }], /llm: the openai backend needs a model/],
      [[{ useCase: 'chat', stages: { llm: { backend: 'tgi', model: 'm', url: 'ftp://x' } } }], /llm: the server URL 'ftp:\/\/x' is not an http\(s\) URL.*http:\/\/localhost:9009/],
      [[{ useCase: 'chat', stages: { llm: { backend: 'tgi', model: 'm', url: 'http://h:1/?api_key=s3cret' } } }], /llm: the server URL carries a credential in its query parameter 'api_key'/],
      [[{ useCase: 'retrieval', stages: { ...OFFLINE, retriever: { backend: 'memory', store: 'gone' } } }, ['abc']], /retriever: there is no vector store gone/],
      [[{ useCase: 'chat', path: 'v1 chat', stages: { llm: { backend: 'extractive' } } }], /http in: the path 'v1 chat' is not a URL path/],
    ];
    for (const [args, expected] of cases) {
      const { flow, problems } = buildPipeline(...args);
      assert.deepEqual(flow, []);
      assert.match(problems.map((p) => `${p.label}: ${p.message} — ${p.fix}`).join('\n'), expected);
      assert.doesNotMatch(JSON.stringify(problems), /s3cret/);
    }
  });
});

describe("OPEA sidebar: the live check is validate's", function () {
  this.timeout(60_000);

  it('says so when the tab holds no OPEA stage', () => {
    const flow = exampleFlow('chatqna-offline.json') as Node[];
    const empty = checkTab([...flow, { id: 't9', type: 'tab', label: 'empty' }, { id: 'd9', type: 'debug', z: 't9' }], 't9', []);
    assert.deepEqual(empty, { pipeline: false, problems: [], warnings: [], summary: 'this tab holds no OPEA stage' });
  });

  it('reads the target choice as validate --target does', () => {
    assert.deepEqual(targetsOf(''), []);
    assert.deepEqual(targetsOf(undefined), []);
    assert.deepEqual(targetsOf('all'), TARGETS);
    assert.deepEqual(targetsOf('compose'), ['compose']);
    assert.equal(targetsOf('helm-chart'), null);
  });

  /** The offline ChatQnA with its reranker switched to TEI and no model or server: a pipeline problem. */
  const broken = () => (exampleFlow('chatqna-offline.json') as Node[]).map((n) => (n.type === 'opea-rerank' ? { ...n, backend: 'tei' } : n));
  /** name, flow, tab, target, whether it has problems */
  const cases: [string, () => Node[], string, string | undefined, boolean][] = [
    ['chatqna-offline.json', () => exampleFlow('chatqna-offline.json') as Node[], '0ff1e5f0a0000002', 'gmc', true],
    ['chatqna-offline.json', () => exampleFlow('chatqna-offline.json') as Node[], '0ff1e5f0a0000002', 'compose', true],
    ['chatqna-offline.json', () => exampleFlow('chatqna-offline.json') as Node[], '0ff1e5f0a0000002', undefined, false],
    ['chatqna-offline.json with a TEI reranker without a model', broken, '0ff1e5f0a0000002', undefined, true],
    ['chatqna-guardrails.json', () => exampleFlow('chatqna-guardrails.json') as Node[], '9a4d0e5f00000001', 'all', false],
    ['chatqna.json', () => exampleFlow('chatqna.json') as Node[], 'c0a1e5f0a0000001', 'all', false],
  ];
  for (const [file, flowOf, tab, target, failing] of cases) {
    it(`${file}${target ? ` --target ${target}` : ''}: the same problems as opea-flow validate`, async () => {
      const flow = flowOf();
      const check = checkTab(flow, tab, targetsOf(target ?? '') ?? []);
      assert.equal(check.problems.length > 0, failing, check.summary);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-sidebar-check-'));
      try {
        const file2 = path.join(dir, 'flow.json');
        fs.writeFileSync(file2, JSON.stringify(flow));
        const cli = await runCli(['validate', file2, '--tab', tab, ...(target ? ['--target', target] : [])]);
        const lines = cli.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('warning: '));
        assert.deepEqual(check.problems.map(formatProblem), lines);
        assert.equal(cli.code, lines.length === 0 ? 0 : 2, cli.stderr);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
