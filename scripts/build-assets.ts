/**
 * Build step after tsc: writes each service node's editor file (dist/nodes/<type>/<type>.html) from
 * the node-type specs and the catalog — so the editor's defaults, choices and ranges are the ones the
 * runtime and the exporters check — with the help text from nodes/<type>/help.md; copies the
 * hand-written editors (config and tool nodes), the icons, and the example flows (to examples/, where Node-RED's
 * Import > Examples looks).
 */
import fs from 'node:fs';
import path from 'node:path';
import { backendsOf, findBackend } from '../core/catalog';
import { COMMON_PROPERTIES, CONFIG_VERSION, NODE_TYPES, NodeTypeSpec, ParamSpec } from '../core/node-types';
import { editorFileWithPropertyLists, helpWithPropertyLists } from './help-properties';

const ROOT = path.resolve(__dirname, '..', '..');
const DIST_NODES = path.join(ROOT, 'dist', 'nodes');
/** Nodes whose editor file is written by hand (config nodes and tool nodes): nodes/<type>/<type>.html. */
function handWrittenEditors(): string[] {
  return fs.readdirSync(path.join(ROOT, 'nodes')).filter((type) => type.startsWith('opea-') && fs.existsSync(path.join(ROOT, 'nodes', type, `${type}.html`)));
}

/** Palette look per node type: colour, icon, outputs and their labels. */
const LOOK: Record<string, { color: string; outputs: string[]; palette: string }> = {
  'opea-embedding': { color: '#C0DEED', outputs: ['EmbedDoc'], palette: 'embedding' },
  'opea-retriever': { color: '#C0DEED', outputs: ['SearchedDoc'], palette: 'retriever' },
  'opea-rerank': { color: '#C0DEED', outputs: ['LLMParamsDoc'], palette: 'rerank' },
  'opea-llm': { color: '#D7D7A0', outputs: ['GeneratedDoc', 'stream chunks (msg.parts)'], palette: 'llm' },
  'opea-dataprep': { color: '#E2D96E', outputs: ['ingest report'], palette: 'dataprep' },
  'opea-guardrail': { color: '#F3B567', outputs: ['pass (unchanged or redacted)', 'blocked (msg.guardrail)'], palette: 'guardrail' },
};

/** Settings that only apply to some backends: shown in the editor only for those. */
const ONLY_FOR: Record<string, string[]> = {
  dimensions: ['hashing'],
  store: ['memory'],
  embedBackend: ['memory'],
  embedModel: ['memory'],
  embedBatchSize: ['memory'],
  batchSize: ['tei', 'opea', 'openai', 'ollama'],
  remote: ['opea', 'llamaguard'],
  remoteChecks: ['opea'],
  llamaGuardVersion: ['llamaguard'],
};

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Settings that name a config node, by the config node's type. */
const CONFIG_REFERENCES: Record<string, string> = { store: 'opea-vectorstore', promptLibrary: 'opea-prompt', memory: 'opea-memory' };
/** Properties of older releases that core/migrations.ts still reads. */
const MIGRATED: Record<string, string[]> = { 'opea-llm': ['template'] };

function defaultsOf(spec: NodeTypeSpec): Record<string, unknown> {
  // A deployable backend where there is one; else one that works offline, so a dropped node runs as it is.
  const backends = backendsOf(spec.kind);
  const first = backends.find((b) => b.deploy.type === 'service') ?? backends.find((b) => b.deploy.type === 'embedded') ?? backends[0];
  const defaults: Record<string, unknown> = {
    name: { value: '' },
    backend: { value: first.backend, required: true },
    model: { value: '' },
    server: { value: '', type: 'opea-server', required: false },
    externalUrl: { value: '' },
    configVersion: { value: CONFIG_VERSION },
  };
  for (const p of spec.params) {
    if (CONFIG_REFERENCES[p.key]) defaults[p.key] = { value: '', type: CONFIG_REFERENCES[p.key], required: false };
    else defaults[p.key] = { value: p.default };
  }
  // The editor drops properties it has no default for; an old flow keeps these for the runtime's migration (core/migrations.ts).
  for (const key of MIGRATED[spec.type] ?? []) defaults[key] = { value: undefined };
  return defaults;
}

/** Editor-side checks with the same ranges as core (flow-json coerceParam). */
function validators(spec: NodeTypeSpec): string {
  const lines = spec.params
    .filter((p) => p.type === 'int' || p.type === 'number')
    .map((p) => `    ${p.key}: function (v) { var n = Number(v); return v === '' || (isFinite(n) && n >= ${p.min ?? '-Infinity'} && n <= ${p.max ?? 'Infinity'}${p.type === 'int' ? ' && Math.floor(n) === n' : ''}); },`);
  return lines.join('\n');
}

function row(key: string, label: string, input: string, tip: string): string {
  const only = ONLY_FOR[key] ? ` data-only="${ONLY_FOR[key].join(' ')}"` : '';
  return `<div class="form-row"${only}>\n  <label for="node-input-${key}">${esc(label)}</label>\n  ${input}\n</div>${tip ? `\n<div class="form-tips"${only} style="margin-bottom: 12px">${esc(tip)}</div>` : ''}`;
}

function paramRow(p: ParamSpec): string {
  const label = p.key.replace(/([A-Z])/g, ' $1').replace(/^./, (c) => c.toUpperCase());
  switch (p.type) {
    case 'enum':
      return row(p.key, label, `<select id="node-input-${p.key}">${(p.values ?? []).map((v) => `<option value="${esc(v)}">${esc(v)}</option>`).join('')}</select>`, p.doc);
    case 'boolean':
      return row(p.key, label, `<input type="checkbox" id="node-input-${p.key}" style="width: auto">`, p.doc);
    case 'int':
    case 'number':
      return row(p.key, label, `<input type="number" id="node-input-${p.key}" min="${p.min ?? ''}" max="${p.max ?? ''}" step="${p.type === 'int' ? 1 : 'any'}" style="width: 120px">`, p.doc);
    case 'text':
      return row(p.key, label, `<textarea id="node-input-${p.key}" rows="6" style="width: 70%; font-family: monospace" placeholder="(built-in)"></textarea>`, p.doc);
    default:
      return row(p.key, label, `<input type="text" id="node-input-${p.key}">`, p.doc);
  }
}

function editorHtml(spec: NodeTypeSpec, help: string): string {
  const look = LOOK[spec.type];
  const backends = backendsOf(spec.kind);
  const needsModel = backends.filter((b) => b.needsModel).map((b) => b.backend);
  const remote = backends.filter((b) => b.deploy.type !== 'embedded').map((b) => b.backend);
  const doc = (key: string) => COMMON_PROPERTIES.find((c) => c.key === key)?.doc ?? '';
  const models = Object.fromEntries(backends.map((b) => [b.backend, findBackend(spec.kind, b.backend)?.defaultModel ?? '']));
  const form = [
    row('name', 'Name', '<input type="text" id="node-input-name" placeholder="Name">', ''),
    row('backend', 'Backend', `<select id="node-input-backend">${backends.map((b) => `<option value="${b.backend}">${esc(`${b.backend} — ${b.title}`)}</option>`).join('')}</select>`, ''),
    `<div class="form-row opea-model"><label for="node-input-model">Model</label><input type="text" id="node-input-model"></div>`,
    `<div class="form-row opea-server"><label for="node-input-server">Server</label><input type="text" id="node-input-server"></div>`,
    // Dataprep's memory backend uses the server for its embedder, so the row stays for it.
    ...spec.params.filter((p) => p.key !== 'store').map(paramRow),
    spec.params.some((p) => p.key === 'store') ? `<div class="form-row" data-only="memory"><label for="node-input-store">Vector store</label><input type="text" id="node-input-store"></div>` : '',
    row('externalUrl', 'External URL', '<input type="text" id="node-input-externalUrl" placeholder="https://… (exports only)">', doc('externalUrl')),
  ].filter(Boolean).join('\n');
  const serverFor = spec.kind === 'dataprep' ? backends.map((b) => b.backend) : remote;
  return `<script type="text/javascript">
(function () {
  var NEEDS_MODEL = ${JSON.stringify(needsModel)};
  var USES_SERVER = ${JSON.stringify(serverFor)};
  var DEFAULT_MODELS = ${JSON.stringify(models)};
  RED.nodes.registerType(${JSON.stringify(spec.type)}, {
    category: 'OPEA',
    color: ${JSON.stringify(look.color)},
    defaults: ${JSON.stringify(defaultsOf(spec), null, 2).replace(/\n/g, '\n    ')},
    inputs: 1,
    outputs: ${look.outputs.length},
    icon: ${JSON.stringify(`${spec.type}.svg`)},
    paletteLabel: ${JSON.stringify(look.palette)},
    outputLabels: ${JSON.stringify(look.outputs)},
    label: function () { return this.name || ${JSON.stringify(look.palette)} + ' (' + this.backend + ')'; },
    labelStyle: function () { return this.name ? 'node_label_italic' : ''; },
    oneditprepare: function () {
      var checks = {
${validators(spec)}
      };
      function refresh() {
        var backend = $('#node-input-backend').val();
        $('.opea-model').toggle(NEEDS_MODEL.indexOf(backend) !== -1 || (backend === 'memory' && $('#node-input-embedBackend').val() !== 'hashing'));
        $('#node-input-model').attr('placeholder', DEFAULT_MODELS[backend] || 'model id');
        $('.opea-server').toggle(USES_SERVER.indexOf(backend) !== -1);
        $('[data-only]').each(function () {
          var only = $(this).attr('data-only').split(' ');
          $(this).toggle(only.indexOf(backend) !== -1 || (only.indexOf('hashing') !== -1 && $('#node-input-embedBackend').val() === 'hashing' && backend === 'memory'));
        });
      }
      Object.keys(checks).forEach(function (key) {
        $('#node-input-' + key).on('change keyup', function () { $(this).toggleClass('input-error', !checks[key]($(this).val())); });
      });
      $('#node-input-backend, #node-input-embedBackend').on('change', refresh);
      refresh();
    }
  });
})();
</script>

<script type="text/html" data-template-name=${JSON.stringify(spec.type)}>
${form}
</script>

<script type="text/markdown" data-help-name=${JSON.stringify(spec.type)}>
${helpWithPropertyLists(help.trim())}
</script>
`;
}

function copyDir(from: string, to: string, filter: (name: string) => boolean): void {
  fs.mkdirSync(to, { recursive: true });
  for (const name of fs.readdirSync(from)) if (filter(name)) fs.copyFileSync(path.join(from, name), path.join(to, name));
}

export function buildAssets(): string[] {
  const written: string[] = [];
  for (const spec of NODE_TYPES) {
    const source = path.join(ROOT, 'nodes', spec.type);
    if (!fs.existsSync(path.join(source, `${spec.type}.ts`))) continue;
    const help = fs.readFileSync(path.join(source, 'help.md'), 'utf8');
    const out = path.join(DIST_NODES, spec.type, `${spec.type}.html`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, editorHtml(spec, help));
    written.push(out);
  }
  const handWritten = handWrittenEditors();
  for (const type of handWritten) {
    const out = path.join(DIST_NODES, type, `${type}.html`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, editorFileWithPropertyLists(fs.readFileSync(path.join(ROOT, 'nodes', type, `${type}.html`), 'utf8')));
    written.push(out);
  }
  for (const type of [...NODE_TYPES.map((t) => t.type), ...handWritten]) {
    if (fs.existsSync(path.join(DIST_NODES, type))) copyDir(path.join(ROOT, 'icons'), path.join(DIST_NODES, type, 'icons'), (n) => n.endsWith('.svg'));
  }
  // Editor plugins (plugins/<name>/<name>.html, package.json node-red.plugins), beside their compiled runtime part.
  for (const name of fs.readdirSync(path.join(ROOT, 'plugins'))) {
    const html = path.join(ROOT, 'plugins', name, `${name}.html`);
    if (!fs.existsSync(html)) continue;
    const out = path.join(ROOT, 'dist', 'plugins', name, `${name}.html`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.copyFileSync(html, out);
    written.push(out);
  }
  copyDir(path.join(ROOT, 'flows'), path.join(ROOT, 'examples'), (n) => n.endsWith('.json'));
  // The examples' datasets (opea-flow eval --dataset); Node-RED's import menu lists only .json files.
  copyDir(path.join(ROOT, 'flows', 'datasets'), path.join(ROOT, 'examples', 'datasets'), (n) => n.endsWith('.jsonl'));
  return written;
}

if (require.main === module) {
  const written = buildAssets();
  process.stdout.write(`build-assets: ${written.length} editor files, icons and examples written\n`);
}
