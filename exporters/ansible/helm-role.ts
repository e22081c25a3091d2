/**
 * The helm_pipeline role: installs the exported Helm chart (shipped in the role's files/chart) with
 * kubernetes.core.helm, which runs the helm binary of the controller. Constant Jinja only; the
 * release and namespace come from group_vars, written `!unsafe`.
 */
import { GATEWAY } from '../../core/catalog';
import { HF_TOKEN_SECRET } from '../../core/k8s/names';
import { GATEWAY_SERVICE } from '../compose/gateway';
import { hfTokenSecretTask, PREFLIGHT_TAG, task } from './roles';

type Json = Record<string, unknown>;

/** Where the role holds the chart, under files/. */
export const CHART_DIR = 'chart';

export function helmPipelineDefaults(): Json {
  return {
    helm_pipeline_release: '{{ opea_pipeline_name }}',
    helm_pipeline_namespace: '{{ opea_namespace }}',
    helm_pipeline_hf_token_secret: HF_TOKEN_SECRET,
    // Model servers download their models before they are ready.
    helm_pipeline_wait_timeout: '30m',
    // Your settings over the chart's values.yaml (replicas, resources, nodeSelector, ...).
    helm_pipeline_values: {},
  };
}

export function helmPipelineTasks(): Json[] {
  return [
    task('Show what this play deploys', 'ansible.builtin.debug', {
      msg: 'Helm release {{ helm_pipeline_release }} of the chart in files/chart, namespace {{ helm_pipeline_namespace }}, platform {{ opea_platform }}',
    }, { tags: [PREFLIGHT_TAG] }),
    task('Check the controller has helm, which kubernetes.core.helm runs', 'ansible.builtin.command', { argv: ['helm', 'version', '--short'] }, {
      register: 'helm_pipeline_helm',
      changed_when: false,
      check_mode: false,
      failed_when: false,
      tags: [PREFLIGHT_TAG],
    }),
    task('Stop when helm is missing', 'ansible.builtin.assert', {
      that: ['helm_pipeline_helm.rc == 0'],
      fail_msg: 'kubernetes.core.helm needs the helm binary (3.x) on the controller: install it, then run the play again. Nothing has been changed.',
      quiet: true,
    }, { tags: [PREFLIGHT_TAG] }),
    task('Create the namespace', 'kubernetes.core.k8s', { api_version: 'v1', kind: 'Namespace', name: '{{ helm_pipeline_namespace }}', state: 'present' }),
    hfTokenSecretTask('helm_pipeline'),
    task('Install or upgrade the chart and wait until every Deployment is available', 'kubernetes.core.helm', {
      name: '{{ helm_pipeline_release }}',
      chart_ref: `{{ role_path }}/files/${CHART_DIR}`,
      release_namespace: '{{ helm_pipeline_namespace }}',
      release_state: 'present',
      values: "{{ helm_pipeline_values | ansible.builtin.combine({'global': {'hfTokenSecret': {'name': helm_pipeline_hf_token_secret}}}, recursive=true) }}",
      wait: true,
      wait_timeout: '{{ helm_pipeline_wait_timeout }}',
    }),
    task('Show how to reach the pipeline', 'ansible.builtin.debug', {
      msg: `Release {{ helm_pipeline_release }} is ready: kubectl -n {{ helm_pipeline_namespace }} port-forward svc/${GATEWAY_SERVICE} 8080:${GATEWAY.port}, then POST to http://localhost:8080/`,
    }),
  ];
}
