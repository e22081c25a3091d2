/**
 * `opea-flow deploy` as a user runs it: the built CLI spawned against the loopback fake Kubernetes API
 * server, with the kubeconfig given by --kubeconfig or by KUBECONFIG.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeKubeApi, FakeKubeOptions, forbiddenStatus, writeKubeconfig } from '../support/fake-kube-api';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.resolve(__dirname, '..', '..', 'bin', 'opea-flow.js');
const FLOW = path.join(ROOT, 'flows', 'chatqna.json');
const TOKEN = 'cli-cluster-token';
const HF = 'hf_CliSecretToken987654321';

describe('opea-flow deploy', function () {
  this.timeout(60_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-deploy-cli-'));
  const servers: FakeKubeApi[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function fake(options: FakeKubeOptions = {}): Promise<{ api: FakeKubeApi; kubeconfig: string }> {
    const api = await FakeKubeApi.start({ token: TOKEN, ...options });
    servers.push(api);
    const kubeconfig = writeKubeconfig(path.join(dir, `kubeconfig-${servers.length}`), api.url, TOKEN);
    return { api, kubeconfig };
  }

  function cli(args: string[], env: Record<string, string | undefined> = {}, command = 'deploy'): Promise<{ code: number; stdout: string; stderr: string }> {
    const base: Record<string, string | undefined> = { ...process.env, HOME: dir, KUBECONFIG: undefined, HF_TOKEN: undefined, KUBERNETES_SERVICE_HOST: undefined };
    const merged = Object.fromEntries(Object.entries({ ...base, ...env }).filter(([, v]) => v !== undefined)) as Record<string, string>;
    return new Promise((resolve) => {
      execFile(process.execPath, [CLI, command, ...args], { env: merged, timeout: 45_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  it('deploys the exported GMConnector, waits until ready and prints the result as JSON', async () => {
    const { api, kubeconfig } = await fake({
      timeline: [
        { afterMs: 100, status: { status: '0/0/8' } },
        { afterMs: 400, status: { status: '8/0/8', accessUrl: 'http://router-service.rag.svc.cluster.local:8080' } },
      ],
    });
    const { code, stdout, stderr } = await cli([FLOW, '--kubeconfig', kubeconfig, '--name', 'rag', '--namespace', 'rag', '--wait', '20'], { HF_TOKEN: HF });
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), { name: 'rag', namespace: 'rag', dryRun: false, ready: true, status: '8/0/8', accessUrl: 'http://router-service.rag.svc.cluster.local:8080', created: { namespace: true, secret: true } });
    assert.match(stderr, /opea-flow deploy: \[namespace\] created namespace rag\n/);
    assert.match(stderr, /opea-flow deploy: \[secret\] created Secret hf-token \(key HF_TOKEN\) in rag\n/);
    assert.match(stderr, /opea-flow deploy: \[waiting\] GMConnector rag\/rag: 0 of 8 services ready/);
    assert.match(stderr, /opea-flow deploy: \[ready\] GMConnector rag\/rag is ready: 8 of 8 services/);
    assert.ok(!stdout.includes(HF) && !stderr.includes(HF));
    const [apply] = api.applies;
    assert.equal(apply.contentType, 'application/apply-patch+yaml');
    const cr = JSON.parse(apply.body);
    assert.equal(cr.metadata.name, 'rag');
    assert.equal(cr.metadata.labels['app.kubernetes.io/managed-by'], 'node-red-contrib-opea');
    assert.deepEqual(
      cr.spec.nodes.root.steps.map((s: { name: string }) => s.name),
      ['Embedding', 'TeiEmbedding', 'Retriever', 'VectorDB', 'Reranking', 'TeiReranking', 'Llm', 'Tgi', 'DataPrep'],
    );
    assert.equal(Buffer.from((api.secrets.get('rag/hf-token') as { data: Record<string, string> }).data.HF_TOKEN, 'base64').toString(), HF);
  });

  it('--dry-run changes nothing and exits 0; --wait 0 returns after the apply; KUBECONFIG is read', async () => {
    const { api, kubeconfig } = await fake({ namespaces: ['chatqna'] });
    const dry = await cli([FLOW, '--dry-run'], { KUBECONFIG: kubeconfig });
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(JSON.parse(dry.stdout).dryRun, true);
    assert.match(dry.stderr, new RegExp(`\\[connect\\] cluster ${api.url.replace(/\./g, '\\.')} \\(context x, from KUBECONFIG \\(`));
    assert.equal(api.gmconnectors.size, 0);
    assert.equal(api.applies[0].query.get('dryRun'), 'All');
    const quick = await cli([FLOW, '--kubeconfig', kubeconfig, '--wait', '0']);
    assert.equal(quick.code, 0, quick.stderr);
    assert.deepEqual(JSON.parse(quick.stdout), { name: 'chatqna', namespace: 'chatqna', dryRun: false, ready: false, created: { namespace: false, secret: false } });
    assert.ok(api.gmconnectors.has('chatqna/chatqna'));
    assert.match(quick.stderr, /\[secret\] no HF token given/);
  });

  it('exits 1 with the deploy error when GMC is not installed, and 1 on timeout', async () => {
    const { kubeconfig } = await fake({ crdInstalled: false });
    const missing = await cli([FLOW, '--kubeconfig', kubeconfig]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /opea-flow deploy: not-installed: GMC is not installed in the cluster: the gmc\.opea\.io GMConnector CRD is missing — install GMC first/);
    const slow = await fake({ timeline: [{ afterMs: 50, status: { status: '2/0/8' } }] });
    const late = await cli([FLOW, '--kubeconfig', slow.kubeconfig, '--wait', '1']);
    assert.equal(late.code, 1);
    assert.match(late.stderr, /opea-flow deploy: timeout: GMConnector chatqna\/chatqna was not ready within 1 s; last seen 2 of 8 services ready/);
  });

  it('exits 2 for bad arguments and flow problems, sending nothing', async () => {
    const { api, kubeconfig } = await fake();
    const badWait = await cli([FLOW, '--kubeconfig', kubeconfig, '--wait', 'soon']);
    assert.equal(badWait.code, 2);
    assert.match(badWait.stderr, /--wait must be a number of seconds, 0 or more, not 'soon'/);
    const badPlatform = await cli([FLOW, '--kubeconfig', kubeconfig, '--platform', 'arm']);
    assert.equal(badPlatform.code, 2);
    assert.match(badPlatform.stderr, /unknown platform 'arm'/);
    const noFlow = await cli([path.join(dir, 'missing.json'), '--kubeconfig', kubeconfig]);
    assert.equal(noFlow.code, 2);
    assert.match(noFlow.stderr, /cannot read the flow file \(ENOENT\) — check the path/);
    const offline = await cli([path.join(ROOT, 'flows', 'chatqna-offline.json'), '--kubeconfig', kubeconfig]);
    assert.equal(offline.code, 2);
    assert.match(offline.stderr, /node .*: /);
    const none = await cli([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /FLOW is missing/);
    assert.equal(api.requests.length, 0);
  });

  describe('--target helm --apply, status and delete', () => {
    it('applies the chart\'s manifests, waits for every Deployment, then status says ready and delete removes it all (exit 0 each)', async () => {
      const { api, kubeconfig } = await fake({ deployments: { availableAfterMs: 100 } });
      const deployed = await cli([FLOW, '--kubeconfig', kubeconfig, '--target', 'helm', '--apply', '--wait', '30'], { HF_TOKEN: HF });
      assert.equal(deployed.code, 0, deployed.stderr);
      const result = JSON.parse(deployed.stdout);
      assert.equal(result.name, 'chatqna');
      assert.equal(result.namespace, 'chatqna');
      assert.equal(result.ready, true);
      assert.equal(result.accessUrl, 'http://gateway.chatqna.svc.cluster.local:8888');
      assert.ok(result.deployments.length >= 5 && result.deployments.every((d: { ready: boolean }) => d.ready), deployed.stdout);
      assert.deepEqual(result.created, { namespace: true, secret: true });
      assert.equal(api.stored('deployments').size, result.deployments.length);
      assert.ok(api.stored('configmaps').has('chatqna/router-graph'));
      assert.match(deployed.stderr, /\[ready\] Deployments of chatqna: \d+ of \d+ available\n/);
      assert.ok(!deployed.stdout.includes(HF) && !deployed.stderr.includes(HF));

      const status = await cli(['chatqna', '--kubeconfig', kubeconfig], {}, 'status');
      assert.equal(status.code, 0, status.stderr);
      const reported = JSON.parse(status.stdout);
      assert.equal(reported.ready, true);
      assert.equal(reported.namespace, 'chatqna', 'the namespace defaults to NAME, as deploy\'s does');
      assert.equal(reported.accessUrl, 'http://gateway.chatqna.svc.cluster.local:8888');

      const removed = await cli(['chatqna', '-n', 'chatqna', '--kubeconfig', kubeconfig], {}, 'delete');
      assert.equal(removed.code, 0, removed.stderr);
      const outcomes = JSON.parse(removed.stdout).outcomes as { object: string; outcome: string }[];
      assert.ok(outcomes.every((o) => o.outcome === 'deleted'), removed.stdout);
      assert.equal(outcomes[outcomes.length - 1].object, 'Namespace chatqna');
      assert.match(removed.stderr, /opea-flow delete: Deployment llm: deleted\n/);
      assert.equal(api.stored('deployments').size, 0);
    });

    it('status exits 3 while not ready and 1 for nothing found; delete exits 1 naming the object it could not delete', async () => {
      const { kubeconfig } = await fake({ deployments: false, faults: [{ method: 'DELETE', path: /services\/llm$/, status: forbiddenStatus('dev', 'delete', 'services', '', 'rag', 'llm') }] });
      const applied = await cli([FLOW, '--kubeconfig', kubeconfig, '--target', 'helm', '--apply', '--wait', '0', '--name', 'rag', '--namespace', 'rag']);
      assert.equal(applied.code, 0, applied.stderr);
      const status = await cli(['rag', '-n', 'rag', '--kubeconfig', kubeconfig], {}, 'status');
      assert.equal(status.code, 3, status.stderr);
      assert.equal(JSON.parse(status.stdout).ready, false);
      const none = await cli(['nope', '-n', 'rag', '--kubeconfig', kubeconfig], {}, 'status');
      assert.equal(none.code, 1);
      assert.match(none.stderr, /^opea-flow status: not-found: nothing of pipeline nope in namespace rag/);
      const removed = await cli(['rag', '-n', 'rag', '--kubeconfig', kubeconfig], {}, 'delete');
      assert.equal(removed.code, 1);
      assert.match(removed.stderr, /opea-flow delete: Service llm: failed — not allowed to delete services in namespace rag \(403 Forbidden: .*\) while deleting Service llm — ask a cluster admin for a Role \(or ClusterRole\) granting "delete" on services in rag/);
      assert.match(removed.stderr, /opea-flow delete: Namespace rag: kept — deploy created it, but 1 object of the pipeline could not be deleted/);
      assert.match(removed.stderr, /opea-flow delete: 1 object of rag could not be deleted \(see above\); run delete again once fixed\n$/);
      assert.equal(JSON.parse(removed.stdout).failed, 1);
    });

    it('exits 2 for bad arguments, sending nothing', async () => {
      const { api, kubeconfig } = await fake();
      const noApply = await cli([FLOW, '--kubeconfig', kubeconfig, '--target', 'helm']);
      assert.equal(noApply.code, 2);
      assert.match(noApply.stderr, /--target helm needs --apply/);
      const compose = await cli([FLOW, '--kubeconfig', kubeconfig, '--target', 'compose']);
      assert.equal(compose.code, 2);
      assert.match(compose.stderr, /deploy --target takes gmc or helm, not 'compose'/);
      const noName = await cli(['--kubeconfig', kubeconfig], {}, 'status');
      assert.equal(noName.code, 2);
      assert.match(noName.stderr, /NAME is missing/);
      const badName = await cli(['Chat_QnA', '--kubeconfig', kubeconfig], {}, 'delete');
      assert.equal(badName.code, 2);
      assert.match(badName.stderr, /'Chat_QnA' is not a pipeline name/);
      assert.equal(api.requests.length, 0);
    });
  });
});
