/**
 * The three roles of the Ansible bundle, as task lists (objects, dumped later). Nothing here holds a
 * user string: flow values reach the tasks only through variables that the bundle writes as
 * `!unsafe`, so the Jinja below is all ours and constant.
 */
import { DEFAULT_FIELD_MANAGER, HF_TOKEN_SECRET, HF_TOKEN_SECRET_KEY } from '../../core/k8s/names';
import { unsafe } from './yaml';

type Json = Record<string, unknown>;

/** A task with its name first (ansible-lint's key-order), the module, then the task keywords. */
export const task = (name: string, module: string, args: Json, extra: Json = {}): Json => ({ name, [module]: args, ...extra });

/** The field manager of every server-side apply, so `kubectl get --show-managed-fields` names us. */
/** Tag of the tasks that only check or describe, changing nothing: `--tags opea_preflight`. */
export const PREFLIGHT_TAG = 'opea_preflight';

/** The file the gmc_pipeline role ships the GMConnector as (a fixed name: no flow string in a path). */
export const CR_FILE = 'gmconnector.yaml';

const GMC_CRD = 'gmconnectors.gmc.opea.io';
const GMC_API_VERSION = 'gmc.opea.io/v1alpha3';

// ---------------------------------------------------------------------------------------- docker_host

export function dockerHostDefaults(): Json {
  return {
    docker_host_apt_url: 'https://download.docker.com/linux',
    docker_host_packages: ['docker-ce', 'docker-ce-cli', 'containerd.io', 'docker-buildx-plugin', 'docker-compose-plugin'],
    // Debian's dpkg architecture names for the kernel's.
    docker_host_arch: { x86_64: 'amd64', aarch64: 'arm64', armv7l: 'armhf', ppc64le: 'ppc64el', s390x: 's390x' },
    docker_host_platform: '{{ opea_platform }}',
  };
}

export function dockerHostTasks(): Json[] {
  const distro = "{{ ansible_facts['distribution'] | lower }}";
  const become = { become: true };
  return [
    task('Check the docker host runs Debian or Ubuntu', 'ansible.builtin.assert', {
      that: ["ansible_facts['distribution'] in ['Debian', 'Ubuntu']"],
      fail_msg: "The docker_host role installs Docker from Docker's apt repository, which serves Debian and Ubuntu only.",
      quiet: true,
    }, { tags: [PREFLIGHT_TAG] }),
    task('Install the CA certificates apt needs for the Docker repository', 'ansible.builtin.apt', {
      name: ['ca-certificates'], state: 'present', update_cache: true, cache_valid_time: 3600,
    }, become),
    task('Create the apt keyring folder', 'ansible.builtin.file', { path: '/etc/apt/keyrings', state: 'directory', owner: 'root', group: 'root', mode: '0755' }, become),
    task("Download Docker's apt signing key", 'ansible.builtin.get_url', {
      url: `{{ docker_host_apt_url }}/${distro}/gpg`,
      dest: '/etc/apt/keyrings/docker.asc',
      owner: 'root',
      group: 'root',
      mode: '0644',
    }, become),
    task("Add Docker's apt repository, signed by that key only", 'ansible.builtin.apt_repository', {
      repo: `deb [arch={{ docker_host_arch[ansible_facts['architecture']] | default(ansible_facts['architecture']) }} signed-by=/etc/apt/keyrings/docker.asc] {{ docker_host_apt_url }}/${distro} {{ ansible_facts['distribution_release'] }} stable`,
      filename: 'docker',
      state: 'present',
      update_cache: true,
    }, become),
    task('Install Docker Engine and the compose plugin', 'ansible.builtin.apt', {
      name: '{{ docker_host_packages }}',
      state: 'present',
      update_cache: true,
      cache_valid_time: 3600,
    }, become),
    task('Start Docker now and at boot', 'ansible.builtin.service', { name: 'docker', state: 'started', enabled: true }, become),
    task("Read Docker's container runtimes", 'ansible.builtin.command', {
      argv: ['docker', 'info', '--format', 'json'],
    }, { ...become, register: 'docker_host_info', changed_when: false, check_mode: false, when: "docker_host_platform == 'gaudi' and not ansible_check_mode" }),
    task('Check the Habana container runtime is registered with Docker', 'ansible.builtin.assert', {
      that: ["'habana' in ((docker_host_info.stdout | ansible.builtin.from_json).Runtimes | default({}))"],
      fail_msg: 'The pipeline runs on Gaudi: install and register the habana-container-runtime with Docker (Intel Gaudi software stack) before running this play.',
      quiet: true,
    }, { when: "docker_host_platform == 'gaudi' and not ansible_check_mode" }),
  ];
}

// ---------------------------------------------------------------------------------------- compose_app

/** One variable of the compose project's `.env`, as compose_app's defaults list it. */
export interface EnvEntry {
  name: string;
  secret: boolean;
  /** Must come from the controller's environment: required, and a secret or without a default. */
  required: boolean;
  default: string;
}

export function composeAppDefaults(env: EnvEntry[]): Json {
  return {
    compose_app_dir: '/opt/opea/{{ opea_pipeline_name }}',
    compose_app_pull: 'missing',
    compose_app_wait_timeout: 1800,
    compose_app_env: env.map((v) => ({ name: unsafe(v.name), secret: v.secret, required: v.required, default: unsafe(v.default) })),
  };
}

export function composeAppVars(files: string[], dirs: string[], routerPort: string | undefined, profiles: string[] = []): Json {
  const vars: Json = { compose_app_files: files.map(unsafe), compose_app_subdirs: dirs.map(unsafe) };
  if (profiles.length > 0) vars.compose_app_profiles = profiles.map(unsafe);
  if (routerPort !== undefined) vars.compose_app_router_port = unsafe(routerPort);
  return vars;
}

const ENV_VALUE = "lookup('ansible.builtin.env', item.name, default=item.default)";

/** A collection as requirements.yml pins it, with the oldest release that has what the roles use. */
export interface CollectionPin {
  name: string;
  version: string;
  minimum: string;
}

const COMPOSE_MODULE = 'community.docker.docker_compose_v2';

/** The options the compose_app role passes to docker_compose_v2: the preflight checks the module takes them. */
const COMPOSE_UP_ARGS = {
  project_src: '{{ compose_app_dir }}',
  state: 'present',
  pull: '{{ compose_app_pull }}',
  remove_orphans: true,
  wait: true,
  wait_timeout: '{{ compose_app_wait_timeout }}',
};

/** The up arguments, with the compose profiles of compose_app_profiles when the project has any (--observability). */
function composeUpArgs(profiles: boolean): Json {
  return profiles ? { ...COMPOSE_UP_ARGS, profiles: '{{ compose_app_profiles }}' } : COMPOSE_UP_ARGS;
}

/**
 * Asks Ansible which docker_compose_v2 it resolves (ansible-doc with the play's own Python, config and
 * playbook folder) and whether that module takes every option the role passes. The role's tasks that
 * use it are included only after this check, so an older collection (Debian 12's 3.4.7) stops the
 * play here with how to install one, rather than with Ansible's "couldn't resolve module/action".
 */
function composeModuleChecks(docker: CollectionPin, tags: string[], profiles: boolean): Json[] {
  const tarball = `${docker.name.replace('.', '-')}-${docker.version}.tar.gz`;
  return [
    task(`Find the ${COMPOSE_MODULE} module Ansible resolves on the controller`, 'ansible.builtin.command', {
      argv: ['{{ ansible_playbook_python }}', '-m', 'ansible.cli.doc', '--json', '--type', 'module', '--playbook-dir', '{{ playbook_dir }}', COMPOSE_MODULE],
    }, { delegate_to: 'localhost', run_once: true, register: 'compose_app_compose_module', changed_when: false, check_mode: false, tags }),
    task(`Check the controller has ${docker.name} ${docker.minimum} or later`, 'ansible.builtin.assert', {
      that: ['compose_app_compose_options | ansible.builtin.difference(compose_app_compose_doc.options | default({}) | list) | length == 0'],
      fail_msg: [
        `This play runs ${COMPOSE_MODULE} with the options {{ compose_app_compose_options | join(', ') }}, which need ${docker.name}`,
        `${docker.minimum} or later (the module came in 3.6.0, wait and wait_timeout in 3.8.0; Debian 12's ansible package has 3.4.7).`,
        `Here Ansible finds {{ compose_app_compose_doc.filename | default('no such module') }}. Install the release requirements.yml pins, ${docker.version}.`,
        'Online: ansible-galaxy collection install -r requirements.yml.',
        `Offline: on a machine with internet access, ansible-galaxy collection download ${docker.name}:${docker.version} saves ${tarball}`,
        'and the tarball of its dependency community.library_inventory_filtering_v1 under collections/; copy both here and run',
        `ansible-galaxy collection install ${tarball} community-library_inventory_filtering_v1-*.tar.gz. Nothing has been changed.`,
      ].join(' '),
      quiet: true,
    }, {
      vars: {
        compose_app_compose_options: Object.keys(composeUpArgs(profiles)),
        compose_app_compose_doc: `{{ (compose_app_compose_module.stdout | ansible.builtin.from_json)['${COMPOSE_MODULE}'].doc | default({}) }}`,
      },
      tags,
    }),
  ];
}

/** Checks that change nothing; they run before the docker_host role (site.yml's pre_tasks). */
export function composeAppPreflight(docker: CollectionPin, profiles = false): Json[] {
  const tags = [PREFLIGHT_TAG];
  return [
    ...composeModuleChecks(docker, tags, profiles),
    task('Check the required variables are set in the controller environment', 'ansible.builtin.assert', {
      that: [`${ENV_VALUE} | length > 0`],
      fail_msg: "{{ item.name }} is empty: export it in the shell that runs ansible-playbook (it is {{ 'a secret' if item.secret else 'required' }} and is never stored in this bundle). Nothing has been changed.",
      quiet: true,
    }, { loop: "{{ compose_app_env | selectattr('required') | list }}", loop_control: { label: '{{ item.name }}' }, tags }),
    task('Check every value can be written literally to the .env file', 'ansible.builtin.assert', {
      // A quote, a backslash or a line break cannot stand literally in a single-quoted .env value.
      that: [`${ENV_VALUE} is not ansible.builtin.search('[\\\\x27\\\\x5c\\\\r\\\\n]')`],
      fail_msg: '{{ item.name }} holds a quote, a backslash or a line break, which the .env file cannot carry literally. Nothing has been changed.',
      quiet: true,
    }, { loop: '{{ compose_app_env }}', loop_control: { label: '{{ item.name }}' }, tags }),
  ];
}

/** `.env` text: single-quoted values, which compose takes literally (no `$` interpolation). */
export const ENV_FILE_TEMPLATE =
  '# Written by Ansible from the environment of the controller that ran the play. Do not edit here.\n' +
  `{% for item in compose_app_env %}{{ item.name }}='{{ ${ENV_VALUE} }}'\n{% endfor %}`;

export function composeAppTasks(hasSubdirs: boolean, hasRouterPort: boolean): Json[] {
  const become = { become: true };
  const tasks: Json[] = [
    task('Check the controller environment', 'ansible.builtin.import_tasks', { file: 'preflight.yml' }),
    task('Create the project folder', 'ansible.builtin.file', { path: '{{ compose_app_dir }}', state: 'directory', owner: 'root', group: 'root', mode: '0755' }, become),
  ];
  if (hasSubdirs) {
    tasks.push(task('Create the project subfolders', 'ansible.builtin.file', { path: '{{ compose_app_dir }}/{{ item }}', state: 'directory', owner: 'root', group: 'root', mode: '0755' }, {
      ...become, loop: '{{ compose_app_subdirs }}',
    }));
  }
  tasks.push(
    task('Copy the compose project', 'ansible.builtin.copy', { src: '{{ item }}', dest: '{{ compose_app_dir }}/{{ item }}', owner: 'root', group: 'root', mode: '0644' }, {
      ...become, loop: '{{ compose_app_files }}',
    }),
    task('Write the project environment from the controller environment', 'ansible.builtin.copy', {
      content: ENV_FILE_TEMPLATE,
      dest: '{{ compose_app_dir }}/.env',
      owner: 'root',
      group: 'root',
      mode: '0600',
    }, { ...become, no_log: true, diff: false }),
    // Included, not imported: Ansible resolves the module only once the preflight has checked it.
    task('Start the project', 'ansible.builtin.include_tasks', { file: 'up.yml' }),
  );
  if (hasRouterPort) {
    tasks.push(task('Show where the pipeline answers', 'ansible.builtin.debug', {
      msg: "The pipeline answers at http://{{ ansible_host | default(inventory_hostname) }}:{{ lookup('ansible.builtin.env', 'ROUTER_PORT', default=compose_app_router_port) }}/",
    }));
  }
  return tasks;
}

/** compose_app's up.yml. */
export function composeAppUp(profiles = false): Json[] {
  return [task('Start the project and wait until every service is running and healthy', COMPOSE_MODULE, composeUpArgs(profiles), { become: true })];
}

// ---------------------------------------------------------------------------------------- gmc_pipeline

export function gmcPipelineDefaults(): Json {
  return {
    gmc_pipeline_namespace: '{{ opea_namespace }}',
    gmc_pipeline_install_gmc: false,
    gmc_pipeline_gmc_manifests: [],
    gmc_pipeline_hf_token_secret: HF_TOKEN_SECRET,
    gmc_pipeline_wait_retries: 120,
    gmc_pipeline_wait_delay: 10,
  };
}

export function gmcPipelineVars(name: string): Json {
  return { gmc_pipeline_name: unsafe(name) };
}

/**
 * status.status is "<ready>/<external>/<total>" (GMC's controller): total counts the deployments GMC
 * made (the router's too), external the externalService steps apart from them; the CR has no conditions.
 */
export const GMC_COUNTS =
  "{{ (((gmc_pipeline_cr.resources | default([]) | first | default({})).status | default({})).status | default('')) | ansible.builtin.regex_findall('[0-9]+') | map('int') | list }}";
export const GMC_READY = 'gmc_pipeline_counts | length == 3 and gmc_pipeline_counts[2] > 0 and gmc_pipeline_counts[0] == gmc_pipeline_counts[2]';

/** The Secret with the Hugging Face token of the controller's environment, when it has one, in the role's namespace. */
export function hfTokenSecretTask(role: string): Json {
  return task('Store the Hugging Face token from the controller environment as a Secret', 'kubernetes.core.k8s', {
    state: 'present',
    definition: {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      metadata: { name: `{{ ${role}_hf_token_secret }}`, namespace: `{{ ${role}_namespace }}` },
      stringData: { [HF_TOKEN_SECRET_KEY]: "{{ lookup('ansible.builtin.env', 'HF_TOKEN') }}" },
    },
  }, { no_log: true, when: "lookup('ansible.builtin.env', 'HF_TOKEN', default='') | length > 0" });
}

export function gmcPipelineTasks(): Json[] {
  const installing = { when: 'gmc_pipeline_install_gmc | bool' };
  // A literal: ansible-lint cannot check a templated suboption and then skips the whole file.
  const ssa = { field_manager: DEFAULT_FIELD_MANAGER, force_conflicts: true };
  return [
    task('Show what this play deploys', 'ansible.builtin.debug', {
      msg: 'GMConnector {{ gmc_pipeline_name }} in namespace {{ gmc_pipeline_namespace }}, platform {{ opea_platform }}',
    }, { tags: [PREFLIGHT_TAG] }),
    task('Check where the GMC manifests are when GMC is to be installed', 'ansible.builtin.assert', {
      that: ['gmc_pipeline_gmc_manifests | length > 0'],
      fail_msg: 'gmc_pipeline_install_gmc is true but gmc_pipeline_gmc_manifests is empty: list the GMC install manifests (URLs or paths on the controller) of the GMC release you want. Nothing has been changed.',
      quiet: true,
    }, { ...installing, tags: [PREFLIGHT_TAG] }),
    task('Install GMC from its manifests', 'kubernetes.core.k8s', {
      definition:
        "{{ (lookup('ansible.builtin.url', item, split_lines=false) if item is ansible.builtin.match('https?://') else lookup('ansible.builtin.file', item))" +
        ' | ansible.builtin.from_yaml_all | select | list }}',
      state: 'present',
      apply: true,
      server_side_apply: ssa,
      wait: true,
      wait_timeout: 600,
    }, { ...installing, loop: '{{ gmc_pipeline_gmc_manifests }}' }),
    task('Wait until the GMConnector resource type is established', 'kubernetes.core.k8s_info', {
      api_version: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name: GMC_CRD,
      wait: true,
      wait_condition: { type: 'Established', status: 'True' },
      wait_timeout: 300,
    }, installing),
    task('Look up the GMConnector resource type', 'kubernetes.core.k8s_info', {
      api_version: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      name: GMC_CRD,
    }, { register: 'gmc_pipeline_crd' }),
    task('Check GMC is installed on the cluster', 'ansible.builtin.assert', {
      that: ['gmc_pipeline_crd.resources | length > 0'],
      fail_msg: `The cluster has no ${GMC_CRD} resource type: install GMC first, or set gmc_pipeline_install_gmc and gmc_pipeline_gmc_manifests. Nothing has been changed.`,
      quiet: true,
    }),
    task('Create the namespace', 'kubernetes.core.k8s', { api_version: 'v1', kind: 'Namespace', name: '{{ gmc_pipeline_namespace }}', state: 'present' }),
    hfTokenSecretTask('gmc_pipeline'),
    task('Apply the GMConnector with server-side apply', 'kubernetes.core.k8s', {
      definition: `{{ lookup('ansible.builtin.file', '${CR_FILE}') | ansible.builtin.from_yaml | ansible.builtin.combine({'metadata': {'namespace': gmc_pipeline_namespace}}, recursive=true) }}`,
      state: 'present',
      apply: true,
      server_side_apply: ssa,
    }),
    task('Wait until GMC reports every service of the pipeline ready', 'kubernetes.core.k8s_info', {
      api_version: GMC_API_VERSION,
      kind: 'GMConnector',
      name: '{{ gmc_pipeline_name }}',
      namespace: '{{ gmc_pipeline_namespace }}',
    }, {
      register: 'gmc_pipeline_cr',
      vars: { gmc_pipeline_counts: GMC_COUNTS },
      until: GMC_READY,
      retries: '{{ gmc_pipeline_wait_retries }}',
      delay: '{{ gmc_pipeline_wait_delay }}',
    }),
    task('Show where the pipeline answers', 'ansible.builtin.debug', {
      msg: "GMConnector {{ gmc_pipeline_name }} is ready ({{ gmc_pipeline_cr.resources[0].status.status }}); it answers at {{ gmc_pipeline_cr.resources[0].status.accessUrl | default('(no accessUrl reported)') }}",
    }),
  ];
}
