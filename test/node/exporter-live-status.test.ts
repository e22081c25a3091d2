/**
 * After an apply, the opea-exporter node's status dot follows the GMConnector's readiness live
 * (core/k8s/live.ts through the informer): yellow while GMC reports services not ready, green with
 * the access URL when all are, grey once the GMConnector is deleted; on the real runtime, against
 * the fake Kubernetes API server.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { FakeKubeApi, writeKubeconfig } from '../support/fake-kube-api';
import { exampleFlow } from '../support/reference';
import { helper, nextMessage, onEachRuntime, packNodes, TestNode } from '../support/runtimes';

const QUERY_TAB = 'c0a1e5f0a0000001';
const TOKEN = 'live-status-token';
const ACCESS = 'http://router-service.chatqna.svc.cluster.local:8080';

function coreStubs(RED: { nodes: { createNode(n: object, c: object): void; registerType(t: string, c: unknown): void } }): void {
  for (const type of ['http in', 'http response', 'debug', 'comment', 'switch', 'change']) {
    RED.nodes.registerType(type, function (this: object, config: object) {
      RED.nodes.createNode(this, config);
    });
  }
}

type Status = { fill?: string; shape?: string; text?: string };
type StatusSpy = { args: [Status][] };

/** Resolves with the first status call (after `from` earlier calls) that `test` accepts. */
async function statusWhere(node: TestNode, test: (s: Status) => boolean, ms = 10_000): Promise<Status> {
  const spy = node.status as unknown as StatusSpy;
  const until = Date.now() + ms;
  for (;;) {
    const found = spy.args.map((a) => a[0]).find(test);
    if (found) return found;
    if (Date.now() > until) throw new Error(`no such status within ${ms} ms; seen: ${JSON.stringify(spy.args.map((a) => a[0]))}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

onEachRuntime('opea-exporter live status after apply', (userDir) => {
  let api: FakeKubeApi;
  afterEach(async () => {
    await api?.close();
  });

  it('turns yellow, then green with the access URL as GMC reports readiness, then grey when the GMConnector is deleted', async () => {
    api = await FakeKubeApi.start({ token: TOKEN });
    writeKubeconfig(path.join(userDir(), 'kube.yaml'), api.url, TOKEN);
    const flow = [
      ...(exampleFlow('chatqna.json') as Record<string, unknown>[]),
      { id: 'exp', type: 'opea-exporter', z: QUERY_TAB, name: 'export chatqna', targets: ['gmc'], exportName: '', namespace: '', platform: 'xeon', gmcFlavor: 'upstream', externalUrls: [], download: true, toFolder: false, folder: '', configVersion: 1, apply: true, kubeconfig: 'kube.yaml', wait: 0, wires: [['out']] },
      { id: 'out', type: 'helper', z: QUERY_TAB },
    ];
    await helper.load([...packNodes(), coreStubs], flow);
    const exp = helper.getNode('exp');
    const out = nextMessage(helper.getNode('out'), 20_000);
    exp.receive({ payload: 'go' });
    const msg = await out;
    assert.equal(msg.deploy.ready, false, 'applied without waiting');

    api.setStatus('chatqna', 'chatqna', { status: '3/0/9' });
    assert.deepEqual(await statusWhere(exp, (s) => s.text === '3/9 ready'), { fill: 'yellow', shape: 'ring', text: '3/9 ready' });
    api.setStatus('chatqna', 'chatqna', { status: '9/0/9', accessUrl: ACCESS });
    const ready = await statusWhere(exp, (s) => s.fill === 'green' && (s.text ?? '').startsWith('ready · '));
    assert.match(ready.text ?? '', /^ready · http:\/\/router-service\.chatqna/);
    api.deleteGmConnector('chatqna', 'chatqna');
    assert.deepEqual(await statusWhere(exp, (s) => s.fill === 'grey'), { fill: 'grey', shape: 'ring', text: 'deleted from the cluster' });
    // Followed by the informer: one field-selected list and one watch, no polling.
    const gmcReads = api.requests.filter((r) => r.method === 'GET' && r.path === '/apis/gmc.opea.io/v1alpha3/namespaces/chatqna/gmconnectors');
    assert.ok(gmcReads.length <= 3, `${gmcReads.length} list/watch requests`);
    assert.ok(gmcReads.some((r) => r.query.get('watch') === 'true' && r.query.get('fieldSelector') === 'metadata.name=chatqna'));
  });

  it('stops following when the node closes', async () => {
    api = await FakeKubeApi.start({ token: TOKEN });
    writeKubeconfig(path.join(userDir(), 'kube.yaml'), api.url, TOKEN);
    const flow = [
      ...(exampleFlow('chatqna.json') as Record<string, unknown>[]),
      { id: 'exp', type: 'opea-exporter', z: QUERY_TAB, name: 'export chatqna', targets: ['gmc'], exportName: '', namespace: '', platform: 'xeon', gmcFlavor: 'upstream', externalUrls: [], download: true, toFolder: false, folder: '', configVersion: 1, apply: true, kubeconfig: 'kube.yaml', wait: 0, wires: [['out']] },
      { id: 'out', type: 'helper', z: QUERY_TAB },
    ];
    await helper.load([...packNodes(), coreStubs], flow);
    const out = nextMessage(helper.getNode('out'), 20_000);
    helper.getNode('exp').receive({ payload: 'go' });
    await out;
    await statusWhere(helper.getNode('exp'), (s) => s.text === '0/0 ready');
    // The dot is set from the list; the watch opens right after it.
    const watchBy = Date.now() + 10_000;
    while (api.openWatches === 0 && Date.now() < watchBy) await new Promise((r) => setTimeout(r, 25));
    assert.equal(api.openWatches, 1, 'the status is followed by a watch');
    await helper.unload();
    const until = Date.now() + 5_000;
    while (api.openWatches > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    assert.equal(api.openWatches, 0, 'the watch ended with the node');
    const before = api.requests.length;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(api.requests.length, before, 'no request after close');
  });
});
