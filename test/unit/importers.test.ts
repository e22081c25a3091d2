import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { toNodeRedFlow } from '../../core/importers';
import { loadPipeline } from '../../core/pipeline';
import { formatProblem, ProblemList } from '../../core/problems';
import { exportPipeline, TARGETS } from '../../exporters';
import { REFERENCE_DIR, REPO_ROOT } from '../support/reference';

type Node = Record<string, unknown>;
const reference = (rel: string) => fs.readFileSync(path.join(REFERENCE_DIR, rel), 'utf8');

/** Import, load and (when it loads) export: whatever the input, this must not throw. */
function throughEverything(text: string): { imported: string[]; loaded: string[]; exported: string[]; bundle: Record<string, string> | null } {
  const { flow, problems } = toNodeRedFlow(text, 'hostile.yaml');
  const result = { imported: problems.items.map(formatProblem), loaded: [] as string[], exported: [] as string[], bundle: null as Record<string, string> | null };
  assert.ok(result.imported.every((p) => !p.includes('internal error')), result.imported.join('\n'));
  if (!flow) return result;
  const { pipeline, problems: loadProblems } = loadPipeline(flow);
  result.loaded = loadProblems.items.map(formatProblem);
  if (!loadProblems.empty) return result;
  const exportProblems = new ProblemList();
  result.bundle = exportPipeline(pipeline, TARGETS, { platform: 'xeon', name: 'h', namespace: 'h' }, exportProblems);
  result.exported = exportProblems.items.map(formatProblem);
  return result;
}

describe('importers: formats and robustness', () => {
  it('detects each format from content, not from the file name', () => {
    const flowArray = fs.readFileSync(path.join(REPO_ROOT, 'flows', 'chatqna.json'), 'utf8');
    const cases: [string, string | null][] = [
      [flowArray, 'node-red'],
      [JSON.stringify({ flows: JSON.parse(flowArray) }), 'node-red'],
      [reference('gmc/chatQnA_xeon.yaml'), 'gmc'],
      [JSON.stringify(yaml.load(reference('gmc/chatQnA_xeon.yaml'))), 'gmc'],
      [reference('genaistudio/chatqna_workflow.json'), 'flowise'],
      [reference('flowise/local_qna_chatflow.json'), 'flowise'],
      ['opea_micro_services:\n  llm: {endpoint: /v1/chat/completions}\nopea_mega_service:\n  mega_flow: [llm]\n', 'opea-yaml'],
      ['{"nodes": [], "other": []}', null],
    ];
    for (const [text, format] of cases) assert.equal(toNodeRedFlow(text, 'flow.txt').format, format, text.slice(0, 60));
  });

  it('passes Node-RED flow JSON through unchanged', () => {
    const flow = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'flows', 'chatqna-switch.json'), 'utf8')) as Node[];
    assert.deepEqual(toNodeRedFlow(JSON.stringify(flow), 'a.json').flow, flow);
    assert.deepEqual(toNodeRedFlow(JSON.stringify({ flows: flow, rev: 'abc' }), 'a.json').flow, flow);
  });

  it('refuses what it cannot read with one problem and no flow: bad text, non-object roots, unknown objects', () => {
    const cases: [string, RegExp][] = [
      ['just text: [', /neither JSON nor YAML/],
      ['', /neither JSON nor YAML|no format opea-flow reads/],
      ['42', /no format opea-flow reads/],
      ['null', /no format opea-flow reads/],
      ['"a string"', /no format opea-flow reads/],
      ['true', /no format opea-flow reads/],
      ['- a\n- b\n', /^$/],
      ['kind: Deployment\napiVersion: apps/v1', /no format opea-flow reads/],
      ['a: 1\n---\nb: 2\n', /neither JSON nor YAML/],
    ];
    for (const [text, expected] of cases) {
      const { flow, problems } = toNodeRedFlow(text, 'bad.yaml');
      const report = problems.items.map(formatProblem).join('\n');
      if (expected.source === '^$') {
        // A YAML list is a list of nodes to loadPipeline, which then names what is wrong with it.
        assert.deepEqual(flow, ['a', 'b']);
        assert.match(loadPipeline(flow).problems.items.map(formatProblem).join('\n'), /flow \(element 0\): this element is not a Node-RED node/);
        continue;
      }
      assert.equal(flow, null, text);
      assert.equal(problems.items.length, 1, report);
      assert.match(report, expected);
      assert.match(report, /^flow \(bad\.yaml\): /);
    }
  });

  it('YAML bombs and deep nesting give a problem, not a hang or a crash', () => {
    const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 12; i++) laughs.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
    const aliasesInGmc = `kind: GMConnector\nspec:\n  nodes:\n    root: &r {routerType: Sequence, steps: []}\n${Array.from({ length: 150 }, (_, i) => `    n${i}: *r`).join('\n')}\n`;
    const deepYaml = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const deepJson = `{"kind":"GMConnector","spec":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`;
    const started = Date.now();
    for (const text of [laughs.join('\n'), aliasesInGmc, deepYaml]) {
      const { flow, problems } = toNodeRedFlow(text, 'bomb.yaml');
      assert.equal(flow, Array.isArray(flow) ? flow : null);
      if (flow === null) assert.equal(problems.items.length, 1);
    }
    assert.match(formatProblem(toNodeRedFlow(laughs.join('\n'), 'b.yaml').problems.items[0]), /maxAliases/);
    assert.match(formatProblem(toNodeRedFlow(aliasesInGmc, 'b.yaml').problems.items[0]), /maxAliases/);
    assert.match(formatProblem(toNodeRedFlow(deepJson, 'b.yaml').problems.items[0]), /not a GMConnector with a root node/);
    assert.ok(Date.now() - started < 5000);
  });

  it('hostile strings in a CR ({{ }}, newlines, quotes, 10 kB) give problems or safe output', () => {
    const big = 'x'.repeat(10_000);
    const cr = yaml.load(reference('gmc/chatQnA_switch_xeon.yaml')) as { metadata: Node; spec: { nodes: Record<string, { steps: Node[] }> } };
    cr.metadata.name = `{{ lookup('pipe','id') }}\n${big}`;
    cr.spec.nodes.root.steps[1].internalService = { serviceName: "{{ lookup('pipe','id') }}\nx: 1 \"'", config: { endpoint: '/v1/reranking', TEI_RERANKING_ENDPOINT: 'tei-reranking-svc' } };
    cr.spec.nodes.node2.steps[0].condition = `model-id==${big}`;
    (cr.spec.nodes.node2.steps[2].internalService as { config: Node }).config.MODEL_ID = `a"b'\n{{x}}${big}`;
    for (const step of cr.spec.nodes.node1.steps) if (typeof step.condition === 'string') step.condition = step.condition.replace('embedding-model-id', big);
    const r = throughEverything(JSON.stringify(cr));
    assert.deepEqual(r.imported, []);
    assert.equal(r.bundle, null);
    const all = [...r.loaded, ...r.exported].join('\n');
    assert.match(all, /its model is not a model id/);
    // Every report stays one bounded line, however long the input was.
    assert.ok([...r.loaded, ...r.exported].every((line) => !line.includes('\n') && line.length < 1200));
    // With a valid model the hostile service name exports, reduced to a DNS label everywhere it lands.
    const clean = yaml.load(reference('gmc/chatQnA_switch_xeon.yaml')) as typeof cr;
    clean.spec.nodes.root.steps[1].internalService = cr.spec.nodes.root.steps[1].internalService;
    const ok = throughEverything(JSON.stringify(clean));
    assert.deepEqual([...ok.loaded, ...ok.exported], []);
    const bundle = ok.bundle as Record<string, string>;
    assert.match(bundle['gmc/h.yaml'], /serviceName: lookup-pipe-id-x-1\n/);
    for (const [file, content] of Object.entries(bundle)) assert.ok(!content.includes("lookup('pipe'") && !content.includes('x: 1 "'), file);
  });

  it('hostile strings in an OPEA YAML and a chatflow stay data: the export quotes them or refuses them', () => {
    const opea = [
      'opea_micro_services:',
      `  embedding: {endpoint: /v1/embeddings, model: "{{ lookup('env','HOME') }}"}`,
      `  llm: {image: opea/llm-textgen:1.2, environment: ["LLM_MODEL_ID=org/m-${'y'.repeat(150)}"]}`,
      'opea_mega_service:',
      '  mega_flow: ["embedding >> llm"]',
    ].join('\n');
    const r1 = throughEverything(opea);
    assert.deepEqual(r1.imported, []);
    assert.match(r1.loaded.join('\n'), /node [0-9a-f]{16} \(embedding\): its model is not a model id/);
    const studio = JSON.parse(reference('genaistudio/chatqna_workflow.json')) as { nodes: { data: { name: string; inputs: Node } }[] };
    const llm = studio.nodes.find((n) => n.data.name === 'opea_service@llm_tgi') as { data: { inputs: Node } };
    llm.data.inputs.modelName = `evil/model"\n- name: x`;
    llm.data.inputs.temperature = 'hot';
    const r2 = throughEverything(JSON.stringify(studio));
    assert.deepEqual(r2.imported, []);
    assert.deepEqual(r2.loaded.map((l) => l.replace(/^node [0-9a-f]{16} /, '')), [
      "(opea-llm): its model is not a model id — use an id such as BAAI/bge-base-en-v1.5 (letters, digits and . _ / : @ + -, at most 200)",
      '(opea-llm): temperature must be a number — fix temperature (sampling temperature)',
    ]);
    // A 150-character model is a valid id: it exports, and the YAML reads back to the same string.
    const ok = throughEverything(opea.replace(/model: "[^"]*"/, 'model: BAAI/bge-small-en-v1.5'));
    assert.deepEqual([...ok.loaded, ...ok.exported], []);
    const cr = yaml.load((ok.bundle as Record<string, string>)['gmc/h.yaml']) as { spec: { nodes: { root: { steps: { internalService?: { config?: Node } }[] } } } };
    assert.ok(cr.spec.nodes.root.steps.some((s) => s.internalService?.config?.MODEL_ID === `org/m-${'y'.repeat(150)}`));
  });

  it('opea-flow import writes the Node-RED flow of any format', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-import-'));
    try {
      for (const [file, types] of [
        [path.join(REFERENCE_DIR, 'gmc', 'chatQnA_xeon.yaml'), ['opea-embedding', 'opea-retriever', 'opea-rerank', 'opea-llm']],
        [path.join(REFERENCE_DIR, 'genaistudio', 'chatqna_workflow.json'), ['opea-embedding', 'opea-retriever', 'opea-rerank', 'opea-llm', 'opea-dataprep']],
        [path.join(REPO_ROOT, 'test', 'fixtures', 'importers', 'rfc-deployment.yaml'), ['opea-embedding', 'opea-retriever', 'opea-rerank', 'opea-llm']],
      ] as [string, string[]][]) {
        const out = path.join(dir, 'flow.json');
        const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'bin', 'opea-flow.js'), 'import', file, '--out', out], { encoding: 'utf8', timeout: 20_000 });
        assert.equal(r.status, 0, r.stderr);
        const flow = JSON.parse(fs.readFileSync(out, 'utf8')) as Node[];
        assert.deepEqual(flow.filter((n) => String(n.type).startsWith('opea-') && n.type !== 'opea-server').map((n) => n.type), types);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
