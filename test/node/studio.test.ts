import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultUserDir, parseStudioArgs } from '../../bin/studio';
import { firstRunFlows, whyNotOffline } from '../../bin/studio-flows';
import { FlowNode, STUDIO, startStudio, type StudioProcess } from '../support/editor';
import { REPO_ROOT } from '../support/reference';

const PACK_TYPES = new Set(Object.keys((JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } })['node-red'].nodes));
const OFFLINE = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'flows', 'chatqna-offline.json'), 'utf8')) as FlowNode[];
const CHATQNA = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'flows', 'chatqna.json'), 'utf8')) as FlowNode[];

/** Asks until the answer names IBM: the start-up ingest of the sample documents runs half a second after the flows start. */
async function askUntilAnswered(studio: StudioProcess, limitMs = 20_000): Promise<{ text: string; prompt: string }> {
  const until = Date.now() + limitMs;
  for (;;) {
    const { status, body } = await studio.post('/v1/chatqna', { text: 'Who developed Node-RED?' });
    if (status === 200 && /IBM/.test(String(body?.text))) return body as { text: string; prompt: string };
    if (Date.now() > until) throw new Error(`no answer naming IBM within ${limitMs} ms; last: ${status} ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('studio (npm start)', function () {
  this.timeout(120_000);
  let dir: string;
  let studio: StudioProcess | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-studio-test-'));
  });
  afterEach(async () => {
    await studio?.stop('SIGKILL');
    studio = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens the editor with the offline ChatQnA on the first tab, answers, keeps an edited flows file on restart, and stops on SIGINT', async () => {
    const userDir = path.join(dir, 'user');
    studio = await startStudio({ userDir });
    assert.match(studio.output(), /^Node-RED editor: http:\/\/127\.0\.0\.1:\d+\/$/m);
    assert.match(studio.output(), /First run: wrote the example flows/);

    const page = await fetch(studio.url);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<title>Node-RED · OPEA studio<\/title>/);

    const flows = await studio.flows();
    const tabs = flows.filter((n) => n.type === 'tab');
    assert.equal(tabs[0].label, 'ChatQnA (offline)', 'the query pipeline is the first tab');
    const ids = new Set(flows.map((n) => n.id));
    assert.ok(OFFLINE.every((n) => ids.has(n.id)), 'the first run holds the offline example');
    assert.ok(!CHATQNA.some((n) => ids.has(n.id)), 'and not the one that needs model servers');
    const labels = tabs.map((t) => String(t.label));
    assert.equal(new Set(labels).size, labels.length, `tab labels are unique: ${labels.join(', ')}`);
    assert.ok(flows.some((n) => n.type === 'opea-llm' && n.z === tabs[0].id));

    const answer = await askUntilAnswered(studio);
    // Every example on a tab deployed and ran its start-up messages without an error.
    assert.doesNotMatch(studio.output(), /\[error\]/, studio.output());
    assert.match(answer.text, /originally developed by IBM/);
    assert.match(answer.prompt, /### Question: Who developed Node-RED\?/);

    const first = await studio.stop('SIGINT');
    studio = undefined;
    assert.equal(first.code, 0, first.signal ?? '');
    assert.ok(first.ms < 5000, `stopped in ${first.ms} ms`);

    // The user edits the flows (as Deploy would write them): the studio must not bring the examples back.
    const file = path.join(userDir, 'flows.json');
    const edited = (JSON.parse(fs.readFileSync(file, 'utf8')) as FlowNode[]).filter((n) => n.type !== 'debug').map((n) => (n.type === 'tab' && n.label === 'ChatQnA (offline)' ? { ...n, label: 'My pipeline' } : n));
    const text = `${JSON.stringify(edited, null, 2)}\n`;
    fs.writeFileSync(file, text);
    studio = await startStudio({ userDir });
    assert.doesNotMatch(studio.output(), /First run/);
    const again = await studio.flows();
    assert.equal(again.find((n) => n.type === 'tab')?.label, 'My pipeline');
    assert.ok(!again.some((n) => n.type === 'debug'));
    assert.match((await askUntilAnswered(studio)).text, /IBM/);
    assert.equal(fs.readFileSync(file, 'utf8'), text, 'the flows file is untouched');

    const second = await studio.stop('SIGTERM');
    studio = undefined;
    assert.equal(second.code, 0);
    assert.ok(second.ms < 5000, `stopped in ${second.ms} ms`);
  });

  it('exits 2 with a clear message when the port is taken', async () => {
    studio = await startStudio({ userDir: path.join(dir, 'a') });
    const port = new URL(studio.url).port;
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [STUDIO, '--port', port, '--user-dir', path.join(dir, 'b')], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use.*--port N`));
  });

  it('reads flags before the environment, and picks a user directory that is never ~/.node-red', () => {
    const env = { PORT: '1999', OPEA_STUDIO_HOST: '127.0.0.2', OPEA_STUDIO_USER_DIR: '/tmp/from-env' };
    assert.deepEqual(parseStudioArgs([], env), { host: '127.0.0.2', port: 1999, userDir: '/tmp/from-env' });
    assert.deepEqual(parseStudioArgs(['--port', '0', '--host=::1', '--user-dir', 'rel'], env), { host: '::1', port: 0, userDir: path.resolve('rel') });
    assert.equal(parseStudioArgs(['--help'], {}), 'help');
    assert.throws(() => parseStudioArgs(['--port', 'eighty'], {}), /--port must be a port number/);
    assert.throws(() => parseStudioArgs(['--verbose'], {}), /unknown argument --verbose/);
    assert.deepEqual(parseStudioArgs([], {}), { host: '127.0.0.1', port: 1880, userDir: defaultUserDir() });
    // A clone keeps its own .node-red/; an installed copy (under node_modules) uses the home directory.
    assert.equal(defaultUserDir(REPO_ROOT), path.join(REPO_ROOT, '.node-red'));
    assert.equal(defaultUserDir('/usr/lib/node_modules/node-red-contrib-opea'), path.join(os.homedir(), '.node-red-opea'));
  });

  it('puts on tabs only the examples that deploy offline; the rest are left to Import > Examples', () => {
    const { flows, included, skipped } = firstRunFlows(path.join(REPO_ROOT, 'flows'), PACK_TYPES);
    assert.equal(included[0], 'chatqna-offline.json');
    assert.equal(flows.find((n) => n.type === 'tab')?.label, 'ChatQnA (offline)');
    const chatqna = skipped.find((s) => s.file === 'chatqna.json');
    // The servers by name and URL, not the node types that call them.
    assert.match(chatqna?.why ?? '', /^needs model servers: TEI embedding at http:\/\/localhost:6006; .*TGI at http:\/\/localhost:9009/);
    assert.doesNotMatch(chatqna?.why ?? '', /opea-/);
    // The exporter's example exports without any server.
    assert.match(skipped.find((s) => s.file === 'export-all-targets.json')?.why ?? '', /^answers with model servers \(TEI embedding at .*\) and exports without any$/);
    assert.equal(whyNotOffline(OFFLINE, PACK_TYPES), undefined);
    assert.match(whyNotOffline([{ id: 'a', type: 'contrib-sentiment' }], PACK_TYPES) ?? '', /node types a fresh studio may not have \(contrib-sentiment\)/);
    assert.equal(whyNotOffline([{ id: 'a', type: 'opea-llm', name: 'chat', backend: 'vllm' }], PACK_TYPES), 'needs model servers: vLLM for chat');
  });
});
