/**
 * The Ansible bundle: an inventory, site.yml and roles that stand up the compose project on docker
 * hosts and apply the GMConnector on Kubernetes. Every file is built as an object and dumped; every
 * value that comes from the flow is `!unsafe`; no secret is written, they come from the controller's
 * environment at run time.
 */
import { Platform } from '../../core/model';
import { Bundle } from '../bundle';
import { ComposeEnvVar } from '../compose';
import { ansibleYaml, unsafe } from './yaml';

export interface AnsibleInput {
  name: string;
  namespace: string;
  platform: Platform;
  /** Files of the other targets as the bundle holds them (gmc/<name>.yaml, compose/...). */
  files: Bundle;
  composeEnv: ComposeEnvVar[];
}

/** Collections the roles use, pinned to releases that have every module and option used. */
export const COLLECTIONS = [
  { name: 'community.docker', version: '3.13.3' },
  { name: 'kubernetes.core', version: '2.4.0' },
] as const;

/** How long compose may take to pull images and bring every service to healthy (model downloads). */
const COMPOSE_WAIT_SECONDS = 1800;

const task = (name: string, module: string, args: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ name, [module]: args, ...extra });

function dockerHostTasks(): unknown[] {
  return [
    task('Check the docker host runs Debian or Ubuntu', 'ansible.builtin.assert', {
      that: ["ansible_facts['distribution'] in ['Debian', 'Ubuntu']"],
      fail_msg: "The docker_host role installs Docker from Docker's apt repository for Debian and Ubuntu only.",
    }),
    task('Install the packages the Docker repository needs', 'ansible.builtin.apt', { name: ['ca-certificates', 'curl'], state: 'present', update_cache: true }, { become: true }),
    task('Create the apt keyring folder', 'ansible.builtin.file', { path: '/etc/apt/keyrings', state: 'directory', mode: '0755' }, { become: true }),
    task("Download Docker's apt signing key", 'ansible.builtin.get_url', {
      url: "https://download.docker.com/linux/{{ ansible_facts['distribution'] | lower }}/gpg",
      dest: '/etc/apt/keyrings/docker.asc',
      mode: '0644',
    }, { become: true }),
    task("Add Docker's apt repository", 'ansible.builtin.apt_repository', {
      repo: "deb [arch={{ docker_host_arch[ansible_facts['architecture']] | default(ansible_facts['architecture']) }} signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/{{ ansible_facts['distribution'] | lower }} {{ ansible_facts['distribution_release'] }} stable",
      filename: 'docker',
      state: 'present',
    }, { become: true }),
    task('Install Docker Engine and the compose plugin', 'ansible.builtin.apt', {
      name: ['docker-ce', 'docker-ce-cli', 'containerd.io', 'docker-buildx-plugin', 'docker-compose-plugin'],
      state: 'present',
      update_cache: true,
    }, { become: true }),
    task('Start Docker now and at boot', 'ansible.builtin.service', { name: 'docker', state: 'started', enabled: true }, { become: true }),
  ];
}

function composeAppTasks(): unknown[] {
  return [
    task('Check the required secrets are set in the controller environment', 'ansible.builtin.assert', {
      that: ["lookup('ansible.builtin.env', item.name) | length > 0"],
      fail_msg: 'Set {{ item.name }} in the environment of ansible-playbook: the compose project needs it.',
      quiet: true,
    }, { loop: "{{ compose_app_env | selectattr('required') | list }}", loop_control: { label: '{{ item.name }}' } }),
    task('Create the project folder', 'ansible.builtin.file', { path: '{{ compose_app_dir }}', state: 'directory', mode: '0755' }, { become: true }),
    task('Copy the compose project', 'ansible.builtin.copy', { src: 'compose.yaml', dest: '{{ compose_app_dir }}/compose.yaml', mode: '0644' }, { become: true }),
    task('Write the project environment from the controller environment', 'ansible.builtin.copy', {
      dest: '{{ compose_app_dir }}/.env',
      mode: '0600',
      content: "{% for item in compose_app_env %}{{ item.name }}={{ lookup('ansible.builtin.env', item.name, default=item.default) }}\n{% endfor %}",
    }, { become: true, no_log: true }),
    task('Start the project and wait until every service is healthy', 'community.docker.docker_compose_v2', {
      project_src: '{{ compose_app_dir }}',
      state: 'present',
      pull: 'missing',
      wait: true,
      // A literal, not a variable: ansible-lint validates module arguments only when none is templated.
      wait_timeout: COMPOSE_WAIT_SECONDS,
    }, { become: true }),
  ];
}

function gmcPipelineTasks(crFile: string): unknown[] {
  return [
    task('Check where the GMC manifests are', 'ansible.builtin.assert', {
      that: ["gmc_pipeline_install_manifest | length > 0"],
      fail_msg: 'gmc_pipeline_install_gmc is true: set gmc_pipeline_install_manifest to the GMC install manifest on the controller (GenAIInfra microservices-connector).',
    }, { when: 'gmc_pipeline_install_gmc | bool' }),
    task('Install GMC', 'kubernetes.core.k8s', { src: '{{ gmc_pipeline_install_manifest }}', state: 'present', apply: true }, { when: 'gmc_pipeline_install_gmc | bool' }),
    task('Create the namespace', 'kubernetes.core.k8s', { api_version: 'v1', kind: 'Namespace', name: '{{ gmc_pipeline_namespace }}', state: 'present' }),
    task('Store the Hugging Face token from the controller environment as a Secret', 'kubernetes.core.k8s', {
      state: 'present',
      definition: {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: { name: '{{ gmc_pipeline_token_secret }}', namespace: '{{ gmc_pipeline_namespace }}' },
        stringData: { HF_TOKEN: "{{ lookup('ansible.builtin.env', 'HF_TOKEN') }}" },
      },
    }, { no_log: true, when: "lookup('ansible.builtin.env', 'HF_TOKEN') | length > 0" }),
    task('Apply the GMConnector (server-side apply)', 'kubernetes.core.k8s', {
      src: `{{ role_path }}/files/${crFile}`,
      namespace: '{{ gmc_pipeline_namespace }}',
      state: 'present',
      apply: true,
      server_side_apply: { field_manager: 'node-red-contrib-opea', force_conflicts: true },
    }),
    task('Wait until GMC reports every service of the pipeline ready', 'kubernetes.core.k8s_info', {
      api_version: 'gmc.opea.io/v1alpha3',
      kind: 'GMConnector',
      name: '{{ gmc_pipeline_name }}',
      namespace: '{{ gmc_pipeline_namespace }}',
    }, {
      register: 'gmc_pipeline_status',
      // status.status is "<ready>/<external>/<total>"; the CR has no conditions to wait on.
      vars: { gmc_pipeline_counts: "{{ (gmc_pipeline_status.resources[0].status.status | default('0/0/0')).split('/') | map('int') | list }}" },
      until: 'gmc_pipeline_status.resources | length > 0 and gmc_pipeline_counts[2] > 0 and gmc_pipeline_counts[0] + gmc_pipeline_counts[1] == gmc_pipeline_counts[2]',
      retries: '{{ gmc_pipeline_wait_retries }}',
      delay: '{{ gmc_pipeline_wait_delay }}',
    }),
    task('Show where the pipeline answers', 'ansible.builtin.debug', { msg: "The pipeline answers at {{ gmc_pipeline_status.resources[0].status.accessUrl | default('(no accessUrl reported)') }}" }),
  ];
}

function readme(input: AnsibleInput, hasCompose: boolean, hasGmc: boolean): string {
  const required = input.composeEnv.filter((v) => v.required).map((v) => v.name);
  return [
    `# Ansible bundle for pipeline ${input.name}`,
    '',
    'Generated by node-red-contrib-opea from a Node-RED flow. Export again rather than edit.',
    '',
    '```sh',
    'ansible-galaxy collection install -r requirements.yml',
    'export HF_TOKEN=...            # read from the controller environment, never written here',
    'ansible-playbook -i inventory/hosts.yml site.yml',
    '```',
    '',
    'Edit `inventory/hosts.yml`: hosts under `docker_hosts` get Docker Engine (from Docker\'s apt',
    'repository, Debian or Ubuntu) and the compose project; the host under `k8s_control` needs a',
    'kubeconfig for the cluster and the Python `kubernetes` package, and applies the GMConnector.',
    '',
    hasCompose ? `- compose project: copied to \`compose_app_dir\` (${'`'}/opt/opea/${input.name}${'`'} by default) with an \`.env\` (mode 0600) built from the controller's environment${required.length ? `; required: ${required.map((r) => `\`${r}\``).join(', ')}` : ''}, then started with \`docker compose up --wait\`.` : '- no compose project in this export.',
    hasGmc ? `- GMConnector: applied server-side to namespace \`${input.namespace}\`; the play waits until \`status.status\` reports every service ready and prints \`status.accessUrl\`. Set \`gmc_pipeline_install_gmc: true\` and \`gmc_pipeline_install_manifest\` to install GMC first. The Hugging Face token is stored as Secret \`hf-token\` when \`HF_TOKEN\` is set; note that upstream GMC's templates read the token from their own ConfigMaps, set when GMC is installed.` : '- no GMConnector in this export.',
    '',
    'Every value taken from the flow is marked `!unsafe`, so Ansible never evaluates `{{ }}` in it.',
    '',
  ].join('\n');
}

export function ansibleBundle(input: AnsibleInput): Bundle {
  const crFile = Object.keys(input.files).find((f) => f.startsWith('gmc/'));
  const composeFile = input.files['compose/compose.yaml'];
  const bundle: Bundle = {};
  const put = (path: string, value: unknown) => (bundle[`ansible/${path}`] = ansibleYaml(value));
  const plays: unknown[] = [];

  bundle['ansible/ansible.cfg'] = ['[defaults]', 'inventory = inventory/hosts.yml', 'roles_path = roles', 'stdout_callback = default', 'interpreter_python = auto_silent', ''].join('\n');
  put('inventory/hosts.yml', {
    all: {
      children: {
        docker_hosts: { hosts: { 'docker-host-1': { ansible_host: '192.0.2.10', ansible_user: 'debian' } } },
        k8s_control: { hosts: { localhost: { ansible_connection: 'local' } } },
      },
    },
  });
  put('requirements.yml', { collections: COLLECTIONS.map((c) => ({ name: c.name, version: c.version })) });
  put('group_vars/all.yml', {
    opea_pipeline_name: unsafe(input.name),
    opea_platform: unsafe(input.platform),
  });

  if (composeFile) {
    put('roles/docker_host/defaults/main.yml', { docker_host_arch: { x86_64: 'amd64', aarch64: 'arm64' } });
    put('roles/docker_host/tasks/main.yml', dockerHostTasks());
    put('roles/compose_app/defaults/main.yml', {
      compose_app_dir: '/opt/opea/{{ opea_pipeline_name }}',
      compose_app_env: input.composeEnv.map((v) => ({ name: unsafe(v.name), required: v.required, default: unsafe(v.secret ? '' : v.default ?? '') })),
    });
    put('roles/compose_app/tasks/main.yml', composeAppTasks());
    bundle['ansible/roles/compose_app/files/compose.yaml'] = composeFile;
    plays.push({ name: 'Run the pipeline with docker compose', hosts: 'docker_hosts', roles: ['docker_host', 'compose_app'] });
  }
  if (crFile) {
    const file = crFile.slice('gmc/'.length);
    put('roles/gmc_pipeline/defaults/main.yml', {
      gmc_pipeline_name: unsafe(input.name),
      gmc_pipeline_namespace: unsafe(input.namespace),
      gmc_pipeline_token_secret: 'hf-token',
      gmc_pipeline_install_gmc: false,
      gmc_pipeline_install_manifest: '',
      gmc_pipeline_wait_retries: 120,
      gmc_pipeline_wait_delay: 10,
    });
    put('roles/gmc_pipeline/tasks/main.yml', gmcPipelineTasks(file));
    bundle[`ansible/roles/gmc_pipeline/files/${file}`] = input.files[crFile];
    plays.push({ name: 'Deploy the pipeline on Kubernetes with GMC', hosts: 'k8s_control', gather_facts: false, roles: ['gmc_pipeline'] });
  }
  put('site.yml', plays);
  bundle['ansible/README.md'] = readme(input, composeFile !== undefined, crFile !== undefined);
  return bundle;
}
