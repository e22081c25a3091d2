/**
 * What the command line says when its input is wrong: a JSON syntax error as JSON's, with line and
 * column; an unknown option or command with the closest known one, without Node's raw parseArgs text
 * or the whole usage.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closest } from '../../bin/cli-args';
import { REPO_ROOT } from '../support/reference';

const CLI = path.join(REPO_ROOT, 'dist', 'bin', 'opea-flow.js');
const CHATQNA = path.join(REPO_ROOT, 'flows', 'chatqna.json');
const HINT = 'Run opea-flow --help for the commands and their options.';

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('opea-flow errors', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-cli-errors-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };

  describe('a malformed flow file', () => {
    it('is a JSON syntax error at its line and column, not a YAML one', () => {
      // The comma after "tab" is missing: JSON.parse stops at the next property, line 4, column 3.
      const file = write('flow.json', '[\n  {"id": "t1",\n   "type": "tab"\n  "label": "ChatQnA"}\n]\n');
      const r = run('validate', file);
      assert.equal(r.status, 2);
      assert.equal(r.stderr, "flow (flow.json): the file is not valid JSON: Expected ',' or '}' after property value at line 4, column 3 — correct the JSON there, or export the flow again (the editor's Export > JSON)\n");
    });

    it('says where JSON that stops short ends', () => {
      const r = run('validate', write('cut.json', '[\n  {"id": "t1", "type": "tab"},\n  {"id": "n1", "wires": [\n'));
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^flow \(cut\.json\): the file is not valid JSON: the text ends before the JSON does at line 4, column 1 — /);
      assert.doesNotMatch(r.stderr, /YAML/);
    });

    it('reads a JSON file with a byte order mark', () => {
      const r = run('validate', write('bom.json', `\uFEFF${fs.readFileSync(CHATQNA, 'utf8')}`));
      assert.equal(r.status, 0, r.stderr);
    });

    it('still reports YAML that does not parse as YAML', () => {
      const r = run('validate', write('cr.yaml', 'kind: GMConnector\nspec: [a, b\n'));
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^flow \(cr\.yaml\): the file is neither JSON nor YAML: .*\(\d+:\d+\)/);
    });
  });

  describe('arguments', () => {
    it('names an unknown option with the closest known one, in two lines', () => {
      const r = run('validate', CHATQNA, '--trget', 'compose');
      assert.equal(r.status, 2);
      assert.equal(r.stderr, `opea-flow: unknown option --trget: did you mean --target?\n${HINT}\n`);
      assert.equal(r.stdout, '');
    });

    it('does the same for bench and deploy, whose options are their own', () => {
      const bench = run('bench', '--url', 'http://127.0.0.1:9/', '--concurency', '2');
      assert.equal(bench.status, 2);
      assert.equal(bench.stderr, `opea-flow bench: unknown option --concurency: did you mean --concurrency?\n${HINT}\n`);
      const deploy = run('deploy', CHATQNA, '--dryrun');
      assert.equal(deploy.status, 2);
      assert.equal(deploy.stderr, `opea-flow deploy: unknown option --dryrun: did you mean --dry-run?\n${HINT}\n`);
    });

    it('says an option needs a value, or takes none, by its name', () => {
      assert.equal(run('validate', CHATQNA, '--target').stderr, `opea-flow: --target needs a value\n${HINT}\n`);
      assert.equal(run('validate', CHATQNA, '--version=1').stderr, `opea-flow: --version takes no value\n${HINT}\n`);
    });

    it('offers no guess when nothing is close, and guesses commands too', () => {
      assert.equal(run('validate', CHATQNA, '--colour').stderr, `opea-flow: unknown option --colour\n${HINT}\n`);
      const command = run('valdiate', CHATQNA);
      assert.equal(command.status, 2);
      assert.equal(command.stderr, `opea-flow: unknown command 'valdiate': did you mean validate?\n${HINT}\n`);
    });
  });

  it('closest: a prefix, else the nearest within a third of the length', () => {
    const known = ['target', 'tab', 'timeout', 'gmc-flavor', 'user-dir'];
    assert.equal(closest('trget', known), 'target');
    assert.equal(closest('gmc-flav', known), 'gmc-flavor');
    assert.equal(closest('user_dir', known), 'user-dir');
    assert.equal(closest('TAB', known), 'tab');
    assert.equal(closest('colour', known), undefined);
    assert.equal(closest('x', known), undefined);
  });
});
