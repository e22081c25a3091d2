/**
 * The exporter's button in the real editor (Debian's Chromium through playwright-core) of a real
 * Node-RED runtime started in a child process with its admin root at /admin/: the editor collects its
 * own, undeployed node set, posts it, and downloads the zip, reports the folder, or lists problems and
 * selects the nodes they name. Skipped locally without Chromium; CI must have it.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPipeline } from '../../core/pipeline';
import { ProblemList } from '../../core/problems';
import yaml from 'js-yaml';
import { exportPipeline } from '../../exporters';
import { checkComposeProject } from '../../exporters/compose/check';
import { checkGmConnector } from '../../exporters/gmc/check';
import { exampleFlow } from '../support/reference';
import { startAdminRuntime } from '../support/admin-runtime-process';
import { RUNTIMES } from '../support/runtimes';
import { unzip } from '../support/bundle-files';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const QUERY_TAB = 'c0a1e5f0a0000001';
const EMBEDDING = 'c0a1e5f0a0000003';
const LLM = 'c0a1e5f0a0000006';

/* The slice of playwright-core used here (its declarations need the DOM library, which this project does not compile with). */
interface Download {
  suggestedFilename(): string;
  path(): Promise<string>;
}
interface Page {
  goto(url: string): Promise<unknown>;
  on(event: 'pageerror', listener: (error: Error) => void): void;
  evaluate<R, A = undefined>(fn: (arg: A) => R, arg?: A): Promise<R>;
  waitForFunction<A>(fn: (arg: A) => unknown, arg?: A, options?: { timeout?: number }): Promise<unknown>;
  waitForEvent(event: 'download', options?: { timeout?: number }): Promise<Download>;
  click(selector: string): Promise<void>;
  locator(selector: string): { innerText(): Promise<string>; last(): { innerText(): Promise<string> } };
}
interface Browser {
  newPage(options: { viewport: { width: number; height: number }; acceptDownloads?: boolean }): Promise<Page>;
  close(): Promise<void>;
}

type RawNode = Record<string, any> & { id: string; type: string };

function flowFile(): RawNode[] {
  return [
    ...(exampleFlow('chatqna.json') as RawNode[]),
    { id: 'exp', type: 'opea-exporter', z: QUERY_TAB, name: 'export chatqna', targets: ['gmc', 'compose', 'ansible'], exportName: '', namespace: '', platform: 'xeon', gmcFlavor: 'upstream', externalUrls: [], download: true, toFolder: false, folder: 'opea-export', configVersion: 1, x: 150, y: 260, wires: [[]] },
  ];
}


const BUTTON = 'g.red-ui-flow-node-group[id="exp"] .red-ui-flow-node-button-button';

for (const runtime of RUNTIMES) {
  describe(`opea-exporter button in the editor (Node-RED ${runtime.version}, Chromium)`, function () {
    this.timeout(120_000);
    let userDir = '';
    let child: ChildProcess | undefined;
    let browser: Browser | undefined;
    let page: Page;
    const pageErrors: string[] = [];

    before(async function () {
      if (!fs.existsSync(CHROMIUM)) {
        if (process.env.CI) throw new Error(`Chromium is not installed at ${CHROMIUM}; CI must run the browser tests`);
        this.skip();
      }
      userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-editor-'));
      fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(flowFile()));
      const started = await startAdminRuntime(runtime.path, userDir, 'editor', 60_000);
      child = started.child;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { chromium } = require('playwright-core') as { chromium: { launch(o: object): Promise<Browser> } };
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      page = await browser.newPage({ viewport: { width: 1400, height: 800 }, acceptDownloads: true });
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(`http://127.0.0.1:${started.port}/admin/`);
      await page.waitForFunction(() => (globalThis as any).RED?.nodes?.node?.('exp') && (globalThis as any).document.querySelector('g.red-ui-flow-node-group[id="exp"]'), undefined, { timeout: 60_000 });
    });
    after(async () => {
      await browser?.close();
      if (child && child.exitCode === null) {
        const exited = new Promise((resolve) => child?.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
    });

    it('downloads <name>.zip of the tab as the editor holds it, undeployed edits included', async () => {
      await page.evaluate((id) => {
        const RED = (globalThis as any).RED;
        const llm = RED.nodes.node(id);
        llm.model = 'Intel/neural-chat-7b-v3-1';
        llm.changed = true;
        RED.nodes.dirty(true);
      }, LLM);
      const downloaded = page.waitForEvent('download', { timeout: 30_000 });
      await page.click(BUTTON);
      const download = await downloaded;
      assert.equal(download.suggestedFilename(), 'chatqna.zip');
      const edited = flowFile().map((n) => (n.id === LLM ? { ...n, model: 'Intel/neural-chat-7b-v3-1' } : n));
      const { pipeline, problems } = loadPipeline(edited, { tab: QUERY_TAB });
      assert.ok(problems.empty);
      const exportProblems = new ProblemList();
      const bundle = exportPipeline(pipeline, ['gmc', 'compose', 'ansible'], { platform: 'xeon' }, exportProblems);
      assert.ok(bundle);
      const files = unzip(await download.path());
      assert.deepEqual(files, bundle);
      assert.match(files['gmc/chatqna.yaml'], /Intel\/neural-chat-7b-v3-1/);
      // The bundle validates: the GMConnector against GMC's CRD and admission rules, the compose project against the Compose Specification.
      assert.deepEqual(checkGmConnector(yaml.load(files['gmc/chatqna.yaml'])), []);
      assert.deepEqual(checkComposeProject(yaml.load(files['compose/compose.yaml'])), []);
      assert.deepEqual(pageErrors, []);
    });

    it('lists every problem in a notification and selects the nodes they name, revealing the first', async () => {
      // Started from the Ingest tab (where the button is not on screen, so its onclick is called as
      // the editor's click handler calls it): revealing the first problem brings the query tab back.
      await page.evaluate((id) => {
        const RED = (globalThis as any).RED;
        RED.nodes.node(id).backend = 'hashing';
        RED.workspaces.show('c0a1e5f0a0000020');
        const exp = RED.nodes.node('exp');
        exp._def.button.onclick.call(exp);
      }, EMBEDDING);
      await page.waitForFunction(() => /not exported/.test((globalThis as any).document.querySelector('#red-ui-notifications')?.innerText ?? ''), undefined, { timeout: 30_000 });
      const text = await page.locator('#red-ui-notifications .red-ui-notification').last().innerText();
      assert.match(text, /2 problems/);
      assert.match(text, new RegExp(`embedding\\s*${EMBEDDING}: the hashing embedder runs only inside Node-RED`));
      assert.match(text, /dataprep\s*c0a1e5f0a0000022/);
      const selected = await page.evaluate(() => {
        const RED = (globalThis as any).RED;
        return { ids: RED.view.selection().nodes?.map((n: { id: string }) => n.id) ?? [], tab: RED.workspaces.active() };
      });
      assert.deepEqual(selected, { ids: [EMBEDDING], tab: QUERY_TAB });
      await page.evaluate((id) => {
        (globalThis as any).RED.nodes.node(id).backend = 'tei';
      }, EMBEDDING);
      assert.deepEqual(pageErrors, []);
    });

    it('edit dialog: targets as checkboxes, external URLs as rows choosing among the stages, saved back on the node', async () => {
      await page.evaluate(() => {
        const RED = (globalThis as any).RED;
        RED.editor.edit(RED.nodes.node('exp'));
      });
      await page.waitForFunction(() => (globalThis as any).document.querySelector('#node-input-target-gmc') && (globalThis as any).document.querySelector('#node-input-externalUrls-container'));
      const shown = await page.evaluate(() => {
        const $ = (globalThis as any).$;
        $('#node-input-target-ansible').prop('checked', false).trigger('change');
        $('#node-input-externalUrls-container').editableList('addItem', {});
        const row = $($('#node-input-externalUrls-container').editableList('items').last()[0]);
        const options = row.find('.opea-exporter-stage option').map((_i: number, o: any) => o.value).get();
        row.find('.opea-exporter-stage').val('c0a1e5f0a0000006');
        row.find('.opea-exporter-url').val(' http://llm.rag.svc:9000/v1/chat/completions ');
        return { options, folderShown: $('.opea-exporter-folder').is(':visible') };
      });
      assert.deepEqual(shown.options.slice(0, 5), ['', EMBEDDING, LLM, 'c0a1e5f0a0000005', 'c0a1e5f0a0000004'], 'the stages of this tab first');
      assert.ok(shown.options.includes('c0a1e5f0a0000022'), 'and those of other tabs');
      assert.equal(shown.folderShown, false, 'the folder row shows only when writing a folder');
      await page.click('#node-dialog-ok');
      await page.waitForFunction(() => !(globalThis as any).document.querySelector('#node-input-target-gmc'));
      const saved = await page.evaluate(() => {
        const n = (globalThis as any).RED.nodes.node('exp');
        return { targets: n.targets, externalUrls: n.externalUrls, valid: n.valid };
      });
      assert.deepEqual(saved, { targets: ['gmc', 'compose'], externalUrls: [{ node: LLM, url: 'http://llm.rag.svc:9000/v1/chat/completions' }], valid: true });
      assert.deepEqual(pageErrors, []);
    });

    it('writes the folder the edited node names, under opea-exports, and says where', async () => {
      await page.evaluate(() => {
        const exp = (globalThis as any).RED.nodes.node('exp');
        exp.download = false;
        exp.toFolder = true;
        exp.folder = 'from-editor/chatqna';
        exp.targets = ['gmc'];
      });
      await page.click(BUTTON);
      await page.waitForFunction(() => /written to/.test((globalThis as any).document.querySelector('#red-ui-notifications')?.innerText ?? ''), undefined, { timeout: 30_000 });
      const dir = path.join(fs.realpathSync(userDir), 'opea-exports', 'from-editor', 'chatqna');
      const text = await page.locator('#red-ui-notifications .red-ui-notification').last().innerText();
      assert.match(text, new RegExp(`2 files written to ${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
      assert.deepEqual(fs.readdirSync(path.join(dir, 'gmc')).sort(), ['README.md', 'chatqna.yaml']);
      assert.deepEqual(pageErrors, []);
    });
  });
}
