import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { loadPipeline } from '../../core/pipeline';
import { ProblemList } from '../../core/problems';
import { exportPipeline, TARGETS } from '../../exporters';
import { AnsibleInput, ansibleBundle, COLLECTIONS } from '../../exporters/ansible';
import { ansibleYaml, loadAnsibleYaml, Unsafe } from '../../exporters/ansible/yaml';
import { Bundle, writeBundle } from '../../exporters/bundle';
import { ansible, lint, loadWithAnsible, requireAnsible, STUB_COLLECTIONS, syntaxCheck, SYSTEM_COLLECTIONS } from '../support/ansible/helpers';
import { exampleFlow, REFERENCE_DIR } from '../support/reference';

type Json = Record<string, unknown>;

const HOSTILE = "{{ lookup('pipe', 'id') }}\n\"quoted\" and 'single' {% if true %}x{% endif %}: # not a comment";

/** OPEA's own ChatQnA files as the other targets' output, and the variables their compose file reads. */
function referenceInput(overrides: Partial<AnsibleInput> = {}): AnsibleInput {
  const read = (rel: string) => fs.readFileSync(path.join(REFERENCE_DIR, rel), 'utf8');
  return {
    name: 'chatqa',
    namespace: 'chatqa',
    platform: 'xeon',
    files: {
      'gmc/chatqa.yaml': read('gmc/chatQnA_xeon.yaml'),
      'compose/compose.yaml': read('compose/chatqna_xeon_compose.yaml'),
      'compose/.env.example': '# Environment of the compose project\nHF_TOKEN=\nLLM_MODEL_ID=meta-llama/Meta-Llama-3-8B-Instruct\nREGISTRY=opea\nTAG=latest\n',
      'compose/README.md': '# ChatQnA on Xeon\n',
    },
    composeEnv: [
      { name: 'HF_TOKEN', secret: true, required: true },
      { name: 'EMBEDDING_MODEL_ID', secret: false, required: true, default: 'BAAI/bge-base-en-v1.5' },
      { name: 'LLM_MODEL_ID', secret: false, required: true, default: 'meta-llama/Meta-Llama-3-8B-Instruct' },
      { name: 'RERANK_MODEL_ID', secret: false, required: true, default: 'BAAI/bge-reranker-base' },
      { name: 'INDEX_NAME', secret: false, required: false, default: 'rag-redis' },
      { name: 'MODEL_CACHE', secret: false, required: false, default: './data' },
      { name: 'NGINX_PORT', secret: false, required: false, default: '80' },
      { name: 'REGISTRY', secret: false, required: false, default: 'opea' },
      { name: 'TAG', secret: false, required: false, default: 'latest' },
      { name: 'no_proxy', secret: false, required: false, default: '' },
    ],
    ...overrides,
  };
}

function exportFlow(file: string, platform: 'xeon' | 'gaudi' | 'nvidia' = 'xeon'): Bundle {
  const { pipeline } = loadPipeline(exampleFlow(file));
  const problems = new ProblemList();
  const bundle = exportPipeline(pipeline, TARGETS, { platform }, problems);
  assert.deepEqual(problems.items, []);
  return bundle as Bundle;
}

const only = (bundle: Bundle, prefix: string): Bundle => Object.fromEntries(Object.entries(bundle).filter(([p]) => p.startsWith(prefix)));
const yamlOf = (bundle: Bundle, rel: string) => loadAnsibleYaml(bundle[`ansible/${rel}`]);
const findTask = (tasks: Json[], name: string): Json => {
  const found = tasks.find((t) => t.name === name);
  assert.ok(found, `no task named '${name}'`);
  return found;
};

describe('Ansible exporter', function () {
  this.timeout(600_000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-ansible-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Writes the bundle under dir and returns the ansible/ folder. */
  const write = (bundle: Bundle): string => {
    writeBundle(dir, bundle);
    return path.join(dir, 'ansible');
  };

  describe('the bundle', () => {
    it('holds the inventory, site.yml, pinned collections, a README and the three roles under ansible/', () => {
      const bundle = ansibleBundle(referenceInput());
      const files = Object.keys(bundle).sort();
      assert.ok(files.every((f) => f.startsWith('ansible/')), files.join('\n'));
      for (const f of ['ansible.cfg', 'inventory/hosts.yml', 'group_vars/all.yml', 'site.yml', 'requirements.yml', 'README.md',
        'roles/docker_host/tasks/main.yml', 'roles/compose_app/tasks/main.yml', 'roles/compose_app/tasks/preflight.yml',
        'roles/compose_app/tasks/up.yml', 'roles/compose_app/files/compose.yaml', 'roles/gmc_pipeline/tasks/main.yml', 'roles/gmc_pipeline/files/gmconnector.yaml']) {
        assert.ok(files.includes(`ansible/${f}`), `missing ansible/${f}`);
      }
      const inventory = yamlOf(bundle, 'inventory/hosts.yml') as { all: { children: Record<string, { hosts: Json }> } };
      assert.deepEqual(Object.keys(inventory.all.children), ['docker_hosts', 'k8s_control']);
      assert.deepEqual(Object.keys(inventory.all.children.k8s_control.hosts), ['localhost']);
      const plays = yamlOf(bundle, 'site.yml') as Json[];
      assert.deepEqual(plays.map((p) => [p.hosts, (p.roles as { role: string }[]).map((r) => r.role)]), [
        ['docker_hosts', ['docker_host', 'compose_app']],
        ['k8s_control', ['gmc_pipeline']],
      ]);
      assert.deepEqual(yamlOf(bundle, 'requirements.yml'), { collections: COLLECTIONS.map((c) => ({ name: c.name, version: c.version })) });
      for (const c of COLLECTIONS) assert.match(c.version, /^\d+\.\d+\.\d+$/, 'an exact version');
      assert.match(bundle['ansible/README.md'], /ansible-galaxy collection install -r requirements\.yml/);
      assert.match(bundle['ansible/README.md'], /ansible-playbook -i inventory\/hosts\.yml site\.yml/);
    });

    it('README: the image of every compose service, and how to install the collections offline', () => {
      const bundle = exportFlow('chatqna.json', 'gaudi');
      const readme = bundle['ansible/README.md'];
      const compose = yaml.load(bundle['compose/compose.yaml']) as { services: Record<string, { image: string }> };
      for (const [name, service] of Object.entries(compose.services)) assert.ok(readme.includes(`- \`${name}\`: \`${service.image}\``), name);
      assert.ok(readme.includes('`ghcr.io/huggingface/tei-gaudi:1.5.0`') && readme.includes('`${REGISTRY:-opea}/retriever-redis:${TAG:-1.1}`'));
      assert.match(readme, /`ansible-galaxy collection download -r requirements\.yml`, copy the `collections\/` folder it writes, and run\n`ansible-galaxy collection install -r requirements\.yml` inside it/);
    });

    it('ships the exported files verbatim: the compose project, not its README or example, and the GMConnector', () => {
      const input = referenceInput();
      const bundle = ansibleBundle(input);
      assert.equal(bundle['ansible/roles/compose_app/files/compose.yaml'], input.files['compose/compose.yaml']);
      assert.equal(bundle['ansible/roles/gmc_pipeline/files/gmconnector.yaml'], input.files['gmc/chatqa.yaml']);
      assert.deepEqual(Object.keys(only(bundle, 'ansible/roles/compose_app/files/')), ['ansible/roles/compose_app/files/compose.yaml']);
      const vars = yamlOf(bundle, 'roles/gmc_pipeline/vars/main.yml') as { gmc_pipeline_name: Unsafe };
      assert.equal(vars.gmc_pipeline_name.value, 'chatqa', 'waits on the name the CR carries');
    });

    it('plays only the targets whose files are there, and refuses an export with neither', () => {
      const input = referenceInput();
      const composeOnly = ansibleBundle({ ...input, files: only(input.files, 'compose/') });
      assert.deepEqual((yamlOf(composeOnly, 'site.yml') as Json[]).map((p) => p.hosts), ['docker_hosts']);
      assert.ok(!Object.keys(composeOnly).some((f) => f.includes('gmc_pipeline')));
      const gmcOnly = ansibleBundle({ ...input, files: only(input.files, 'gmc/') });
      assert.deepEqual((yamlOf(gmcOnly, 'site.yml') as Json[]).map((p) => p.hosts), ['k8s_control']);
      assert.ok(!Object.keys(gmcOnly).some((f) => f.includes('compose_app') || f.includes('docker_host')));
      assert.throws(() => ansibleBundle({ ...input, files: {} }), /neither/);
      assert.throws(() => ansibleBundle({ ...input, composeEnv: [{ name: 'A B', secret: false, required: false }] }), /not an environment variable name/);
    });

    it('writes every flow string as !unsafe, and js-yaml reads the very same strings back', () => {
      const bundle = ansibleBundle(referenceInput({
        name: HOSTILE,
        namespace: `ns ${HOSTILE}`,
        composeEnv: [{ name: 'MODEL', secret: false, required: false, default: HOSTILE }],
      }));
      const all = yamlOf(bundle, 'group_vars/all.yml') as Record<string, Unsafe>;
      assert.ok(all.opea_pipeline_name instanceof Unsafe && all.opea_namespace instanceof Unsafe && all.opea_platform instanceof Unsafe);
      assert.equal(all.opea_pipeline_name.value, HOSTILE);
      assert.equal(all.opea_namespace.value, `ns ${HOSTILE}`);
      const defaults = yamlOf(bundle, 'roles/compose_app/defaults/main.yml') as { compose_app_env: { name: Unsafe; default: Unsafe }[] };
      assert.equal(defaults.compose_app_env[0].default.value, HOSTILE);
      // The hostile text appears only inside !unsafe scalars: every `{{` outside them is the bundle's own.
      const plainStrings = (v: unknown): string[] =>
        v instanceof Unsafe ? [] : typeof v === 'string' ? [v] : Array.isArray(v) ? v.flatMap(plainStrings) : v && typeof v === 'object' ? Object.entries(v).flatMap(([k, x]) => [k, ...plainStrings(x)]) : [];
      let unsafeSeen = 0;
      for (const [file, text] of Object.entries(bundle)) {
        if (!file.endsWith('.yml') || file.includes('/files/')) continue;
        for (const s of plainStrings(loadAnsibleYaml(text))) assert.ok(!s.includes("lookup('pipe'"), `${file}: ${s}`);
        unsafeSeen += (text.match(/!unsafe/g) ?? []).length;
      }
      assert.ok(unsafeSeen >= 4);
    });

    it('writes no secret: no token or password value, no .env, secrets without defaults', () => {
      const sentinel = 'hf_SentinelToken1234567890';
      const saved = process.env.HF_TOKEN;
      process.env.HF_TOKEN = sentinel;
      let bundles: Bundle[];
      try {
        bundles = [ansibleBundle(referenceInput()), only(exportFlow('chatqna.json'), 'ansible/'), only(exportFlow('chatqna-switch.json', 'gaudi'), 'ansible/')];
      } finally {
        if (saved === undefined) delete process.env.HF_TOKEN;
        else process.env.HF_TOKEN = saved;
      }
      for (const bundle of bundles) {
        for (const [file, text] of Object.entries(bundle)) {
          assert.ok(!text.includes(sentinel), `${file} holds the controller's HF_TOKEN`);
          assert.ok(!/\bhf_[A-Za-z0-9]{10,}/.test(text), `${file} holds something like a Hugging Face token`);
          assert.ok(!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text), `${file} holds a private key`);
          assert.ok(!/(password|passwd|secret_key|api_key)\s*[:=]\s*["']?[^\s"'{]/i.test(text), `${file} holds a password-like value`);
          assert.ok(!/(^|\/)\.env$/.test(file), `${file}: an .env file`);
        }
        const defaults = loadAnsibleYaml(bundle['ansible/roles/compose_app/defaults/main.yml']) as { compose_app_env: { name: Unsafe; secret: boolean; default: Unsafe }[] };
        const secrets = defaults.compose_app_env.filter((v) => v.secret);
        assert.ok(secrets.some((v) => v.name.value === 'HF_TOKEN'));
        for (const v of secrets) assert.equal(v.default.value, '', `${v.name.value} has a default`);
      }
      // The Secret is built from the controller's environment when the play runs, with no_log.
      const gmcTasks = loadAnsibleYaml(bundles[0]['ansible/roles/gmc_pipeline/tasks/main.yml']) as Json[];
      const secretTask = findTask(gmcTasks, 'Store the Hugging Face token from the controller environment as a Secret');
      assert.equal(secretTask.no_log, true);
      assert.match(JSON.stringify(secretTask), /lookup\('ansible\.builtin\.env', 'HF_TOKEN'\)/);
      const envTask = findTask(loadAnsibleYaml(bundles[0]['ansible/roles/compose_app/tasks/main.yml']) as Json[], 'Write the project environment from the controller environment');
      assert.equal(envTask.no_log, true);
      assert.equal((envTask['ansible.builtin.copy'] as Json).mode, '0600');
    });

    it('is byte-identical for the same input, whatever the order of the input files', () => {
      const input = referenceInput();
      const a = ansibleBundle(input);
      const reversed = Object.fromEntries(Object.entries(input.files).reverse());
      const b = ansibleBundle({ ...structuredClone(input), files: reversed });
      assert.deepEqual(Object.keys(a), Object.keys(b));
      for (const f of Object.keys(a)) assert.equal(a[f], b[f], f);
      assert.deepEqual(exportFlow('chatqna.json'), exportFlow('chatqna.json'));
    });
  });

  describe('checked by Ansible', function () {
    before(function () {
      requireAnsible(this);
    });

    const cases: [string, () => Bundle][] = [
      ["OPEA's ChatQnA reference files", () => ansibleBundle(referenceInput())],
      ['flows/chatqna.json on xeon', () => only(exportFlow('chatqna.json'), 'ansible/')],
      ['flows/chatqna-switch.json on gaudi', () => only(exportFlow('chatqna-switch.json', 'gaudi'), 'ansible/')],
      ['flows/chatqna.json on nvidia', () => only(exportFlow('chatqna.json', 'nvidia'), 'ansible/')],
      ['compose files only', () => ansibleBundle({ ...referenceInput(), files: only(referenceInput().files, 'compose/') })],
      ['GMConnector only', () => ansibleBundle({ ...referenceInput(), files: only(referenceInput().files, 'gmc/') })],
    ];
    for (const [label, build] of cases) {
      it(`${label}: ansible-playbook --syntax-check and ansible-lint --offline --strict pass`, () => {
        const cwd = write(build());
        const syntax = syntaxCheck(cwd);
        assert.equal(syntax.status, 0, syntax.output);
        const linted = lint(cwd);
        assert.equal(linted.status, 0, linted.output);
        assert.match(linted.output, /Passed with production profile: 0 failure\(s\), 0 warning\(s\)/);
      });
    }

    it('lint checks module arguments: an unknown docker_compose_v2 or k8s option fails it', () => {
      const cwd = write(ansibleBundle(referenceInput()));
      const compose = path.join(cwd, 'roles', 'compose_app', 'tasks', 'up.yml');
      // ansible-lint stops at a templated value of a typed option; literals stand in for the two variables.
      const literal = fs.readFileSync(compose, 'utf8').replace('"{{ compose_app_pull }}"', 'missing').replace('"{{ compose_app_wait_timeout }}"', '1800');
      assert.ok(!literal.includes('{{ compose_app_pull }}') && !literal.includes('{{ compose_app_wait_timeout }}'));
      fs.writeFileSync(compose, literal);
      const clean = lint(cwd);
      assert.equal(clean.status, 0, clean.output);
      fs.writeFileSync(compose, literal.replace('    wait: true\n', '    wait: true\n    wait_for_ever: true\n'));
      const k8s = path.join(cwd, 'roles', 'gmc_pipeline', 'tasks', 'main.yml');
      fs.writeFileSync(k8s, fs.readFileSync(k8s, 'utf8').replace('    apply: true\n', '    apply: true\n    apply_harder: true\n'));
      const linted = lint(cwd);
      assert.notEqual(linted.status, 0);
      assert.match(linted.output, /Unsupported parameters for community\.docker\.docker_compose_v2 module: wait_for_ever/);
      assert.match(linted.output, /Unsupported parameters for kubernetes\.core\.k8s module: apply_harder/);
    });

    it('flow strings with {{ }}, quotes and newlines: Ansible loads them unchanged, and a --check run prints them literally', () => {
      const bundle = ansibleBundle(referenceInput({ name: HOSTILE, namespace: `ns ${HOSTILE}` }));
      const cwd = write(bundle);
      const vars = loadWithAnsible(path.join(cwd, 'group_vars', 'all.yml')) as Record<string, { unsafe: string }>;
      assert.deepEqual(vars.opea_pipeline_name, { unsafe: HOSTILE });
      assert.deepEqual(vars.opea_namespace, { unsafe: `ns ${HOSTILE}` });
      const syntax = syntaxCheck(cwd);
      assert.equal(syntax.status, 0, syntax.output);
      const run = ansible('ansible-playbook', ['-i', 'inventory/hosts.yml', 'site.yml', '--check', '--limit', 'localhost', '--tags', 'opea_preflight'], cwd);
      assert.equal(run.status, 0, run.output);
      // The CR keeps its own name; the namespace comes from the flow and is printed as the text it is.
      assert.ok(run.output.includes("in namespace ns {{ lookup('pipe', 'id') }}\\n\\\"quoted\\\" and 'single' {% if true %}x{% endif %}: # not a comment,"), run.output);
      assert.ok(!/uid=\d+/.test(run.output), 'the lookup ran');
    });

    describe('compose_app, run on this machine', () => {
      /** An inventory with this machine as the only docker host, and the reference bundle. */
      const localBundle = (): string => {
        const cwd = write(ansibleBundle(referenceInput()));
        fs.writeFileSync(path.join(cwd, 'local.yml'), ansibleYaml({ all: { children: { docker_hosts: { hosts: { localhost: { ansible_connection: 'local' } } } } } }));
        return cwd;
      };
      const preflight = (cwd: string, env: Record<string, string | undefined>) =>
        ansible('ansible-playbook', ['-i', 'local.yml', 'site.yml', '--tags', 'opea_preflight'], cwd, env);

      it('stops before anything changes when a required secret is empty, or a value cannot stand in .env', () => {
        const cwd = localBundle();
        const missing = preflight(cwd, { HF_TOKEN: undefined });
        assert.notEqual(missing.status, 0, missing.output);
        assert.match(missing.output, /HF_TOKEN is empty: export it in the shell that runs ansible-playbook .*Nothing has been changed\./s);
        assert.ok(!missing.output.includes('Create the project folder'), missing.output);
        const empty = preflight(cwd, { HF_TOKEN: '' });
        assert.notEqual(empty.status, 0, empty.output);
        const quoted = preflight(cwd, { HF_TOKEN: "hf_it's" });
        assert.notEqual(quoted.status, 0, quoted.output);
        assert.match(quoted.output, /HF_TOKEN holds a quote, a backslash or a line break/);
        assert.ok(!quoted.output.includes("hf_it's"), 'the secret is not printed');
        const ok = preflight(cwd, { HF_TOKEN: 'hf_test' });
        assert.equal(ok.status, 0, ok.output);
      });

      describe('needs community.docker with docker_compose_v2 and its wait option, and says how to install it', () => {
        /** Collections on these paths only: not the test stub, nor anything on Python's path. */
        const collectionsOn = (...paths: string[]) => ({ ANSIBLE_COLLECTIONS_PATH: paths.join(':'), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH: 'False', PYTHONPATH: process.env.PYTHONPATH });
        /** The compose play alone: the GMC play's kubernetes.core is not on those paths either. */
        const composeBundle = (): string => {
          const cwd = write(ansibleBundle({ ...referenceInput(), files: only(referenceInput().files, 'compose/') }));
          fs.writeFileSync(path.join(cwd, 'local.yml'), ansibleYaml({ all: { children: { docker_hosts: { hosts: { localhost: { ansible_connection: 'local' } } } } } }));
          return cwd;
        };
        const refused = (run: { status: number | null; output: string }, found: RegExp) => {
          assert.notEqual(run.status, 0, run.output);
          assert.match(run.output, /This play runs community\.docker\.docker_compose_v2 with the options project_src, state, pull, remove_orphans, wait, wait_timeout, which need community\.docker 3\.8\.0 or later/);
          assert.match(run.output, found);
          assert.match(run.output, /Online: ansible-galaxy collection install -r requirements\.yml\./);
          assert.match(run.output, /ansible-galaxy collection download community\.docker:3\.13\.10 saves community-docker-3\.13\.10\.tar\.gz/);
          assert.match(run.output, /run ansible-galaxy collection install community-docker-3\.13\.10\.tar\.gz community-library_inventory_filtering_v1-\*\.tar\.gz\. Nothing has been changed\./);
          assert.ok(!run.output.includes("couldn't resolve module"), run.output);
          assert.ok(!run.output.includes('Check the required variables'), 'stops at the first check');
        };

        it('loads without the collection: docker_compose_v2 is resolved only when its tasks are included, after the preflight', () => {
          const cwd = composeBundle();
          const syntax = ansible('ansible-playbook', ['-i', 'local.yml', 'site.yml', '--syntax-check'], cwd, collectionsOn(fs.mkdtempSync(path.join(dir, 'none-'))));
          assert.equal(syntax.status, 0, syntax.output);
          const main = loadAnsibleYaml(fs.readFileSync(path.join(cwd, 'roles', 'compose_app', 'tasks', 'main.yml'), 'utf8')) as Json[];
          assert.deepEqual(findTask(main, 'Start the project')['ansible.builtin.include_tasks'], { file: 'up.yml' });
        });

        it('stops before anything changes without the collection', () => {
          refused(preflight(composeBundle(), { HF_TOKEN: 'hf_test', ...collectionsOn(fs.mkdtempSync(path.join(dir, 'none-'))) }), /Here Ansible finds no such module\./);
        });

        it('stops before anything changes with 3.7, whose docker_compose_v2 has no wait option', () => {
          const old = path.join(dir, 'collections-3.7');
          fs.cpSync(STUB_COLLECTIONS, old, { recursive: true });
          const root = path.join(old, 'ansible_collections', 'community', 'docker');
          const module = path.join(root, 'plugins', 'modules', 'docker_compose_v2.py');
          fs.writeFileSync(module, fs.readFileSync(module, 'utf8').split('\n').filter((l) => !/^ {2}wait(_timeout)?:|^ {4}wait(_timeout)?=/.test(l)).join('\n'));
          const manifest = path.join(root, 'MANIFEST.json');
          fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace('"3.13.10"', '"3.7.0"'));
          const run = preflight(composeBundle(), { HF_TOKEN: 'hf_test', ...collectionsOn(old) });
          refused(run, new RegExp(`Here Ansible finds ${module.replace(/[.]/g, '\\.')}\\.`));
        });

        it("stops before anything changes with this machine's own community.docker when it predates 3.8.0 (Debian 12's is 3.4.7)", function () {
          const listed = ansible('ansible-galaxy', ['collection', 'list', 'community.docker', '--format', 'json'], dir, collectionsOn(...SYSTEM_COLLECTIONS));
          const json = listed.output.slice(listed.output.indexOf('{'), listed.output.lastIndexOf('}') + 1);
          const versions = Object.values(JSON.parse(json) as Record<string, { 'community.docker': { version: string } }>).map((c) => c['community.docker'].version.split('.').map(Number));
          if (!versions.every(([major, minor]) => major < 3 || (major === 3 && minor < 8))) this.skip();
          refused(preflight(composeBundle(), { HF_TOKEN: 'hf_test', ...collectionsOn(...SYSTEM_COLLECTIONS) }), /Here Ansible finds (no such module|\S+\/docker_compose_v2\.py)\./);
        });
      });

      it('.env: single-quoted values from the controller environment, defaults otherwise, nothing evaluated', () => {
        const cwd = localBundle();
        const tasks = loadAnsibleYaml(fs.readFileSync(path.join(cwd, 'roles', 'compose_app', 'tasks', 'main.yml'), 'utf8')) as Json[];
        const content = (findTask(tasks, 'Write the project environment from the controller environment')['ansible.builtin.copy'] as Json).content as string;
        const out = path.join(cwd, 'rendered.env');
        fs.writeFileSync(path.join(cwd, 'render.yml'), ansibleYaml([{
          name: 'Render the .env template',
          hosts: 'localhost',
          gather_facts: false,
          vars_files: ['roles/compose_app/defaults/main.yml'],
          tasks: [{ name: 'Render', 'ansible.builtin.copy': { content, dest: out, mode: '0600' } }],
        }]));
        const unset = Object.fromEntries(referenceInput().composeEnv.map((v) => [v.name, undefined]));
        const run = ansible('ansible-playbook', ['-i', 'localhost,', '-c', 'local', 'render.yml'], cwd, {
          ...unset, HF_TOKEN: 'hf_x$y', TAG: "{{ lookup('pipe', 'id') }}", no_proxy: 'localhost,.svc',
        });
        assert.equal(run.status, 0, run.output);
        const lines = fs.readFileSync(out, 'utf8').split('\n');
        assert.equal((fs.statSync(out).mode & 0o777).toString(8), '600');
        assert.ok(lines[0].startsWith('# '));
        assert.deepEqual(lines.slice(1), [
          "HF_TOKEN='hf_x$y'",
          "EMBEDDING_MODEL_ID='BAAI/bge-base-en-v1.5'",
          "LLM_MODEL_ID='meta-llama/Meta-Llama-3-8B-Instruct'",
          "RERANK_MODEL_ID='BAAI/bge-reranker-base'",
          "INDEX_NAME='rag-redis'",
          "MODEL_CACHE='./data'",
          "NGINX_PORT='80'",
          "REGISTRY='opea'",
          "TAG='{{ lookup('pipe', 'id') }}'",
          "no_proxy='localhost,.svc'",
          '',
        ]);
      });
    });

    it('gmc_pipeline waits until status.status says every deployment is ready (ready == total > 0; external steps are not in the total)', () => {
      const cwd = write(ansibleBundle(referenceInput()));
      const tasks = loadAnsibleYaml(fs.readFileSync(path.join(cwd, 'roles', 'gmc_pipeline', 'tasks', 'main.yml'), 'utf8')) as Json[];
      const wait = findTask(tasks, 'Wait until GMC reports every service of the pipeline ready');
      assert.equal(wait.register, 'gmc_pipeline_cr');
      const counts = (wait.vars as Json).gmc_pipeline_counts as string;
      const until = wait.until as string;
      const cr = (status?: string) => ({ resources: status === undefined ? [] : [{ status: status === '' ? {} : { status, accessUrl: 'http://router.ns:8080' } }] });
      const cases: [string, Json, boolean][] = [
        ['3/0/3', cr('3/0/3'), true],
        ['3/1/3 (one external step)', cr('3/1/3'), true],
        ['2/1/3', cr('2/1/3'), false],
        ['1/2/1 (only the router deployed)', cr('1/2/1'), true],
        ['2/0/3', cr('2/0/3'), false],
        ['0/0/0 (just applied)', cr('0/0/0'), false],
        ['0/1/0', cr('0/1/0'), false],
        ['no status yet', cr(''), false],
        ['no resource yet', cr(), false],
      ];
      fs.writeFileSync(path.join(cwd, 'ready.yml'), ansibleYaml([{
        name: 'Evaluate the readiness test of the role',
        hosts: 'localhost',
        gather_facts: false,
        tasks: [{
          name: 'Check each status',
          'ansible.builtin.assert': { that: [`(${until}) == item.ready`], fail_msg: 'wrong verdict for {{ item.label }}' },
          vars: { gmc_pipeline_counts: counts, gmc_pipeline_cr: '{{ item.cr }}' },
          loop: cases.map(([label, value, ready]) => ({ label, cr: value, ready })),
          loop_control: { label: '{{ item.label }}' },
        }],
      }]));
      const run = ansible('ansible-playbook', ['-i', 'localhost,', '-c', 'local', 'ready.yml'], cwd);
      assert.equal(run.status, 0, run.output);
      assert.match(run.output, /ok=1 /);
      // The wait is a real until loop over k8s_info, and the CR's accessUrl is printed afterwards.
      assert.ok(wait['kubernetes.core.k8s_info']);
      assert.match(JSON.stringify(findTask(tasks, 'Show where the pipeline answers')), /status\.accessUrl/);
      assert.equal(yaml.dump(wait.retries), "'{{ gmc_pipeline_wait_retries }}'\n");
    });
  });
});
