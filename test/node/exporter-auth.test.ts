/**
 * The export route's permission check on a real Node-RED runtime with adminAuth: the test helper's
 * RED.auth lets every request through (it has no admin API), so this starts Node-RED itself, in a
 * child process, for each runtime.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exampleFlow } from '../support/reference';
import { startAdminRuntime } from '../support/admin-runtime-process';
import { RUNTIMES } from '../support/runtimes';

const QUERY_TAB = 'c0a1e5f0a0000001';


for (const runtime of RUNTIMES) {
  describe(`opea-exporter admin route with adminAuth (Node-RED ${runtime.version}, real runtime)`, function () {
    this.timeout(60_000);
    let userDir = '';
    let child: ChildProcess | undefined;
    let url = '';
    const flow = [...(exampleFlow('chatqna.json') as unknown[]), { id: 'exp', type: 'opea-exporter', z: QUERY_TAB, name: '', targets: ['gmc'], download: true, wires: [] }];
    const post = (token?: string) =>
      fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(flow) });

    before(async () => {
      userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-auth-'));
      const started = await startAdminRuntime(runtime.path, userDir, 'auth', 30_000);
      child = started.child;
      url = `http://127.0.0.1:${started.port}/admin/opea-exporter/exp/export`;
    });
    after(async () => {
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child?.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(userDir, { recursive: true, force: true });
    });

    it('answers 401 to a request without a token', async () => {
      const res = await post();
      assert.equal(res.status, 401);
    });

    it('answers 401 to a user with read permission only (opea-exporter.write is needed)', async () => {
      // The reader's token is valid: it reads the flows, so the 401 is about the permission.
      const flows = await fetch(url.replace(/opea-exporter\/.*$/, 'flows'), { headers: { Authorization: 'Bearer reader-token' } });
      assert.equal(flows.status, 200);
      assert.equal((await post('reader-token')).status, 401);
      assert.equal((await post('no-such-token')).status, 401);
    });

    it('exports for a user with the permission', async () => {
      const res = await post('writer-token');
      assert.equal(res.status, 200, await res.clone().text());
      assert.equal(res.headers.get('content-type'), 'application/zip');
      assert.equal(res.headers.get('content-disposition'), 'attachment; filename="chatqna.zip"');
      const zip = Buffer.from(await res.arrayBuffer());
      assert.equal(zip.readUInt32LE(0), 0x04034b50);
    });
  });
}
