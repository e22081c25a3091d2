/**
 * core/k8s/deploy.ts through the real @kubernetes/client-node against the loopback fake API server
 * (test/support/fake-kube-api.ts), with a kubeconfig file written to a temporary folder. The fake is
 * plain http: the client accepts an http:// server only when the cluster entry sets
 * insecure-skip-tls-verify: true (it throws "HTTP protocol is not allowed..." otherwise), so these
 * kubeconfigs set it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DeployError, DeployOptions, DeployProgress, deployGmConnector } from '../../core/k8s/deploy';
import { describeGmcStatus, isGmcReady, parseGmcStatus } from '../../core/k8s/gmc-status';
import { DEFAULT_FIELD_MANAGER, HF_TOKEN_SECRET, HF_TOKEN_SECRET_KEY } from '../../core/k8s/names';
import { gmcPipelineDefaults } from '../../exporters/ansible/roles';
import { FakeKubeApi, FakeKubeOptions, forbiddenStatus, invalidStatus, kubeStatus } from '../support/fake-kube-api';

const TOKEN = 'cluster-token-1';
const HF = 'hf_SeCrEtVaLuE1234567890';
const NS = 'chatqa';
const NAME = 'chatqa';
const URL_READY = 'http://router-service.chatqa.svc.cluster.local:8080';

function connector(spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'gmc.opea.io/v1alpha3',
    kind: 'GMConnector',
    metadata: { name: NAME, namespace: NS, labels: { 'gmc/platform': 'xeon' } },
    spec: {
      routerConfig: { name: 'router', serviceName: 'router-service' },
      nodes: { root: { routerType: 'Sequence', steps: [{ name: 'Embedding', internalService: { serviceName: 'embedding-svc', config: { endpoint: '/v1/embeddings' } } }] } },
      ...spec,
    },
  };
}

const TIMELINE = [
  { afterMs: 50, status: { status: '0/0/3', annotations: {} } },
  { afterMs: 250, status: { status: '1/0/3' } },
  { afterMs: 450, status: { status: '3/0/3', accessUrl: URL_READY } },
];

describe('core/k8s deploy (GMConnector to a fake Kubernetes API server)', function () {
  this.timeout(30_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-k8s-'));
  const servers: FakeKubeApi[] = [];
  /** Every progress text and error message of every test: none may hold the HF token. */
  const seen: string[] = [];

  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    fs.rmSync(dir, { recursive: true, force: true });
    assert.ok(seen.length > 20, 'texts were collected');
    for (const t of seen) assert.ok(!t.includes(HF), `the HF token leaked into: ${t}`);
  });

  async function fake(options: FakeKubeOptions = {}): Promise<FakeKubeApi> {
    const api = await FakeKubeApi.start({ token: TOKEN, ...options });
    servers.push(api);
    return api;
  }

  let counter = 0;
  function kubeconfig(server: string, { token = TOKEN, skipTls = true, context = 'fake' }: { token?: string; skipTls?: boolean; context?: string } = {}): string {
    const file = path.join(dir, `kubeconfig-${++counter}.yaml`);
    fs.writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: fake-cluster',
        '  cluster:',
        `    server: ${server}`,
        ...(skipTls ? ['    insecure-skip-tls-verify: true'] : []),
        'users:',
        '- name: tester',
        '  user:',
        `    token: ${token}`,
        'contexts:',
        `- name: ${context}`,
        '  context:',
        '    cluster: fake-cluster',
        '    user: tester',
        `current-context: ${context}`,
        '',
      ].join('\n'),
    );
    return file;
  }

  async function run(api: FakeKubeApi | string, options: Partial<DeployOptions> = {}): Promise<{ result?: Awaited<ReturnType<typeof deployGmConnector>>; error?: DeployError; progress: DeployProgress[]; ms: number }> {
    const progress: DeployProgress[] = [];
    const started = Date.now();
    const server = typeof api === 'string' ? api : api.url;
    try {
      const result = await deployGmConnector({
        connector: connector(),
        kubeconfig: kubeconfig(server),
        timeoutMs: 5_000,
        hfToken: HF,
        onProgress: (p) => {
          progress.push(p);
          seen.push(p.text);
        },
        ...options,
      });
      return { result, progress, ms: Date.now() - started };
    } catch (err) {
      if (!(err instanceof DeployError)) throw err;
      seen.push(err.message);
      return { error: err, progress, ms: Date.now() - started };
    }
  }

  const texts = (progress: DeployProgress[], phase: DeployProgress['phase']) => progress.filter((p) => p.phase === phase).map((p) => p.text);

  it('creates the namespace and the Secret, applies server-side with force and the field manager, and waits through the status timeline to ready', async () => {
    const api = await fake({ timeline: TIMELINE });
    const { result, error, progress, ms } = await run(api);
    assert.equal(error, undefined, error?.message);
    assert.deepEqual(result, { name: NAME, namespace: NS, dryRun: false, ready: true, status: '3/0/3', accessUrl: URL_READY, created: { namespace: true, secret: true } });
    assert.ok(ms >= 400, `returned after ${ms} ms, before the timeline said ready`);

    const [apply] = api.applies;
    assert.equal(api.applies.length, 1);
    assert.equal(apply.contentType, 'application/apply-patch+yaml');
    assert.equal(apply.query.get('fieldManager'), DEFAULT_FIELD_MANAGER);
    assert.equal(apply.query.get('force'), 'true');
    assert.equal(apply.query.get('dryRun'), null);
    assert.equal(apply.path, `/apis/gmc.opea.io/v1alpha3/namespaces/${NS}/gmconnectors/${NAME}`);
    assert.equal(apply.authorization, `Bearer ${TOKEN}`);
    const sent = JSON.parse(apply.body);
    assert.deepEqual(sent.spec, connector().spec);
    assert.equal(sent.metadata.labels['gmc/platform'], 'xeon');

    assert.ok(api.namespaces.has(NS));
    const secret = api.secrets.get(`${NS}/${HF_TOKEN_SECRET}`) as { data: Record<string, string>; type: string };
    assert.equal(Buffer.from(secret.data[HF_TOKEN_SECRET_KEY], 'base64').toString(), HF);
    assert.equal(secret.type, 'Opaque');
    const stored = api.gmconnectors.get(`${NS}/${NAME}`);
    assert.deepEqual((stored?.object.metadata as { managedFields: { manager: string }[] }).managedFields.map((m) => m.manager), [DEFAULT_FIELD_MANAGER]);

    assert.deepEqual([...new Set(progress.map((p) => p.phase))], ['connect', 'namespace', 'secret', 'apply', 'waiting', 'ready']);
    assert.match(texts(progress, 'namespace')[0], /created namespace chatqa/);
    assert.match(texts(progress, 'secret')[0], /created Secret hf-token \(key HF_TOKEN\) in chatqa/);
    assert.match(texts(progress, 'apply')[0], /chatqa\/chatqa created \(server-side apply, field manager node-red-contrib-opea\)/);
    const waiting = texts(progress, 'waiting').join('\n');
    assert.match(waiting, /0 of 3 services ready \(status 0\/0\/3\)[^]*1 of 3 services ready \(status 1\/0\/3\)[^]*3 of 3 services ready \(status 3\/0\/3\)/);
    assert.match(texts(progress, 'ready')[0], new RegExp(`is ready: 3 of 3 services; it answers at ${URL_READY.replace(/\./g, '\\.')}`));
    // Followed by a watch, not by polling: one watch request, and at most a GET per (re)connect.
    const watches = api.requests.filter((r) => r.query.get('watch') === 'true');
    assert.equal(watches.length, 1);
    assert.equal(watches[0].query.get('fieldSelector'), `metadata.name=${NAME}`);
    assert.ok(Number(watches[0].query.get('timeoutSeconds')) <= 5);
    assert.ok(api.requests.length <= 12, `${api.requests.length} requests`);
  });

  it('leaves an existing HF token Secret as it is and says so', async () => {
    const api = await fake({ namespaces: [NS], secrets: [{ namespace: NS, name: HF_TOKEN_SECRET, data: { HF_TOKEN: 'the-old-token' } }], timeline: TIMELINE });
    const { result, error, progress } = await run(api, { timeoutMs: 0 });
    assert.equal(error, undefined, error?.message);
    assert.deepEqual(result?.created, { namespace: false, secret: false });
    assert.equal(api.requests.filter((r) => r.method === 'POST').length, 0, 'nothing was created');
    const secret = api.secrets.get(`${NS}/${HF_TOKEN_SECRET}`) as { data: Record<string, string> };
    assert.equal(Buffer.from(secret.data.HF_TOKEN, 'base64').toString(), 'the-old-token');
    assert.match(texts(progress, 'namespace')[0], /namespace chatqa exists/);
    assert.match(texts(progress, 'secret')[0], /Secret hf-token exists in chatqa: left as it is \(an existing Secret is never overwritten\)/);
  });

  it('without an HF token, neither reads nor creates the Secret', async () => {
    const api = await fake({ namespaces: [NS] });
    const { error, progress, result } = await run(api, { hfToken: undefined, timeoutMs: 0 });
    assert.equal(error, undefined, error?.message);
    assert.equal(result?.created.secret, false);
    assert.equal(api.requests.filter((r) => r.path.includes('/secrets')).length, 0);
    assert.match(texts(progress, 'secret')[0], /no HF token given/);
  });

  it('returns right after the apply when timeoutMs is 0, without watching', async () => {
    const api = await fake({ namespaces: [NS], timeline: TIMELINE });
    const { result, error, ms } = await run(api, { timeoutMs: 0 });
    assert.equal(error, undefined, error?.message);
    assert.equal(result?.ready, false);
    assert.equal(result?.status, undefined);
    assert.ok(ms < 2_000);
    assert.equal(api.requests.filter((r) => r.query.get('watch') === 'true').length, 0);
    assert.equal(api.applies.length, 1);
  });

  it('dry run: every write carries dryRun=All and nothing changes (namespace present)', async () => {
    const api = await fake({ namespaces: [NS], timeline: TIMELINE });
    const { result, error, progress } = await run(api, { dryRun: true });
    assert.equal(error, undefined, error?.message);
    assert.deepEqual(result, { name: NAME, namespace: NS, dryRun: true, ready: false, status: undefined, accessUrl: undefined, created: { namespace: false, secret: true } });
    const writes = api.requests.filter((r) => r.method !== 'GET');
    assert.deepEqual(writes.map((r) => `${r.method} ${r.path}`), [`POST /api/v1/namespaces/${NS}/secrets`, `PATCH /apis/gmc.opea.io/v1alpha3/namespaces/${NS}/gmconnectors/${NAME}`]);
    for (const w of writes) assert.equal(w.query.get('dryRun'), 'All', `${w.method} ${w.path}`);
    assert.equal(api.secrets.size, 0);
    assert.equal(api.gmconnectors.size, 0);
    assert.match(texts(progress, 'secret')[0], /would be created with key HF_TOKEN \(dry run\)/);
    assert.match(texts(progress, 'apply')[0], /would be created \(server-side apply, field manager node-red-contrib-opea, dry run\)/);
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(api.gmconnectors.size, 0, 'no timeline started from a dry run');
  });

  it('dry run into a namespace that does not exist: dry-runs the namespace, checks the CRD, sends no apply', async () => {
    const api = await fake();
    const { result, error, progress } = await run(api, { dryRun: true });
    assert.equal(error, undefined, error?.message);
    assert.deepEqual(result?.created, { namespace: true, secret: true });
    assert.equal(api.namespaces.size, 0);
    const post = api.requests.find((r) => r.method === 'POST');
    assert.equal(post?.path, '/api/v1/namespaces');
    assert.equal(post?.query.get('dryRun'), 'All');
    assert.equal(api.applies.length, 0);
    assert.ok(api.requests.some((r) => r.path === '/apis/gmc.opea.io/v1alpha3'), 'the CRD was looked up');
    assert.match(texts(progress, 'apply')[0], /the server did not check it, because namespace chatqa does not exist yet/);
    const missing = await fake({ crdInstalled: false });
    const nothere = await run(missing, { dryRun: true });
    assert.equal(nothere.error?.kind, 'not-installed');
  });

  it('times out with the last status seen', async () => {
    const api = await fake({ timeline: TIMELINE.slice(0, 2) });
    const { error, ms } = await run(api, { timeoutMs: 900 });
    assert.equal(error?.kind, 'timeout');
    assert.match(error?.message ?? '', /GMConnector chatqa\/chatqa was not ready within 1 s; last seen 1 of 3 services ready \(status 1\/0\/3\)/);
    assert.match(error?.message ?? '', /kubectl get pods -n chatqa/);
    assert.ok(ms >= 850 && ms < 3_000, `${ms} ms`);
  });

  it('counts external services apart from the total, as GMC does', () => {
    assert.deepEqual(parseGmcStatus('3/1/3'), { ready: 3, external: 1, total: 3 });
    assert.equal(isGmcReady('3/1/3'), true);
    assert.equal(isGmcReady('3/0/4'), false);
    assert.equal(isGmcReady('2/1/3'), false);
    assert.equal(isGmcReady('0/0/0'), false);
    assert.equal(isGmcReady(''), false);
    assert.equal(isGmcReady(undefined), false);
    assert.equal(describeGmcStatus('2/1/3'), '2 of 3 services ready, 1 external (status 2/1/3)');
  });

  it('does not take a stale ready status after a spec change, and takes an unchanged one at once', async () => {
    const old = connector({ routerConfig: { name: 'router', serviceName: 'old-router' } });
    const api = await fake({ namespaces: [NS], gmconnectors: [{ object: old, manager: 'kubectl-client-side-apply', status: { status: '3/0/3', accessUrl: 'http://old' } }] });
    setTimeout(() => api.setStatus(NS, NAME, { status: '2/0/3', accessUrl: URL_READY }), 300);
    setTimeout(() => api.setStatus(NS, NAME, { status: '3/0/3', accessUrl: URL_READY }), 500);
    const changed = await run(api, { hfToken: undefined });
    assert.equal(changed.error, undefined, changed.error?.message);
    assert.ok(changed.ms >= 450, `ready after ${changed.ms} ms: the old status was taken`);
    assert.equal(changed.result?.accessUrl, URL_READY);
    assert.match(texts(changed.progress, 'apply')[0], /updated/);
    // force took the fields over from the other manager.
    const stored = api.gmconnectors.get(`${NS}/${NAME}`);
    assert.equal(stored?.owners.get('.spec.routerConfig.serviceName')?.has(DEFAULT_FIELD_MANAGER), true);
    assert.equal(stored?.owners.get('.spec.routerConfig.serviceName')?.has('kubectl-client-side-apply'), false);

    const again = await run(api, { hfToken: undefined });
    assert.equal(again.error, undefined, again.error?.message);
    assert.equal(again.result?.ready, true);
    assert.match(texts(again.progress, 'apply')[0], /unchanged/);
    assert.ok(again.ms < 2_000);
  });

  it('resumes the watch from the last resourceVersion when the server ends it', async () => {
    const api = await fake({ maxWatchSeconds: 1, timeline: [{ afterMs: 50, status: { status: '0/0/2' } }, { afterMs: 1_400, status: { status: '2/0/2', accessUrl: URL_READY } }] });
    const { result, error } = await run(api);
    assert.equal(error, undefined, error?.message);
    assert.equal(result?.status, '2/0/2');
    const watches = api.requests.filter((r) => r.query.get('watch') === 'true');
    assert.ok(watches.length >= 2, `${watches.length} watch requests`);
    const versions = watches.map((w) => Number(w.query.get('resourceVersion')));
    assert.ok(versions[1] > versions[0], `resumed from ${versions.join(', ')}`);
  });

  it('falls back to reading the CR when the watch is refused', async () => {
    const api = await fake({ timeline: TIMELINE, faults: [{ method: 'GET', path: /gmconnectors$/, watch: true, status: forbiddenStatus('tester', 'watch', 'gmconnectors', 'gmc.opea.io', NS, '') }] });
    const { result, error, progress } = await run(api);
    assert.equal(error, undefined, error?.message);
    assert.equal(result?.ready, true);
    assert.match(texts(progress, 'waiting').join('\n'), /the watch failed \(Forbidden\); reading it every 2 s instead/);
    assert.ok(api.requests.length < 30);
  });

  it('403: forbidden, naming verb, resource and namespace, and what to ask for', async () => {
    const api = await fake({ namespaces: [NS], faults: [{ method: 'PATCH', path: /gmconnectors/, status: forbiddenStatus('system:serviceaccount:dev:deployer', 'patch', 'gmconnectors', 'gmc.opea.io', NS, NAME) }] });
    const { error } = await run(api);
    assert.equal(error?.kind, 'forbidden');
    assert.match(error?.message ?? '', /^not allowed to patch gmconnectors\.gmc\.opea\.io in namespace chatqa \(403 Forbidden: gmconnectors\.gmc\.opea\.io "chatqa" is forbidden: User "system:serviceaccount:dev:deployer" cannot patch/);
    assert.match(error?.message ?? '', /ask a cluster admin for a Role \(or ClusterRole\) granting "patch" on gmconnectors\.gmc\.opea\.io in chatqa to the user of context fake/);
  });

  it('403 from an admission webhook is an invalid GMConnector, not missing rights', async () => {
    const denied = kubeStatus(403, 'Forbidden', 'admission webhook "vgmconnector.gmc.opea.io" denied the request: the step name Foo is not supported');
    const api = await fake({ namespaces: [NS], faults: [{ method: 'PATCH', path: /gmconnectors/, status: denied }] });
    const { error } = await run(api);
    assert.equal(error?.kind, 'invalid');
    assert.match(error?.message ?? '', /GMC's admission webhook refused the GMConnector: .*step name Foo is not supported — fix what it names in the flow/);
  });

  it('409: conflict, with the conflicting fields and what to do', async () => {
    const conflict = kubeStatus(409, 'Conflict', 'Apply failed with 1 conflict: conflict with "gmc-controller" using gmc.opea.io/v1alpha3: .spec.nodes', {
      causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "gmc-controller" using gmc.opea.io/v1alpha3', field: '.spec.nodes' }],
    });
    const api = await fake({ namespaces: [NS], faults: [{ method: 'PATCH', path: /gmconnectors/, status: conflict }] });
    const { error } = await run(api);
    assert.equal(error?.kind, 'conflict');
    assert.match(error?.message ?? '', /409 Conflict while applying the GMConnector: Apply failed with 1 conflict.*\[\.spec\.nodes: conflict with "gmc-controller"/);
    assert.match(error?.message ?? '', /run the deploy again/);
  });

  it('422: invalid, listing every cause', async () => {
    const invalid = invalidStatus('GMConnector', 'gmc.opea.io', NAME, [
      { field: 'spec.routerConfig.name', reason: 'FieldValueRequired', message: 'Required value' },
      { field: 'spec.nodes.root.routerType', reason: 'FieldValueNotSupported', message: 'Unsupported value: "Chain": supported values: "Sequence", "Ensemble", "Switch"' },
    ]);
    const api = await fake({ namespaces: [NS], faults: [{ method: 'PATCH', path: /gmconnectors/, status: invalid }] });
    const { error } = await run(api);
    assert.equal(error?.kind, 'invalid');
    assert.match(error?.message ?? '', /refused the GMConnector as invalid \(422 Invalid\): GMConnector\.gmc\.opea\.io "chatqa" is invalid/);
    assert.match(error?.message ?? '', /causes: spec\.routerConfig\.name: Required value; spec\.nodes\.root\.routerType: Unsupported value: "Chain"/);
    assert.match(error?.message ?? '', /opea-flow validate FLOW --target gmc/);
  });

  it('404 on the resource type: GMC is not installed', async () => {
    const api = await fake({ namespaces: [NS], crdInstalled: false });
    const { error } = await run(api);
    assert.equal(error?.kind, 'not-installed');
    assert.match(error?.message ?? '', /^GMC is not installed in the cluster: the gmc\.opea\.io GMConnector CRD is missing — install GMC first/);
    assert.equal(api.applies.length, 0);
  });

  it('401: unauthorized, naming the kubeconfig and what to refresh', async () => {
    const api = await fake();
    const file = kubeconfig(api.url, { token: 'expired' });
    const { error } = await run(api, { kubeconfig: file });
    assert.equal(error?.kind, 'unauthorized');
    assert.ok(error?.message.includes(`refused the credentials of kubeconfig ${file}, context fake (401 Unauthorized) while reading the namespace`), error?.message);
    assert.match(error?.message ?? '', /log in again or refresh the kubeconfig/);
  });

  it('connection refused: unreachable, naming the server URL', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const { error } = await run(`http://127.0.0.1:${port}`);
    assert.equal(error?.kind, 'unreachable');
    assert.match(error?.message ?? '', new RegExp(`^cannot reach the Kubernetes API server at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\) while reading the namespace — check the cluster is running`));
  });

  it('kubeconfig problems: a missing file, an unknown context, plain http without skip-TLS', async () => {
    const missing = await run('http://127.0.0.1:1', { kubeconfig: path.join(dir, 'nope.yaml') });
    assert.equal(missing.error?.kind, 'config');
    assert.match(missing.error?.message ?? '', /kubeconfig .*nope\.yaml does not exist — give the path of a kubeconfig file/);
    const ctx = await run('http://127.0.0.1:1', { context: 'prod' });
    assert.equal(ctx.error?.kind, 'config');
    assert.match(ctx.error?.message ?? '', /has no context "prod" \(it has: fake\)/);
    const plain = await run('http://127.0.0.1:1', { kubeconfig: kubeconfig('http://127.0.0.1:1', { skipTls: false }) });
    assert.equal(plain.error?.kind, 'config');
    assert.match(plain.error?.message ?? '', /is plain http, which @kubernetes\/client-node refuses unless the cluster entry sets insecure-skip-tls-verify: true/);
    const broken = path.join(dir, 'broken.yaml');
    fs.writeFileSync(broken, `clusters:\n- name: x\n  cluster: {server: "http://x"\nusers: [{name: u, user: {token: ${HF}}}]\n`);
    const bad = await run('http://127.0.0.1:1', { kubeconfig: broken });
    assert.equal(bad.error?.kind, 'config');
    assert.match(bad.error?.message ?? '', /broken\.yaml cannot be read: /);
    assert.ok(!bad.error?.message.includes('token'), 'no quote of the file');
  });

  it('abort stops the wait at once with kind aborted', async () => {
    const api = await fake({ timeline: [{ afterMs: 50, status: { status: '0/0/3' } }, { afterMs: 5_000, status: { status: '3/0/3' } }] });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 400);
    const { error, ms } = await run(api, { signal: controller.signal, timeoutMs: 10_000 });
    assert.equal(error?.kind, 'aborted');
    assert.match(error?.message ?? '', /stopped waiting for GMConnector chatqa\/chatqa: aborted; last seen 0 of 3 services ready/);
    assert.ok(ms < 2_000, `${ms} ms`);
    const early = await run(api, { signal: AbortSignal.abort() });
    assert.equal(early.error?.kind, 'aborted');
  });

  it('never puts the HF token in an error, even when the server echoes it', async () => {
    const echo = invalidStatus('Secret', '', HF_TOKEN_SECRET, [{ field: 'stringData[HF_TOKEN]', reason: 'FieldValueInvalid', message: `Invalid value: "${HF}"` }]);
    const api = await fake({ namespaces: [NS], faults: [{ method: 'POST', path: /secrets$/, status: echo }] });
    const { error } = await run(api);
    assert.equal(error?.kind, 'invalid');
    assert.ok(!error?.message.includes(HF));
    assert.match(error?.message ?? '', /Invalid value: "\*\*\*"/);
  });

  it('one name for the HF token Secret: the Ansible bundle uses the same constant', () => {
    assert.equal(gmcPipelineDefaults().gmc_pipeline_hf_token_secret, HF_TOKEN_SECRET);
  });

  describe('the fake API server enforces the protocol', () => {
    let api: FakeKubeApi;
    before(async () => {
      api = await fake({ token: undefined, namespaces: [NS], gmconnectors: [{ object: connector(), manager: 'kubectl' }] });
    });

    function patch(query: string, contentType: string, body: unknown): Promise<{ code: number; body: Record<string, unknown> }> {
      return new Promise((resolve, reject) => {
        const text = JSON.stringify(body);
        const req = http.request(`${api.url}/apis/gmc.opea.io/v1alpha3/namespaces/${NS}/gmconnectors/${NAME}?${query}`, { method: 'PATCH', headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(text) } }, (res) => {
          let data = '';
          res.on('data', (c) => (data += c));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body: JSON.parse(data) }));
        });
        req.on('error', reject);
        req.end(text);
      });
    }

    it('415 for any content type but apply, 422 without a field manager', async () => {
      const merge = await patch('fieldManager=x', 'application/json', connector());
      assert.equal(merge.code, 415);
      assert.equal(merge.body.reason, 'UnsupportedMediaType');
      const noManager = await patch('', 'application/apply-patch+yaml', connector());
      assert.equal(noManager.code, 422);
      assert.equal(noManager.body.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
      assert.deepEqual((noManager.body.details as { causes: unknown[] }).causes, [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }]);
    });

    it('409 with FieldManagerConflict causes without force; dry run stores nothing; force takes the field', async () => {
      const changed = connector({ routerConfig: { name: 'router', serviceName: 'other' } });
      const conflict = await patch('fieldManager=me', 'application/apply-patch+yaml', changed);
      assert.equal(conflict.code, 409);
      assert.equal(conflict.body.kind, 'Status');
      assert.equal(conflict.body.message, 'Apply failed with 1 conflict: conflict with "kubectl" using gmc.opea.io/v1alpha3: .spec.routerConfig.serviceName');
      const same = await patch('fieldManager=me', 'application/apply-patch+yaml', connector());
      assert.equal(same.code, 200, 'the same values are shared, not a conflict');
      const dry = await patch('fieldManager=me&force=true&dryRun=All', 'application/apply-patch+yaml', changed);
      assert.equal(dry.code, 200);
      assert.equal(((api.gmconnectors.get(`${NS}/${NAME}`)?.object.spec as Record<string, Record<string, string>>).routerConfig.serviceName), 'router-service');
      const forced = await patch('fieldManager=me&force=true', 'application/apply-patch+yaml', changed);
      assert.equal(forced.code, 200);
      assert.equal((forced.body.metadata as { generation: number }).generation, 2);
      assert.deepEqual([...(api.gmconnectors.get(`${NS}/${NAME}`)?.owners.get('.spec.routerConfig.serviceName') ?? [])], ['me']);
      assert.equal(api.limitHit, false);
    });
  });
});
