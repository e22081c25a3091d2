/**
 * Router worlds from exports: the compose project's router graph with its services' stand-ins, and a
 * GMConnector with the serviceUrls GMC's controller would give it.
 */
import yaml from 'js-yaml';
import { SERVICES } from '../../../core/catalog';
import { loadPipeline } from '../../../core/pipeline';
import { formatProblem, ProblemList } from '../../../core/problems';
import { exportPipeline } from '../../../exporters';
import { RouterWorld, startRouterWorld, WorldService } from './router-world';
import { ROLE_PATHS, StandInRole } from './stand-ins';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const WORLD_TARGETS = ['compose', 'gmc'] as const;
export type WorldTarget = (typeof WORLD_TARGETS)[number];

/** A flow's compose and GMC exports (for Xeon); throws with every problem when it does not export. */
export function exportFlow(flow: unknown, tab?: string): Record<string, string> {
  const { pipeline, problems } = loadPipeline(flow, { tab });
  const exportProblems = new ProblemList();
  const bundle = problems.empty ? exportPipeline(pipeline, WORLD_TARGETS, { platform: 'xeon' }, exportProblems) : null;
  if (!bundle) throw new Error([...problems.items, ...exportProblems.items].map(formatProblem).join('\n'));
  return bundle;
}

/** The world of one target of an exported bundle. */
export function exportedWorld(target: WorldTarget, bundle: Record<string, string>): Promise<RouterWorld> {
  if (target === 'compose') return composeWorld(bundle);
  const crFile = Object.keys(bundle).find((file) => file.startsWith('gmc/') && file.endsWith('.yaml'));
  if (!crFile) throw new Error('the bundle has no GMConnector');
  return gmcWorld(yaml.load(bundle[crFile]) as Json);
}

/** The catalog services whose stand-in plays them, by catalog id. */
const ROLE_OF_SERVICE: Record<string, StandInRole> = {
  embedding: 'embedding',
  retriever: 'retriever',
  reranking: 'reranking',
  'llm-textgen': 'llm',
  dataprep: 'dataprep',
  guardrails: 'guardrail',
};

/** Image repository (chain edition and current images) -> stand-in role, from the catalog. */
export function rolesByRepository(): Map<string, StandInRole> {
  const roles = new Map<string, StandInRole>();
  for (const [id, role] of Object.entries(ROLE_OF_SERVICE)) {
    const service = SERVICES[id];
    for (const image of [service.chain?.image, ...Object.values(service.images)]) if (image) roles.set(image.repository, role);
  }
  return roles;
}

/** `${REGISTRY:-opea}/embedding-tei:${TAG:-1.1}` -> `opea/embedding-tei`. */
export function repositoryOf(image: string): string {
  return image.replace(/\$\{REGISTRY:-([^}]*)\}/, '$1').replace(/:[^/]*$/, '');
}

function* stepsOf(graph: Json): Generator<Json> {
  for (const node of Object.values(graph.spec.nodes) as Json[]) for (const step of node.steps as Json[]) if (!step.nodeName) yield step;
}

/**
 * Stand-ins for the steps that have one (the model servers and Redis have none: the router skips
 * those steps). An executed step without one is an error, as is a port clash on one host.
 */
export function servicesOf(graph: Json, roleOf: (step: Json, host: string) => StandInRole | undefined): WorldService[] {
  const services = new Map<string, WorldService>();
  for (const step of stepsOf(graph)) {
    const url = new URL(step.serviceUrl);
    const role = roleOf(step, url.hostname);
    if (!role) {
      if (step.internalService?.isDownstreamService) continue;
      throw new Error(`no stand-in for step ${step.name} at ${step.serviceUrl}`);
    }
    const service = { name: url.hostname, role, port: Number(url.port || 80) };
    const known = services.get(service.name);
    if (known && (known.role !== role || known.port !== service.port)) throw new Error(`${service.name} is called as ${known.role}:${known.port} and ${role}:${service.port}`);
    services.set(service.name, service);
  }
  return [...services.values()];
}

/** The GMConnector the compose project's router runs (`--graph-json`, with compose's `$$` for `$`). */
function composeGraph(bundle: Record<string, string>): { compose: Json; graph: Json } {
  const compose = yaml.load(bundle['compose/compose.yaml']) as Json;
  const router = (Object.values(compose.services) as Json[]).find((s) => Array.isArray(s.command) && s.command[0] === '--graph-json');
  if (!router) throw new Error('the compose project has no service running the router with --graph-json');
  return { compose, graph: JSON.parse(String(router.command[1]).replace(/\$\$/g, '$')) };
}

/**
 * Runs the compose project's router graph, each service it calls played by the stand-in of its image;
 * with `gateway`, requests go through the project's gateway first, as its clients' do.
 */
export function composeWorld(bundle: Record<string, string>, options: { gateway?: boolean } = {}): Promise<RouterWorld> {
  const { compose, graph } = composeGraph(bundle);
  const roles = rolesByRepository();
  const services = servicesOf(graph, (_, host) => {
    const image = compose.services[host]?.image;
    return typeof image === 'string' ? roles.get(repositoryOf(image)) : undefined;
  });
  const gateway = options.gateway ? { script: bundle['compose/gateway/gateway.js'], routes: bundle['compose/gateway/routes.json'] } : undefined;
  if (gateway && (!gateway.script || !gateway.routes)) throw new Error('the compose bundle has no gateway');
  return startRouterWorld({ graph, services, gateway });
}

/**
 * The Service port of the template GMC's controller v1.1 deploys for each step name
 * (GenAIInfra v1.1 microservices-connector/config/manifests: embedding-usvc.yaml, retriever-usvc.yaml,
 * reranking-usvc.yaml, llm-uservice.yaml, data-prep.yaml, tei*.yaml, teirerank*.yaml, tgi*.yaml,
 * redis-vector-db.yaml), and the stand-in that plays it.
 */
const V1_1_TEMPLATES: Record<string, { port: number; role?: StandInRole }> = {
  Embedding: { port: 6000, role: 'embedding' },
  Retriever: { port: 7000, role: 'retriever' },
  Reranking: { port: 8000, role: 'reranking' },
  Llm: { port: 9000, role: 'llm' },
  DataPrep: { port: 6007, role: 'dataprep' },
  TeiEmbedding: { port: 80 },
  TeiEmbeddingGaudi: { port: 80 },
  TeiReranking: { port: 80 },
  Tgi: { port: 80 },
  TgiGaudi: { port: 80 },
  TgiNvidia: { port: 80 },
  VectorDB: { port: 6379 },
};

/**
 * The CR as GMC's controller v1.1 hands it to the router (internal/controller/gmconnector_controller.go):
 * an internal step's serviceUrl is its Service's `http://<serviceName>.<namespace>.svc.cluster.local:<port>`
 * plus its config's endpoint (recordResource l.557-559, getServiceURL l.309; the Service takes the
 * step's serviceName, reconcileResource l.181, in its nameSpace or the CR's, l.143); an external
 * step's is its externalService (l.410).
 */
function controllerGraph(cr: Json): Json {
  const graph = structuredClone(cr);
  for (const step of stepsOf(graph)) {
    if (step.externalService) {
      step.serviceUrl = step.externalService;
      continue;
    }
    const template = V1_1_TEMPLATES[step.name];
    if (!template) throw new Error(`GMC v1.1 has no template for step ${step.name}`);
    const service = step.internalService;
    const namespace = service.nameSpace || graph.metadata.namespace;
    step.serviceUrl = `http://${service.serviceName}.${namespace}.svc.cluster.local:${template.port}${service.config?.endpoint ?? ''}`;
  }
  return graph;
}

/** Runs a GMConnector as GMC would: internal steps by their template's stand-in, external ones by the path they call. */
export function gmcWorld(cr: Json): Promise<RouterWorld> {
  const graph = controllerGraph(cr);
  const byPath = new Map(Object.entries(ROLE_PATHS).map(([role, p]) => [p, role as StandInRole]));
  const services = servicesOf(graph, (step) => (step.externalService ? byPath.get(new URL(step.externalService).pathname) : V1_1_TEMPLATES[step.name].role));
  return startRouterWorld({ graph, services });
}
