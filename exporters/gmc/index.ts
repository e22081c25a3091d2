/** PipelineGraph -> GMConnector (gmc.opea.io/v1alpha3), checked before it is returned. */
import yaml from 'js-yaml';
import { backendsOf, Dependency, findBackend, service } from '../../core/catalog';
import { Component, Platform } from '../../core/model';
import { isDnsLabel, toK8sName } from '../../core/names';
import { DEFAULT_INDEX_NAME } from '../../core/node-types';
import { Plan, Stage } from '../../core/plan';
import { oneLine, ProblemList } from '../../core/problems';
import { Bundle } from '../bundle';
import { composeGuardrail, composeGuardrailUrl } from '../guardrails';
import { checkGmConnector } from './check';
import { CONDITION_KEY, CONDITION_VALUE, equalsCondition, otherwiseCondition, RAIL_PASSED } from '../../core/gmc-conditions';
import { enterpriseNodes } from './enterprise';
import { ENTERPRISE_DIALECT, EXTERNAL_STEP_NAMES, GmcDialect, UPSTREAM_DIALECT } from './rules';

/** Which controller's dialect the GMConnector speaks: upstream GenAIInfra GMC, or Enterprise RAG's fork. */
export const GMC_FLAVORS = ['upstream', 'enterprise'] as const;
export type GmcFlavor = (typeof GMC_FLAVORS)[number];

const DIALECTS: Record<GmcFlavor, GmcDialect> = { upstream: UPSTREAM_DIALECT, enterprise: ENTERPRISE_DIALECT };

export interface GmcOptions {
  name: string;
  namespace: string;
  platform: Platform;
  /** Default: upstream. */
  flavor?: GmcFlavor;
  /**
   * Build the graph the compose project's router runs: a stage GMC cannot deploy but compose starts
   * itself (a guardrail) is called at its compose service rather than at its externalUrl.
   */
  composeRouted?: boolean;
}

type Step = Record<string, unknown>;
interface RouterNode {
  routerType: 'Sequence' | 'Switch' | 'Ensemble';
  steps: Step[];
}

/** Suffix of a dependency's service name, after the component's base name. */
const DEPENDENCY_SUFFIX: Record<string, string> = {
  'tei-embedding': 'tei',
  'tei-reranking': 'tei',
  tgi: 'tgi',
  'redis-vector-db': 'redis',
};

/** Where a component's steps were placed, so later stages can name its dependencies. */
interface Placement {
  component: Component;
  node: string;
  /** service catalog id -> serviceName of the dependency step deployed for it */
  services: Map<string, string>;
}

class GmcBuilder {
  readonly nodes = new Map<string, RouterNode>();
  private readonly placed = new Map<string, Placement>();
  private readonly embeddingOf = new Map<string, Component | undefined>();
  /** Router nodes whose next executed step follows an input rail, and so runs only when the rail passed. */
  private readonly railBefore = new Set<string>();
  private nodeCount = 0;

  constructor(
    private readonly plan: Plan,
    private readonly names: Map<string, string>,
    private readonly options: GmcOptions,
    private readonly problems: ProblemList,
  ) {}

  /** What runs this GMConnector, as messages name it: GMC in a cluster, or the compose project. */
  private get deployer(): string {
    return this.options.composeRouted ? 'the compose export' : 'GMC';
  }

  private get router(): string {
    return routerOf(this.options);
  }

  build(): void {
    this.nodes.set('root', { routerType: 'Sequence', steps: [] });
    this.sequence('root', this.plan.stages, undefined);
    for (const side of this.plan.sideComponents) this.dataprep(side);
  }

  private newNode(routerType: RouterNode['routerType']): string {
    this.nodeCount += 1;
    const name = `node${this.nodeCount}`;
    this.nodes.set(name, { routerType, steps: [] });
    return name;
  }

  private push(node: string, step: Step): void {
    const executed = !(step.internalService as Step | undefined)?.isDownstreamService;
    if (executed && this.railBefore.delete(node)) {
      const { name, ...rest } = step;
      step = { name, condition: RAIL_PASSED, ...rest };
    }
    (this.nodes.get(node) as RouterNode).steps.push(step);
  }

  /** Whether the next executed step of this node follows another one (and so takes its response). */
  private follows(node: string): boolean {
    return (this.nodes.get(node) as RouterNode).steps.some((s) => !(s.internalService as Step | undefined)?.isDownstreamService);
  }

  private sequence(node: string, stages: Stage[], embedding: Component | undefined): Component | undefined {
    let last = embedding;
    for (const stage of stages) {
      if (stage.type === 'component') {
        if (stage.component.kind === 'embedding') last = stage.component;
        this.embeddingOf.set(stage.component.id, last);
        const [main, ...deps] = this.componentSteps(stage.component, node, last);
        if (!main) continue;
        this.push(node, this.follows(node) ? withData(main) : main);
        deps.forEach((d) => this.push(node, d));
        if (isInputRail(stage.component)) this.railBefore.add(node);
      } else if (stage.type === 'switch') {
        last = this.switchStage(node, stage, last);
      } else {
        this.ensembleStage(node, stage, last);
      }
    }
    return last;
  }

  private switchStage(parent: string, stage: Extract<Stage, { type: 'switch' }>, embedding: Component | undefined): Component | undefined {
    const { route } = stage;
    if (!CONDITION_KEY.test(route.key)) {
      this.problems.add(route.id, route.label, `${this.router} cannot read the property '${oneLine(route.key, 40)}'`, 'test a top-level request field named with letters, digits, _ and - (at most 63)');
    }
    stage.branches.forEach((branch, i) => {
      if (!branch.otherwise && !CONDITION_VALUE.test(branch.value)) {
        this.problems.add(route.id, route.label, `rule ${i + 1} value '${oneLine(branch.value, 40)}' cannot be matched by ${this.router} (it gives up on '.', '#', spaces and empty values)`, 'use values of letters, digits and _ : / + -');
      }
      if (branch.stages.length === 0) {
        this.problems.add(route.id, route.label, `output ${i + 1} leads to no stage`, 'put at least one opea- node on every branch');
      }
      for (const s of branch.stages) {
        if (s.type !== 'component') {
          this.problems.add(route.id, route.label, `branch ${i + 1} holds another switch or a fan-out`, `${this.deployer} takes one level of routing in a switch branch; move the inner routing after the branches meet`);
        }
      }
    });
    const node = this.newNode('Switch');
    const first = stage.branches[0]?.stages[0];
    const depth = Math.max(0, ...stage.branches.map((b) => b.stages.length));
    let lastEmbedding = embedding;
    for (let d = 0; d < depth; d++) {
      const deps: Step[] = [];
      for (const branch of stage.branches) {
        const s = branch.stages[d];
        if (!s || s.type !== 'component') continue;
        const branchEmbedding = this.branchEmbedding(branch.stages.slice(0, d + 1), embedding);
        this.embeddingOf.set(s.component.id, branchEmbedding);
        const [main, ...own] = this.componentSteps(s.component, node, branchEmbedding);
        if (!main) continue;
        const condition = branch.otherwise ? otherwiseCondition(route.key, route.values) : equalsCondition(route.key, branch.value);
        this.push(node, { name: main.name, condition, ...(d > 0 ? { data: '$response' } : {}), ...without(main, 'name') });
        deps.push(...own);
        if (s.component.kind === 'embedding') lastEmbedding = s.component;
      }
      deps.forEach((dep) => this.push(node, dep));
    }
    if (first?.type === 'component') {
      this.pushNodeStep(parent, node, first.component);
    }
    return lastEmbedding;
  }

  private branchEmbedding(stages: Stage[], fallback: Component | undefined): Component | undefined {
    let found = fallback;
    for (const s of stages) if (s.type === 'component' && s.component.kind === 'embedding') found = s.component;
    return found;
  }

  private ensembleStage(parent: string, stage: Extract<Stage, { type: 'ensemble' }>, embedding: Component | undefined): void {
    const node = this.newNode('Ensemble');
    const keys = new Map<string, number>();
    stage.branches.forEach((branch, i) => {
      const first = branch[0];
      if (!first || first.type !== 'component') {
        this.problems.add(stage.join.id, stage.join.label, `branch ${i + 1} of the fan-out ${first ? 'starts with routing' : 'has no stage'}`, 'start every branch with an opea- node');
        return;
      }
      const stepName = this.stepNameOf(first.component);
      const earlier = keys.get(stepName);
      if (earlier !== undefined) {
        this.problems.add(first.component.id, first.component.label, `${this.router} merges ensemble answers by step name, and branch ${earlier + 1} is also a '${stepName}' step, so one answer would overwrite the other`, 'gather branches of different kinds, or use a switch to choose one');
      }
      keys.set(stepName, i);
      const sub = this.newNode('Sequence');
      this.sequence(sub, branch, embedding);
      this.push(node, { name: stepName, nodeName: sub });
    });
    const first = stage.branches[0]?.[0];
    if (first?.type === 'component') this.pushNodeStep(parent, node, first.component);
  }

  private pushNodeStep(parent: string, node: string, first: Component): void {
    const step: Step = { name: this.stepNameOf(first), nodeName: node };
    this.push(parent, this.follows(parent) ? withData(step) : step);
  }

  private stepNameOf(component: Component): string {
    const def = findBackend(component.kind, component.backend);
    if (def?.deploy.type === 'service') {
      const gmc = service(def.deploy.service).gmc;
      if (gmc) return gmc.step[this.options.platform];
    }
    return EXTERNAL_STEP_NAMES[component.kind];
  }

  /** The component's own step followed by the downstream steps it deploys. */
  private componentSteps(component: Component, node: string, embedding: Component | undefined): Step[] {
    const def = findBackend(component.kind, component.backend);
    const base = this.names.get(component.id);
    if (!def || !base) return [];
    const deploy = def.deploy;
    if (deploy.type === 'embedded') {
      this.problems.add(component.id, component.label, `${deploy.why}, so ${this.deployer} cannot deploy backend '${component.backend}'`, replacementFor(component));
      return [];
    }
    if (deploy.type === 'external') {
      if (this.options.composeRouted && composeGuardrail(component)) {
        return [{ name: EXTERNAL_STEP_NAMES[component.kind], externalService: composeGuardrailUrl(component, base) }];
      }
      const url = component.params.externalUrl;
      if (typeof url !== 'string') {
        this.problems.add(component.id, component.label, `${deploy.why}, so it needs a URL to call`, `set externalUrl to a service speaking the OPEA ${component.kind} contract${backendsDeployedAs(component, 'service') ? `, or choose backend ${backendsDeployedAs(component, 'service')}` : ''}`);
        return [];
      }
      return [{ name: EXTERNAL_STEP_NAMES[component.kind], externalService: url }];
    }
    const svc = service(deploy.service);
    const gmc = svc.gmc;
    if (!gmc) {
      this.problems.add(component.id, component.label, `${this.deployer} has no step for ${svc.title}`, 'choose another backend');
      return [];
    }
    const config: Record<string, string> = indexConfig(component);
    if (gmc.endpoint) config.endpoint = gmc.endpoint;
    const deps: Step[] = [];
    const services = new Map<string, string>();
    for (const dep of deploy.dependencies) {
      if (dep.sharedWith) {
        const shared = dep.sharedWith === 'embedding' ? embedding : undefined;
        const name = shared ? this.sharedService(shared, dep, node) : undefined;
        if (name) config[dep.gmcKey] = name;
        else if (shared && !this.options.composeRouted) this.warnUnembedded(component, shared);
        continue;
      }
      const depDef = service(dep.service);
      const serviceName = `${base}-${DEPENDENCY_SUFFIX[dep.service]}`;
      config[dep.gmcKey] = serviceName;
      services.set(dep.service, serviceName);
      const depConfig: Record<string, string> = {};
      if (depDef.gmc?.endpoint) depConfig.endpoint = depDef.gmc.endpoint;
      if (dep.servesModel && depDef.modelEnv && component.model) depConfig[depDef.modelEnv] = component.model;
      const internal: Step = { serviceName };
      if (Object.keys(depConfig).length > 0) internal.config = depConfig;
      internal.isDownstreamService = true;
      deps.push({ name: depDef.gmc?.step[this.options.platform], internalService: internal });
    }
    this.placed.set(component.id, { component, node, services });
    return [{ name: gmc.step[this.options.platform], internalService: { serviceName: base, config: sortedConfig(config) } }, ...deps];
  }

  /**
   * GMC resolves a TEI endpoint only inside one router node, so a retriever in another node than its
   * embedding keeps the template's default (retriever-usvc.yaml at v1.1: http://retriever-usvc-tei, never
   * created). Searching by the vector it is given still works; the searches that embed the query text do not.
   */
  private warnUnembedded(component: Component, embedding: Component): void {
    const searchType = String(component.params.searchType ?? 'similarity');
    if (component.kind !== 'retriever' || searchType === 'similarity') return;
    this.problems.warn(component.id, component.label, `deployed by GMC, its search type ${searchType} embeds the query text, but GMC cannot give it the TEI of ${embedding.label} (${embedding.id}), which sits in another router node, so those searches fail`, 'use search type similarity, or put the retriever in the same branch as its embedding; the compose export wires it either way');
  }

  /** The serviceName of `owner`'s dependency, when it sits in the same router node (GMC resolves no other). */
  private sharedService(owner: Component, dep: Dependency, node: string): string | undefined {
    const placement = this.placed.get(owner.id);
    return placement && placement.node === node ? placement.services.get(dep.service) : undefined;
  }

  private dataprep(component: Component): void {
    const def = findBackend(component.kind, component.backend);
    if (!def || def.deploy.type !== 'service') {
      this.componentSteps(component, 'root', undefined);
      return;
    }
    const index = component.params.indexName;
    const readers = [...this.placed.values()].filter((p) => p.component.kind === 'retriever' && p.component.backend === 'redis' && p.component.params.indexName === index);
    if (readers.length !== 1) {
      this.problems.add(component.id, component.label, readers.length === 0 ? `it writes index '${oneLine(String(index), 40)}', which no Redis retriever of the pipeline reads` : `${readers.length} retrievers read index '${oneLine(String(index), 40)}', each from its own Redis`, readers.length === 0 ? 'set the same indexName on the dataprep and the retriever it feeds' : 'give each retriever its own indexName and one dataprep each');
      return;
    }
    const reader = readers[0];
    if (reader.node !== 'root') {
      this.problems.add(component.id, component.label, `${this.router} serves /dataprep only for a DataPrep step of its root node, and the retriever reading this index is inside a switch or ensemble`, 'ingest through this node in Node-RED only (disable it for export), or move that retriever into the main chain');
      return;
    }
    const embedding = this.embeddingOf.get(reader.component.id);
    const base = this.names.get(component.id);
    const svc = service(def.deploy.service);
    const config: Record<string, string> = { endpoint: svc.gmc?.endpoint ?? svc.path, ...indexConfig(component) };
    for (const dep of def.deploy.dependencies) {
      const owner = dep.sharedWith === 'retriever' ? reader.component : embedding;
      const name = owner ? this.sharedService(owner, dep, reader.node) : undefined;
      if (!name) {
        this.problems.add(component.id, component.label, `${this.deployer} can only wire it to services in the same router node as its retriever, and the ${dep.sharedWith} it needs is elsewhere`, 'put the embedding and the retriever it feeds in the same branch');
        return;
      }
      config[dep.gmcKey] = name;
    }
    if (!base || !svc.gmc) return;
    this.push(reader.node, { name: svc.gmc.step[this.options.platform], internalService: { serviceName: base, config: sortedConfig(config), isDownstreamService: true } });
  }
}

/** The router that runs the GMConnector, as messages name it. */
function routerOf(options: GmcOptions): string {
  return options.composeRouted ? "the compose project's router" : "GMC's router";
}

function isInputRail(component: Component): boolean {
  return component.kind === 'guardrail' && (component.params.position ?? 'input') === 'input';
}

const backendsDeployedAs = (component: Component, type: 'service' | 'external') =>
  backendsOf(component.kind).filter((b) => b.deploy.type === type).map((b) => b.backend).join(', ');

/** What to choose instead of an embedded backend: one GMC deploys, else one it calls at an external URL. */
function replacementFor(component: Component): string {
  const services = backendsDeployedAs(component, 'service');
  if (services) return `choose a deployable backend (${services})`;
  return `choose a backend served elsewhere (${backendsDeployedAs(component, 'external')}) and set its externalUrl`;
}

/** A vector index other than OPEA's default is passed on, or the templates would use theirs. */
function indexConfig(component: Component): Record<string, string> {
  const index = component.params.indexName;
  return typeof index === 'string' && index !== DEFAULT_INDEX_NAME ? { INDEX_NAME: index } : {};
}

function withData(step: Step): Step {
  const { name, ...rest } = step;
  return { name, data: '$response', ...rest };
}

function without(step: Step, key: string): Step {
  const copy = { ...step };
  delete copy[key];
  return copy;
}

/** endpoint first, then the rest by name: stable output whatever order the catalog lists them in. */
function sortedConfig(config: Record<string, string>): Record<string, string> {
  const keys = Object.keys(config).sort((a, b) => (a === 'endpoint' ? -1 : b === 'endpoint' ? 1 : a.localeCompare(b)));
  return Object.fromEntries(keys.map((k) => [k, config[k]]));
}

function upstreamNodes(plan: Plan, names: Map<string, string>, options: GmcOptions, problems: ProblemList): Record<string, RouterNode> {
  const builder = new GmcBuilder(plan, names, options, problems);
  builder.build();
  return Object.fromEntries(builder.nodes);
}

export function defaultCrName(flowName: string): string | null {
  const name = toK8sName(flowName);
  return name && name.length <= 63 ? name : null;
}

/** Builds the GMConnector object; returns null (with problems added) when the flow cannot be exported. */
export function buildGmConnector(plan: Plan, names: Map<string, string>, options: GmcOptions, problems: ProblemList): Record<string, unknown> | null {
  const before = problems.items.length;
  if (!isDnsLabel(options.name)) problems.add('', options.name, `the ${options.composeRouted ? 'export' : 'GMConnector'} name is not a Kubernetes name`, 'pass --name with lowercase letters, digits and dashes (at most 63)');
  if (!isDnsLabel(options.namespace)) problems.add('', options.namespace, 'the namespace is not a Kubernetes name', 'pass --namespace with lowercase letters, digits and dashes (at most 63)');
  const reserved = [...names.values()].find((n) => n === 'router-service');
  if (reserved) problems.add('', reserved, `'router-service' is the name of ${routerOf(options)}`, 'rename the node');
  const nodes = options.flavor === 'enterprise' ? enterpriseNodes(plan, names, options.platform, problems) : upstreamNodes(plan, names, options, problems);
  if (!nodes || problems.items.length > before) return null;
  return {
    apiVersion: 'gmc.opea.io/v1alpha3',
    kind: 'GMConnector',
    metadata: {
      labels: {
        'app.kubernetes.io/name': 'gmconnector',
        'app.kubernetes.io/managed-by': 'node-red-contrib-opea',
        'gmc/platform': options.platform,
      },
      name: options.name,
      namespace: options.namespace,
    },
    spec: {
      routerConfig: { name: 'router', serviceName: 'router-service' },
      nodes,
    },
  };
}

const HEADER = '# GMConnector generated by node-red-contrib-opea from a Node-RED flow. Export again rather than edit.\n';

/** Throws when the controller of `flavor` would reject a GMConnector the exporter built. */
export function assertAccepted(cr: Record<string, unknown>, flavor: GmcFlavor): void {
  const errors = checkGmConnector(cr, DIALECTS[flavor]);
  if (errors.length > 0) {
    throw new Error(`internal error: the GMConnector the exporter built would be rejected:\n${errors.join('\n')}`);
  }
}

/** The GMConnector of a bundle, read back from its gmc/<name>.yaml: what is applied is the very file exported. */
export function connectorOf(bundle: Bundle): Record<string, unknown> | undefined {
  const file = Object.keys(bundle).find((p) => p.startsWith('gmc/') && p.endsWith('.yaml'));
  return file === undefined ? undefined : (yaml.load(bundle[file]) as Record<string, unknown>);
}

export function gmcBundle(cr: Record<string, unknown>, flavor: GmcFlavor = 'upstream'): Bundle {
  assertAccepted(cr, flavor);
  const name = (cr.metadata as { name: string }).name;
  return { [`gmc/${name}.yaml`]: HEADER + yaml.dump(cr, { lineWidth: -1, noRefs: true, quoteStyle: 'double' }) };
}

/** The GMC bundle's README: how to apply the GMConnector, then how to call it (`requests`, a Markdown section). */
export function gmcReadme(cr: Record<string, unknown>, requests: string[]): string {
  const { name, namespace } = cr.metadata as { name: string; namespace: string };
  return [
    `# ${name}: GMConnector`,
    '',
    'Generated by node-red-contrib-opea from a Node-RED flow. Export again rather than edit.',
    '',
    '```sh',
    `kubectl create namespace ${namespace}`,
    `kubectl apply -f ${name}.yaml`,
    `kubectl get gmc -n ${namespace} ${name}   # until READY shows n/0/n (ready/external/total)`,
    `ACCESS_URL=$(kubectl get gmc -n ${namespace} ${name} -o jsonpath='{.status.accessUrl}')`,
    '```',
    '',
    '`opea-flow deploy` (node-red-contrib-opea) applies it and waits for readiness in one step.',
    '',
    'The access URL is a cluster address: send the requests below from a pod in the cluster (GenAIInfra\'s usage',
    'guide runs curl in a client pod), or through a port-forward of the router service.',
    '',
    ...requests,
  ].join('\n');
}
