/**
 * What the Node-RED Flow Library's scorecard checks, run offline. The scorecard is node-red-dev's
 * `validate` command (github.com/node-red/node-red-dev-cli: src/libs/checkpackage.js, checknodes.js,
 * checkdeps.js; its rules are documented as P01-P08, N01-N02, D01-D03 in docs/). Checks that need the
 * network there (cloning the repository, the catalogue of published packages, the npm registry's
 * dist-tags, outdated dependencies) are made here against what is installed: Node-RED's own core node
 * types, and the Node-RED runtimes the tests run on (4.1, the maintenance line, and 5.0, npm's
 * `latest` when this was written).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/reference';

interface PackageJson {
  name: string;
  version: string;
  description?: string;
  keywords?: string[];
  license?: string;
  author?: unknown;
  repository?: unknown;
  bugs?: unknown;
  files?: string[];
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  'node-red': { version?: string; nodes: Record<string, string> };
}

const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
const nodeTypes = Object.keys(pkg['node-red'].nodes);
/** Config nodes: the scorecard's N02 leaves them out; this pack still shows each in an example. */
const CONFIG_TYPES = ['opea-server', 'opea-vectorstore', 'opea-prompt', 'opea-memory'];

/**
 * D01: the scorecard warns above 6 runtime dependencies ("6 was chosen as 95% of all published
 * Node-RED modules had less than 6 dependencies", docs/D01.md). The limit here is the same.
 */
const MAX_DEPENDENCIES = 6;

// Resolved through Node-RED's own packages (development dependencies here), whose dependencies they are.
const fromNodeRed = (id: string, owner: string) => require(require.resolve(id, { paths: [path.dirname(require.resolve(`${owner}/package.json`))] }));
const semver = fromNodeRed('semver', '@node-red/registry') as {
  valid(v: string): string | null;
  validRange(r: string): string | null;
  satisfies(v: string, r: string): boolean;
  minVersion(r: string): { version: string } | null;
};
const acorn = fromNodeRed('acorn', '@node-red/nodes') as { parse(code: string, options: object): unknown };
const walk = fromNodeRed('acorn-walk', '@node-red/nodes') as { simple(ast: unknown, visitors: Record<string, (node: any) => void>): void };

/** The Node-RED runtimes installed for the tests: the development one and node-red-5. */
const RUNTIMES = ['node-red', 'node-red-5'].map((name) => {
  const dir = path.dirname(require.resolve(`${name}/package.json`));
  const runtimePkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };
  const nodesDir = path.dirname(require.resolve('@node-red/nodes/package.json', { paths: [dir] }));
  return { name, version: runtimePkg.version, engines: runtimePkg.engines, nodesDir };
});

function filesUnder(dir: string, ext: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name), ext) : e.name.endsWith(ext) ? [path.join(dir, e.name)] : []));
}

/** Node types registered by Node-RED's core nodes (RED.nodes.registerType in their editor files). */
function coreNodeTypes(nodesDir: string): Set<string> {
  const types = new Set<string>();
  for (const file of filesUnder(path.join(nodesDir, 'core'), '.html')) {
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/registerType\(\s*['"]([^'"]+)['"]/g)) types.add(m[1]);
  }
  return types;
}

interface Definition {
  problems: string[];
  category?: unknown;
}

/**
 * The node definitions of an editor file, read the way node-red-dev reads them: every
 * <script type="text/javascript"> parsed with acorn, each registerType call with a literal type and an
 * object literal whose defaults and credentials are object literals and whose icon, color, inputs,
 * outputs and category are literals.
 */
function editorDefinitions(html: string): Map<string, Definition> {
  const defs = new Map<string, Definition>();
  const scripts = [...html.matchAll(/<script.+?type=['"]text\/javascript['"].*?>([\S\s]*?)<\/script>/gi)].map((m) => m[1]);
  assert.ok(scripts.length > 0, 'no <script type="text/javascript"> section');
  for (const script of scripts) {
    const ast = acorn.parse(script, { ecmaVersion: 'latest' });
    walk.simple(ast, {
      CallExpression(node) {
        if (node.callee.property?.name !== 'registerType') return;
        const [typeArg, defArg] = node.arguments;
        assert.equal(typeArg.type, 'Literal', 'registerType with a type that is not a literal');
        const def: Definition = { problems: [] };
        defs.set(typeArg.value, def);
        if (defArg.type !== 'ObjectExpression') {
          def.problems.push('definition is not an object literal');
          return;
        }
        for (const prop of defArg.properties) {
          const key = prop.key?.name ?? prop.key?.value;
          if ((key === 'defaults' || key === 'credentials') && prop.value.type !== 'ObjectExpression') def.problems.push(`${key}-not-inline`);
          if (['icon', 'color', 'inputs', 'outputs', 'category'].includes(key)) {
            if (prop.value.type === 'Literal') {
              if (key === 'category') def.category = prop.value.value;
            } else {
              def.problems.push(`${key}-not-inline`);
            }
          }
        }
      },
    });
  }
  return defs;
}

describe('Node-RED Flow Library readiness (the scorecard, offline)', () => {
  describe('package.json (P01-P08)', () => {
    it('P04: the name is node-red-contrib-* (unscoped) or scoped; a node-red prefix needs -contrib-', () => {
      const scoped = /^@[a-z\d][\w.-]*\/[a-z\d][\w.-]*$/.test(pkg.name);
      assert.ok(scoped || /^node-red-contrib-[a-z\d][a-z\d.-]*$/.test(pkg.name), pkg.name);
      assert.ok(scoped || !/^(node-red|nodered)(?!-contrib-)/.test(pkg.name), pkg.name);
    });

    it.skip('known gap (P04): the scorecard asks packages first published after 2021-12-01 for a scoped name (@scope/...); this one is unscoped until its npm scope is chosen', () => undefined);

    it('P05: keywords include node-red; there is a description and a semver version', () => {
      assert.ok(pkg.keywords?.includes('node-red'), JSON.stringify(pkg.keywords));
      assert.ok(typeof pkg.description === 'string' && pkg.description.trim().length >= 20, 'a description of at least a few words');
      assert.ok(semver.valid(pkg.version), `version ${pkg.version} is not semver`);
    });

    it('P01: a licence in package.json and a LICENSE file', () => {
      assert.equal(typeof pkg.license, 'string');
      assert.ok(pkg.license && pkg.license !== 'UNLICENSED', pkg.license);
      const licence = fs.readFileSync(path.join(REPO_ROOT, 'LICENSE'), 'utf8');
      if (pkg.license === 'Apache-2.0') assert.match(licence, /Apache License\s+Version 2\.0/);
      assert.ok(typeof pkg.author === 'string' && pkg.author.length > 0, 'an author');
    });

    const linked = pkg.repository !== undefined || pkg.bugs !== undefined;
    (linked ? it : it.skip)(
      linked
        ? 'P03: a repository or bugs URL'
        : 'known gap (P03, P02): no repository or bugs URL in package.json — the project has no public repository yet, and none is invented; the scorecard warns until one is added',
      () => {
        const url = typeof pkg.repository === 'string' ? pkg.repository : (pkg.repository as { url?: string } | undefined)?.url ?? (typeof pkg.bugs === 'string' ? pkg.bugs : (pkg.bugs as { url?: string } | undefined)?.url);
        assert.match(String(url), /^(git\+)?(https?|git|ssh):\/\/\S+$/);
      },
    );

    it('P06: node-red.version is declared (>=4.0.0) and every Node-RED installed for the tests satisfies it', () => {
      const range = pkg['node-red'].version;
      assert.ok(range && semver.validRange(range), `node-red.version ${String(range)}`);
      assert.equal(semver.minVersion(range)?.version, '4.0.0');
      for (const r of RUNTIMES) assert.ok(semver.satisfies(r.version, range), `${r.name} ${r.version} does not satisfy ${range}`);
    });

    it("P07: engines.node is declared and the newest Node-RED's minimum Node.js satisfies it", () => {
      const range = pkg.engines?.node;
      assert.ok(range && semver.validRange(range), `engines.node ${String(range)}`);
      // The scorecard takes npm's `latest` Node-RED: the newest installed here (5.0 wants Node >=22.9).
      const newest = RUNTIMES.reduce((a, b) => (semver.satisfies(b.version, `>${a.version}`) ? b : a));
      const min = semver.minVersion(newest.engines.node)?.version;
      assert.ok(min && semver.satisfies(min, range), `Node-RED ${newest.version} runs on Node ${String(min)}, which engines.node ${range} excludes`);
    });

    it("ships dist/ and examples/: package.json `files` covers every node's runtime and editor file, each example, README and LICENSE", () => {
      // npm packs what `files` names (a folder with everything under it), less what an .npmignore inside removes.
      const files = pkg.files ?? [];
      const shipped = (rel: string) => files.length === 0 || files.some((f) => rel === f.replace(/\/$/, '') || rel.startsWith(`${f.replace(/\/$/, '')}/`));
      const wanted = [
        ...Object.values(pkg['node-red'].nodes).flatMap((file) => [file, file.replace(/\.js$/, '.html')]),
        ...fs.readdirSync(path.join(REPO_ROOT, 'flows')).filter((f) => f.endsWith('.json')).map((f) => `examples/${f}`),
        'README.md',
        'LICENSE',
      ];
      for (const rel of wanted) {
        assert.ok(fs.existsSync(path.join(REPO_ROOT, rel)), `${rel} is not built`);
        assert.ok(shipped(rel), `${rel} is not in package.json files`);
      }
      for (const dir of ['.', 'dist', 'examples']) assert.ok(!fs.existsSync(path.join(REPO_ROOT, dir, '.npmignore')), `${dir}/.npmignore would drop files`);
    });
  });

  describe('nodes (N01, N02)', () => {
    it('N01: every node type is prefixed opea- and none is a type of Node-RED core (4.1 or 5.0)', () => {
      const core = new Set(RUNTIMES.flatMap((r) => [...coreNodeTypes(r.nodesDir)]));
      assert.ok(core.has('inject') && core.has('http in') && core.has('join'), 'the core node types were read');
      for (const type of nodeTypes) {
        assert.match(type, /^opea-[a-z][a-z-]*$/);
        assert.ok(!core.has(type), `${type} is a Node-RED core node type`);
      }
      assert.equal(new Set(nodeTypes).size, nodeTypes.length);
    });

    it('each node\'s editor file (the .html beside its .js) parses statically and registers exactly its type inline, with a template and help', () => {
      for (const [type, file] of Object.entries(pkg['node-red'].nodes)) {
        const htmlFile = path.join(REPO_ROOT, file.replace(/\.js$/, '.html'));
        assert.ok(fs.existsSync(path.join(REPO_ROOT, file)), `${file} is not built`);
        assert.ok(fs.existsSync(htmlFile), `${htmlFile} is not built`);
        const html = fs.readFileSync(htmlFile, 'utf8');
        const defs = editorDefinitions(html);
        assert.deepEqual([...defs.keys()], [type], `${htmlFile} registers ${[...defs.keys()].join(', ')}`);
        const def = defs.get(type) as Definition;
        assert.deepEqual(def.problems, [], `${type}: ${def.problems.join(', ')}`);
        assert.equal(def.category === 'config', CONFIG_TYPES.includes(type), `${type} has category ${String(def.category)}`);
        const attr = (name: string) => new RegExp(`<script[^>]+type="text/(html|x-red|markdown)"[^>]+${name}="${type}"`);
        assert.match(html, attr('data-template-name'), `${type} has no edit template`);
        assert.match(html, attr('data-help-name'), `${type} has no help`);
      }
    });

    it('N02: every node type, config nodes included, appears in an example flow, and flows/ and examples/ hold the same files', () => {
      const flowFiles = fs.readdirSync(path.join(REPO_ROOT, 'flows')).filter((f) => f.endsWith('.json')).sort();
      const exampleFiles = fs.readdirSync(path.join(REPO_ROOT, 'examples')).filter((f) => f.endsWith('.json')).sort();
      assert.deepEqual(exampleFiles, flowFiles, 'examples/ is built from flows/ by build-assets');
      const used = new Map<string, string[]>();
      for (const file of exampleFiles) {
        const text = fs.readFileSync(path.join(REPO_ROOT, 'examples', file), 'utf8');
        assert.equal(text, fs.readFileSync(path.join(REPO_ROOT, 'flows', file), 'utf8'), `examples/${file} is stale: run the build`);
        const flow = JSON.parse(text) as { type: string }[];
        assert.ok(Array.isArray(flow), `${file} is a flow array, as the scorecard reads it`);
        for (const n of flow) used.set(n.type, [...(used.get(n.type) ?? []), file]);
      }
      const missing = nodeTypes.filter((t) => !used.has(t));
      assert.deepEqual(missing, [], `no example uses ${missing.join(', ')}`);
    });
  });

  describe('dependencies (D01, D02)', () => {
    const deps = Object.keys(pkg.dependencies ?? {});

    it(`D01: ${deps.length} runtime dependencies (${deps.join(', ')}), at most ${MAX_DEPENDENCIES}, the scorecard's warning threshold`, () => {
      assert.ok(deps.length <= MAX_DEPENDENCIES, `${deps.length} dependencies: ${deps.join(', ')}`);
    });

    it('node-red is neither a dependency nor a peer dependency', () => {
      for (const field of [pkg.dependencies, pkg.peerDependencies]) {
        for (const name of Object.keys(field ?? {})) assert.ok(!/^(node-red|@node-red\/.+)$/.test(name), `${name} must not be a (peer) dependency`);
      }
    });

    it("D02: no package of the scorecard's incompatible list (agent-base <6.0.0) in the runtime dependency tree", () => {
      const lock = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dev?: boolean }> };
      const bad: Record<string, string> = { 'agent-base': '<6.0.0' };
      for (const [where, entry] of Object.entries(lock.packages)) {
        if (where === '' || entry.dev || !entry.version) continue;
        const name = where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length);
        if (bad[name]) assert.ok(!semver.satisfies(entry.version, bad[name]), `${name}@${entry.version} at ${where}`);
      }
    });
  });
});
