/**
 * Drives the studio (bin/studio.ts, an embedded Node-RED with the editor and this pack) for tests:
 * startStudio() spawns it on a free port with a temporary user directory (Node-RED is one per
 * process, so it never runs inside mocha's), and Editor drives the real editor in Debian's Chromium
 * through playwright-core: palette, drag and drop, wires, edit dialogs, deploy, help, screenshots.
 *
 * Chromium: /usr/bin/chromium (CHROMIUM_PATH overrides). When it is missing the browser tests skip
 * with a message locally, and fail in CI (CI set), where .ci/run installs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './reference';
import { jsonOrText } from './response-body';

/*
 * The slice of playwright-core's API used here. Its own type declarations need the DOM library, which
 * this Node-only TypeScript project does not compile with, so they are not imported.
 */
interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface Locator {
  first(): Locator;
  last(): Locator;
  nth(index: number): Locator;
  locator(selector: string): Locator;
  filter(options: { has?: Locator; hasText?: string | RegExp }): Locator;
  count(): Promise<number>;
  boundingBox(): Promise<Box | null>;
  waitFor(options?: { state?: 'attached' | 'detached' | 'visible' | 'hidden'; timeout?: number }): Promise<void>;
  click(): Promise<void>;
  dblclick(): Promise<void>;
  hover(): Promise<void>;
  fill(value: string): Promise<void>;
  selectOption(value: string): Promise<unknown>;
  setChecked(checked: boolean): Promise<void>;
  dispatchEvent(type: string): Promise<void>;
  scrollIntoViewIfNeeded(): Promise<void>;
  isVisible(): Promise<boolean>;
  isEnabled(): Promise<boolean>;
  innerText(): Promise<string>;
  allInnerTexts(): Promise<string[]>;
  screenshot(options: { path: string }): Promise<unknown>;
  evaluate<R>(fn: (el: any) => R): Promise<R>;
}
interface Mouse {
  move(x: number, y: number, options?: { steps?: number }): Promise<void>;
  down(): Promise<void>;
  up(): Promise<void>;
}
export interface Download {
  suggestedFilename(): string;
  path(): Promise<string>;
  saveAs(file: string): Promise<void>;
}
export interface Page {
  mouse: Mouse;
  keyboard: { press(key: string): Promise<void> };
  waitForEvent(event: 'download', options?: { timeout?: number }): Promise<Download>;
  goto(url: string): Promise<unknown>;
  route(match: (url: URL) => boolean, handler: (route: { abort(code?: string): Promise<void> }) => unknown): Promise<void>;
  on(event: 'pageerror', listener: (error: Error) => void): void;
  locator(selector: string, options?: { hasText?: string | RegExp }): Locator;
  click(selector: string): Promise<void>;
  evaluate<R, A = undefined>(fn: (arg: A) => R, arg?: A): Promise<R>;
  waitForFunction<A>(fn: (arg: A) => unknown, arg?: A, options?: { timeout?: number }): Promise<unknown>;
  $$eval<R>(selector: string, fn: (els: any[]) => R): Promise<R>;
  screenshot(options: { path: string; fullPage?: boolean; clip?: Box }): Promise<unknown>;
}
interface Browser {
  newPage(options: { viewport: { width: number; height: number }; acceptDownloads?: boolean }): Promise<Page>;
  close(): Promise<void>;
}
interface Chromium {
  launch(options: { executablePath: string; headless: boolean; args: string[] }): Promise<Browser>;
}

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const STUDIO = path.join(REPO_ROOT, 'dist', 'bin', 'studio.js');
/** Where screenshots go (git-ignored); the tests create it. */
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-output', 'e2e');

/** Launch flags known to work in a container without GPU, sandbox or network. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/** Why the browser tests cannot run here, or undefined when they can. In CI a missing Chromium is a failure, not a skip. */
export function browserMissing(): string | undefined {
  if (fs.existsSync(CHROMIUM)) return undefined;
  return `Chromium is not installed at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
}

/** Call first in a describe's before(): skips the suite locally without Chromium, fails it in CI. */
export function requireBrowser(context: Mocha.Context): void {
  const why = browserMissing();
  if (!why) return;
  if (process.env.CI) throw new Error(`${why}; CI must run the browser tests`);
  process.stdout.write(`      skipping the browser tests: ${why}\n`);
  context.skip();
}

export type FlowNode = Record<string, unknown> & { id: string; type: string };

export interface StudioProcess {
  url: string;
  userDir: string;
  child: ChildProcess;
  /** Everything the studio printed so far (stdout and stderr). */
  output(): string;
  /** GET /flows through the admin API. */
  flows(): Promise<FlowNode[]>;
  /** POST JSON to a path of the flows' http in nodes; resolves with the status and the parsed body. */
  post(route: string, body: unknown): Promise<{ status: number; body: any }>;
  /** Sends the signal and resolves with the exit code and how long it took; kills it after limitMs. */
  stop(signal?: NodeJS.Signals, limitMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

export interface StudioStartOptions {
  /** Default: a new temporary folder, removed when the studio is stopped. */
  userDir?: string;
  /** Default 0: any free port (the URL line says which). */
  port?: number;
  env?: NodeJS.ProcessEnv;
  limitMs?: number;
}

/** Spawns `node dist/bin/studio.js` and resolves once it prints `Node-RED editor: <url>`. */
export function startStudio(options: StudioStartOptions = {}): Promise<StudioProcess> {
  const temporary = options.userDir === undefined;
  const userDir = options.userDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'opea-studio-'));
  const child = spawn(process.execPath, [STUDIO, '--port', String(options.port ?? 0), '--user-dir', userDir], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const stop: StudioProcess['stop'] = async (signal = 'SIGINT', limitMs = 10_000) => {
    const started = Date.now();
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    const result = await exited;
    clearTimeout(timer);
    if (temporary) fs.rmSync(userDir, { recursive: true, force: true });
    return { ...result, ms: Date.now() - started };
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop('SIGKILL');
      reject(new Error(`the studio printed no editor URL within ${(options.limitMs ?? 60_000) / 1000} s:\n${output}`));
    }, options.limitMs ?? 60_000);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the studio exited (${code ?? signal}) before printing its URL:\n${output}`));
    });
    const onData = () => {
      const m = /^Node-RED editor: (http:\/\/\S+)$/m.exec(output);
      if (!m) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      const url = m[1];
      resolve({
        url,
        userDir,
        child,
        output: () => output,
        flows: async () => {
          const res = await fetch(new URL('flows', url));
          if (!res.ok) throw new Error(`GET /flows answered ${res.status}`);
          return (await res.json()) as FlowNode[];
        },
        post: async (route, body) => {
          const res = await fetch(new URL(route.replace(/^\//, ''), url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
          return { status: res.status, body: jsonOrText(await res.text()) };
        },
        stop,
      });
    };
    child.stdout!.on('data', onData);
  });
}

export interface HelpPanel {
  /** The panel's title (the node's palette label). */
  title: string;
  /** Its section headings (h3), e.g. Inputs, Outputs, Details, References. */
  headings: string[];
  text: string;
}

/** Centre of an element's box on the page. */
async function centre(page: Page, selector: string): Promise<{ x: number; y: number }> {
  const box = await page.locator(selector).first().boundingBox();
  if (!box) throw new Error(`${selector} is not visible`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

const nodeSelector = (id: string) => `g.red-ui-flow-node-group[id="${id}"]`;

/** The Node-RED editor of a running studio in headless Chromium. */
export class Editor {
  private constructor(
    readonly browser: Browser,
    readonly page: Page,
    /** The studio, or any Node-RED whose editor is at this URL. */
    readonly studio: { url: string },
    readonly screenshotDir: string,
    /** Errors thrown by the editor's scripts (our editor HTML included), for tests to assert none. */
    readonly pageErrors: string[],
  ) {}

  static async open(studio: { url: string }, options: { screenshotDir?: string; width?: number; height?: number } = {}): Promise<Editor> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { chromium } = require('playwright-core') as { chromium: Chromium };
    // launch() gives Chromium a new empty profile (--user-data-dir in a temporary folder it removes on close).
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: options.width ?? 1400, height: options.height ?? 800 }, acceptDownloads: true });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Only the studio is reachable: the palette manager's catalogue (catalogue.nodered.org) fails at once instead of waiting on DNS.
    const origin = new URL(studio.url).origin;
    await page.route((u) => u.origin !== origin, (route) => route.abort('internetdisconnected'));
    await page.goto(studio.url);
    await page.waitForFunction(() => (globalThis as any).RED?.nodes?.getType?.('opea-llm') !== undefined && (globalThis as any).document.querySelector('.red-ui-palette-node') !== null, undefined, { timeout: 60_000 });
    // The workspace is ready once the flows have been loaded into it.
    await page.waitForFunction(() => (globalThis as any).RED.nodes.getWorkspaceOrder().length > 0, undefined, { timeout: 30_000 });
    const screenshotDir = options.screenshotDir ?? SCREENSHOT_DIR;
    fs.mkdirSync(screenshotDir, { recursive: true });
    return new Editor(browser, page, studio, screenshotDir, errors);
  }

  async close(): Promise<void> {
    await this.browser.close();
  }

  /** Node types the palette shows (data-palette-type of its entries). */
  async paletteTypes(): Promise<string[]> {
    return this.page.$$eval('#red-ui-palette .red-ui-palette-node[data-palette-type]', (els) => els.map((e) => e.getAttribute('data-palette-type') ?? ''));
  }

  /** Adds a flow tab with the workspace tab bar's + button; resolves with its id. */
  async addTab(): Promise<string> {
    const before = await this.page.evaluate(() => (globalThis as any).RED.workspaces.active() as string);
    await this.page.click('#red-ui-workspace > .red-ui-tabs .red-ui-tabs-add a');
    await this.page.waitForFunction((prev) => (globalThis as any).RED.workspaces.active() !== prev, before);
    return this.page.evaluate(() => (globalThis as any).RED.workspaces.active() as string);
  }

  /** Renames a flow tab through its edit dialog (double-click on the tab). */
  async renameTab(id: string, label: string): Promise<void> {
    await this.page.locator(`#red-ui-tab-${id} a`).dblclick();
    await this.page.locator('#node-dialog-ok').waitFor({ state: 'visible' });
    await this.setProperty('name', label);
    await this.closeDialog('done');
    await this.page.waitForFunction(({ tab, wanted }) => (globalThis as any).RED.nodes.workspace(tab).label === wanted, { tab: id, wanted: label });
  }

  /** Opens the tab with this id or label. */
  async showTab(idOrLabel: string): Promise<void> {
    const id = await this.page.evaluate((wanted) => {
      const RED = (globalThis as any).RED;
      const order: string[] = RED.nodes.getWorkspaceOrder();
      return order.find((w) => w === wanted || RED.nodes.workspace(w)?.label === wanted);
    }, idOrLabel);
    if (!id) throw new Error(`no tab ${idOrLabel}`);
    await this.page.click(`#red-ui-tab-${id} a`);
    await this.page.waitForFunction((w) => (globalThis as any).RED.workspaces.active() === w, id);
  }

  /**
   * Drags a node type from the palette onto the workspace, dropping it at (x, y) of the visible
   * canvas (pixels from its top-left corner); resolves with the new node's id.
   */
  async dragFromPalette(type: string, x: number, y: number): Promise<string> {
    const page = this.page;
    const entry = page.locator(`#red-ui-palette .red-ui-palette-node[data-palette-type="${type}"]`);
    if ((await entry.count()) === 0) throw new Error(`the palette has no ${type}`);
    await entry.scrollIntoViewIfNeeded();
    const before = await page.evaluate(() => {
      const ids: string[] = [];
      (globalThis as any).RED.nodes.eachNode((n: { id: string }) => {
        ids.push(n.id);
      });
      return ids;
    });
    const from = await centre(page, `#red-ui-palette .red-ui-palette-node[data-palette-type="${type}"]`);
    const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
    if (!chart) throw new Error('the workspace is not visible');
    // jQuery UI's draggable wants a real press, a few moves and a release.
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move(from.x + 20, from.y + 5, { steps: 3 });
    await page.mouse.move(chart.x + x, chart.y + y, { steps: 12 });
    await page.mouse.up();
    const id = await page.evaluate(
      ({ known, wanted }) => {
        let found: string | undefined;
        (globalThis as any).RED.nodes.eachNode((n: { id: string; type: string }) => {
          if (n.type === wanted && !known.includes(n.id)) found = n.id;
        });
        return found;
      },
      { known: before, wanted: type },
    );
    if (!id) throw new Error(`dropping ${type} from the palette added no node`);
    await page.locator(nodeSelector(id)).waitFor();
    return id;
  }

  /** Draws a wire from an output port (0-based) of one node to the input of another, with the mouse. */
  async wire(fromNode: string, toNode: string, output = 0): Promise<void> {
    const page = this.page;
    const port = page.locator(`${nodeSelector(fromNode)} .red-ui-flow-port-output`).nth(output);
    const box = await port.boundingBox();
    if (!box) throw new Error(`node ${fromNode} has no output ${output}`);
    const to = await centre(page, `${nodeSelector(toNode)} .red-ui-flow-port-input`);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(to.x, to.y, { steps: 12 });
    await page.mouse.up();
    const wired = await page.evaluate(({ source, target, out }) => (globalThis as any).RED.nodes.filterLinks({ source: { id: source }, target: { id: target } }).some((l: { sourcePort: number }) => l.sourcePort === out), { source: fromNode, target: toNode, out: output });
    if (!wired) {
      const shot = await this.screenshot(`failed-wire-${fromNode}-${toNode}`);
      throw new Error(`dragging from ${fromNode} output ${output} (${JSON.stringify(box)}) to ${toNode} (${JSON.stringify(to)}) drew no wire; see ${shot}`);
    }
  }

  /** Opens a node's edit dialog by double-clicking it on the canvas. */
  async openEditDialog(nodeId: string): Promise<void> {
    await this.page.locator(`${nodeSelector(nodeId)} rect.red-ui-flow-node`).dblclick();
    await this.page.locator('#node-dialog-ok').waitFor({ state: 'visible' });
    // The tray slides in from the right: wait until it has arrived (and oneditprepare has run).
    await this.page.waitForFunction(() => {
      const g = globalThis as any;
      const trays = g.document.querySelectorAll('.red-ui-tray');
      const tray = trays[trays.length - 1];
      return tray !== undefined && g.getComputedStyle(tray).right === '0px' && tray.querySelector('.red-ui-tray-content') !== null;
    });
  }

  /**
   * Sets a property in the open edit dialog through its form field (#node-input-<key>): selects by
   * value or visible label (config node pickers too), checkboxes by truthiness, text otherwise.
   */
  async setProperty(key: string, value: string | number | boolean): Promise<void> {
    const field = this.page.locator(`#node-input-${key}`);
    await field.waitFor({ state: 'attached' });
    const kind = await field.evaluate((el) => (el.tagName === 'SELECT' ? 'select' : (el as { type?: string }).type === 'checkbox' ? 'checkbox' : 'text'));
    if (kind === 'select') {
      const options = await field.evaluate((el) => Array.from((el as unknown as { options: { value: string; text: string }[] }).options, (o) => ({ value: o.value, label: o.text })));
      const option = options.find((o) => o.value === String(value)) ?? options.find((o) => o.label === String(value));
      if (!option) throw new Error(`#node-input-${key} has no option ${String(value)} (${options.map((o) => `${o.value}: ${o.label}`).join(', ')})`);
      await field.selectOption(option.value);
    } else if (kind === 'checkbox') {
      await field.setChecked(Boolean(value));
    } else {
      await field.fill(String(value));
      await field.dispatchEvent('change');
    }
  }

  /** Closes the edit dialog with Done (keeping the edits) or Cancel. */
  async closeDialog(action: 'done' | 'cancel' = 'done'): Promise<void> {
    const button = this.page.locator(action === 'done' ? '#node-dialog-ok' : '#node-dialog-cancel');
    await button.click();
    await button.waitFor({ state: 'detached' });
  }

  /**
   * Presses Deploy and waits for "Successfully deployed". A confirmation Node-RED asks for (invalid or
   * unused nodes) fails with its text, unless confirm is set.
   */
  async deploy(options: { confirm?: boolean } = {}): Promise<void> {
    const page = this.page;
    await page.click('#red-ui-header-button-deploy');
    const done = page.locator('.red-ui-notification', { hasText: /Successfully deployed/ });
    const confirm = page.locator('#red-ui-notification-dialog, .red-ui-notification:has(button)');
    const first = await Promise.race([done.first().waitFor().then(() => 'done' as const), confirm.first().waitFor().then(() => 'confirm' as const)]);
    if (first === 'confirm') {
      const text = (await confirm.first().innerText()).replace(/\s+/g, ' ').trim();
      if (!options.confirm) throw new Error(`Deploy asked for confirmation: ${text}`);
      await confirm.first().locator('button.primary').click();
      await done.first().waitFor();
    }
    await page.locator('#red-ui-header-button-deploy.disabled').waitFor();
  }

  /**
   * Opens a node type's help in the help sidebar: for palette entries as a user does, from the
   * entry's hover card (book button); for config nodes from the help sidebar's list of nodes.
   */
  async openHelp(type: string): Promise<HelpPanel> {
    const page = this.page;
    const entry = page.locator(`#red-ui-palette .red-ui-palette-node[data-palette-type="${type}"]`);
    const label = await page.evaluate((t) => {
      const def = (globalThis as any).RED.nodes.getType(t);
      if (!def) return undefined;
      const p = def.paletteLabel;
      return typeof p === 'function' ? String(p.call(def)) : String(p ?? t);
    }, type);
    if (label === undefined) throw new Error(`the editor has no node type ${type}`);
    const title = page.locator('#red-ui-sidebar-content h1.red-ui-help-title:visible');
    const fromToc = async (): Promise<void> => {
      await page.click('#red-ui-tab-help-link-button');
      const item = page.locator('.red-ui-sidebar-help-toc .red-ui-treeList-label').filter({ has: page.locator('.red-ui-node-list-item') }).filter({ hasText: new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) });
      const module = page.locator('.red-ui-sidebar-help-toc .red-ui-treeList-label', { hasText: /^\s*node-red-contrib-opea\s*$/ });
      if (!(await item.first().isVisible())) {
        const nodeHelp = page.locator('.red-ui-sidebar-help-toc .red-ui-treeList-label', { hasText: /^\s*Node Help\s*$/ });
        if (!(await module.first().isVisible())) await nodeHelp.first().click();
        await module.first().click();
      }
      await item.first().click();
    };
    if ((await entry.count()) > 0) {
      await page.mouse.move(0, 0);
      await entry.scrollIntoViewIfNeeded();
      await entry.hover();
      const book = page.locator('.red-ui-popover:visible button:has(i.fa-book)');
      await book.waitFor({ state: 'visible' });
      await book.click();
      await page.mouse.move(0, 0);
      // On a loaded machine the palette's popover can go before its book is clicked: the help's
      // table of contents then opens the same page.
      await title.filter({ hasText: label }).first().waitFor({ timeout: 10_000 }).catch(fromToc);
    } else {
      await fromToc();
    }
    await title.filter({ hasText: label }).first().waitFor();
    const panel = page.locator('#red-ui-sidebar-content .red-ui-help:visible').last();
    return {
      title: (await title.first().innerText()).trim(),
      headings: (await panel.locator('h3').allInnerTexts()).map((h) => h.trim()),
      text: await panel.innerText(),
    };
  }

  /**
   * Saves a PNG of the page, of one element (a selector) or of the page's top `height` pixels to the
   * screenshot folder; resolves with its path.
   */
  async screenshot(name: string, part?: string | { height: number }): Promise<string> {
    const file = path.join(this.screenshotDir, `${name.replace(/[^\w.-]+/g, '-')}.png`);
    if (typeof part === 'string') await this.page.locator(part).screenshot({ path: file });
    else if (part) {
      const width = await this.page.evaluate(() => (globalThis as any).innerWidth as number);
      await this.page.screenshot({ path: file, clip: { x: 0, y: 0, width, height: part.height } });
    } else await this.page.screenshot({ path: file });
    return file;
  }

  /**
   * Opens a sidebar tab (`RED.sidebar.addTab` id) as a user does: with its button in the sidebar's tab
   * bar, or from the bar's drop-down menu when the bar has no room for the button; resolves once the
   * tab's content is shown.
   */
  async openSidebarTab(id: string, content: string): Promise<void> {
    const button = this.page.locator(`#red-ui-tab-${id}-link-button`);
    // Node-RED 5 has one bar of tab buttons for both sidebars.
    const button5 = this.page.locator(`button[data-tab-id="${id}"]`);
    if ((await button.count()) === 0 && (await button5.count()) === 0) throw new Error(`the sidebar has no tab ${id}`);
    if ((await button.count()) === 0) await button5.first().click();
    else if (await button.first().isVisible()) await button.first().click();
    else {
      await this.page.locator('#red-ui-sidebar .red-ui-tab-link-button-menu').first().click();
      await this.page.locator(`#red-ui-tabs-menu-option-${id}`).click();
    }
    await this.page.locator(content).waitFor({ state: 'visible' });
  }

  /** The ids of the nodes selected on the canvas. */
  async selection(): Promise<string[]> {
    return this.page.evaluate(() => ((globalThis as any).RED.view.selection().nodes ?? []).map((n: { id: string }) => n.id) as string[]);
  }

  /** Scrolls the palette back to its top (the OPEA category comes first). */
  async scrollPaletteToTop(): Promise<void> {
    await this.page.evaluate(() => {
      const container = (globalThis as any).document.querySelector('#red-ui-palette-container');
      if (container) container.scrollTop = 0;
    });
  }

  /** A node as the editor holds it (its properties, wires as links), for checks before deploy. */
  async node(id: string): Promise<Record<string, unknown> & { valid?: boolean; changed?: boolean }> {
    return this.page.evaluate((nid) => {
      const n = (globalThis as any).RED.nodes.node(nid);
      if (!n) return undefined;
      const plain: Record<string, unknown> = { id: n.id, type: n.type, valid: n.valid, changed: n.changed };
      for (const key of Object.keys(n._def.defaults ?? {})) plain[key] = n[key];
      return plain;
    }, id) as Promise<Record<string, unknown> & { valid?: boolean; changed?: boolean }>;
  }
}
