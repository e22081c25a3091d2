import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { REPO_ROOT } from '../support/reference';

const CLI = path.join(REPO_ROOT, 'dist', 'bin', 'opea-flow.js');
const CHATQNA = path.join(REPO_ROOT, 'flows', 'chatqna.json');
type Node = Record<string, unknown>;

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'opea-cli-'));
}

function writeFlow(dir: string, flow: unknown): string {
  const file = path.join(dir, 'flow.json');
  fs.writeFileSync(file, JSON.stringify(flow));
  return file;
}

function chatqna(): Node[] {
  return JSON.parse(fs.readFileSync(CHATQNA, 'utf8')) as Node[];
}

const PROBLEM_LINE = /^(node \S+ \(.*\)|flow \(.*\)): .+ — .+$/;

describe('opea-flow CLI', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('validate: exit 0 on the example flow', () => {
    const r = run(['validate', CHATQNA, '--target', 'all']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^valid: ChatQnA: 5 components, exportable to gmc, compose, ansible, helm\n$/);
  });

  it('validate: exit 2, one line per problem, every problem at once', () => {
    const flow = chatqna();
    const byType = (t: string) => flow.find((n) => n.type === t) as Node;
    byType('opea-rerank').backend = 'nope';
    byType('opea-llm').model = '';
    byType('opea-embedding').wires = [[]];
    const r = run(['validate', writeFlow(dir, flow)]);
    assert.equal(r.status, 2);
    const lines = r.stderr.trimEnd().split('\n');
    for (const line of lines) assert.match(line, PROBLEM_LINE);
    assert.ok(lines.some((l) => l.startsWith("node c0a1e5f0a0000005 (reranking): unknown rerank backend 'nope' — set backend to one of tei, opea, bm25")), r.stderr);
    assert.ok(lines.some((l) => l.startsWith('node c0a1e5f0a0000006 (llm): backend tgi needs a model')), r.stderr);
    assert.ok(lines.some((l) => l.startsWith('node c0a1e5f0a0000003 (embedding): its output is not wired')), r.stderr);
  });

  it('export: writes DIR/gmc, DIR/compose, DIR/ansible and DIR/helm and replaces an earlier export whole', () => {
    const out = path.join(dir, 'out');
    fs.mkdirSync(path.join(out, 'gmc'), { recursive: true });
    fs.writeFileSync(path.join(out, 'gmc', 'stale.yaml'), 'old');
    const r = run(['export', CHATQNA, '--target', 'all', '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(fs.readdirSync(out).sort(), ['ansible', 'compose', 'gmc', 'helm']);
    assert.deepEqual(fs.readdirSync(path.join(out, 'gmc')).sort(), ['README.md', 'chatqna.yaml']);
    assert.deepEqual(fs.readdirSync(path.join(out, 'compose')).sort(), ['.env.example', 'README.md', 'compose.yaml', 'gateway']);
  });

  it('export: exit 2 on an invalid flow with nothing written, and an earlier export left as it was', () => {
    const out = path.join(dir, 'out');
    assert.equal(run(['export', CHATQNA, '--target', 'gmc', '--out', out]).status, 0);
    const before = fs.readFileSync(path.join(out, 'gmc', 'chatqna.yaml'), 'utf8');
    const flow = chatqna();
    (flow.find((n) => n.type === 'opea-llm') as Node).backend = 'vllm';
    const r = run(['export', writeFlow(dir, flow), '--target', 'gmc', '--out', out]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^node c0a1e5f0a0000006 \(llm\): \[gmc\] vLLM is not deployed by the exporters, so it needs a URL to call/);
    assert.deepEqual(fs.readdirSync(out), ['gmc']);
    assert.equal(fs.readFileSync(path.join(out, 'gmc', 'chatqna.yaml'), 'utf8'), before);
    const fresh = path.join(dir, 'fresh');
    assert.equal(run(['export', writeFlow(dir, flow), '--target', 'gmc', '--out', fresh]).status, 2);
    assert.ok(!fs.existsSync(fresh) || fs.readdirSync(fresh).length === 0);
  });

  it('usage errors exit 2: unknown command, target, platform, missing file, not JSON', () => {
    assert.equal(run(['frobnicate', CHATQNA]).status, 2);
    assert.match(run(['export', CHATQNA, '--target', 'kustomize', '--out', dir]).stderr, /unknown target 'kustomize': choose gmc, compose, ansible, helm or all/);
    assert.match(run(['export', CHATQNA, '--target', 'gmc', '--platform', 'tpu', '--out', dir]).stderr, /unknown platform 'tpu'/);
    const missing = run(['validate', path.join(dir, 'nope.json')]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read the flow file \(ENOENT\) — check the path/);
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"flows": [');
    const bad = run(['validate', path.join(dir, 'bad.json')]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^flow \(bad.json\): the file is not valid JSON: the text ends before the JSON does at line 1, column 12 — correct the JSON there/);
  });

  describe('hostile flows never crash and never break a YAML file', () => {
    const big = 'x'.repeat(10_000);
    const nasty = ['{{ lookup("pipe", "id") }}', 'a\nb: c\n- d', '"quoted" \'single\'', big, '${HF_TOKEN}', '\u0000\u2028', 'Ünïcødé 名前'];

    const cases: [string, (flow: Node[]) => void][] = [
      ...nasty.map((s, i): [string, (flow: Node[]) => void] => [`node names (${i})`, (flow) => flow.filter((n) => String(n.type).startsWith('opea-')).forEach((n) => (n.name = s))]),
      ...nasty.map((s, i): [string, (flow: Node[]) => void] => [`models (${i})`, (flow) => ((flow.find((n) => n.type === 'opea-llm') as Node).model = s)]),
      ...nasty.map((s, i): [string, (flow: Node[]) => void] => [`tab labels (${i})`, (flow) => (flow[0].label = s)]),
      ...nasty.map((s, i): [string, (flow: Node[]) => void] => [`index names (${i})`, (flow) => ((flow.find((n) => n.type === 'opea-retriever') as Node).indexName = s)]),
      ...nasty.map((s, i): [string, (flow: Node[]) => void] => [`node ids (${i})`, (flow) => {
        const llm = flow.find((n) => n.type === 'opea-llm') as Node;
        const rerank = flow.find((n) => n.type === 'opea-rerank') as Node;
        llm.id = s;
        rerank.wires = [[s]];
      }]),
      ['a cycle', (flow) => ((flow.find((n) => n.type === 'opea-llm') as Node).wires = [['c0a1e5f0a0000003']])],
      ['wires to nowhere and garbage wires', (flow) => ((flow.find((n) => n.type === 'opea-llm') as Node).wires = [['ghost', 42, null], 'x'])],
      ['non-node elements', (flow) => flow.push(null as unknown as Node, 5 as unknown as Node, { id: 7 } as Node)],
      ['numbers as strings and out of range', (flow) => Object.assign(flow.find((n) => n.type === 'opea-retriever') as Node, { searchK: '1e9', fetchK: 'many' })],
    ];

    for (const [what, mutate] of cases) {
      it(`hostile ${what}`, () => {
        const flow = chatqna();
        mutate(flow);
        const out = path.join(dir, 'out');
        const r = run(['export', writeFlow(dir, flow), '--target', 'all', '--out', out]);
        assert.ok(r.status === 0 || r.status === 2, `exit ${r.status}: ${r.stderr.slice(0, 500)}`);
        if (r.status === 2) {
          for (const line of r.stderr.trimEnd().split('\n')) {
            assert.match(line, PROBLEM_LINE);
            assert.ok(line.length < 1200, 'problem lines stay short');
          }
          assert.ok(!fs.existsSync(out) || fs.readdirSync(out).length === 0, 'nothing written');
          return;
        }
        const files = [...fs.readdirSync(path.join(out, 'gmc')).filter((f) => f.endsWith('.yaml')).map((f) => `gmc/${f}`), 'compose/compose.yaml'];
        assert.equal(files.length, 2);
        for (const file of files) {
          const text = fs.readFileSync(path.join(out, file), 'utf8');
          assert.doesNotThrow(() => yaml.load(text));
          assert.ok(!text.includes('{{'), `${file} carries no template braces`);
        }
      });
    }
  });
});
