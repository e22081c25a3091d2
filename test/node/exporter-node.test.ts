import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPipeline } from '../../core/pipeline';
import { ProblemList } from '../../core/problems';
import { exportPipeline, Target } from '../../exporters';
import { exampleFlow } from '../support/reference';
import yaml from 'js-yaml';
import { FakeKubeApi, writeKubeconfig } from '../support/fake-kube-api';
import { helper, nextError, nextMessage, onEachRuntime, packNodes, TestNode } from '../support/runtimes';
import { unzip, readTree } from '../support/bundle-files';

const QUERY_TAB = 'c0a1e5f0a0000001';
const LLM = 'c0a1e5f0a0000006';
const EMBEDDING = 'c0a1e5f0a0000003';

/** The core node types of the example flows, registered as plain nodes: the exporter only reads their config. */
function coreStubs(RED: { nodes: { createNode(n: object, c: object): void; registerType(t: string, c: unknown): void } }): void {
  for (const type of ['http in', 'http response', 'debug', 'comment', 'switch', 'change']) {
    RED.nodes.registerType(type, function (this: object, config: object) {
      RED.nodes.createNode(this, config);
    });
  }
}
const nodes = [...packNodes(), coreStubs];

type RawNode = Record<string, any> & { id: string; type: string };

function exporter(props: Record<string, unknown> = {}): RawNode {
  return { id: 'exp', type: 'opea-exporter', z: QUERY_TAB, name: 'export chatqna', targets: ['gmc', 'compose', 'ansible'], exportName: '', namespace: '', platform: 'xeon', gmcFlavor: 'upstream', externalUrls: [], download: true, toFolder: false, folder: 'opea-export', configVersion: 1, wires: [['out']], ...props };
}

/** flows/chatqna.json with an exporter on its query tab (and a helper node after it). */
function chatqna(props: Record<string, unknown> = {}, edit: (nodes: RawNode[]) => void = () => undefined): RawNode[] {
  const flow = (exampleFlow('chatqna.json') as RawNode[]).map((n) => ({ ...n }));
  edit(flow);
  return [...flow, exporter(props), { id: 'out', type: 'helper', z: QUERY_TAB }];
}

/** The targets exporter() ticks. */
const TICKED: readonly Target[] = ['gmc', 'compose', 'ansible'];

/** What the command line would export from the same flow (with the targets exporter() ticks). */
function expected(flow: unknown, targets: readonly Target[] = TICKED, options: Record<string, unknown> = {}): Record<string, string> {
  const { pipeline, problems } = loadPipeline(flow, { tab: QUERY_TAB });
  assert.ok(problems.empty, JSON.stringify(problems.items));
  const exportProblems = new ProblemList();
  const bundle = exportPipeline(pipeline, targets, { platform: 'xeon', ...options }, exportProblems);
  assert.ok(bundle, JSON.stringify(exportProblems.items));
  return bundle;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  json(): any;
}

/** POSTs flow JSON to the export route of the test helper's admin app; the body comes back as bytes. */
async function post(id: string, body: unknown): Promise<Answer> {
  const res = await (helper as any)
    .request()
    .post(`/opea-exporter/${id}/export`)
    .set('Content-Type', 'application/json')
    .send(JSON.stringify(body))
    .buffer(true)
    .parse((stream: NodeJS.ReadableStream, cb: (err: Error | null, body: Buffer) => void) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => cb(null, Buffer.concat(chunks)));
    });
  return { status: res.status, headers: res.headers, body: res.body as Buffer, json: () => JSON.parse((res.body as Buffer).toString('utf8')) };
}

type StatusSpy = { lastCall: { args: [{ fill?: string; shape?: string; text?: string }] } };
const lastStatus = (n: TestNode) => (n.status as unknown as StatusSpy).lastCall.args[0];

onEachRuntime('opea-exporter node', (userDir) => {
  let outside = '';
  beforeEach(() => {
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-outside-'));
  });
  afterEach(() => {
    fs.rmSync(outside, { recursive: true, force: true });
    for (const name of fs.readdirSync(userDir())) if (!['.config.nodes.json', '.config.runtime.json'].includes(name)) fs.rmSync(path.join(userDir(), name), { recursive: true, force: true });
  });

  describe('the admin route (the editor button)', () => {
    it('answers the zip of the bundle exportPipeline gives for the posted flow, named after the tab', async () => {
      const flow = chatqna();
      await helper.load(nodes, flow);
      const res = await post('exp', flow);
      assert.equal(res.status, 200, res.body.toString());
      assert.match(res.headers['content-type'], /^application\/zip/);
      assert.equal(res.headers['content-disposition'], 'attachment; filename="chatqna.zip"');
      assert.deepEqual(unzip(res.body), expected(flow));
      assert.equal(fs.readdirSync(userDir()).filter((n) => !n.startsWith('.')).length, 0, 'download mode writes nothing');
    });

    it('exports the posted (undeployed) edits with the posted settings, not the deployed ones', async () => {
      await helper.load(nodes, chatqna({ exportName: 'deployed' }));
      const edited = chatqna({ exportName: 'edited', namespace: 'rag', targets: ['gmc'], platform: 'gaudi' }, (f) => {
        (f.find((n) => n.id === LLM) as RawNode).model = 'Intel/neural-chat-7b-v3-1';
      });
      const res = await post('exp', edited);
      assert.equal(res.status, 200, res.body.toString());
      assert.equal(res.headers['content-disposition'], 'attachment; filename="edited.zip"');
      const files = unzip(res.body);
      assert.deepEqual(files, expected(edited, ['gmc'], { name: 'edited', namespace: 'rag', platform: 'gaudi' }));
      assert.deepEqual(Object.keys(files).sort(), ['gmc/README.md', 'gmc/edited.yaml']);
      assert.match(files['gmc/edited.yaml'], /namespace: rag/);
      assert.match(files['gmc/edited.yaml'], /Intel\/neural-chat-7b-v3-1/);
    });

    it('uses the external URLs of its settings for stages GMC cannot deploy', async () => {
      const vllm = (f: RawNode[]) => Object.assign(f.find((n) => n.id === LLM) as RawNode, { backend: 'vllm', server: '' });
      const url = 'http://llm-textgen.rag.svc:9000/v1/chat/completions';
      const flow = chatqna({ targets: ['gmc'], externalUrls: [{ node: LLM, url }] }, vllm);
      await helper.load(nodes, flow);
      const res = await post('exp', flow);
      assert.equal(res.status, 200, res.body.toString());
      const yaml = unzip(res.body)['gmc/chatqna.yaml'];
      assert.match(yaml, new RegExp(`externalService: ${url.replace(/[./]/g, '\\$&')}`));
      const withUrl = chatqna({ targets: ['gmc'] }, (f) => Object.assign(vllm(f), { externalUrl: url }));
      assert.equal(yaml, expected(withUrl, ['gmc'])['gmc/chatqna.yaml']);

      const without = chatqna({ targets: ['gmc'] }, vllm);
      const refused = await post('exp', without);
      assert.equal(refused.status, 400);
      assert.deepEqual(refused.json().problems.map((p: { nodeId: string }) => p.nodeId), [LLM]);
    });

    it('writes the folder under opea-exports of the user directory atomically and says where (a folder saved relative to the user directory moves there)', async () => {
      const flow = chatqna({ download: false, toFolder: true, folder: 'exports/chatqna' });
      await helper.load(nodes, flow);
      const res = await post('exp', flow);
      assert.equal(res.status, 200, res.body.toString());
      const answer = res.json();
      const dir = path.join(fs.realpathSync(userDir()), 'opea-exports', 'exports', 'chatqna');
      assert.equal(answer.folder, dir);
      assert.equal(answer.relative, 'opea-exports/exports/chatqna');
      assert.equal(answer.name, 'chatqna');
      assert.deepEqual(fs.readdirSync(userDir()).filter((n) => !n.startsWith('.')), ['opea-exports'], 'nothing is written beside opea-exports');
      const bundle = expected(flow);
      assert.deepEqual(answer.files, Object.keys(bundle).sort());
      assert.deepEqual(readTree(dir), bundle);
      assert.deepEqual(fs.readdirSync(dir).sort(), ['ansible', 'compose', 'gmc'], 'no staging folder is left behind');
    });

    it('with download and folder both ticked, answers the zip and writes the folder, named in a header', async () => {
      const flow = chatqna({ toFolder: true, folder: 'both-out' });
      await helper.load(nodes, flow);
      const res = await post('exp', flow);
      assert.equal(res.status, 200);
      const dir = path.join(fs.realpathSync(userDir()), 'opea-exports', 'both-out');
      assert.equal(decodeURIComponent(res.headers['x-opea-export-folder']), dir);
      assert.deepEqual(unzip(res.body), readTree(dir));
    });

    it('an empty folder is the export name; one saved as opea-exports/<x> keeps its place', async () => {
      await helper.load(nodes, [{ id: QUERY_TAB, type: 'tab' }]);
      for (const [folder, where] of [['', 'chatqna'], ['opea-exports/kept', 'kept']]) {
        const res = await post('exp', chatqna({ download: false, toFolder: true, exportName: folder === '' ? '' : 'named', folder }));
        assert.equal(res.status, 200, res.body.toString());
        assert.equal(res.json().folder, path.join(fs.realpathSync(userDir()), 'opea-exports', where));
        assert.equal(res.json().relative, `opea-exports/${where}`);
      }
    });

    // On a fresh install the flows file does not exist yet: a folder of its name would break every
    // later Deploy. Under opea-exports, names of Node-RED's files are only folder names.
    it("writes folders named like Node-RED's files inside opea-exports, never over them", async () => {
      await helper.load(nodes, [{ id: QUERY_TAB, type: 'tab' }]);
      fs.writeFileSync(path.join(userDir(), 'settings.js'), '// the user\'s settings\n');
      for (const folder of ['flows.json', 'settings.js', 'lib', 'flows_cred.json/gmc']) {
        const res = await post('exp', chatqna({ download: false, toFolder: true, folder }));
        assert.equal(res.status, 200, res.body.toString());
        assert.equal(res.json().folder, path.join(fs.realpathSync(userDir()), 'opea-exports', ...folder.split('/')));
      }
      assert.deepEqual(fs.readdirSync(userDir()).filter((n) => !n.startsWith('.')).sort(), ['opea-exports', 'settings.js']);
      assert.equal(fs.readFileSync(path.join(userDir(), 'settings.js'), 'utf8'), "// the user's settings\n");
    });

    for (const [folder, why] of [
      ['../x', /climbs out with '\.\.'/],
      ['/abs', /absolute path/],
      ['escape/x', /leads out of the user directory through a symbolic link/],
      // A link inside opea-exports back to the user directory would reach Node-RED's own files.
      ['home/flows.json', /the folder 'opea-exports\/home\/flows\.json' leads out of opea-exports through a symbolic link/],
      ['home', /leads out of opea-exports through a symbolic link/],
    ] as const) {
      it(`refuses the folder '${folder}' with a problem naming the node, writing nothing`, async () => {
        fs.mkdirSync(path.join(userDir(), 'opea-exports'));
        fs.symlinkSync(outside, path.join(userDir(), 'opea-exports', 'escape'), 'dir');
        fs.symlinkSync(userDir(), path.join(userDir(), 'opea-exports', 'home'), 'dir');
        const flow = chatqna({ download: false, toFolder: true, folder });
        await helper.load(nodes, [{ id: QUERY_TAB, type: 'tab' }]);
        const res = await post('exp', flow);
        assert.equal(res.status, 400);
        const { problems } = res.json();
        assert.equal(problems.length, 1);
        assert.equal(problems[0].nodeId, 'exp');
        assert.equal(problems[0].label, 'export chatqna');
        assert.match(problems[0].message, why);
        assert.ok(problems[0].fix.length > 0);
        assert.deepEqual(fs.readdirSync(outside), []);
        assert.deepEqual(fs.readdirSync(path.dirname(userDir())).filter((n) => n === 'x'), []);
        assert.deepEqual(fs.readdirSync(userDir()).filter((n) => !n.startsWith('.')), ['opea-exports']);
        assert.deepEqual(fs.readdirSync(path.join(userDir(), 'opea-exports')).sort(), ['escape', 'home']);
      });
    }

    it('refuses a folder that is the flows file the runtime is configured with, when that lies in opea-exports (flowFile)', async () => {
      helper.settings({ userDir: userDir(), flowFile: 'opea-exports/my-flows' });
      try {
        await helper.load(nodes, [{ id: QUERY_TAB, type: 'tab' }]);
        const res = await post('exp', chatqna({ download: false, toFolder: true, folder: 'my-flows' }));
        assert.equal(res.status, 400);
        assert.match(res.json().problems[0].message, /would be inside Node-RED's own opea-exports\/my-flows in the user directory/);
        assert.deepEqual(fs.readdirSync(userDir()).filter((n) => !n.startsWith('.')), []);
      } finally {
        helper.settings({ userDir: userDir() });
      }
    });

    it('answers 400 with every problem, by node id and label, for a flow that cannot be exported', async () => {
      const flow = chatqna({}, (f) => {
        Object.assign(f.find((n) => n.id === EMBEDDING) as RawNode, { backend: 'hashing' });
        Object.assign(f.find((n) => n.id === LLM) as RawNode, { temperature: 7 });
      });
      await helper.load(nodes, [{ id: QUERY_TAB, type: 'tab' }]);
      const res = await post('exp', flow);
      assert.equal(res.status, 400);
      const problems = res.json().problems as { nodeId: string; label: string; message: string; fix: string }[];
      assert.deepEqual(
        problems.map((p) => [p.nodeId, p.label]),
        [[LLM, 'llm']],
        'import problems come first, the export stops before the targets run',
      );
      assert.match(problems[0].message, /temperature must be at most 2/);
      const second = await post('exp', chatqna({}, (f) => Object.assign(f.find((n) => n.id === EMBEDDING) as RawNode, { backend: 'hashing' })));
      assert.equal(second.status, 400);
      const p2 = second.json().problems;
      // Every problem at once: the embedding GMC cannot deploy, and the dataprep that then has no embedding to wire.
      assert.deepEqual(p2.map((p: { nodeId: string; label: string }) => [p.nodeId, p.label]), [[EMBEDDING, 'embedding'], ['c0a1e5f0a0000022', 'dataprep']]);
      assert.match(p2[0].message, /cannot deploy backend 'hashing'/);
      assert.match(p2[0].fix, /choose a deployable backend/);
    });

    it('answers 400 naming the exporter when its own settings are wrong, or its tab holds no pipeline', async () => {
      await helper.load(nodes, [{ id: QUERY_TAB, type: 'tab' }]);
      const bad = await post('exp', chatqna({ targets: [], exportName: 'Not A Name', externalUrls: [{ node: LLM, url: 'ftp://x' }] }));
      assert.equal(bad.status, 400);
      const messages = bad.json().problems.map((p: { nodeId: string; message: string }) => `${p.nodeId}: ${p.message}`);
      assert.deepEqual(messages, ["exp: no export target is chosen", "exp: the export name 'Not A Name' is not a Kubernetes name", "exp: external URL 1 'ftp://x' is not an http(s) URL"]);
      const elsewhere = await post('exp', chatqna({ z: 'c0a1e5f0a0000020' }).map((n) => (n.id === 'exp' ? { ...n, z: 'other' } : n)).concat([{ id: 'other', type: 'tab', label: 'Tools' }]));
      assert.equal(elsewhere.status, 400);
      const [problem] = elsewhere.json().problems;
      assert.equal(problem.nodeId, 'exp');
      assert.match(problem.message, /its tab 'Tools' holds no opea- pipeline/);
      assert.match(problem.fix, /move this node to the pipeline's tab/);
    });

    it('refuses a button export with nowhere to deliver it (no download, folder or apply)', async () => {
      await helper.load(nodes, [{ id: QUERY_TAB, type: 'tab' }]);
      const res = await post('exp', chatqna({ download: false, toFolder: false }));
      assert.equal(res.status, 400);
      const [problem] = res.json().problems;
      assert.equal(problem.nodeId, 'exp');
      assert.match(problem.message, /nowhere to deliver/);
      assert.match(problem.fix, /tick Download \(a zip\), Write \(a folder\) and\/or Apply under Deliver/);
    });

    it('validates the request: the node must be in the posted flow and be an opea-exporter; the body must be flow JSON', async () => {
      await helper.load(nodes, [{ id: QUERY_TAB, type: 'tab' }]);
      const missing = await post('nope', chatqna());
      assert.equal(missing.status, 400);
      assert.match(missing.json().problems[0].message, /node nope is not in the flow/);
      const wrongType = await post(LLM, chatqna());
      assert.equal(wrongType.status, 400);
      assert.match(wrongType.json().problems[0].message, /is a 'opea-llm', not an opea-exporter/);
      const notFlow = await post('exp', { hello: 'world' });
      assert.equal(notFlow.status, 400);
      assert.match(notFlow.json().problems[0].message, /not flow JSON/);
      const wrapped = await post('exp', { flows: chatqna() });
      assert.equal(wrapped.status, 200);
    });

    it('never writes a credential that reached it', async () => {
      const flow = chatqna({}, (f) => Object.assign(f.find((n) => n.id === 'c0a1e5f0a0000013') as RawNode, { credentials: { apiKey: 'sk-secret-do-not-export' } }));
      await helper.load(nodes, [{ id: QUERY_TAB, type: 'tab' }]);
      const res = await post('exp', flow);
      assert.equal(res.status, 200);
      assert.ok(!JSON.stringify(unzip(res.body)).includes('sk-secret-do-not-export'));
    });
  });

  describe('input messages (automation)', () => {
    it('exports the deployed pipeline of its tab: the bundle on msg.payload, the file count in the status', async () => {
      // Neither download nor folder: an input message needs no delivery, the bundle is on msg.payload.
      const flow = chatqna({ download: false });
      await helper.load(nodes, flow);
      const got = nextMessage(helper.getNode('out'));
      helper.getNode('exp').receive({ payload: 'go', topic: 't' });
      const msg = await got;
      const bundle = expected(flow);
      assert.deepEqual(msg.payload, bundle);
      assert.equal(msg.topic, 't');
      assert.equal(msg.folder, undefined);
      // The example's LLM keeps maxTokens 1024, which a Xeon TGI cannot answer within the router's 30 s.
      assert.equal(msg.warnings.length, 1);
      assert.match(msg.warnings[0], new RegExp(`^warning: node ${LLM} \\(llm\\): \\[gmc, compose, ansible\\] deployed under the router: .*1024 tokens take about 102 s on xeon`));
      const status = lastStatus(helper.getNode('exp'));
      assert.equal(status.fill, 'yellow');
      assert.equal(status.shape, 'dot');
      assert.equal(status.text, `${Object.keys(bundle).length} files, 1 warning`);
    });

    it('also writes the folder when it is ticked', async () => {
      const flow = chatqna({ download: false, toFolder: true, folder: 'auto' });
      await helper.load(nodes, flow);
      const got = nextMessage(helper.getNode('out'));
      helper.getNode('exp').receive({ payload: 'go' });
      const msg = await got;
      const dir = path.join(fs.realpathSync(userDir()), 'opea-exports', 'auto');
      assert.equal(msg.folder, dir);
      assert.deepEqual(readTree(dir), msg.payload);
      assert.match(lastStatus(helper.getNode('exp')).text ?? '', /files, 1 warning → opea-exports\/auto$/);
    });

    it('a pipeline with problems ends the message in done(err) listing every problem, nothing sent or written', async () => {
      const flow = chatqna({ download: false, toFolder: true, folder: 'never' }, (f) => {
        Object.assign(f.find((n) => n.id === EMBEDDING) as RawNode, { model: 'not a model!' });
        Object.assign(f.find((n) => n.id === LLM) as RawNode, { topP: 3 });
      });
      await helper.load(nodes, flow);
      let sent = false;
      helper.getNode('out').on('input', () => (sent = true));
      const failed = nextError(helper.getNode('exp'));
      helper.getNode('exp').receive({ payload: 'go' });
      const message = await failed;
      assert.match(message, /^export chatqna \(exp\): the pipeline was not exported, 2 problems, nothing written:/);
      assert.match(message, new RegExp(`node ${EMBEDDING} \\(embedding\\): its model is not a model id`));
      assert.match(message, new RegExp(`node ${LLM} \\(llm\\): topP must be at most 1`));
      assert.equal(sent, false);
      assert.deepEqual(fs.readdirSync(userDir()).filter((n) => !n.startsWith('.')), []);
      assert.equal(lastStatus(helper.getNode('exp')).fill, 'red');
    });

    const badConfigs: [string, Record<string, unknown>, RegExp][] = [
      ['no target', { targets: [] }, /no export target is chosen — tick GMC, docker compose and\/or Ansible/],
      ['a folder outside the user directory', { download: false, toFolder: true, folder: '../x' }, /the folder '\.\.\/x' climbs out with '\.\.'/],
      ['an unknown platform', { platform: 'tpu' }, /unknown platform 'tpu' — choose xeon, gaudi, nvidia/],
      ['a namespace that is no Kubernetes name', { namespace: 'RAG_ns' }, /the namespace 'RAG_ns' is not a Kubernetes name/],
    ];
    for (const [what, props, why] of badConfigs) {
      it(`${what}: a red status at deploy, and done(err) naming the node for each message`, async () => {
        await helper.load(nodes, chatqna(props));
        const node = helper.getNode('exp');
        assert.equal(lastStatus(node).fill, 'red');
        const failed = nextError(node);
        node.receive({ payload: 'go' });
        const message = await failed;
        assert.match(message, /^export chatqna \(exp\): the pipeline was not exported, a problem, nothing written:\nnode exp \(export chatqna\): /);
        assert.match(message, why);
      });
    }
  });

  it('registers its route behind RED.auth.needsPermission("opea-exporter.write")', async () => {
    // The test helper's RED.auth lets every request through (it has no admin API); the real check,
    // 401 without a token or with too little permission, runs in exporter-auth.test.ts.
    const asked: string[] = [];
    const posted: string[] = [];
    const register = require('../../nodes/opea-exporter/opea-exporter.js') as (red: unknown) => void;
    register({
      nodes: { registerType: () => undefined, createNode: () => undefined, getNode: () => null, eachNode: () => undefined },
      settings: {},
      auth: { needsPermission: (p: string) => (asked.push(p), () => undefined) },
      httpAdmin: { post: (route: string, ...handlers: unknown[]) => posted.push(`${route} ${handlers.length}`) },
    });
    assert.deepEqual(asked, ['opea-exporter.write']);
    assert.deepEqual(posted, ['/opea-exporter/:id/export 2']);
  });
});

onEachRuntime('opea-exporter apply (fake Kubernetes API)', (userDir) => {
  const TOKEN = 'apply-test-token';
  const HF = 'hf_ApplyTestSecret123';
  const ACCESS = 'http://router-service.chatqna.svc.cluster.local:8080';
  let api: FakeKubeApi;
  beforeEach(async () => {
    api = await FakeKubeApi.start({
      token: TOKEN,
      timeline: [
        { afterMs: 50, status: { status: '0/0/9' } },
        { afterMs: 200, status: { status: '9/0/9', accessUrl: ACCESS } },
      ],
    });
    writeKubeconfig(path.join(userDir(), 'kube.yaml'), api.url, TOKEN);
  });
  afterEach(async () => {
    await api.close();
  });

  const applying = (extra: Record<string, unknown> = {}) => chatqna({ apply: true, kubeconfig: 'kube.yaml', wait: 20, ...extra });

  it('after an input message: applies the exported GMConnector, waits for GMC to report it ready and puts the result on msg.deploy', async () => {
    await helper.load(nodes, applying(), { exp: { hfToken: HF } });
    const out = nextMessage(helper.getNode('out'), 20_000);
    helper.getNode('exp').receive({ payload: 'go' });
    const msg = await out;
    assert.equal(msg.deploy.ready, true);
    assert.equal(msg.deploy.accessUrl, ACCESS);
    assert.deepEqual(msg.deploy.created, { namespace: true, secret: true });
    const stored = api.gmconnectors.get('chatqna/chatqna')?.object as { spec: unknown };
    assert.deepEqual(stored.spec, (yaml.load(msg.payload['gmc/chatqna.yaml']) as { spec: unknown }).spec);
    const applied = api.requests.find((r) => r.method === 'PATCH');
    assert.equal(applied?.contentType, 'application/apply-patch+yaml');
    assert.equal(applied?.query.get('fieldManager'), 'node-red-contrib-opea');
    assert.equal(Buffer.from(String((api.secrets.get('chatqna/hf-token')?.data as Record<string, string>).HF_TOKEN), 'base64').toString(), HF);
    assert.match(lastStatus(helper.getNode('exp')).text ?? '', /^ready · http:\/\/router-service/);
  });

  it('from the button: answers the zip at once, applies in the deployed node, and sends {topic: "apply", deploy} when ready', async () => {
    const flow = applying({ dryRun: false });
    await helper.load(nodes, flow);
    const out = nextMessage(helper.getNode('out'), 20_000);
    const answer = await post('exp', flow);
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['x-opea-apply'], 'started');
    const msg = await out;
    assert.equal(msg.topic, 'apply');
    assert.equal(msg.deploy.accessUrl, ACCESS);
    assert.ok(msg.payload['gmc/chatqna.yaml']);
  });

  it('a dry run changes nothing in the cluster', async () => {
    await helper.load(nodes, applying({ dryRun: true }));
    const out = nextMessage(helper.getNode('out'), 20_000);
    helper.getNode('exp').receive({ payload: 'go' });
    const msg = await out;
    assert.equal(msg.deploy.dryRun, true);
    assert.equal(api.gmconnectors.size, 0);
    assert.equal(api.namespaces.has('chatqna'), false);
  });

  it('ends the message with an error naming the node and what to do when GMC is not installed', async () => {
    await api.close();
    api = await FakeKubeApi.start({ token: TOKEN, crdInstalled: false });
    writeKubeconfig(path.join(userDir(), 'kube.yaml'), api.url, TOKEN);
    await helper.load(nodes, applying());
    const error = nextError(helper.getNode('exp'), 20_000);
    helper.getNode('exp').receive({ payload: 'go' });
    assert.match(await error, /^export chatqna \(exp\): the apply failed \(not-installed\): .*GMC is not installed/);
  });

  it('refuses Apply without the GMC target, and the button\'s apply when the node is not deployed', async () => {
    await helper.load(nodes, chatqna({ apply: true, targets: ['compose'] }));
    const error = nextError(helper.getNode('exp'));
    helper.getNode('exp').receive({ payload: 'go' });
    assert.match(await error, /applying sends the GMConnector, but GMC is not among the targets — tick GMC, or untick Apply/);
    await helper.unload();
    await helper.load(nodes, chatqna().filter((n) => n.id !== 'exp'));
    const refused = await post('exp', applying());
    assert.equal(refused.status, 400);
    assert.match(refused.json().problems[0].message, /this node is not deployed yet/);
  });
});
