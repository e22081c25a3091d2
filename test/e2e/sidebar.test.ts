/**
 * The OPEA sidebar (plugins/opea-sidebar) in the real editor in Chromium, against the studio: the
 * new-pipeline wizard writes a tab that deploys and answers, the live problem list follows edits made
 * in an edit dialog (a click on a problem selects its node), the target selector adds that target's
 * rules, and the export buttons download a zip or list why the tab cannot be exported. The same
 * in Node-RED 5's editor (its new sidebar), the pack installed as a module, with a plain chat on a
 * loopback TGI. Screenshots go to test-output/e2e/.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { overlappingNodes } from '../../core/flow-layout';
import { unzip } from '../support/bundle-files';
import { FakeKubeApi, writeKubeconfig } from '../support/fake-kube-api';
import { Editor, requireBrowser, startStudio, type StudioProcess } from '../support/editor';
import { LlmUpstream } from '../support/llm-upstream';
import { startPackagedRuntime, type PackagedRuntime } from '../support/packaged-runtime';
import { RUNTIMES, type Runtime } from '../support/runtimes';

const SIDEBAR = '#opea-sidebar';

interface StageInput {
  backend: string;
  model?: string;
  url?: string;
  /** label of an existing vector store */
  store?: string;
}

/** Waits until the live check has answered for the current state and its summary matches. */
async function waitForSummary(ed: Editor, pattern: RegExp): Promise<void> {
  await ed.page.waitForFunction(
    (source) => {
      const el = (globalThis as any).document.querySelector('#opea-sidebar-summary');
      return el && !el.classList.contains('opea-sb-busy') && new RegExp(source).test(el.textContent);
    },
    pattern.source,
    { timeout: 20_000 },
  );
}
const problemTexts = (ed: Editor) => ed.page.locator('#opea-sidebar-problems .opea-sb-problem').allInnerTexts();

/** Fills the wizard in as a user does and presses Create; resolves with the new tab's id. */
async function runWizard(ed: Editor, useCase: string, label: string, path: string, stages: Record<string, StageInput>): Promise<string> {
  const page = ed.page;
  const before = await page.evaluate(() => (globalThis as any).RED.nodes.getWorkspaceOrder() as string[]);
  await page.click('#opea-sidebar-new');
  await page.locator('#opea-sidebar-wizard').waitFor({ state: 'visible' });
  await page.locator('#opea-sidebar-usecase').selectOption(useCase);
  await page.locator('#opea-sidebar-label').fill(label);
  await page.locator('#opea-sidebar-path').fill(path);
  for (const [role, input] of Object.entries(stages)) {
    const row = page.locator(`#opea-sidebar-stages .opea-sb-stage[data-role="${role}"]`);
    await row.locator('.opea-sb-backend').selectOption(input.backend);
    if (input.model !== undefined) await row.locator('.opea-sb-model').fill(input.model);
    if (input.url !== undefined) await row.locator('.opea-sb-url').fill(input.url);
    if (input.store !== undefined) {
      const store = await page.evaluate((name) => {
        let id = '';
        (globalThis as any).RED.nodes.eachConfig((n: { type: string; name: string; id: string }) => {
          if (n.type === 'opea-vectorstore' && n.name === name) id = n.id;
        });
        return id;
      }, input.store);
      assert.ok(store, `the editor has a vector store named ${input.store}`);
      await row.locator('.opea-sb-store').selectOption(store);
    }
  }
  await ed.screenshot(`sidebar-wizard-${label}`, '#red-ui-sidebar');
  await page.click('#opea-sidebar-create');
  await page.waitForFunction((known) => !known.includes((globalThis as any).RED.workspaces.active()), before, { timeout: 10_000 });
  return page.evaluate(() => (globalThis as any).RED.workspaces.active() as string);
}

describe('OPEA sidebar in Chromium (end to end)', function () {
  this.timeout(90_000);
  let studio: StudioProcess | undefined;
  let editor: Editor | undefined;
  /** The tab the wizard wrote for the offline ChatQnA, and its nodes by type. */
  let tab = '';
  const ids: Record<string, string> = {};

  before(async function () {
    this.timeout(120_000);
    requireBrowser(this);
    studio = await startStudio();
    editor = await Editor.open(studio, { width: 1600, height: 900 });
  });
  after(async () => {
    await editor?.close();
    const stopped = await studio?.stop('SIGINT');
    if (stopped) assert.equal(stopped.code, 0, `the studio exited ${stopped.code ?? stopped.signal}:\n${studio?.output()}`);
  });

  it('adds an OPEA tab to the sidebar that checks the open tab', async () => {
    const ed = editor!;
    await ed.openSidebarTab('opea', SIDEBAR);
    // The studio opens on the offline ChatQnA: the pipeline alone is valid.
    await waitForSummary(ed, /ChatQnA \(offline\): \d+ components, valid/);
    assert.deepEqual(await problemTexts(ed), []);
    assert.deepEqual(ed.pageErrors, []);
  });

  it('builds an offline ChatQnA with the wizard: a laid-out tab, selected and in view, that deploys and answers', async () => {
    const ed = editor!;
    tab = await runWizard(ed, 'chatqna', 'Wizard ChatQnA', '/v1/wizard', {
      embedding: { backend: 'hashing' },
      retriever: { backend: 'memory', store: 'local store' },
      rerank: { backend: 'bm25' },
      llm: { backend: 'extractive' },
    });
    const nodes = await ed.page.evaluate((z) => {
      const RED = (globalThis as any).RED;
      return RED.nodes.filterNodes({ z }).map((n: any) => ({ id: n.id, type: n.type, name: n.name, x: n.x, y: n.y, w: n.w, h: n.h, z: n.z, wires: n.wires }));
    }, tab);
    for (const n of nodes) ids[n.type === 'http response' ? `response:${n.name}` : n.type] = n.id;
    assert.deepEqual(
      nodes.map((n: { type: string }) => n.type).sort(),
      ['catch', 'change', 'http in', 'http response', 'http response', 'opea-embedding', 'opea-llm', 'opea-rerank', 'opea-retriever'].sort(),
    );
    assert.equal(await ed.page.evaluate((z) => (globalThis as any).RED.nodes.workspace(z).label, tab), 'Wizard ChatQnA');
    // Laid out cleanly: the editor's own rendered sizes (w, h) do not overlap, and the estimate the examples are checked with agrees.
    const rendered = nodes.map((n: any) => ({ ...n, left: n.x - n.w / 2, right: n.x + n.w / 2, top: n.y - n.h / 2, bottom: n.y + n.h / 2 }));
    const clashes = rendered.flatMap((a: any, i: number) => rendered.slice(i + 1).filter((b: any) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom).map((b: any) => `${a.name} / ${b.name}`));
    assert.deepEqual(clashes, []);
    assert.deepEqual(overlappingNodes(nodes), []);
    // Selected and visible on the canvas.
    assert.deepEqual((await ed.selection()).sort(), nodes.map((n: { id: string }) => n.id).sort());
    const chart = await ed.page.locator('#red-ui-workspace-chart').boundingBox();
    const entry = await ed.page.locator(`g.red-ui-flow-node-group[id="${ids['http in']}"]`).boundingBox();
    assert.ok(chart && entry && entry.x >= chart.x && entry.y >= chart.y && entry.x + entry.width <= chart.x + chart.width && entry.y + entry.height <= chart.y + chart.height, `the entry ${JSON.stringify(entry)} is in view ${JSON.stringify(chart)}`);
    await waitForSummary(ed, /Wizard ChatQnA: \d+ components, valid/);
    await ed.screenshot('sidebar-wizard-tab');

    for (const n of nodes) assert.equal((await ed.node(n.id)).valid, true, `${n.type} ${n.name} is valid in the editor`);
    // Other tabs' nodes may need settings the studio cannot give (the editor then asks to confirm): not this tab's.
    await ed.deploy({ confirm: true });
    const deployed = (await studio!.flows()).filter((n) => n.z === tab);
    assert.equal(deployed.length, nodes.length);
    const answer = await studio!.post('/v1/wizard', { text: 'Who developed Node-RED?' });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.match(String(answer.body.text), /originally developed by IBM/);
    // The catch answers a request a node refuses (an empty question), as the examples do.
    const refused = await studio!.post('/v1/wizard', { text: '' });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.match(String(refused.body.error), /\S/);
    assert.deepEqual(ed.pageErrors, []);
  });

  it('lists a problem as soon as an edit makes one, and a click on it selects the node', async () => {
    const ed = editor!;
    await ed.openEditDialog(ids['opea-rerank']);
    await ed.setProperty('backend', 'tei');
    await ed.closeDialog('done');
    await waitForSummary(ed, /Wizard ChatQnA: \d+ components, 1 problem/);
    const texts = await problemTexts(ed);
    assert.equal(texts.length, 1, texts.join('\n'));
    assert.match(texts[0], /reranking/);
    assert.match(texts[0], /backend tei needs a model/);
    assert.match(texts[0], /set model/);
    await ed.page.locator(`#opea-sidebar-problems .opea-sb-problem[data-node="${ids['opea-rerank']}"]`).click();
    assert.deepEqual(await ed.selection(), [ids['opea-rerank']]);
    await ed.screenshot('sidebar', '#red-ui-sidebar');

    // Undone in the dialog, the list is empty again.
    await ed.openEditDialog(ids['opea-rerank']);
    await ed.setProperty('backend', 'bm25');
    await ed.closeDialog('done');
    await waitForSummary(ed, /Wizard ChatQnA: \d+ components, valid/);
    assert.deepEqual(await problemTexts(ed), []);

    // A node deleted from the canvas breaks the chain; undo (Ctrl+Z) mends it.
    await ed.page.locator(`g.red-ui-flow-node-group[id="${ids['opea-retriever']}"] rect.red-ui-flow-node`).click();
    await ed.page.keyboard.press('Delete');
    await waitForSummary(ed, /Wizard ChatQnA: \d+ components?, \d+ problems?/);
    const broken = await problemTexts(ed);
    assert.ok(broken.some((t) => /embedding/.test(t) && /not wired/.test(t)), broken.join('\n'));
    await ed.page.keyboard.press('Control+z');
    await waitForSummary(ed, /Wizard ChatQnA: \d+ components, valid/);
  });

  it("adds a target's rules when one is chosen, each message naming its target", async () => {
    const ed = editor!;
    await ed.page.locator('#opea-sidebar-target').selectOption('gmc');
    await waitForSummary(ed, /Wizard ChatQnA: \d+ components, \d+ problems/);
    const texts = await problemTexts(ed);
    assert.ok(texts.length >= 4, texts.join('\n'));
    for (const t of texts) assert.match(t, /\[gmc\]/);
    assert.ok(texts.some((t) => /runs only inside Node-RED/.test(t)), texts.join('\n'));
    await ed.page.locator('#opea-sidebar-target').selectOption('');
    await waitForSummary(ed, /Wizard ChatQnA: \d+ components, valid/);
  });

  it('export: lists why the offline tab cannot be exported; downloads the zip of a tab of model servers and writes its folder', async () => {
    const ed = editor!;
    await ed.page.click('#opea-sidebar-download');
    const result = ed.page.locator('#opea-sidebar-export-result');
    await ed.page.waitForFunction(() => /Not exported/.test((globalThis as any).document.querySelector('#opea-sidebar-export-result').textContent), undefined, { timeout: 20_000 });
    assert.match(await result.innerText(), /nothing written/);
    const refused = await ed.page.locator('#opea-sidebar-export-problems .opea-sb-problem').allInnerTexts();
    assert.ok(refused.some((t) => /runs only inside Node-RED/.test(t)), refused.join('\n'));

    // The wizard's defaults for model servers: the catalog's models and the ports OPEA's compose files publish.
    const served = await runWizard(ed, 'chatqna', 'Served ChatQnA', '/v1/served', {
      embedding: { backend: 'tei' },
      retriever: { backend: 'redis' },
      rerank: { backend: 'tei' },
      llm: { backend: 'tgi' },
    });
    const servers = await ed.page.evaluate((z) => {
      const RED = (globalThis as any).RED;
      return RED.nodes.filterNodes({ z }).filter((n: any) => n.server).map((n: any) => [n.type, n.model, RED.nodes.node(n.server).baseUrl]);
    }, served);
    assert.deepEqual(servers.sort(), [
      ['opea-embedding', 'BAAI/bge-base-en-v1.5', 'http://localhost:6006'],
      ['opea-llm', 'meta-llama/Meta-Llama-3-8B-Instruct', 'http://localhost:9009'],
      ['opea-rerank', 'BAAI/bge-reranker-base', 'http://localhost:8808'],
      ['opea-retriever', '', 'http://localhost:7000'],
    ].sort());
    await waitForSummary(ed, /Served ChatQnA: \d+ components, valid/);
    const downloaded = ed.page.waitForEvent('download', { timeout: 30_000 });
    await ed.page.click('#opea-sidebar-download');
    const download = await downloaded;
    assert.equal(download.suggestedFilename(), 'served-chatqna.zip');
    const files = unzip(fs.readFileSync(await download.path()));
    assert.ok(Object.keys(files).includes('gmc/served-chatqna.yaml'), Object.keys(files).join(', '));
    assert.ok(Object.keys(files).includes('compose/compose.yaml'), Object.keys(files).join(', '));
    await ed.page.waitForFunction(() => /Downloaded served-chatqna\.zip/.test((globalThis as any).document.querySelector('#opea-sidebar-export-result').textContent));
    await ed.screenshot('sidebar-export', '#red-ui-sidebar');

    // Write folder: the exporter's folder rules (under opea-exports of the user directory).
    await ed.page.locator('#opea-sidebar-folder').fill('sidebar-export');
    await ed.page.click('#opea-sidebar-write');
    await ed.page.waitForFunction(() => /files written to/.test((globalThis as any).document.querySelector('#opea-sidebar-export-result').textContent), undefined, { timeout: 20_000 });
    const written = (await result.innerText()).match(/^(\d+) files written to (.+)\.$/);
    assert.ok(written, await result.innerText());
    const folder = written[2];
    assert.ok(folder.startsWith(path.join(fs.realpathSync(studio!.userDir), 'opea-exports')) || folder.startsWith(path.join(studio!.userDir, 'opea-exports')), folder);
    assert.ok(fs.existsSync(path.join(folder, 'gmc', 'served-chatqna.yaml')), `${folder}/gmc/served-chatqna.yaml`);
    assert.ok(fs.existsSync(path.join(folder, 'compose', 'compose.yaml')));
    assert.deepEqual(ed.pageErrors, []);
  });
  it("applies the tab's GMConnector through the tab's deployed exporter node (its kubeconfig), to a fake Kubernetes API", async () => {
    const ed = editor!;
    const api = await FakeKubeApi.start({ token: 'sidebar-token', timeline: [{ afterMs: 100, status: { status: '9/0/9', accessUrl: 'http://router.served-chatqna:8080' } }] });
    try {
      writeKubeconfig(path.join(studio!.userDir, 'kube.yaml'), api.url, 'sidebar-token');
      assert.equal(await ed.page.locator('#opea-sidebar-apply').isEnabled(), false, 'Apply waits for an exporter node on the tab');
      const exporter = await ed.dragFromPalette('opea-exporter', 300, 420);
      await ed.openEditDialog(exporter);
      await ed.setProperty('apply', true);
      await ed.setProperty('kubeconfig', 'kube.yaml');
      await ed.setProperty('wait', 10);
      await ed.closeDialog('done');
      await ed.deploy({ confirm: true });
      await ed.page.waitForFunction(() => !(globalThis as any).document.querySelector('#opea-sidebar-apply').disabled);
      await ed.page.click('#opea-sidebar-apply');
      await ed.page.waitForFunction(() => /Applying to the cluster/.test((globalThis as any).document.querySelector('#opea-sidebar-export-result').textContent), undefined, { timeout: 20_000 });
      // The deployed node applies in the background and shows GMC's ready status with the router's URL.
      await ed.page.locator(`g.red-ui-flow-node-group[id="${exporter}"] .red-ui-flow-node-status-label`, { hasText: /ready/ }).waitFor({ timeout: 30_000 });
      assert.ok(api.gmconnectors.has('served-chatqna/served-chatqna'), [...api.gmconnectors.keys()].join(', '));
    } finally {
      await api.close();
    }
  });
});

describe('OPEA sidebar in the Node-RED 5 editor (the pack installed as a module), with a loopback TGI', function () {
  this.timeout(90_000);
  const runtime = RUNTIMES.find((r) => r.name === 'node-red-5') as Runtime;
  let userDir = '';
  let red: PackagedRuntime | undefined;
  let editor: Editor | undefined;
  let tgi: LlmUpstream | undefined;
  let llm = '';

  before(async function () {
    this.timeout(120_000);
    requireBrowser(this);
    tgi = await LlmUpstream.start('tgi', { tokens: ['Node-RED', ' was', ' developed', ' by', ' IBM.'] });
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-sidebar-5-'));
    red = await startPackagedRuntime(runtime.path, userDir);
    editor = await Editor.open(red, { width: 1600, height: 900 });
  });
  after(async () => {
    await editor?.close();
    await red?.stop();
    await tgi?.close();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  it(`writes a plain chat through the wizard on Node-RED ${runtime.version}; it deploys and answers from the model server`, async () => {
    const ed = editor!;
    await ed.openSidebarTab('opea', SIDEBAR);
    const tab = await runWizard(ed, 'chat', 'Wizard chat', '/v1/wizard-chat', { llm: { backend: 'tgi', model: 'test/tiny-chat', url: tgi!.url } });
    llm = await ed.page.evaluate((z) => (globalThis as any).RED.nodes.filterNodes({ z, type: 'opea-llm' })[0].id as string, tab);
    await waitForSummary(ed, /Wizard chat: 1 component, valid/);
    await ed.deploy({ confirm: false });
    const res = await fetch(new URL('v1/wizard-chat', red!.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: 'Who developed Node-RED?' }) });
    const body = (await res.json()) as { text?: string };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.text, 'Node-RED was developed by IBM.');
    assert.equal(tgi!.served.length, 1);
    assert.deepEqual(ed.pageErrors, []);
  });

  it('lists the problem of a cleared model at once; a click selects the node', async () => {
    const ed = editor!;
    await ed.openEditDialog(llm);
    await ed.setProperty('model', '');
    await ed.closeDialog('done');
    await waitForSummary(ed, /Wizard chat: 1 component, 1 problem/);
    const texts = await problemTexts(ed);
    assert.equal(texts.length, 1, texts.join('\n'));
    assert.match(texts[0], /backend tgi needs a model/);
    await ed.page.locator(`#opea-sidebar-problems .opea-sb-problem[data-node="${llm}"]`).click();
    assert.deepEqual(await ed.selection(), [llm]);
    await ed.screenshot('sidebar-node-red-5');
    assert.deepEqual(ed.pageErrors, []);
  });
});
