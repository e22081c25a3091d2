/**
 * `opea-flow validate`: without --target it checks the pipeline only; --target adds that target's
 * export rules, and every problem and warning they raise names the target whose rule it is.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../support/reference';

const CLI = path.join(REPO_ROOT, 'dist', 'bin', 'opea-flow.js');
const FLOWS = path.join(REPO_ROOT, 'flows');
const OFFLINE = path.join(FLOWS, 'chatqna-offline.json');
type Node = Record<string, unknown> & { id: string; type: string };

function validate(file: string, ...args: string[]): { status: number | null; stdout: string; lines: string[] } {
  const r = spawnSync(process.execPath, [CLI, 'validate', file, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, lines: r.stderr.split('\n').filter((l) => l !== '') };
}

/** The part of a problem or warning line after `node <id> (<label>): `. */
const said = (line: string) => line.replace(/^(warning: )?(node \S+ \(.*?\)|flow \(.*?\)): /, '');

describe('opea-flow validate and the export targets', () => {
  const examples = fs.readdirSync(FLOWS).filter((f) => f.endsWith('.json')).sort();

  it('finds the example flows', () => assert.ok(examples.length >= 9, examples.join(', ')));

  for (const file of examples) {
    it(`validates ${file} without --target (each tab, when several hold pipelines): the pipeline alone, exit 0, nothing on stderr`, () => {
      const whole = validate(path.join(FLOWS, file));
      const several = whole.lines.length === 1 ? /^flow \(input\): \d+ tabs hold pipelines: (.*) — choose one with --tab$/.exec(whole.lines[0]) : null;
      const runs = several ? [...several[1].matchAll(/'([^']*)'/g)].map((m) => validate(path.join(FLOWS, file), '--tab', m[1])) : [whole];
      for (const r of runs) {
        assert.equal(r.status, 0, r.lines.join('\n'));
        assert.match(r.stdout, /^valid: .+: \d+ components?\n$/);
        assert.deepEqual(r.lines, []);
      }
    });
  }

  for (const target of ['gmc', 'compose', 'ansible']) {
    it(`--target ${target} applies that target's rules, and each message names ${target}`, () => {
      const r = validate(OFFLINE, '--target', target);
      assert.equal(r.status, 2);
      // One problem per embedded backend: embedding, retriever, reranker, LLM, dataprep.
      assert.equal(r.lines.length, 5, r.lines.join('\n'));
      for (const line of r.lines) assert.match(said(line), new RegExp(`^\\[${target}\\] .*runs only inside Node-RED, so .* cannot deploy`), line);
    });
  }

  it("says 'the compose export' and 'the compose project's router' in compose rules, never GMC", () => {
    const offline = validate(OFFLINE, '--target', 'compose');
    for (const line of offline.lines) assert.match(line, /the compose export cannot deploy/);
    // A switch value the router cannot match, and warnings about what the deployment does differently.
    const flow = JSON.parse(fs.readFileSync(path.join(FLOWS, 'chatqna-switch.json'), 'utf8')) as Node[];
    const sw = flow.find((n) => n.type === 'switch') as Node & { rules: { t: string; v: string }[] };
    sw.rules[0].v = 'llama-3.1';
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-cli-validate-'));
    try {
      const file = path.join(dir, 'flow.json');
      fs.writeFileSync(file, JSON.stringify(flow));
      const compose = validate(file, '--target', 'compose');
      assert.equal(compose.status, 2);
      assert.ok(compose.lines.some((l) => /\[compose\] rule 1 value 'llama-3\.1' cannot be matched by the compose project's router/.test(l)), compose.lines.join('\n'));
      const gmc = validate(file, '--target', 'gmc');
      assert.ok(gmc.lines.some((l) => /\[gmc\] rule 1 value 'llama-3\.1' cannot be matched by GMC's router/.test(l)), gmc.lines.join('\n'));
      for (const line of compose.lines) {
        assert.doesNotMatch(line, /GMC/, line);
        assert.match(said(line), /^\[compose\] /, line);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names every target a shared warning is about, and only those asked for', () => {
    const chatqna = path.join(FLOWS, 'chatqna.json');
    const compose = validate(chatqna, '--target', 'compose');
    assert.equal(compose.status, 0);
    assert.ok(compose.lines.length > 0, 'the example warns where the deployed pipeline differs');
    for (const line of compose.lines) {
      assert.match(line, /^warning: node \S+ \(.*?\): \[compose\] deployed under the router: /, line);
      assert.doesNotMatch(line, /GMC/, line);
    }
    const all = validate(chatqna, '--target', 'all');
    assert.equal(all.status, 0);
    for (const line of all.lines) assert.match(said(line), /^\[gmc, compose, ansible, helm\] /, line);
    assert.deepEqual(validate(chatqna).lines, [], 'no target, no warnings about a deployment');
  });
});
