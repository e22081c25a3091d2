/** Runs Ansible's own tools over exported bundles, with the test stub collection first on the paths. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../reference';

/** Stub collections (community.docker's docker_compose_v2 argument spec), ahead of the system's. */
export const STUB_COLLECTIONS = path.join(REPO_ROOT, 'test', 'support', 'ansible', 'collections');

/** Where Debian's `ansible` package and a user's `ansible-galaxy` put collections. */
export const SYSTEM_COLLECTIONS = [path.join(os.homedir(), '.ansible', 'collections'), '/usr/share/ansible/collections', '/usr/lib/python3/dist-packages'];

export interface Run {
  status: number | null;
  output: string;
}

let available: boolean | undefined;

export function ansibleInstalled(): boolean {
  if (available === undefined) {
    const playbook = spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8', timeout: 60_000 });
    const lint = spawnSync('ansible-lint', ['--version'], { encoding: 'utf8', timeout: 60_000 });
    available = playbook.status === 0 && lint.status === 0;
  }
  return available;
}

/**
 * For a mocha `before`: skips the suite when Ansible is missing on a developer machine, fails it in
 * CI (where .ci/run installs it), so a green CI run always ran these checks.
 */
export function requireAnsible(ctx: Mocha.Context): void {
  if (ansibleInstalled()) return;
  const reason = 'ansible-playbook or ansible-lint is not installed (apt-get install ansible-core ansible ansible-lint)';
  if (process.env.CI) throw new Error(`${reason}; CI must run the Ansible checks`);
  console.log(`      skipping the Ansible checks: ${reason}`);
  ctx.skip();
}

/** Runs an Ansible command in `cwd`; `env` entries set to undefined are removed. */
export function ansible(command: string, args: string[], cwd: string, env: Record<string, string | undefined> = {}): Run {
  const merged: Record<string, string | undefined> = {
    ...process.env,
    ANSIBLE_COLLECTIONS_PATH: [STUB_COLLECTIONS, ...SYSTEM_COLLECTIONS].join(':'),
    PYTHONPATH: [STUB_COLLECTIONS, process.env.PYTHONPATH].filter(Boolean).join(':'),
    ANSIBLE_NOCOLOR: '1',
    NO_COLOR: '1',
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_LOCAL_TEMP: path.join(cwd, '.ansible-tmp'),
    ANSIBLE_REMOTE_TEMP: path.join(cwd, '.ansible-tmp'),
    ...env,
  };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  const r = spawnSync(command, args, { cwd, env: merged as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 240_000 });
  const timedOut = r.error ? `\n(${r.error.message})` : '';
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}${timedOut}` };
}

export function syntaxCheck(dir: string): Run {
  return ansible('ansible-playbook', ['-i', 'inventory/hosts.yml', 'site.yml', '--syntax-check'], dir);
}

export function lint(dir: string): Run {
  return ansible('ansible-lint', ['--offline', '--strict', '--nocolor'], dir);
}

/** The Python that runs ansible-playbook (its shebang), for reading YAML with Ansible's own loader. */
export function ansiblePython(): string {
  const which = spawnSync('sh', ['-c', 'command -v ansible-playbook'], { encoding: 'utf8' }).stdout.trim();
  const first = fs.readFileSync(which, 'utf8').split('\n')[0];
  const m = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(first);
  if (!m) return 'python3';
  return m[1].endsWith('/env') && m[2] ? m[2] : m[1];
}

/** Loads a YAML file with Ansible's loader; `!unsafe` strings come back as {unsafe: text}. */
export function loadWithAnsible(file: string): unknown {
  const script = [
    'import json, sys',
    'from ansible.parsing.yaml.loader import AnsibleLoader',
    'from ansible.utils.unsafe_proxy import AnsibleUnsafe',
    'def plain(v):',
    '    if isinstance(v, dict): return {str(k): plain(x) for k, x in v.items()}',
    '    if isinstance(v, list): return [plain(x) for x in v]',
    '    if isinstance(v, AnsibleUnsafe): return {"unsafe": str(v)}',
    '    if isinstance(v, str): return str(v)',
    '    return v',
    'with open(sys.argv[1], encoding="utf-8") as f: data = AnsibleLoader(f.read()).get_single_data()',
    'sys.stdout.write(json.dumps(plain(data)))',
  ].join('\n');
  const r = spawnSync(ansiblePython(), ['-c', script, file], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`Ansible's YAML loader failed on ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
