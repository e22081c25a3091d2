import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPipeline } from '../../core/pipeline';
import { ProblemList } from '../../core/problems';
import { Bundle, writeBundle } from '../../exporters/bundle';
import { exportPipeline, TARGETS } from '../../exporters';
import { ansibleBundle } from '../../exporters/ansible';
import { loadAnsibleYaml, Unsafe } from '../../exporters/ansible/yaml';
import { exampleFlow, REPO_ROOT } from '../support/reference';

const STUBS = path.join(REPO_ROOT, 'test', 'support', 'ansible', 'collections');
const SYSTEM_COLLECTIONS = '/usr/lib/python3/dist-packages';

function hasAnsible(): boolean {
  return spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' }).status === 0;
}

function ansible(command: string, args: string[], cwd: string): { status: number | null; output: string } {
  const env = { ...process.env, ANSIBLE_COLLECTIONS_PATH: `${STUBS}:${SYSTEM_COLLECTIONS}`, PYTHONPATH: STUBS, ANSIBLE_NOCOLOR: '1', NO_COLOR: '1', ANSIBLE_LOCAL_TEMP: path.join(cwd, '.tmp') };
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function exportAll(file: string): Bundle {
  const { pipeline } = loadPipeline(exampleFlow(file));
  const problems = new ProblemList();
  const bundle = exportPipeline(pipeline, TARGETS, { platform: 'xeon' }, problems);
  assert.deepEqual(problems.items, []);
  return bundle as Bundle;
}

describe('Ansible exporter', function () {
  this.timeout(600_000);
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-ansible-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  before(function () {
    if (!hasAnsible()) {
      if (process.env.CI) throw new Error('ansible-playbook is missing: .ci/run installs ansible-core, ansible and ansible-lint');
      this.skip();
    }
  });

  for (const file of ['chatqna.json', 'chatqna-switch.json']) {
    it(`flows/${file}: the bundle passes ansible-playbook --syntax-check and ansible-lint --offline --strict`, () => {
      writeBundle(dir, exportAll(file));
      const cwd = path.join(dir, 'ansible');
      const syntax = ansible('ansible-playbook', ['-i', 'inventory/hosts.yml', 'site.yml', '--syntax-check'], cwd);
      assert.equal(syntax.status, 0, syntax.output);
      const lint = ansible('ansible-lint', ['--offline', '--strict', '--nocolor'], cwd);
      assert.equal(lint.status, 0, lint.output);
      assert.match(lint.output, /Passed with production profile: 0 failure\(s\), 0 warning\(s\)/);
    });
  }

  it('lint really checks module arguments: a wrong docker_compose_v2 option fails it', () => {
    writeBundle(dir, exportAll('chatqna.json'));
    const cwd = path.join(dir, 'ansible');
    const tasks = path.join(cwd, 'roles', 'compose_app', 'tasks', 'main.yml');
    fs.writeFileSync(tasks, fs.readFileSync(tasks, 'utf8').replace('    wait: true\n', '    wait: true\n    wait_for_ever: true\n'));
    const lint = ansible('ansible-lint', ['--offline', '--strict', '--nocolor'], cwd);
    assert.notEqual(lint.status, 0);
    assert.match(lint.output, /wait_for_ever/);
  });

  it('marks flow strings !unsafe: Ansible prints {{ }} in them literally instead of running it', () => {
    const hostile = "{{ lookup('pipe', 'id') }}\nline two: \"quoted\"";
    const bundle = ansibleBundle({ name: hostile, namespace: hostile, platform: 'xeon', files: exportAll('chatqna.json'), composeEnv: [] });
    const vars = loadAnsibleYaml(bundle['ansible/group_vars/all.yml']) as Record<string, Unsafe>;
    assert.ok(vars.opea_pipeline_name instanceof Unsafe);
    assert.equal(vars.opea_pipeline_name.value, hostile);
    writeBundle(dir, bundle);
    const cwd = path.join(dir, 'ansible');
    fs.writeFileSync(path.join(cwd, 'show.yml'), '---\n- name: Show\n  hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: Show the name\n      ansible.builtin.debug:\n        msg: "name={{ opea_pipeline_name }}"\n');
    const run = ansible('ansible-playbook', ['-i', 'localhost,', '-c', 'local', 'show.yml'], cwd);
    assert.equal(run.status, 0, run.output);
    assert.ok(run.output.includes("lookup('pipe', 'id')"), run.output);
    assert.ok(!/uid=\d+/.test(run.output), 'the lookup was not evaluated');
  });

  it('writes no secret and is byte-identical for the same flow', () => {
    const bundle = exportAll('chatqna.json');
    const ansibleFiles = Object.entries(bundle).filter(([p]) => p.startsWith('ansible/'));
    assert.ok(ansibleFiles.length >= 10);
    assert.ok(!ansibleFiles.some(([p]) => p.endsWith('/.env')));
    const sentinel = 'hf_SentinelToken123456';
    process.env.HF_TOKEN = sentinel;
    try {
      assert.ok(!Object.values(exportAll('chatqna.json')).some((text) => text.includes(sentinel)));
    } finally {
      delete process.env.HF_TOKEN;
    }
    assert.deepEqual(exportAll('chatqna.json'), bundle);
    const defaults = loadAnsibleYaml(bundle['ansible/roles/compose_app/defaults/main.yml']) as { compose_app_env: { name: Unsafe; default: Unsafe }[] };
    const hf = defaults.compose_app_env.find((v) => v.name.value === 'HF_TOKEN');
    assert.equal(hf?.default.value, '');
  });
});
