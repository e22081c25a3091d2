/**
 * The deployment lifecycle against the loopback fake Kubernetes API server, through the real
 * @kubernetes/client-node: plain manifests applied server-side and waited for (deployManifests),
 * status (pipelineStatus) and delete (deletePipeline), including partial failures; and the fake's
 * own rules for Deployments, Services, ConfigMaps and DELETE.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { deployManifests, ManifestDeployOptions } from '../../core/k8s/apply-manifests';
import { deployGmConnector } from '../../core/k8s/deploy';
import { deletePipeline } from '../../core/k8s/delete';
import { CREATED_FOR_ANNOTATION, DEFAULT_FIELD_MANAGER, ENTRY_ANNOTATION, HF_TOKEN_SECRET, MANAGED_BY_LABEL, PIPELINE_LABEL } from '../../core/k8s/names';
import { DeployProgress } from '../../core/k8s/prepare';
import { followReadiness, Readiness } from '../../core/k8s/live';
import { rolloutState } from '../../core/k8s/rollout';
import { DeployError } from '../../core/k8s/session';
import { pipelineStatus } from '../../core/k8s/status';
import { FakeKubeApi, FakeKubeOptions, forbiddenStatus, kubeStatus, writeKubeconfig } from '../support/fake-kube-api';

const TOKEN = 'lifecycle-token';
const HF = 'hf_LifecycleSecret0987654321';
const NAME = 'rag';
const NS = 'rag';

function deployment(name: string, replicas = 1): KubernetesObject {
  const labels = { 'app.kubernetes.io/name': name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name, image: `opea/${name}:1.1` }] } } },
  } as KubernetesObject;
}

function service(name: string, port: number): KubernetesObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { 'app.kubernetes.io/name': name }, ports: [{ name: 'http', port, targetPort: 'http' }] } } as KubernetesObject;
}

/** A small chart's worth: the graph ConfigMap, the router and one microservice, Services listed before the ConfigMap on purpose. */
function manifests(): KubernetesObject[] {
  return [deployment('router-service'), service('router-service', 8080), deployment('llm', 2), service('llm', 9000), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'router-graph' }, data: { 'graph.json': '{"nodes":{}}' } } as KubernetesObject];
}

describe('core/k8s lifecycle: plain manifests, status and delete (fake Kubernetes API server)', function () {
  this.timeout(30_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-k8s-life-'));
  const servers: FakeKubeApi[] = [];
  const seen: string[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    fs.rmSync(dir, { recursive: true, force: true });
    for (const t of seen) assert.ok(!t.includes(HF), `the HF token leaked into: ${t}`);
  });

  async function fake(options: FakeKubeOptions = {}): Promise<{ api: FakeKubeApi; kubeconfig: string }> {
    const api = await FakeKubeApi.start({ token: TOKEN, ...options });
    servers.push(api);
    return { api, kubeconfig: writeKubeconfig(path.join(dir, `kubeconfig-${servers.length}`), api.url, TOKEN) };
  }

  async function apply(kubeconfig: string, options: Partial<ManifestDeployOptions> = {}) {
    const progress: DeployProgress[] = [];
    try {
      const result = await deployManifests({ name: NAME, namespace: NS, objects: manifests(), entry: { service: 'router-service', port: 8080 }, kubeconfig, timeoutMs: 10_000, hfToken: HF, onProgress: (p) => (progress.push(p), seen.push(p.text)), ...options });
      return { result, progress };
    } catch (err) {
      if (!(err instanceof DeployError)) throw err;
      seen.push(err.message);
      return { error: err, progress };
    }
  }

  const labels = (api: FakeKubeApi, plural: string, key: string) => (api.stored(plural).get(key)?.object.metadata as { labels?: Record<string, string> } | undefined)?.labels;

  describe('deploy --target helm --apply (deployManifests)', () => {
    it('creates namespace and Secret, applies each object server-side in install order with the ownership labels, and waits until every Deployment is available', async () => {
      const { api, kubeconfig } = await fake({ deployments: { availableAfterMs: 300 } });
      const started = Date.now();
      const { result, error, progress } = await apply(kubeconfig);
      assert.equal(error, undefined, error?.message);
      assert.ok(Date.now() - started >= 250, 'returned before the controller made the Deployments available');
      assert.deepEqual(result, {
        name: NAME,
        namespace: NS,
        dryRun: false,
        ready: true,
        applied: ['ConfigMap router-graph', 'Service router-service', 'Service llm', 'Deployment router-service', 'Deployment llm'],
        deployments: [
          { name: 'router-service', ready: true, text: '1 of 1 replicas available' },
          { name: 'llm', ready: true, text: '2 of 2 replicas available' },
        ],
        accessUrl: 'http://router-service.rag.svc.cluster.local:8080',
        created: { namespace: true, secret: true },
      });
      const patches = api.applies;
      assert.deepEqual(patches.map((r) => r.path), [
        '/api/v1/namespaces/rag/configmaps/router-graph',
        '/api/v1/namespaces/rag/services/router-service',
        '/api/v1/namespaces/rag/services/llm',
        '/apis/apps/v1/namespaces/rag/deployments/router-service',
        '/apis/apps/v1/namespaces/rag/deployments/llm',
      ]);
      for (const r of patches) {
        assert.equal(r.contentType, 'application/apply-patch+yaml');
        assert.equal(r.query.get('fieldManager'), DEFAULT_FIELD_MANAGER);
        assert.equal(r.query.get('force'), 'true');
      }
      for (const [plural, key] of [['deployments', 'rag/llm'], ['services', 'rag/llm'], ['configmaps', 'rag/router-graph'], ['secrets', `rag/${HF_TOKEN_SECRET}`], ['namespaces', 'rag']]) {
        assert.equal(labels(api, plural, key)?.[PIPELINE_LABEL], NAME, `${plural} ${key}`);
        assert.equal(labels(api, plural, key)?.[MANAGED_BY_LABEL], DEFAULT_FIELD_MANAGER, `${plural} ${key}`);
      }
      assert.equal((api.stored('namespaces').get(NS)?.object.metadata as { annotations: Record<string, string> }).annotations[CREATED_FOR_ANNOTATION], NAME);
      assert.equal((api.secrets.get(`${NS}/${HF_TOKEN_SECRET}`)?.metadata as { annotations: Record<string, string> }).annotations[CREATED_FOR_ANNOTATION], NAME);
      // The template's labels are left as they are: changing them would restart the pods.
      const llm = api.stored('deployments').get('rag/llm')?.object as { spec: { template: { metadata: { labels: Record<string, string> } } } };
      assert.deepEqual(llm.spec.template.metadata.labels, { 'app.kubernetes.io/name': 'llm' });
      assert.equal((api.stored('services').get('rag/router-service')?.object.metadata as { annotations: Record<string, string> }).annotations[ENTRY_ANNOTATION], '8080');
      // Followed by the informer: a label-selected list, then a watch from its resourceVersion.
      const lists = api.requests.filter((r) => r.path === '/apis/apps/v1/namespaces/rag/deployments' && r.query.get('watch') !== 'true');
      const watches = api.requests.filter((r) => r.path === '/apis/apps/v1/namespaces/rag/deployments' && r.query.get('watch') === 'true');
      assert.equal(lists.length, 2, 'one list to find what to prune, one for the informer');
      assert.equal(watches.length, 1);
      assert.equal(watches[0].query.get('labelSelector'), `${MANAGED_BY_LABEL}=${DEFAULT_FIELD_MANAGER},${PIPELINE_LABEL}=${NAME}`);
      assert.ok(Number(watches[0].query.get('resourceVersion')) > 0);
      const waiting = progress.filter((p) => p.phase === 'waiting');
      assert.match(waiting[0].text, /^Deployments of rag: 0 of 2 available; waiting for router-service \(.*\), llm \(.*\)$/);
      assert.deepEqual(waiting[0].readiness, { ready: 0, total: 2 });
      assert.ok(progress.some((p) => p.phase === 'ready' && p.text === 'rag answers at http://router-service.rag.svc.cluster.local:8080'));
    });

    it('applies again unchanged, and takes over a field another manager set (force)', async () => {
      const { api, kubeconfig } = await fake({ namespaces: [NS], deployments: { availableAfterMs: 50 } });
      const first = await apply(kubeconfig, { hfToken: undefined });
      assert.equal(first.error, undefined, first.error?.message);
      const rv = (api.stored('deployments').get('rag/llm')?.object.metadata as { resourceVersion: string }).resourceVersion;
      const again = await apply(kubeconfig, { hfToken: undefined });
      assert.equal(again.error, undefined, again.error?.message);
      assert.equal((api.stored('deployments').get('rag/llm')?.object.metadata as { resourceVersion: string }).resourceVersion, rv, 'an unchanged apply writes nothing');

      // kubectl scales llm to 5, owning spec.replicas; the next deploy takes the field back.
      const stored = api.stored('deployments').get('rag/llm');
      (stored?.object.spec as { replicas: number }).replicas = 5;
      stored?.owners.set('.spec.replicas', new Set(['kubectl']));
      const taken = await apply(kubeconfig, { hfToken: undefined });
      assert.equal(taken.error, undefined, taken.error?.message);
      assert.equal((api.stored('deployments').get('rag/llm')?.object.spec as { replicas: number }).replicas, 2);
      assert.deepEqual([...(api.stored('deployments').get('rag/llm')?.owners.get('.spec.replicas') ?? [])], [DEFAULT_FIELD_MANAGER]);
    });

    it('removes what an earlier deploy applied and the manifests no longer hold, and nothing else', async () => {
      const other = { ...deployment('other'), metadata: { name: 'other', namespace: NS, labels: { [MANAGED_BY_LABEL]: DEFAULT_FIELD_MANAGER, [PIPELINE_LABEL]: 'other' } } };
      const { api, kubeconfig } = await fake({ namespaces: [NS], objects: [{ object: other, manager: 'kubectl' }], deployments: { availableAfterMs: 20 } });
      const first = await apply(kubeconfig);
      assert.equal(first.error, undefined, first.error?.message);
      const withoutLlm = manifests().filter((o) => o.metadata?.name !== 'llm');
      const dry = await apply(kubeconfig, { objects: withoutLlm, dryRun: true });
      assert.ok(dry.progress.some((p) => p.text === 'Deployment llm removed from rag: the manifests no longer hold it (dry run)'));
      assert.ok(api.stored('deployments').has('rag/llm'), 'a dry run removes nothing');
      const second = await apply(kubeconfig, { objects: withoutLlm });
      assert.equal(second.error, undefined, second.error?.message);
      assert.deepEqual(second.result?.deployments.map((d) => d.name), ['router-service']);
      const removed = second.progress.filter((p) => / removed from rag/.test(p.text)).map((p) => p.text);
      assert.deepEqual(removed, ['Deployment llm removed from rag: the manifests no longer hold it', 'Service llm removed from rag: the manifests no longer hold it']);
      assert.deepEqual([...api.stored('deployments').keys()].sort(), ['rag/other', 'rag/router-service']);
      assert.deepEqual([...api.stored('services').keys()], ['rag/router-service']);
      assert.ok(api.secrets.has(`${NS}/${HF_TOKEN_SECRET}`), 'the HF token Secret is never pruned');
    });

    it('times out naming the Deployment that never became available, and fails at once past its progress deadline', async () => {
      const { kubeconfig } = await fake({ deployments: { availableAfterMs: 50, unavailable: ['llm'] } });
      const { error } = await apply(kubeconfig, { timeoutMs: 1_000 });
      assert.equal(error?.kind, 'timeout');
      assert.match(error?.message ?? '', /^the Deployments of rag in rag were not all available within 1 s; waiting for llm \(0 of 2 updated replicas available\) — they stay applied/);
      assert.match(error?.message ?? '', /kubectl describe deployment NAME -n rag/);

      const stalled = await fake({ deployments: false });
      setTimeout(() => {
        stalled.api.setObjectStatus('deployments', NS, 'llm', { observedGeneration: 1, replicas: 2, updatedReplicas: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "llm-5d9c7b" has timed out progressing.' }] });
      }, 400);
      const started = Date.now();
      const failed = await apply(stalled.kubeconfig, { timeoutMs: 20_000 });
      assert.equal(failed.error?.kind, 'timeout');
      assert.match(failed.error?.message ?? '', /^Deployment llm in rag will not roll out: ReplicaSet "llm-5d9c7b" has timed out progressing\. — kubectl describe deployment llm -n rag/);
      assert.ok(Date.now() - started < 10_000, 'did not wait for the whole timeout');
    });

    it('waits through a failing list (503) and a refused watch, reading the Deployments again every 2 s', async () => {
      const { api, kubeconfig } = await fake({
        deployments: false,
        faults: [
          // The first 503 answers the look for objects to prune, the second the informer's list.
          { method: 'GET', path: /\/deployments$/, watch: false, times: 2, status: kubeStatus(503, 'ServiceUnavailable', 'the server is currently unable to handle the request') },
          { method: 'GET', path: /\/deployments$/, watch: true, status: forbiddenStatus('dev', 'watch', 'deployments', 'apps', NS, '') },
        ],
      });
      // The Deployments become available once a watch has been refused, so only a fresh list can see it.
      const available = (async () => {
        const until = Date.now() + 15_000;
        while (!api.requests.some((r) => r.query.get('watch') === 'true') && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
        for (const [name, replicas] of [['router-service', 1], ['llm', 2]] as const) api.setObjectStatus('deployments', NS, name, { observedGeneration: 1, replicas, updatedReplicas: replicas, availableReplicas: replicas });
      })();
      const { result, error, progress } = await apply(kubeconfig, { timeoutMs: 20_000 });
      await available;
      assert.equal(error, undefined, error?.message);
      assert.equal(result?.ready, true);
      assert.ok(progress.some((p) => p.phase === 'apply' && /^could not look for Deployments the manifests no longer hold, so none was removed: the API server at .* answered 503/.test(p.text)));
      const waiting = progress.filter((p) => p.phase === 'waiting').map((p) => p.text).join('\n');
      assert.match(waiting, /the Deployments of rag in rag: cannot read it right now \(the API server at .* answered 503 ServiceUnavailable while listing the Deployments: the server is currently unable to handle the request\); retrying/);
      assert.match(waiting, /the Deployments of rag in rag: the watch failed \(Forbidden\); reading it every 2 s instead/);
      const lists = api.requests.filter((r) => r.path.endsWith('/deployments') && r.query.get('watch') !== 'true');
      assert.ok(lists.length >= 3 && lists.length <= 7, `${lists.length} lists`);
    });

    it('an apply refused midway names the object and what was applied before it', async () => {
      const { api, kubeconfig } = await fake({ namespaces: [NS], faults: [{ method: 'PATCH', path: /deployments\/llm$/, status: forbiddenStatus('dev', 'patch', 'deployments', 'apps', NS, 'llm') }] });
      const { error } = await apply(kubeconfig, { hfToken: undefined });
      assert.equal(error?.kind, 'forbidden');
      assert.match(error?.message ?? '', /^not allowed to patch deployments\.apps in namespace rag \(403 Forbidden: .*\) while applying Deployment llm — ask a cluster admin/);
      assert.match(error?.message ?? '', /\(4 of 5 objects were applied before it: ConfigMap router-graph, Service router-service, Service llm, Deployment router-service; they stay — fix this and deploy again, or remove them with opea-flow delete rag -n rag\)$/);
      assert.equal(api.stored('deployments').has('rag/llm'), false);
    });

    it('dry run: every write carries dryRun=All and nothing is stored', async () => {
      const { api, kubeconfig } = await fake({ namespaces: [NS] });
      const { result, error } = await apply(kubeconfig, { dryRun: true });
      assert.equal(error, undefined, error?.message);
      assert.equal(result?.ready, false);
      const writes = api.requests.filter((r) => r.method !== 'GET');
      assert.equal(writes.length, 6, writes.map((w) => w.path).join(', '));
      for (const w of writes) assert.equal(w.query.get('dryRun'), 'All', w.path);
      assert.equal(api.stored('deployments').size + api.stored('services').size + api.stored('configmaps').size + api.secrets.size, 0);
    });

    it('refuses manifests that are not objects of their own: a Namespace, a duplicate, no name', async () => {
      const { api, kubeconfig } = await fake();
      const ns = await apply(kubeconfig, { objects: [...manifests(), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }] });
      assert.match(ns.error?.message ?? '', /Namespace x: the manifests may not hold a Namespace — give the namespace with --namespace instead/);
      const twice = await apply(kubeconfig, { objects: [...manifests(), service('llm', 1)] });
      assert.match(twice.error?.message ?? '', /Service llm appears twice in the manifests/);
      const nameless = await apply(kubeconfig, { objects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }] });
      assert.match(nameless.error?.message ?? '', /manifest 1 has no apiVersion, kind or metadata\.name/);
      assert.equal(api.requests.length, 0, 'nothing was sent');
    });
  });

  describe('status', () => {
    it('plain manifests: each Deployment\'s rollout, the Services, the access URL, and what deploy created', async () => {
      const { api, kubeconfig } = await fake({ deployments: false });
      const applied = await apply(kubeconfig, { timeoutMs: 0 });
      assert.equal(applied.error, undefined, applied.error?.message);
      const before = await pipelineStatus({ name: NAME, namespace: NS, kubeconfig });
      assert.equal(before.ready, false);
      assert.deepEqual(before.deployments, [
        { name: 'router-service', ready: false, text: 'waiting for the Deployment controller to see the new spec' },
        { name: 'llm', ready: false, text: 'waiting for the Deployment controller to see the new spec' },
      ]);
      api.setObjectStatus('deployments', NS, 'router-service', { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 });
      api.setObjectStatus('deployments', NS, 'llm', { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 1 });
      const partly = await pipelineStatus({ name: NAME, namespace: NS, kubeconfig });
      assert.deepEqual(partly.deployments.map((d) => d.text), ['1 of 1 replicas available', '1 of 2 updated replicas available']);
      api.setObjectStatus('deployments', NS, 'llm', { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
      const ready = await pipelineStatus({ name: NAME, namespace: NS, kubeconfig });
      assert.equal(ready.ready, true);
      assert.equal(ready.accessUrl, 'http://router-service.rag.svc.cluster.local:8080');
      assert.deepEqual(ready.services.map((s) => [s.name, s.type, s.ports]), [['router-service', 'ClusterIP', [8080]], ['llm', 'ClusterIP', [9000]]]);
      assert.ok(ready.services.every((s) => /^10\.96\.0\.\d+$/.test(s.clusterIP ?? '')), 'the API server assigned cluster IPs');
      assert.deepEqual(ready.configMaps, ['router-graph']);
      assert.equal(ready.namespaceCreatedByDeploy, true);
      assert.equal(ready.hfTokenSecret, 'created by deploy');
      assert.equal(ready.gmc, undefined);
    });

    it('GMC: status, condition, the Deployments GMC lists, and accessUrl', async () => {
      const { api, kubeconfig } = await fake({ namespaces: [NS] });
      const connector = { apiVersion: 'gmc.opea.io/v1alpha3', kind: 'GMConnector', metadata: { name: NAME, namespace: NS }, spec: { routerConfig: { name: 'router', serviceName: 'router-service' }, nodes: { root: { routerType: 'Sequence', steps: [] } } } };
      const deployed = await deployGmConnector({ connector, kubeconfig, timeoutMs: 0 });
      assert.equal(labels(api, 'gmconnectors', 'rag/rag')?.[PIPELINE_LABEL], NAME, 'deploy labels the CR as the pipeline\'s');
      assert.equal(deployed.ready, false);
      api.setStatus(NS, NAME, {
        status: '1/0/2',
        accessUrl: 'http://router-service.rag.svc.cluster.local:8080',
        condition: { type: 'Success', reason: 'Reconciled', message: 'Success' },
        annotations: {
          'Deployment:apps/v1:router-service-deployment:rag': 'Replicas: 1 desired | 1 updated | 1 total | 1 available | 0 unavailable\nConditions:\n  Type: Available\n',
          'Deployment:apps/v1:llm-deployment:rag': 'Replicas: 1 desired | 1 updated | 1 total | 0 available | 1 unavailable\nConditions:\n',
          'ConfigMap:v1:llm-config:rag': 'provisioned',
        },
      });
      const status = await pipelineStatus({ name: NAME, namespace: NS, kubeconfig });
      assert.equal(status.ready, false);
      assert.equal(status.accessUrl, 'http://router-service.rag.svc.cluster.local:8080');
      assert.deepEqual(status.gmc, {
        status: '1/0/2',
        text: '1 of 2 services ready (status 1/0/2)',
        ready: false,
        condition: { type: 'Success', reason: 'Reconciled', message: 'Success' },
        deployments: [
          { name: 'router-service-deployment', text: 'Replicas: 1 desired | 1 updated | 1 total | 1 available | 0 unavailable' },
          { name: 'llm-deployment', text: 'Replicas: 1 desired | 1 updated | 1 total | 0 available | 1 unavailable' },
        ],
      });
      assert.equal(status.namespaceCreatedByDeploy, false);
      assert.equal(status.hfTokenSecret, 'absent');
    });

    it('nothing of the name in the namespace, or no such namespace: not-found, saying what to check', async () => {
      const { kubeconfig } = await fake({ namespaces: [NS], crdInstalled: false });
      await assert.rejects(pipelineStatus({ name: 'nope', namespace: NS, kubeconfig }), (err: DeployError) => {
        assert.equal(err.kind, 'not-found');
        assert.match(err.message, /^nothing of pipeline nope in namespace rag: no GMConnector nope and no object labelled node-red-contrib-opea\/pipeline=nope — check the name and --namespace/);
        return true;
      });
      await assert.rejects(pipelineStatus({ name: NAME, namespace: 'elsewhere', kubeconfig }), /namespace elsewhere does not exist — check --namespace/);
    });
  });

  describe('delete', () => {
    it('removes what deploy created: every labelled object, the Secret and the namespace it created', async () => {
      const { api, kubeconfig } = await fake({ deployments: { availableAfterMs: 20 }, namespaceTerminationMs: 100 });
      const applied = await apply(kubeconfig);
      assert.equal(applied.error, undefined, applied.error?.message);
      const lines: string[] = [];
      const result = await deletePipeline({ name: NAME, namespace: NS, kubeconfig, onProgress: (t) => lines.push(t) });
      assert.equal(result.failed, 0);
      assert.deepEqual(result.outcomes.map((o) => `${o.object}: ${o.outcome}`), [
        'Deployment router-service: deleted',
        'Deployment llm: deleted',
        'Service router-service: deleted',
        'Service llm: deleted',
        'ConfigMap router-graph: deleted',
        `Secret ${HF_TOKEN_SECRET}: deleted`,
        'Namespace rag: deleted',
      ]);
      const deletes = api.requests.filter((r) => r.method === 'DELETE');
      assert.equal(deletes.length, 7);
      for (const d of deletes) assert.equal(d.query.get('propagationPolicy') ?? JSON.parse(d.body || '{}').propagationPolicy, 'Background', d.path);
      assert.equal(api.stored('deployments').size + api.stored('services').size + api.stored('configmaps').size + api.secrets.size, 0);
      assert.equal((api.stored('namespaces').get(NS)?.object.status as { phase: string }).phase, 'Terminating', 'the namespace is being deleted');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(api.namespaces.has(NS), false);
      assert.equal(lines.length, 7);
    });

    it('never deletes a namespace or Secret deploy did not create, nor another pipeline\'s or unlabelled objects', async () => {
      const other = { ...deployment('other'), metadata: { name: 'other', namespace: NS, labels: { [MANAGED_BY_LABEL]: DEFAULT_FIELD_MANAGER, [PIPELINE_LABEL]: 'other' } } };
      const mine = { ...deployment('hand-made'), metadata: { name: 'hand-made', namespace: NS } };
      const { api, kubeconfig } = await fake({ namespaces: [NS], secrets: [{ namespace: NS, name: HF_TOKEN_SECRET, data: { HF_TOKEN: 'theirs' } }], objects: [{ object: other, manager: 'kubectl' }, { object: mine, manager: 'kubectl' }], deployments: { availableAfterMs: 20 } });
      const applied = await apply(kubeconfig);
      assert.equal(applied.error, undefined, applied.error?.message);
      assert.deepEqual(applied.result?.created, { namespace: false, secret: false });
      const result = await deletePipeline({ name: NAME, namespace: NS, kubeconfig });
      assert.equal(result.failed, 0);
      assert.deepEqual(result.outcomes.filter((o) => o.outcome === 'kept'), [
        { object: `Secret ${HF_TOKEN_SECRET}`, outcome: 'kept', reason: 'deploy did not create it (it was there before): an existing Secret is never deleted' },
        { object: 'Namespace rag', outcome: 'kept', reason: 'deploy did not create it' },
      ]);
      assert.deepEqual([...api.stored('deployments').keys()].sort(), ['rag/hand-made', 'rag/other']);
      assert.ok(api.secrets.has(`${NS}/${HF_TOKEN_SECRET}`));
      assert.ok(api.namespaces.has(NS));
      assert.equal(api.requests.filter((r) => r.method === 'DELETE' && /namespaces\/rag$/.test(r.path)).length, 0);
    });

    it('a namespace deploy created is kept when something else lives in it now', async () => {
      const { api, kubeconfig } = await fake({ deployments: { availableAfterMs: 20 } });
      await apply(kubeconfig, { hfToken: undefined });
      api.stored('configmaps').set('rag/notes', { object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'notes', namespace: NS, resourceVersion: '1' }, data: {} }, owners: new Map() });
      const result = await deletePipeline({ name: NAME, namespace: NS, kubeconfig });
      assert.equal(result.failed, 0);
      const ns = result.outcomes.find((o) => o.object === 'Namespace rag');
      assert.equal(ns?.outcome, 'kept');
      assert.match(ns?.reason ?? '', /deploy created it, but it holds other objects now \(ConfigMap notes\) — kubectl delete namespace rag removes it with them/);
      assert.ok(api.namespaces.has(NS));
    });

    it('partial failure: a Deployment whose DELETE answers 403 is reported with the fix, the rest is deleted, the namespace kept', async () => {
      const { api, kubeconfig } = await fake({ deployments: { availableAfterMs: 20 }, faults: [{ method: 'DELETE', path: /deployments\/llm$/, status: forbiddenStatus('dev', 'delete', 'deployments', 'apps', NS, 'llm') }] });
      const applied = await apply(kubeconfig);
      assert.equal(applied.error, undefined, applied.error?.message);
      const result = await deletePipeline({ name: NAME, namespace: NS, kubeconfig });
      assert.equal(result.failed, 1);
      const failed = result.outcomes.filter((o) => o.outcome === 'failed');
      assert.equal(failed.length, 1);
      assert.equal(failed[0].object, 'Deployment llm');
      assert.match(failed[0].reason ?? '', /^not allowed to delete deployments\.apps in namespace rag \(403 Forbidden: deployments\.apps "llm" is forbidden: User "dev" cannot delete .*\) while deleting Deployment llm — ask a cluster admin for a Role \(or ClusterRole\) granting "delete" on deployments\.apps in rag/);
      assert.deepEqual(result.outcomes.filter((o) => o.outcome === 'deleted').map((o) => o.object), ['Deployment router-service', 'Service router-service', 'Service llm', 'ConfigMap router-graph', `Secret ${HF_TOKEN_SECRET}`]);
      const ns = result.outcomes.find((o) => o.object === 'Namespace rag');
      assert.deepEqual(ns, { object: 'Namespace rag', outcome: 'kept', reason: 'deploy created it, but 1 object of the pipeline could not be deleted: fix that and run delete again' });
      assert.deepEqual([...api.stored('deployments').keys()], ['rag/llm']);
      assert.ok(api.namespaces.has(NS));
    });

    it('GMC: deletes the GMConnector deploy labelled, keeps one applied by something else, and a dry run deletes nothing', async () => {
      const connector = (name: string, labels?: Record<string, string>) => ({ apiVersion: 'gmc.opea.io/v1alpha3', kind: 'GMConnector', metadata: { name, namespace: NS, ...(labels ? { labels } : {}) }, spec: { nodes: {} } });
      const { api, kubeconfig } = await fake({ namespaces: [NS], gmconnectors: [{ object: connector('foreign'), manager: 'kubectl' }] });
      await deployGmConnector({ connector: connector(NAME), kubeconfig, timeoutMs: 0 });
      const dry = await deletePipeline({ name: NAME, namespace: NS, kubeconfig, dryRun: true });
      assert.deepEqual(dry.outcomes.map((o) => `${o.object}: ${o.outcome}`), ['GMConnector rag: deleted', 'Namespace rag: kept']);
      assert.equal(api.gmconnectors.size, 2, 'a dry run deletes nothing');
      assert.ok(api.requests.filter((r) => r.method === 'DELETE').every((r) => r.query.get('dryRun') === 'All'));
      const real = await deletePipeline({ name: NAME, namespace: NS, kubeconfig });
      assert.equal(real.failed, 0);
      assert.deepEqual([...api.gmconnectors.keys()], ['rag/foreign']);
      const foreign = await deletePipeline({ name: 'foreign', namespace: NS, kubeconfig });
      assert.equal(foreign.outcomes[0].outcome, 'kept');
      assert.match(foreign.outcomes[0].reason ?? '', /does not carry the label node-red-contrib-opea\/pipeline=foreign that opea-flow deploy sets, so it was applied by something else — kubectl delete gmc foreign -n rag removes it/);
      assert.ok(api.gmconnectors.has('rag/foreign'));
    });

    it('nothing of the name: not-found', async () => {
      const { kubeconfig } = await fake({ namespaces: [NS] });
      await assert.rejects(deletePipeline({ name: NAME, namespace: NS, kubeconfig }), (err: DeployError) => err.kind === 'not-found');
    });
  });

  it('following stops for good even when it is stopped before the watch has answered', async () => {
    const { api, kubeconfig } = await fake({ namespaces: [NS], watchHeadersDelayMs: 400, deployments: false });
    await apply(kubeconfig, { timeoutMs: 0, hfToken: undefined });
    const stop = new AbortController();
    const seenReadiness: Readiness[] = [];
    const following = followReadiness({ kubeconfig, name: NAME, namespace: NS, kind: 'manifests', signal: stop.signal }, (r) => seenReadiness.push(r));
    const until = Date.now() + 10_000;
    while (api.openWatches === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    assert.equal(api.openWatches, 1, 'the watch was asked for');
    stop.abort();
    await following;
    assert.deepEqual(seenReadiness, [{ ready: 0, total: 2 }]);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(api.openWatches, 0, 'the watch was closed once it answered');
  });

  it('rollout state as kubectl rollout status reads it', () => {
    const d = (status: Record<string, unknown>, generation = 2, replicas = 3) => rolloutState({ metadata: { name: 'x', generation }, spec: { replicas }, status });
    assert.equal(d({ observedGeneration: 1 }).text, 'waiting for the Deployment controller to see the new spec');
    assert.equal(d({ observedGeneration: 2, updatedReplicas: 1, replicas: 3 }).text, '1 of 3 replicas updated');
    assert.equal(d({ observedGeneration: 2, updatedReplicas: 3, replicas: 4, availableReplicas: 3 }).text, '1 old replicas pending termination');
    assert.equal(d({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 2 }).text, '2 of 3 updated replicas available');
    assert.equal(d({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }).ready, true);
    assert.equal(d({ observedGeneration: 2, conditions: [{ type: 'Progressing', reason: 'ProgressDeadlineExceeded', message: 'timed out' }] }).failed, 'timed out');
  });

  describe('the fake API server enforces the real one\'s rules', () => {
    let api: FakeKubeApi;
    before(async () => {
      ({ api } = await fake({ token: undefined, namespaces: [NS], deployments: false }));
    });

    function request(method: string, url: string, body?: unknown, contentType = 'application/apply-patch+yaml'): Promise<{ code: number; body: Record<string, unknown> }> {
      return new Promise((resolve, reject) => {
        const text = body === undefined ? '' : JSON.stringify(body);
        const req = http.request(`${api.url}${url}`, { method, headers: { 'content-type': contentType, 'content-length': Buffer.byteLength(text) } }, (res) => {
          let data = '';
          res.on('data', (c) => (data += c));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body: JSON.parse(data) }));
        });
        req.on('error', reject);
        req.end(text);
      });
    }
    const at = (plural: string, name: string, group = '') => `${group ? `/apis/${group}` : '/api/v1'}/namespaces/${NS}/${plural}/${name}`;

    it('404 and 422 answers are Status objects; a Deployment whose selector does not match its template is invalid', async () => {
      const missing = await request('GET', at('configmaps', 'nope'));
      assert.deepEqual(missing, { code: 404, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'configmaps "nope" not found', reason: 'NotFound', details: { name: 'nope', kind: 'configmaps' }, code: 404 } });
      const bad = deployment('bad') as { spec: { template: { metadata: { labels: Record<string, string> } } } } & KubernetesObject;
      bad.spec.template.metadata.labels = { other: 'x' };
      const invalid = await request('PATCH', `${at('deployments', 'bad', 'apps/v1')}?fieldManager=t`, bad);
      assert.equal(invalid.code, 422);
      assert.equal(invalid.body.reason, 'Invalid');
      assert.match(String(invalid.body.message), /^Deployment\.apps "bad" is invalid: spec\.template\.metadata\.labels: Invalid value: .*`selector` does not match template `labels`/);
      const noPorts = await request('PATCH', `${at('services', 'np')}?fieldManager=t`, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'np' }, spec: {} });
      assert.equal(noPorts.code, 422);
      assert.equal(noPorts.body.message, 'Service "np" is invalid: spec.ports: Required value');
    });

    it('apply: a field the manager drops is removed unless another manager owns it; a taken field conflicts without force; resourceVersion rises', async () => {
      const cm = (data: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared' }, data });
      const first = await request('PATCH', `${at('configmaps', 'shared')}?fieldManager=a`, cm({ one: '1', two: '2' }));
      assert.equal(first.code, 201);
      const second = await request('PATCH', `${at('configmaps', 'shared')}?fieldManager=b`, cm({ two: '2', three: '3' }));
      assert.equal(second.code, 200, 'the same value of two is shared');
      const conflict = await request('PATCH', `${at('configmaps', 'shared')}?fieldManager=b`, cm({ one: 'uno' }));
      assert.equal(conflict.code, 409);
      assert.equal(conflict.body.message, 'Apply failed with 1 conflict: conflict with "a" using v1: .data.one');
      const dropped = await request('PATCH', `${at('configmaps', 'shared')}?fieldManager=a`, cm({ one: '1' }));
      assert.equal(dropped.code, 200);
      assert.deepEqual((dropped.body as { data: unknown }).data, { one: '1', two: '2', three: '3' }, 'two is still b\'s');
      const rvs = [first, second, dropped].map((r) => Number((r.body.metadata as { resourceVersion: string }).resourceVersion));
      assert.ok(rvs[0] < rvs[1] && rvs[1] < rvs[2], rvs.join(' < '));
      const gone = await request('PATCH', `${at('configmaps', 'shared')}?fieldManager=b`, cm({}));
      assert.deepEqual((gone.body as { data: unknown }).data, { one: '1' }, 'two and three go when b drops them');
    });

    it('DELETE: 422 for an unknown propagationPolicy, Foreground keeps the owner with its finalizer for a while, 404 once gone', async () => {
      await request('PATCH', `${at('deployments', 'fg', 'apps/v1')}?fieldManager=t`, deployment('fg'));
      const bad = await request('DELETE', `${at('deployments', 'fg', 'apps/v1')}?propagationPolicy=Later`);
      assert.equal(bad.code, 422);
      assert.match(String(bad.body.message), /propagationPolicy: Unsupported value: "Later": supported values: "Foreground", "Background", "Orphan", "nil"/);
      const fg = await request('DELETE', `${at('deployments', 'fg', 'apps/v1')}?propagationPolicy=Foreground`);
      assert.equal(fg.code, 200);
      assert.deepEqual((fg.body.metadata as { finalizers: string[] }).finalizers, ['foregroundDeletion']);
      assert.ok((fg.body.metadata as { deletionTimestamp?: string }).deletionTimestamp);
      await new Promise((r) => setTimeout(r, 100));
      const after = await request('DELETE', `${at('deployments', 'fg', 'apps/v1')}`);
      assert.equal(after.code, 404);
      assert.equal(after.body.message, 'deployments.apps "fg" not found');
      await request('PATCH', `${at('configmaps', 'bg')}?fieldManager=t`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bg' } });
      const bg = await request('DELETE', `${at('configmaps', 'bg')}?propagationPolicy=Background`);
      assert.deepEqual(bg.body.status, 'Success');
    });

    it('a namespace being deleted takes no new objects (403 NamespaceTerminating), then is gone with its contents', async () => {
      const { api: other } = await fake({ token: undefined, namespaces: ['t'], namespaceTerminationMs: 150 });
      const put = (name: string) =>
        new Promise<number>((resolve) => {
          const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } });
          const req = http.request(`${other.url}/api/v1/namespaces/t/configmaps/${name}?fieldManager=t`, { method: 'PATCH', headers: { 'content-type': 'application/apply-patch+yaml' } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.end(body);
        });
      assert.equal(await put('a'), 201);
      await new Promise<void>((resolve) => http.request(`${other.url}/api/v1/namespaces/t`, { method: 'DELETE' }, (res) => (res.resume(), resolve())).end());
      assert.equal(await put('b'), 403);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(other.namespaces.has('t'), false);
      assert.equal(other.stored('configmaps').size, 0);
    });
  });
});
