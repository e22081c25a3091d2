/**
 * The compose project -> the services of a Helm chart for a cluster without GMC: the same containers,
 * the same router graph (its serviceUrls name the services by the same short names, which resolve
 * in the release's namespace), each as a Deployment and a Service, with values.yaml for what a user
 * sets per cluster. Kubernetes' equivalents of compose's settings follow OPEA's own charts
 * (GenAIInfra v1.1 helm-charts/common: tei, teirerank, tgi, redis-vector-db, *-usvc).
 */
import { createHash } from 'node:crypto';
import { GATEWAY, Image, ROUTER, ServiceDef } from '../../core/catalog';
import { HF_TOKEN_SECRET, HF_TOKEN_SECRET_KEY } from '../../core/k8s/names';
import { Platform } from '../../core/model';
import { ComposeProject, ROUTER_SERVICE } from '../compose';
import { GATEWAY_SERVICE } from '../compose/gateway';
import { ServiceSettings } from '../deploy-settings';
import { MergedMapping, ValueRef } from './values-ref';

type Json = Record<string, unknown>;

export const GRAPH_CONFIGMAP = 'router-graph';
export const GRAPH_KEY = 'graph.json';
export const GATEWAY_CONFIGMAP = 'gateway-files';
/** The router reads its graph from this variable, filled from the ConfigMap (Kubernetes expands `$(NAME)` in args). */
const GRAPH_ENV = 'GRAPH_JSON';

/** What a cluster's operator sets for one service. */
export interface ServiceValues {
  image: Image;
  replicas: number;
  resources: Json;
  nodeSelector: Json;
  tolerations: unknown[];
  autoscaling: { enabled: boolean; minReplicas: number; maxReplicas: number; targetCPUUtilizationPercentage: number };
  /** Model servers: the model they serve. */
  model?: string;
}

export interface ChartValues {
  global: {
    proxy: { http_proxy: string; https_proxy: string; no_proxy: string };
    /** An existing Secret with the Hugging Face token: the chart never holds the token. */
    hfTokenSecret: { name: string; key: string };
    /** Volume source of the model servers' cache (`/data`): emptyDir, or a hostPath or persistentVolumeClaim of yours. */
    modelCache: Json;
    imagePullPolicy: string;
  };
  /** Type of the gateway's Service, the pipeline's entry. */
  entry: { serviceType: string };
  services: Record<string, ServiceValues>;
}

/** A Deployment with its Service (and HPA when its values enable one), its references to values in place. */
export interface ChartService {
  name: string;
  deployment: Json;
  service: Json;
  hpa: Json;
}

export interface HelmChart {
  name: string;
  values: ChartValues;
  services: ChartService[];
  configMaps: Json[];
}

/** The accelerator a model server asks for, per platform (GenAIInfra v1.1 tgi/gaudi-values.yaml, tei/gaudi-values.yaml, teirerank/gaudi-values.yaml, tgi/nv-values.yaml). */
const ACCELERATOR: Record<Platform, string | undefined> = { xeon: undefined, gaudi: 'habana.ai/gaudi', nvidia: 'nvidia.com/gpu' };

/** Probe timings of OPEA's charts (GenAIInfra v1.1 helm-charts/common/tei/values.yaml; tgi/values.yaml gives TGI on CPU 180 startup failures). */
const PROBE_TIMING = { initialDelaySeconds: 5, periodSeconds: 5, timeoutSeconds: 2 };
const LIVENESS_FAILURES = 24;
const STARTUP_FAILURES = 120;
const TGI_CPU_STARTUP_FAILURES = 180;

const MODEL_CACHE_PATH = '/data';
const SHM_SIZE = '1Gi';
const HF_TOKEN_ENV = /^\$\{HF_TOKEN(:-|:\?[^}]*)\}$/;
const PROXY_ENV = /^(.*?)\$\{(no_proxy|http_proxy|https_proxy):-\}$/;

function internalError(what: string): never {
  throw new Error(`internal error: the Helm chart cannot take the compose project: ${what}`);
}

/** `${REGISTRY:-opea}/embedding-tei:${TAG:-1.1}` or `repo:tag` -> the image with its defaults. */
function imageOf(ref: string): Image {
  const opea = /^\$\{REGISTRY:-([^}]*)\}\/([^:$]+):\$\{TAG:-([^}]*)\}$/.exec(ref);
  if (opea) return { repository: `${opea[1]}/${opea[2]}`, tag: opea[3] };
  const colon = ref.lastIndexOf(':');
  if (ref.includes('$') || colon <= ref.lastIndexOf('/')) internalError(`image ${ref}`);
  return { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) };
}

/** A compose value (`$$` is a literal `$`) as Kubernetes takes it in env and args (`$$` keeps `$(` literal). */
function kubeText(composeText: string): string {
  if (/\$(?!\$)/.test(composeText.replace(/\$\$/g, ''))) internalError(`a value interpolates a variable: ${composeText}`);
  return composeText.replace(/\$\$/g, '$').replace(/\$\(/g, '$$$$(');
}

const svc = (name: string, ...path: string[]) => ['services', name, ...path];

class ChartBuilder {
  readonly values: ChartValues;
  private readonly models = new Map<string, string>();

  constructor(
    private readonly project: ComposeProject,
    private readonly platform: Platform,
    private readonly settings: ReadonlyMap<string, ServiceSettings>,
  ) {
    this.values = {
      global: {
        proxy: { http_proxy: '', https_proxy: '', no_proxy: '' },
        hfTokenSecret: { name: HF_TOKEN_SECRET, key: HF_TOKEN_SECRET_KEY },
        modelCache: { emptyDir: {} },
        imagePullPolicy: 'IfNotPresent',
      },
      entry: { serviceType: 'ClusterIP' },
      services: {},
    };
  }

  build(gatewayFiles: Record<string, string>): HelmChart {
    const services = Object.entries(this.project.services) as [string, Json][];
    for (const [name, compose] of services) this.models.set(name, this.modelOf(compose));
    const graph = `${JSON.stringify(this.project.graph)}\n`;
    const configMaps: Json[] = [configMap(GRAPH_CONFIGMAP, { [GRAPH_KEY]: graph })];
    if (GATEWAY_SERVICE in this.project.services) configMaps.push(configMap(GATEWAY_CONFIGMAP, gatewayFiles));
    const chartServices = services.map(([name, compose]) => this.service(name, compose, name === ROUTER_SERVICE ? { 'checksum/graph': sha256(graph) } : {}));
    return { name: String((this.project.graph.metadata as Json).name), values: this.values, services: chartServices, configMaps };
  }

  private modelOf(compose: Json): string {
    const command = Array.isArray(compose.command) ? compose.command : [];
    const at = command.indexOf('--model-id');
    return at >= 0 ? kubeText(String(command[at + 1])) : '';
  }

  private def(name: string): ServiceDef | undefined {
    return this.project.defs.get(name);
  }

  private port(name: string): number {
    if (name === ROUTER_SERVICE) return ROUTER.port;
    if (name === GATEWAY_SERVICE) return GATEWAY.port;
    const def = this.def(name) ?? internalError(`no catalog entry for service ${name}`);
    return def.chain?.port ?? def.port;
  }

  private isModelServer(name: string): boolean {
    return this.models.get(name) !== '';
  }

  private service(name: string, compose: Json, annotations: Json): ChartService {
    const port = this.port(name);
    const modelServer = this.isModelServer(name);
    const accelerator = modelServer ? ACCELERATOR[this.platform] : undefined;
    const settings = this.settings.get(name);
    const limits: Json = { ...settings?.limits, ...(accelerator ? { [accelerator]: settings?.accelerators || 1 } : {}) };
    const requests: Json = { ...settings?.requests };
    this.values.services[name] = {
      image: imageOf(String(compose.image)),
      replicas: settings?.replicas ?? 1,
      resources: { ...(Object.keys(limits).length ? { limits } : {}), ...(Object.keys(requests).length ? { requests } : {}) },
      nodeSelector: {},
      tolerations: [],
      autoscaling: { enabled: false, minReplicas: 1, maxReplicas: 4, targetCPUUtilizationPercentage: 80 },
      ...(modelServer ? { model: this.models.get(name) } : {}),
    };
    const container: Json = {
      name,
      image: ValueRef.text('%s:%s', svc(name, 'image', 'repository'), svc(name, 'image', 'tag')),
      imagePullPolicy: ValueRef.text('%s', ['global', 'imagePullPolicy']),
      ...this.args(name, compose),
      env: this.env(name, compose),
      ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
      ...this.probes(name),
      resources: ValueRef.block(...svc(name, 'resources')),
    };
    const mounts: Json[] = [];
    const volumes: unknown[] = [];
    if (modelServer) {
      mounts.push({ name: 'model-cache', mountPath: MODEL_CACHE_PATH }, { name: 'shm', mountPath: '/dev/shm' });
      volumes.push(new MergedMapping({ name: 'model-cache' }, ValueRef.block('global', 'modelCache')), { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: SHM_SIZE } });
    }
    if (name === GATEWAY_SERVICE) {
      mounts.push({ name: 'gateway', mountPath: '/gateway', readOnly: true });
      volumes.push({ name: 'gateway', configMap: { name: GATEWAY_CONFIGMAP } });
    }
    if (mounts.length) container.volumeMounts = mounts;
    const capabilities = compose.cap_add;
    if (Array.isArray(capabilities)) container.securityContext = { capabilities: { add: capabilities } };
    const labels = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': String((this.project.graph.metadata as Json).name), 'app.kubernetes.io/managed-by': 'node-red-contrib-opea' };
    const selector = { 'app.kubernetes.io/name': name };
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, labels },
      spec: {
        replicas: ValueRef.scalar(...svc(name, 'replicas')),
        selector: { matchLabels: selector },
        template: {
          metadata: { labels, ...(Object.keys(annotations).length ? { annotations } : {}) },
          spec: {
            containers: [container],
            ...(volumes.length ? { volumes } : {}),
            nodeSelector: ValueRef.block(...svc(name, 'nodeSelector')),
            tolerations: ValueRef.block(...svc(name, 'tolerations')),
          },
        },
      },
    };
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, labels },
      spec: {
        ...(name === GATEWAY_SERVICE ? { type: ValueRef.text('%s', ['entry', 'serviceType']) } : {}),
        selector,
        ports: [{ name: 'http', port, targetPort: 'http', protocol: 'TCP' }],
      },
    };
    const hpa = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name, labels },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: ValueRef.scalar(...svc(name, 'autoscaling', 'minReplicas')),
        maxReplicas: ValueRef.scalar(...svc(name, 'autoscaling', 'maxReplicas')),
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: ValueRef.scalar(...svc(name, 'autoscaling', 'targetCPUUtilizationPercentage')) } } }],
      },
    };
    return { name, deployment, service, hpa };
  }

  /** compose's `command` is the image's arguments; the router's graph comes from the ConfigMap. */
  private args(name: string, compose: Json): Json {
    const command = compose.command;
    if (!Array.isArray(command)) return {};
    if (name === ROUTER_SERVICE) return { args: [ROUTER.arg, `$(${GRAPH_ENV})`] };
    if (name === GATEWAY_SERVICE) return { command: command.map(String) };
    return { args: command.map((arg, i) => (command[i - 1] === '--model-id' ? ValueRef.text('%s', svc(name, 'model')) : kubeText(String(arg)))) };
  }

  private env(name: string, compose: Json): Json[] {
    const env: Json[] = [];
    if (name === ROUTER_SERVICE) env.push({ name: GRAPH_ENV, valueFrom: { configMapKeyRef: { name: GRAPH_CONFIGMAP, key: GRAPH_KEY } } });
    const environment = (compose.environment ?? {}) as Record<string, string>;
    for (const [key, raw] of Object.entries(environment)) {
      // The Habana device plugin sets the devices a pod was given; compose's "all" would claim every card.
      if (key === 'HABANA_VISIBLE_DEVICES') continue;
      const token = HF_TOKEN_ENV.exec(raw);
      if (token) {
        const ref = { name: ValueRef.text('%s', ['global', 'hfTokenSecret', 'name']), key: ValueRef.text('%s', ['global', 'hfTokenSecret', 'key']) };
        // A model server that must download a model waits for the Secret; the others run without it.
        env.push({ name: key, valueFrom: { secretKeyRef: { ...ref, optional: token[1] === ':-' } } });
        continue;
      }
      const proxy = PROXY_ENV.exec(raw);
      if (proxy) {
        env.push({ name: key, value: ValueRef.text(`${kubeText(proxy[1]).replace(/%/g, '%%')}%s`, ['global', 'proxy', proxy[2]]) });
        continue;
      }
      env.push({ name: key, value: this.envValue(environment, key, raw) });
    }
    return env;
  }

  /** A guardrail's guard model is the model its TGI serves: one value sets both. */
  private envValue(environment: Record<string, string>, key: string, raw: string): unknown {
    if (key === 'SAFETY_GUARD_MODEL_ID' && environment.SAFETY_GUARD_ENDPOINT) {
      const server = new URL(environment.SAFETY_GUARD_ENDPOINT).hostname;
      if (this.models.get(server) === kubeText(raw)) return ValueRef.text('%s', svc(server, 'model'));
    }
    return kubeText(raw);
  }

  private probes(name: string): Json {
    const def = this.def(name);
    const handler: Json = !def
      ? { tcpSocket: { port: 'http' } }
      : 'command' in def.health
        ? { exec: { command: def.health.command.filter((c) => c !== 'CMD') } }
        : { httpGet: { path: def.health.http, port: 'http' } };
    const probes: Json = {
      readinessProbe: { ...handler, ...PROBE_TIMING },
      livenessProbe: { ...handler, ...PROBE_TIMING, failureThreshold: LIVENESS_FAILURES },
    };
    if (this.isModelServer(name)) {
      const failures = def?.id === 'tgi' && this.platform === 'xeon' ? TGI_CPU_STARTUP_FAILURES : STARTUP_FAILURES;
      probes.startupProbe = { ...handler, ...PROBE_TIMING, failureThreshold: failures };
    }
    return probes;
  }
}

function configMap(name: string, data: Record<string, string>): Json {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'node-red-contrib-opea' } }, data };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The chart of a compose project; `gatewayFiles` are the gateway's script and routes, by file name. */
export function buildChart(project: ComposeProject, platform: Platform, gatewayFiles: Record<string, string>, settings: ReadonlyMap<string, ServiceSettings>): HelmChart {
  return new ChartBuilder(project, platform, settings).build(gatewayFiles);
}
