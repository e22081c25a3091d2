/**
 * The OPEA sidebar plugin in real Node-RED runtimes (4.1 and 5.0) with the pack installed as a module
 * and adminAuth on: the runtime lists the plugin and serves its editor part, and its admin routes need
 * `opea-sidebar.read` (a user with only `read` has it; no token, no answer), answer with the wizard's
 * catalog, the tab the wizard writes, and the same problems as `opea-flow validate`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TARGETS } from '../../exporters';
import { exampleFlow } from '../support/reference';
import { startPackagedRuntime, type PackagedRuntime } from '../support/packaged-runtime';
import { RUNTIMES } from '../support/runtimes';

const QUERY_TAB = 'c0a1e5f0a0000001';

for (const runtime of RUNTIMES) {
  describe(`OPEA sidebar plugin (Node-RED ${runtime.version}, installed as a module, adminAuth)`, function () {
    this.timeout(60_000);
    let userDir = '';
    let red: PackagedRuntime | undefined;
    const call = (route: string, token: string | undefined, body?: unknown, accept = 'application/json') =>
      fetch(new URL(route, red!.url), {
        method: body === undefined ? 'GET' : 'POST',
        headers: { Accept: accept, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    before(async () => {
      userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-sidebar-'));
      red = await startPackagedRuntime(runtime.path, userDir, { auth: true, limitMs: 50_000 });
    });
    after(async () => {
      await red?.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    });

    it('loads the plugin: listed by the runtime, its editor part served', async () => {
      const list = await call('plugins', 'reader-token');
      assert.equal(list.status, 200);
      const plugins = (await list.json()) as { module: string; plugins?: { id: string }[] }[];
      const ours = plugins.find((p) => p.module === 'node-red-contrib-opea');
      assert.ok(ours, JSON.stringify(plugins));
      assert.deepEqual(ours.plugins?.map((p) => p.id), ['opea-sidebar']);
      const html = await (await call('plugins', 'reader-token', undefined, 'text/html')).text();
      assert.match(html, /RED\.sidebar\.addTab\(/);
      assert.doesNotMatch(red!.errors(), /opea/i);
    });

    it('refuses a request without a token, answers a user with read permission only', async () => {
      assert.equal((await call('opea-sidebar/catalog', undefined)).status, 401);
      assert.equal((await call('opea-sidebar/catalog', 'no-such-token')).status, 401);
      const res = await call('opea-sidebar/catalog', 'reader-token');
      assert.equal(res.status, 200);
      const catalog = (await res.json()) as { targets: string[]; useCases: { id: string }[] };
      assert.deepEqual(catalog.useCases.map((u) => u.id), ['chatqna', 'chatqna-guardrails', 'retrieval', 'chat']);
      assert.deepEqual(catalog.targets, TARGETS);
      assert.equal((await call('opea-sidebar/check', undefined, { flow: [], tab: 'x' })).status, 401);
      assert.equal((await call('opea-sidebar/pipeline', undefined, { choice: {} })).status, 401);
    });

    it("checks a tab of the editor's flow, with a target's rules when asked", async () => {
      const flow = exampleFlow('chatqna.json') as unknown[];
      const valid = await call('opea-sidebar/check', 'reader-token', { flow, tab: QUERY_TAB, target: 'all' });
      assert.equal(valid.status, 200);
      const answer = (await valid.json()) as { pipeline: boolean; problems: unknown[]; summary: string };
      assert.deepEqual(answer.problems, []);
      assert.ok(answer.summary.endsWith(`valid, exportable to ${TARGETS.join(', ')}`), answer.summary);
      const offline = await call('opea-sidebar/check', 'reader-token', { flow: exampleFlow('chatqna-offline.json'), tab: '0ff1e5f0a0000002', target: 'gmc' });
      const refused = (await offline.json()) as { problems: { target?: string; message: string }[] };
      assert.ok(refused.problems.length > 0 && refused.problems.every((p) => p.target === 'gmc'), JSON.stringify(refused.problems));
      const bad = await call('opea-sidebar/check', 'reader-token', { flow, tab: QUERY_TAB, target: 'helm-chart' });
      assert.equal(bad.status, 400);
      assert.match(JSON.stringify(await bad.json()), /unknown target 'helm-chart'/);
      assert.equal((await call('opea-sidebar/check', 'reader-token', { tab: QUERY_TAB })).status, 400);
    });

    it('writes the tab of a wizard choice, or says what to change', async () => {
      const res = await call('opea-sidebar/pipeline', 'reader-token', { choice: { useCase: 'chat', stages: { llm: { backend: 'extractive' } } }, stores: [] });
      assert.equal(res.status, 200);
      const { flow } = (await res.json()) as { flow: { type: string }[] };
      assert.deepEqual(flow.map((n) => n.type), ['tab', 'http in', 'opea-llm', 'http response', 'catch', 'change', 'http response']);
      const refused = await call('opea-sidebar/pipeline', 'reader-token', { choice: { useCase: 'chat', stages: { llm: { backend: 'tgi', model: '', url: 'localhost:9009' } } } });
      assert.equal(refused.status, 400);
      const problems = ((await refused.json()) as { problems: { label: string; message: string }[] }).problems;
      assert.deepEqual(problems.map((p) => [p.label, p.message]), [
        ['llm', 'the tgi backend needs a model'],
        ['llm', "the server URL 'localhost:9009' is not an http(s) URL"],
      ]);
    });
  });
}
