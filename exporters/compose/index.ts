/**
 * PipelineGraph -> docker compose project that routes exactly as GMC does in Kubernetes: GMC's own
 * router runs the same GMConnector, its steps' serviceUrls pointing at compose services, and the
 * microservices are the chain edition of the catalog (the images GMC's templates deploy).
 */
import yaml from 'js-yaml';
import { CHAIN_TAG, findBackend, Image, ROUTER, service, ServiceDef, serviceByStep } from '../../core/catalog';
import { Component, Platform } from '../../core/model';
import { DEFAULT_INDEX_NAME } from '../../core/node-types';
import { Bundle } from '../bundle';
import { DOWNSTREAM_KEYS, EXTERNAL_STEP_NAMES } from '../gmc/rules';
import { composeGuardrail, guardModelServerName } from '../guardrails';
import { checkComposeProject } from './check';
import { embeddingFeeds } from './feeds';
import { GmcStep } from '../../core/gmc-shape';
import { DeployedRequests } from '../router-requests';
import { gatewayFiles, gatewayService, GATEWAY_SERVICE } from './gateway';
import { applyComposeSettings } from './resources';
import { serviceSettings } from '../deploy-settings';
import { MetricsStore, observabilityProfile } from './observability';

type Json = Record<string, unknown>;

/** A step of a GMConnector our GMC exporter built: every step and every service has its name. */
type Step = GmcStep & { name: string; internalService?: NonNullable<GmcStep['internalService']> & { serviceName: string } };

export interface ComposeEnvVar {
  name: string;
  secret: boolean;
  required: boolean;
  default?: string;
  doc: string;
}

/** The project as built, for targets that deploy the same services elsewhere (the Helm chart). */
export interface ComposeProject {
  /** name -> compose service, the observability profile's left out. */
  services: Json;
  /** The GMConnector the router runs, its serviceUrls naming the services. */
  graph: Json;
  /** The catalog entry of each service but the router and the gateway. */
  defs: ReadonlyMap<string, ServiceDef>;
}

export interface ComposeResult {
  bundle: Bundle;
  env: ComposeEnvVar[];
  project: ComposeProject;
}

export const ROUTER_SERVICE = 'router-service';
const PROXIES = ['no_proxy', 'http_proxy', 'https_proxy'];
const HF_REQUIRED = '${HF_TOKEN:?set HF_TOKEN in .env: a Hugging Face token that may download the models}';

/** Compose reads `$` as interpolation: every literal `$` must be doubled. */
function literal(text: string): string {
  return text.replace(/\$/g, '$$$$');
}

function imageRef(image: Image, opea: boolean): string {
  if (!opea) return `${image.repository}:${image.tag}`;
  const name = image.repository.replace(/^opea\//, '');
  return `\${REGISTRY:-opea}/${name}:\${TAG:-${image.tag}}`;
}

function platformImage(def: ServiceDef, platform: Platform): Image {
  const image = def.images[platform];
  if (!image) throw new Error(`catalog: ${def.id} has no image for ${platform}`);
  return image;
}

function url(def: ServiceDef, serviceName: string, port: number, path = ''): string {
  return def.id === 'redis-vector-db' ? `redis://${serviceName}:${port}` : `http://${serviceName}:${port}${path}`;
}

class ComposeBuilder {
  readonly services: Record<string, Json> = {};
  private readonly defs = new Map<string, ServiceDef>();
  private needsHfToken = false;
  private readonly usesModelCache = new Set<string>();
  /** serviceName -> its step's config, and -> the embedding step that feeds it. */
  private readonly configs = new Map<string, Record<string, string>>();
  private feeds = new Map<string, string | undefined>();

  constructor(
    private readonly cr: Json,
    private readonly byName: Map<string, Component>,
    private readonly platform: Platform,
  ) {}

  private nodes(): Record<string, { routerType: string; steps: Step[] }> {
    return (this.cr.spec as { nodes: Record<string, { routerType: string; steps: Step[] }> }).nodes;
  }

  /** All steps of all router nodes, in order. */
  private steps(): Step[] {
    return Object.values(this.nodes()).flatMap((n) => n.steps);
  }

  build(): Json {
    const steps = this.steps();
    for (const step of steps) {
      if (!step.internalService) continue;
      const def = serviceByStep(step.name, this.platform);
      if (!def) throw new Error(`catalog: no service deploys GMC step ${step.name}`);
      this.defs.set(step.internalService.serviceName, def);
      this.configs.set(step.internalService.serviceName, step.internalService.config ?? {});
    }
    this.feeds = embeddingFeeds(this.nodes(), (step) => this.embeds(step));
    for (const step of steps) {
      if (step.externalService) step.serviceUrl = step.externalService;
      if (step.internalService) this.addService(step, step.internalService);
    }
    // The graph calls these at their compose service (GmcOptions.composeRouted).
    const guardrails = [...this.byName].filter(([, component]) => composeGuardrail(component));
    for (const [name, component] of guardrails) this.addGuardrail(name, component);
    this.addRouter(steps, guardrails.map(([name]) => name));
    return this.services;
  }

  /** OPEA's guardrails service and the TGI serving its guard model, as ChatQnA's guardrails compose pairs them. */
  private addGuardrail(name: string, component: Component): void {
    const deployment = composeGuardrail(component);
    const def = deployment ? service(deployment.service) : undefined;
    if (!deployment || !def?.chain) throw new Error(`catalog: no compose deployment for guardrail backend ${component.backend}`);
    const modelDef = service(deployment.modelServer.service);
    const modelServer = guardModelServerName(name);
    const model = component.model ?? '';
    this.defs.set(name, def);
    this.defs.set(modelServer, modelDef);
    this.services[modelServer] = this.modelServer(modelDef, { [modelDef.modelEnv ?? 'MODEL_ID']: model });
    const environment: Json = { ...this.proxies(), [deployment.modelServer.env]: this.dependencyUrl(modelServer) };
    for (const key of Object.keys(def.chain.env)) {
      if (key === 'SAFETY_GUARD_MODEL_ID') environment[key] = literal(model);
      else if (key === 'HUGGINGFACEHUB_API_TOKEN' || key === 'HF_TOKEN') environment[key] = '${HF_TOKEN:-}';
    }
    this.services[name] = {
      image: imageRef(def.chain.image, true),
      depends_on: { [modelServer]: this.condition(modelServer) },
      environment,
      healthcheck: healthcheck(def),
      restart: 'unless-stopped',
    };
  }

  private proxies(extraNoProxy: string[] = []): Json {
    // ", " lets long lists fold under the line limit; proxy clients trim the spaces.
    const names = extraNoProxy.length ? `${extraNoProxy.join(', ')}, ` : '';
    return { no_proxy: `${names}\${no_proxy:-}`, http_proxy: '${http_proxy:-}', https_proxy: '${https_proxy:-}' };
  }

  private portOf(def: ServiceDef): number {
    return def.chain?.port ?? def.port;
  }

  private dependencyUrl(serviceName: string): string {
    const def = this.defs.get(serviceName) as ServiceDef;
    return url(def, serviceName, this.portOf(def));
  }

  private condition(serviceName: string): { condition: string } {
    return { condition: healthcheck(this.defs.get(serviceName) as ServiceDef) ? 'service_healthy' : 'service_started' };
  }

  private addService(step: Step, internal: NonNullable<Step['internalService']>): void {
    const name = internal.serviceName;
    const def = this.defs.get(name) as ServiceDef;
    const config = internal.config ?? {};
    if (def.chain) {
      const component = this.byName.get(name);
      const environment: Json = this.proxies();
      const dependsOn: Json = {};
      for (const [key, value] of Object.entries(config)) {
        if (!DOWNSTREAM_KEYS.includes(key)) continue;
        environment[key] = this.dependencyUrl(value);
        dependsOn[value] = this.condition(value);
      }
      for (const [key, server] of this.sharedWithEmbedding(name, component)) {
        if (key in environment) continue;
        environment[key] = this.dependencyUrl(server);
        dependsOn[server] = this.condition(server);
      }
      for (const key of Object.keys(def.chain.env)) {
        if (key === 'INDEX_NAME') environment[key] = literal(String(component?.params.indexName ?? DEFAULT_INDEX_NAME));
        else if (key === 'HUGGINGFACEHUB_API_TOKEN') environment[key] = '${HF_TOKEN:-}';
      }
      this.services[name] = {
        image: imageRef(def.chain.image, true),
        ...(Object.keys(dependsOn).length ? { depends_on: dependsOn } : {}),
        environment,
        healthcheck: healthcheck(def),
        restart: 'unless-stopped',
      };
      step.serviceUrl = url(def, name, def.chain.port, def.chain.path);
      return;
    }
    this.services[name] = this.modelServer(def, config);
    step.serviceUrl = url(def, name, def.port, config.endpoint ?? '');
  }

  private embeds(step: GmcStep): boolean {
    const name = step.internalService?.serviceName;
    return name ? this.byName.get(name)?.kind === 'embedding' : step.externalService !== undefined && step.name === EXTERNAL_STEP_NAMES.embedding;
  }

  /**
   * The dependencies a component shares with the embedding that feeds it (a retriever's TEI), as
   * [variable, serviceName of that embedding's own server], wherever the two sit in the graph.
   */
  private sharedWithEmbedding(name: string, component: Component | undefined): [string, string][] {
    const embeddingName = this.feeds.get(name);
    const embedding = embeddingName ? this.byName.get(embeddingName) : undefined;
    const deploy = component && findBackend(component.kind, component.backend)?.deploy;
    const own = embedding && findBackend(embedding.kind, embedding.backend)?.deploy;
    if (!embeddingName || deploy?.type !== 'service' || own?.type !== 'service') return [];
    return deploy.dependencies.filter((dep) => dep.sharedWith === 'embedding').flatMap((dep): [string, string][] => {
      const key = own.dependencies.find((d) => d.service === dep.service)?.gmcKey;
      const server = key ? this.configs.get(embeddingName)?.[key] : undefined;
      return server ? [[dep.gmcKey, server]] : [];
    });
  }

  private modelServer(def: ServiceDef, config: Record<string, string>): Json {
    const image = platformImage(def, this.platform);
    if (def.id === 'redis-vector-db') {
      return { image: imageRef(image, false), healthcheck: healthcheck(def), restart: 'unless-stopped' };
    }
    const model = literal(config[def.modelEnv ?? 'MODEL_ID'] ?? '');
    const isTgi = def.id === 'tgi';
    if (isTgi) this.needsHfToken = true;
    this.usesModelCache.add(def.id);
    const environment: Json = { ...this.proxies(), HF_TOKEN: isTgi ? HF_REQUIRED : '${HF_TOKEN:-}' };
    const service: Json = {
      image: imageRef(image, false),
      command: isTgi ? ['--model-id', model, ...(this.platform === 'xeon' ? ['--cuda-graphs', '0'] : [])] : ['--model-id', model, '--auto-truncate'],
      environment,
      volumes: ['${MODEL_CACHE:-./data}:/data'],
      shm_size: '1g',
      restart: 'unless-stopped',
    };
    const check = healthcheck(def);
    if (check) service.healthcheck = check;
    if (this.platform === 'gaudi') {
      Object.assign(environment, { HABANA_VISIBLE_DEVICES: 'all', OMPI_MCA_btl_vader_single_copy_mechanism: 'none' });
      Object.assign(service, { runtime: 'habana', cap_add: ['SYS_NICE'], ipc: 'host' });
    }
    if (this.platform === 'nvidia') {
      service.deploy = { resources: { reservations: { devices: [{ driver: 'nvidia', count: 'all', capabilities: ['gpu'] }] } } };
    }
    return service;
  }

  private addRouter(steps: Step[], guardrails: string[]): void {
    // Every OPEA microservice, dataprep included: the router forwards its /dataprep route to that one.
    const internal = steps.map((s) => s.internalService?.serviceName).filter((name): name is string => name !== undefined && this.defs.get(name)?.chain !== undefined);
    const executed = [...internal, ...guardrails];
    const graph = JSON.stringify(this.cr);
    this.services[ROUTER_SERVICE] = {
      image: imageRef(ROUTER.image, true),
      command: [ROUTER.arg, literal(graph)],
      depends_on: Object.fromEntries(executed.map((name) => [name, this.condition(name)])),
      environment: this.proxies(Object.keys(this.services)),
      ports: ['${ROUTER_PORT:-8080}:8080'],
      restart: 'unless-stopped',
    };
  }

  serviceDefs(): ReadonlyMap<string, ServiceDef> {
    return this.defs;
  }

  envVars(): ComposeEnvVar[] {
    const vars: ComposeEnvVar[] = [
      { name: 'HF_TOKEN', secret: true, required: this.needsHfToken, doc: `Hugging Face token for model downloads${this.needsHfToken ? ': TGI serves a model' : '; needed for gated models only'}` },
      { name: 'REGISTRY', secret: false, required: false, default: 'opea', doc: 'registry of the OPEA images' },
      { name: 'TAG', secret: false, required: false, default: CHAIN_TAG, doc: 'tag of the OPEA images (the release whose contracts chain under the GMC router)' },
      { name: 'ROUTER_PORT', secret: false, required: false, default: String(ROUTER.port), doc: 'host port of the pipeline endpoint (the GMC router)' },
    ];
    if (this.usesModelCache.size > 0) vars.push({ name: 'MODEL_CACHE', secret: false, required: false, default: './data', doc: 'host folder where model servers cache downloaded models' });
    for (const proxy of PROXIES) vars.push({ name: proxy, secret: false, required: false, default: '', doc: 'proxy setting passed to every container' });
    return vars;
  }
}

/** The container's own health probe, from the catalog; null when the image has no tool to probe with. */
function healthcheck(def: ServiceDef): Json | null {
  if ('command' in def.health) return { test: def.health.command, interval: '5s', timeout: '3s', retries: 10 };
  if (def.chain) {
    const probe = `import urllib.request; urllib.request.urlopen('http://localhost:${def.chain.port}${def.health.http}', timeout=5)`;
    return { test: ['CMD', 'python', '-c', probe], interval: '10s', timeout: '6s', retries: 30, start_period: '10s' };
  }
  if (def.probeWith === 'curl') {
    return { test: ['CMD-SHELL', `curl -f http://localhost:${def.port}${def.health.http} || exit 1`], interval: '10s', timeout: '10s', retries: 100 };
  }
  return null;
}

function envExample(vars: ComposeEnvVar[]): string {
  const lines = ['# Environment of the compose project. Copy to .env and fill in; secrets have no value here.'];
  for (const v of vars) {
    lines.push(`# ${v.doc}${v.required ? ' (required)' : ''}`);
    lines.push(`${v.name}=${v.secret ? '' : v.default ?? ''}`);
  }
  return `${lines.join('\n')}\n`;
}

function readme(name: string, services: Json, requests: string[]): string {
  return [
    `# ${name}: docker compose project`,
    '',
    'Generated by node-red-contrib-opea from a Node-RED flow. Export again rather than edit.',
    '',
    `Style: **GMC router**. The pipeline is routed by OPEA's GMC router (\`opea/gmcrouter:${CHAIN_TAG}\`) running`,
    'the same GMConnector as the Kubernetes export, so both targets route identically. The OPEA',
    `microservices are the images GMC deploys (pre-1.2 names such as \`opea/embedding-tei\`, pinned at ${CHAIN_TAG}),`,
    'whose documents chain as the router passes them on (TextDoc -> EmbedDoc -> SearchedDoc -> LLMParamsDoc).',
    '',
    '```sh',
    'cp .env.example .env   # then fill in HF_TOKEN',
    'docker compose up -d --wait',
    'curl -s http://localhost:${ROUTER_PORT:-8080}/ -H "Content-Type: application/json" -d \'{"text": "What is OPEA?"}\'',
    '```',
    '',
    'Only the `gateway` publishes a host port (`ROUTER_PORT`): a small Node.js service (`gateway/gateway.js`, its',
    "routes in `gateway/routes.json`) in front of the router that fills in the flow's settings a request leaves",
    "out and, when an input rail refuses a request, answers HTTP 403 `{\"error\", \"text\"}` with the rail's words.",
    `Services, with the model servers at the versions OPEA ${CHAIN_TAG} ran them:`,
    '',
    ...Object.entries(services).map(([s, def]) => `- \`${s}\`: \`${(def as Json).image}\``),
    '',
    ...requests,
  ].join('\n');
}

/** Builds the compose project from the GMConnector of the same pipeline; throws if its own checks fail. */
/**
 * `observability` adds the observability profile (exporters/compose/observability.ts) with that metrics
 * store; without it the project is the pipeline's alone.
 */
export function composeBundle(cr: Json, components: Component[], names: Map<string, string>, platform: Platform, requests: string[] = [], deployed?: DeployedRequests, observability?: MetricsStore): ComposeResult {
  const graph = structuredClone(cr);
  const byName = new Map<string, Component>();
  for (const c of components) {
    const base = names.get(c.id);
    if (base) byName.set(base, c);
  }
  const builder = new ComposeBuilder(graph, byName, platform);
  const services = builder.build();
  applyComposeSettings(services as Record<string, Json>, serviceSettings(Object.keys(services), byName), platform);
  if (deployed) {
    // The gateway takes the pipeline's host port; the router answers it inside the project only.
    delete (services[ROUTER_SERVICE] as Json).ports;
    services[GATEWAY_SERVICE] = gatewayService();
  }
  const name = (cr.metadata as { name: string }).name;
  const observed = observability
    ? observabilityProfile(name, services, [...builder.serviceDefs()].map(([service, def]) => ({ name: service, def, port: def.chain?.port ?? def.port })), observability)
    : undefined;
  const project = observed ? { name, services: observed.services, volumes: observed.volumes } : { name, services };
  const errors = checkComposeProject(project);
  if (errors.length > 0) throw new Error(`internal error: the compose project the exporter built is invalid:\n${errors.join('\n')}`);
  const env = [...builder.envVars(), ...(observed?.env ?? [])];
  const header = '# docker compose project generated by node-red-contrib-opea. Export again rather than edit.\n';
  return {
    bundle: {
      'compose/compose.yaml': header + yaml.dump(project, { lineWidth: 150, noRefs: true, quoteStyle: 'double' }),
      'compose/.env.example': envExample(env),
      'compose/README.md': readme(project.name, project.services, requests) + (observed ? `\n${observed.readme.join('\n')}` : ''),
      ...(deployed ? gatewayFiles(deployed, graph) : {}),
      ...Object.fromEntries(Object.entries(observed?.files ?? {}).map(([file, text]) => [`compose/${file}`, text])),
    },
    env,
    project: { services, graph, defs: builder.serviceDefs() },
  };
}
