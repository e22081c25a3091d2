/**
 * `npm run build:flowise` (after tsc): writes dist-flowise/, the Flowise component pack.
 *
 *   dist-flowise/nodes/opea/<Name>/<Name>.js + icon   one thin CommonJS file per node: requires the
 *                                                     adapter from node-red-contrib-opea and exports
 *                                                     `nodeClass`; goes to flowise-components/dist/nodes/opea
 *   dist-flowise/credentials/OpeaServerApi.credential.js  self-contained (`credClass`); goes to
 *                                                     flowise-components/dist/credentials
 *   dist-flowise/node_modules/node-red-contrib-opea/   the runtime: compiled core, exporters and adapters
 *                                                     as the package `node-red-contrib-opea` (package.json
 *                                                     with our runtime dependencies); goes to
 *                                                     flowise-components/node_modules/node-red-contrib-opea
 *
 * Why thin files and a runtime package: Flowise's loader requires *every* `.js` under dist/nodes, so
 * the core cannot sit there beside the nodes (each of its files would be loaded as a candidate node);
 * a package in node_modules is resolved by the ordinary require walk from dist/nodes/opea/<Name>/,
 * needs no bundler, and one copy serves all nodes. The thin file also hands in its own `require`, so
 * @langchain/core and Flowise's utils resolve from inside Flowise's components package.
 *
 * dist-flowise/ itself has the layout of a components package (nodes/, credentials/, node_modules/),
 * so if Flowise ever loads nodes from an external path, that path can point here as it is: the thin
 * files find the runtime in dist-flowise/node_modules by the same require walk.
 */
import fs from 'node:fs';
import path from 'node:path';
import { INode } from './interface';

const ROOT = path.resolve(__dirname, '..', '..');
export const OUT = path.join(ROOT, 'dist-flowise');
export const PACKAGE = 'node-red-contrib-opea';
/** Where the runtime package sits in dist-flowise (and, relative to it, in flowise-components). */
export const RUNTIME_DIR = path.join('node_modules', PACKAGE);

/** File name (and class) of every node, in palette order. */
export const NODE_FILES = ['OpeaEmbeddings', 'OpeaRetriever', 'OpeaRerankRetriever', 'OpeaChatModel', 'OpeaGuardrail', 'OpeaEvaluator', 'OpeaBenchmark', 'OpeaExporter'];
export const CREDENTIAL_FILES = ['OpeaServerApi.credential'];

function thinFile(name: string): string {
  return [
    "'use strict';",
    `// ${name}: OPEA component for Flowise, emitted by node-red-contrib-opea (npm run build:flowise).`,
    '// Flowise requires this file and instantiates module.exports.nodeClass; the adapter lives in the',
    `// ${PACKAGE} package installed into flowise-components/node_modules (see flowise/README.md).`,
    `const adapter = require('${PACKAGE}/dist/flowise/nodes/${name}');`,
    `require('${PACKAGE}/dist/flowise/host').useHost(require);`,
    'module.exports = { nodeClass: adapter.nodeClass };',
    '',
  ].join('\n');
}

function copyTree(from: string, to: string, keep: (file: string) => boolean): void {
  fs.mkdirSync(to, { recursive: true });
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) copyTree(source, target, keep);
    else if (keep(entry.name)) fs.copyFileSync(source, target);
  }
}

export function buildFlowise(out = OUT): string[] {
  const written: string[] = [];
  const tmp = `${out}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const name of NODE_FILES) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const NodeClass = require(path.join(ROOT, 'dist', 'flowise', 'nodes', name)).nodeClass as new () => INode;
    const icon = new NodeClass().icon;
    const dir = path.join(tmp, 'nodes', 'opea', name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.js`), thinFile(name));
    fs.copyFileSync(path.join(ROOT, 'icons', icon), path.join(dir, icon));
    written.push(`nodes/opea/${name}/${name}.js`, `nodes/opea/${name}/${icon}`);
  }
  fs.mkdirSync(path.join(tmp, 'credentials'), { recursive: true });
  for (const name of CREDENTIAL_FILES) {
    fs.copyFileSync(path.join(ROOT, 'dist', 'flowise', 'credentials', `${name}.js`), path.join(tmp, 'credentials', `${name}.js`));
    written.push(`credentials/${name}.js`);
  }
  const runtime = path.join(tmp, RUNTIME_DIR);
  const js = (f: string) => f.endsWith('.js') || f.endsWith('.json');
  for (const part of ['core', 'exporters', 'flowise']) copyTree(path.join(ROOT, 'dist', part), path.join(runtime, 'dist', part), js);
  fs.rmSync(path.join(runtime, 'dist', 'flowise', 'build.js'));
  const own = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string; files: string[]; dependencies: Record<string, string> };
  // Files the exporters read at run time (dist/exporters/... -> ../../../exporters/...: CRDs, the compose
  // schema, the gateway script): the folders under exporters/ that the npm package ships.
  for (const folder of own.files.filter((f) => f.startsWith('exporters/'))) copyTree(path.join(ROOT, folder), path.join(runtime, folder), () => true);
  const manifest = { name: PACKAGE, version: own.version, license: own.license, description: 'Runtime of the OPEA Flowise components (core, exporters, adapters)', main: 'dist/core/index.js', private: true, dependencies: own.dependencies };
  fs.writeFileSync(path.join(runtime, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const f of ['install-local.sh', 'Dockerfile', 'README.md']) {
    const source = path.join(ROOT, 'flowise', f);
    if (fs.existsSync(source)) fs.copyFileSync(source, path.join(tmp, f));
  }
  if (fs.existsSync(path.join(tmp, 'install-local.sh'))) fs.chmodSync(path.join(tmp, 'install-local.sh'), 0o755);
  written.push(`node_modules/${PACKAGE}/package.json`);
  fs.rmSync(out, { recursive: true, force: true });
  fs.renameSync(tmp, out);
  return written;
}

if (require.main === module) {
  const files = buildFlowise();
  process.stdout.write(`dist-flowise: ${NODE_FILES.length} nodes, ${CREDENTIAL_FILES.length} credential, the runtime in ${RUNTIME_DIR} (${files.length} files listed)\n`);
}
