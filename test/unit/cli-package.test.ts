/**
 * What `npm pack` ships (the package of the opea-flow command, the nodes and the examples): what runs,
 * once; no source maps or type declarations (no typed API is published), no second copy of the
 * examples, the README's image where npm can show it, and nothing that runs when a user installs it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/reference';

interface Packed {
  files: { path: string; size: number }[];
}

const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  main?: string;
  types?: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
  'node-red': { nodes: Record<string, string>; plugins?: Record<string, string> };
};

describe('the npm package', function () {
  this.timeout(60_000);
  let shipped: Set<string>;

  before(() => {
    // --ignore-scripts: the list npm would pack from the current build, without building again.
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 50_000 });
    assert.equal(r.status, 0, r.stderr);
    shipped = new Set((JSON.parse(r.stdout) as Packed[])[0].files.map((f) => f.path));
  });

  it('ships every node, the command line, the main module and the examples', () => {
    for (const file of Object.values(pkg['node-red'].nodes)) {
      assert.ok(shipped.has(file), file);
      assert.ok(shipped.has(file.replace(/\.js$/, '.html')), file);
    }
    // The editor sidebar is a plugin: its runtime part and its editor part.
    assert.ok(Object.keys(pkg['node-red'].plugins ?? {}).length > 0, 'node-red.plugins');
    for (const file of Object.values(pkg['node-red'].plugins ?? {})) {
      assert.ok(shipped.has(file), file);
      assert.ok(shipped.has(file.replace(/\.js$/, '.html')), file);
    }
    for (const file of Object.values(pkg.bin)) assert.ok(shipped.has(file), file);
    assert.ok(pkg.main && shipped.has(pkg.main), String(pkg.main));
    const examples = fs.readdirSync(path.join(REPO_ROOT, 'flows')).filter((f) => f.endsWith('.json'));
    for (const file of examples) assert.ok(shipped.has(`examples/${file}`), file);
  });

  it('ships no source maps, no type declarations, no tests and one copy of the examples', () => {
    const extra = [...shipped].filter((f) => f.endsWith('.map') || f.endsWith('.d.ts') || f.startsWith('dist/test/') || f.startsWith('flows/'));
    assert.deepEqual(extra, []);
    assert.equal(pkg.types, undefined, 'no typed API is published, so no "types"');
  });

  it("links the README's images by absolute URLs to files it ships", () => {
    const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]);
    assert.ok(images.length > 0);
    for (const url of images) {
      const m = /^https:\/\/cdn\.jsdelivr\.net\/npm\/node-red-contrib-opea\/(.+)$/.exec(url);
      assert.ok(m, `${url} is not an absolute URL into the published package`);
      assert.ok(shipped.has(m[1]), `${m[1]} is not shipped`);
    }
  });

  it('runs nothing when installed, and builds before it is packed', () => {
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(pkg.scripts[hook], undefined, hook);
    assert.match(pkg.scripts.prepack, /npm run build/);
  });
});
