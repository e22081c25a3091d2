/**
 * Every help panel of the pack, as the real editor in Chromium renders it: the message properties
 * of Inputs and Outputs are the style guide's property lists, never the raw `: name (type) :` text
 * Node-RED's markdown leaves behind when an entry wraps or quotes JSON (issue 16).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Editor, requireBrowser, startStudio, type StudioProcess } from '../support/editor';
import { REPO_ROOT } from '../support/reference';

const PACK_TYPES = Object.keys((JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } })['node-red'].nodes);

/** Entries each help source lists with `: name (type) :` lines: the property lists the panel must show. */
function sourceEntries(type: string): string[] {
  const dir = path.join(REPO_ROOT, 'nodes', type);
  const md = path.join(dir, 'help.md');
  const source = fs.existsSync(md) ? fs.readFileSync(md, 'utf8') : fs.readFileSync(path.join(dir, `${type}.html`), 'utf8').split('data-help-name')[1] ?? '';
  return [...source.matchAll(/^: (.+?) \(/gm)].map((m) => m[1].replace(/[*`]/g, ''));
}

describe('help panels in Chromium (end to end)', function () {
  this.timeout(90_000);
  let studio: StudioProcess | undefined;
  let editor: Editor | undefined;

  before(async function () {
    this.timeout(120_000);
    requireBrowser(this);
    studio = await startStudio();
    editor = await Editor.open(studio, { width: 1600, height: 1000 });
  });
  after(async () => {
    await editor?.close();
    await studio?.stop('SIGINT');
  });

  it('shows every message property as a property list, with no raw markdown left', async () => {
    const ed = editor!;
    const problems: string[] = [];
    for (const type of PACK_TYPES) {
      const help = await ed.openHelp(type);
      const raw = help.text.split('\n').filter((line) => /^\s*:\s*\S.*\(.*\)\s*:/.test(line) || /^\s*:\s/.test(line));
      if (raw.length > 0) problems.push(`${type}: raw property markdown shown: ${raw.map((l) => JSON.stringify(l.trim().slice(0, 60))).join(', ')}`);
      const listed = await ed.page.evaluate(() => {
        const panels = [...(globalThis as any).document.querySelectorAll('#red-ui-sidebar-content .red-ui-help')].filter((p: any) => p.offsetParent !== null);
        const panel = panels[panels.length - 1];
        return [...panel.querySelectorAll('dl.message-properties > dt')].map((dt: any) => (dt.firstChild?.textContent ?? '').trim());
      });
      const expected = sourceEntries(type);
      const missing = expected.filter((name) => !listed.includes(name));
      if (missing.length > 0) problems.push(`${type}: properties not listed: ${missing.join(', ')} (listed: ${listed.join(', ') || 'none'})`);
    }
    assert.deepEqual(problems, []);
    assert.deepEqual(ed.pageErrors, []);
  });
});
