/**
 * GMConnector (gmc.opea.io/v1alpha3) -> Node-RED flow JSON, laid out left to right, so an existing
 * OPEA deployment can be opened and edited visually, and exporting the result gives the CR back.
 *
 * What the CR says (GenAIInfra microservices-connector: the CRD in shared/reference/gmc, the samples
 * beside it, api/v1alpha3): `spec.nodes` maps router-node names to `{routerType, steps}`; `root` is
 * where a request enters. A step is executed by the router unless `internalService.isDownstreamService`
 * is true (then it is a model server, vector DB or side service the controller deploys for a step of
 * the same node, found through config keys such as TEI_EMBEDDING_ENDPOINT naming its serviceName). A
 * step with `nodeName` hands over to another router node; a `Switch` node runs the steps whose
 * `condition` (`key==value`) matches the request; an `Ensemble` node runs all its steps and merges
 * the answers; `externalService` is a URL the router calls instead of a deployed service.
 *
 * How it maps:
 * - executed Embedding / Retriever / Reranking / Llm steps -> opea-embedding tei / opea-retriever
 *   redis / opea-rerank tei / opea-llm tgi, named after their serviceName; models, indexes and model
 *   servers from their config keys in any GMC dialect (./gmc-config, ./gmc-keys), every key the flow
 *   cannot hold a warning on the node that says what the export does instead;
 * - Enterprise RAG's LLMGuardInput / LLMGuardOutput -> opea-guardrail opea (input / output); its
 *   Fingerprint and PromptTemplate steps, which its export writes for every pipeline, are skipped;
 * - externalService steps -> Llm: opea-llm vllm, Embedding: opea-embedding openai, Router: opea-guardrail
 *   opea, each with externalUrl (the backends an export sends to externalService);
 * - DataPrep (downstream in OPEA's samples) -> an ingest chain `http in /dataprep -> opea-dataprep redis
 *   -> http response`, writing the index of the retriever that shares its Redis;
 * - a nodeName to a Switch -> a core switch on req.body.<key>, one `==` rule per distinct condition
 *   value and one branch each; to an Ensemble -> a fan-out gathered by a join (manual, count = branches);
 * - UI steps are skipped with a warning: a UI is a web page beside the pipeline, not a stage of it;
 * - every other step (DocSum, Asr, Tts, WebRetriever, ...) is a problem naming it, all at once.
 * `gmc/platform` is read and noted on the tab: the flow itself is platform-neutral, and exporting it
 * with that --platform gives the platform's step names back.
 */
import { backendsOf, findBackend } from '../catalog';
import { Kind, PLATFORMS } from '../model';
import { DEFAULT_INDEX_NAME } from '../node-types';
import { oneLine, ProblemList } from '../problems';
import { parseCondition } from '../gmc-conditions';
import { GmcRouterNode as RouterNode, GmcStep as Step } from '../gmc-shape';
import { column, FlowNode, httpIn, httpResponse, isObject, joinNode, Json, nodeId, own, row, tabNode, text, wire } from './common';
import { clusterOf, Cluster, isDownstream, Note, Place, readStep, Reading, routerConfigNotes, serverNotes, StageUse, unusedServer } from './gmc-config';
import { Served, SERVING_STEPS } from './gmc-keys';

interface StageType {
  type: string;
  backend: string;
  use: StageUse;
  params?: Json;
}

const stageType = (type: string, kind: Kind, backend: string, uses: StageUse['uses'], params?: Json): StageType => ({
  type,
  backend,
  use: { kind, uses, model: kind !== 'retriever' && uses.length > 0, index: kind === 'retriever' },
  params,
});

/** Executed steps with a deployed service, by step name. */
const STEP_KINDS: Record<string, StageType> = {
  Embedding: stageType('opea-embedding', 'embedding', 'tei', ['embedding']),
  Retriever: stageType('opea-retriever', 'retriever', 'redis', ['vectordb', 'embedding']),
  Reranking: stageType('opea-rerank', 'rerank', 'tei', ['rerank']),
  Llm: stageType('opea-llm', 'llm', 'tgi', ['llm']),
  LLMGuardInput: stageType('opea-guardrail', 'guardrail', 'opea', [], { position: 'input' }),
  LLMGuardOutput: stageType('opea-guardrail', 'guardrail', 'opea', [], { position: 'output' }),
};

const DATAPREP_USE: StageUse = { kind: 'dataprep', uses: ['vectordb', 'embedding'], model: false, index: true };

/** Steps GMC calls at an externalService URL, by step name: the backend that exports that way. */
const EXTERNAL_KINDS: Record<string, { type: string; kind: Kind; backend: string }> = {
  Llm: { type: 'opea-llm', kind: 'llm', backend: 'vllm' },
  Embedding: { type: 'opea-embedding', kind: 'embedding', backend: 'openai' },
  Router: { type: 'opea-guardrail', kind: 'guardrail', backend: 'opea' },
};

/** Steps Enterprise RAG's export writes for every pipeline: not stages of the flow. */
const ENTERPRISE_FIXED = new Set(['Fingerprint', 'PromptTemplate']);
/** Step names only Enterprise RAG's GMC has. */
const ENTERPRISE_ONLY = new Set([...ENTERPRISE_FIXED, 'LLMGuardInput', 'LLMGuardOutput', 'VLLM', 'VLLMGaudi', 'TeiRerankingGaudi']);

/** Steps GMC deploys that are not pipeline stages: a UI is a web page beside the pipeline. */
const NOT_STAGES = new Set(['UI', ...ENTERPRISE_FIXED]);

const MAX_ROUTING_DEPTH = 16;

type Source = [string, number];
interface Ends {
  from: Source[];
  x: number;
}

function stepId(nodeName: string, index: number, step: Step): string {
  const service = text(step.internalService?.serviceName);
  return service && service.trim() !== '' ? service : `${nodeName}.steps[${index}]`;
}

const labelOf = (node: FlowNode): string => text(node.name) || node.type;

class FlowBuilder {
  readonly nodes: FlowNode[] = [];
  private readonly byId = new Map<string, FlowNode>();
  private readonly reached = new Set<string>();
  private count = 0;
  private readonly tab: string;
  private ingestRow = 0;
  private maxRow = 0;
  /** The nodes built from steps that call each downstream step; `model`: it serves that node's model. */
  private readonly claims = new Map<Step, { node: FlowNode; model: boolean }[]>();
  private readonly readings = new Map<Step, Reading>();
  /** opea-server config nodes, by base URL. */
  private readonly servers = new Map<string, FlowNode>();

  constructor(
    private readonly seed: string,
    private readonly graph: Record<string, RouterNode>,
    private readonly cluster: Cluster,
    private readonly problems: ProblemList,
    label: string,
    info: string,
  ) {
    this.tab = this.id();
    this.nodes.push(tabNode(this.tab, label, info));
  }

  private id(): string {
    this.count += 1;
    return nodeId(`${this.seed}#${this.count}`);
  }

  private push(node: FlowNode, from: Source[]): FlowNode {
    this.nodes.push(node);
    this.byId.set(node.id, node);
    for (const [source, port] of from) wire(this.byId.get(source) as FlowNode, node, port);
    this.maxRow = Math.max(this.maxRow, ((node.y as number) - row(0)) / (row(1) - row(0)));
    return node;
  }

  private add(type: string, props: Json, from: Source[], x: number, y: number, outputs = 1): FlowNode {
    return this.push({ id: this.id(), type, z: this.tab, ...props, x: column(x), y: row(y), wires: Array.from({ length: outputs }, () => []) }, from);
  }

  build(): void {
    this.check();
    const entry = this.push(httpIn(this.id(), this.tab, '/', column(0), row(0)), []);
    this.reached.add('root');
    const end = this.sequence('root', this.executed('root'), [[entry.id, 0]], 1, 0, ['root']);
    this.push(httpResponse(this.id(), this.tab, 'answer', column(end.x), row(0)), end.from);
    for (const name of Object.keys(this.graph)) {
      if (!this.reached.has(name)) {
        this.problems.add(name, name, `router node '${oneLine(name, 40)}' is not reached from root, so GMC's router never runs it`, 'route to it with a nodeName step, or remove it');
      }
    }
    this.ingestRow = this.maxRow + 2;
    for (const [nodeName, node] of Object.entries(this.graph)) {
      for (const step of node.steps ?? []) if (step.name === 'DataPrep') this.dataprep(nodeName, step);
    }
    this.serverWarnings();
  }

  private place(nodeName: string): Place {
    return { ...this.cluster, nodeName, steps: own(this.graph, nodeName)?.steps ?? [] };
  }

  /** Warns on the node what its step's config could not give it, and records which servers it calls. */
  private record(node: FlowNode, step: Step, reading: Reading, modelKind?: Served): void {
    this.warnAll(node, reading.notes);
    for (const [served, server] of reading.servers) {
      this.claims.set(server, [...(this.claims.get(server) ?? []), { node, model: served === modelKind }]);
    }
    this.readings.set(step, reading);
  }

  private warnAll(node: FlowNode, notes: Note[]): void {
    for (const n of notes) this.problems.warn(node.id, labelOf(node), n.message, n.fix);
  }

  /** Downstream steps: their keys, on the node that takes its model from them (else the first that calls them); unused ones. */
  private serverWarnings(): void {
    for (const [nodeName, node] of Object.entries(this.graph)) {
      (node.steps ?? []).forEach((step, i) => {
        if (!isDownstream(step) || own(SERVING_STEPS, step.name) === undefined) return;
        const claims = this.claims.get(step) ?? [];
        if (claims.length === 0) {
          const note = unusedServer(step);
          this.problems.warn(stepId(nodeName, i, step), text(step.name) ?? '', `${note.message} (router node ${oneLine(nodeName, 40)})`, note.fix);
          return;
        }
        const owner = claims.find((c) => c.model) ?? claims[0];
        this.warnAll(owner.node, serverNotes(step, this.place(nodeName), claims.some((c) => c.model)));
      });
    }
  }

  /** An opea-server config node for a model server outside the CR, one per URL. */
  private server(url: string): string {
    let node = this.servers.get(url);
    if (!node) {
      node = { id: this.id(), type: 'opea-server', z: this.tab, name: new URL(url).host, baseUrl: url };
      this.servers.set(url, node);
      this.nodes.push(node);
    }
    return node.id;
  }

  /** Every step of every router node, once: the ones with no node type here are problems. */
  private check(): void {
    for (const [nodeName, node] of Object.entries(this.graph)) {
      if (node.routerType !== undefined && !['Sequence', 'Switch', 'Ensemble'].includes(String(node.routerType))) {
        this.problems.add(nodeName, nodeName, `router type '${oneLine(String(node.routerType), 40)}' is none of Sequence, Switch, Ensemble`, 'fix routerType');
      }
      (node.steps ?? []).forEach((step, i) => {
        const name = text(step.name) ?? '';
        const id = stepId(nodeName, i, step);
        const label = oneLine(name || '(no name)', 40);
        const fail = (message: string, fix: string) => this.problems.add(id, label, message, fix);
        if (typeof step.nodeName === 'string') {
          if (!own(this.graph, step.nodeName)) fail(`it routes to router node '${oneLine(step.nodeName, 40)}', which the CR does not have`, 'fix the nodeName or add that node under spec.nodes');
        } else if (step.externalService !== undefined) {
          if (!own(EXTERNAL_KINDS, name)) fail(`an external '${label}' step (router node ${oneLine(nodeName, 40)}) has no node type here`, `call an external ${Object.keys(EXTERNAL_KINDS).join(', ')} step, or build that stage in Node-RED by hand`);
          else if (typeof step.externalService !== 'string') fail('its externalService is not a URL', 'set externalService to the URL of the service');
        } else if (name === 'UI') {
          this.problems.warn(id, label, `the UI step (router node ${oneLine(nodeName, 40)}) is a web page beside the pipeline, not a stage: the import leaves it out, and so does an export`, 'add the UI step to the exported CR, or deploy OPEA\'s UI beside the pipeline');
        } else if (NOT_STAGES.has(name) || name === 'DataPrep') {
          // Enterprise RAG's fixed steps come back on export; a DataPrep becomes an ingest chain
        } else if (isDownstream(step)) {
          if (own(SERVING_STEPS, name) === undefined) fail(`a downstream '${label}' step (router node ${oneLine(nodeName, 40)}) serves nothing node-red-contrib-opea deploys`, 'remove the step; model servers and the vector DB are deployed for their stages on export');
        } else if (!own(STEP_KINDS, name)) {
          fail(`GMC step '${label}' (router node ${oneLine(nodeName, 40)}) has no node type here`, 'remove the step, or build that stage in Node-RED by hand (node-red-contrib-opea has embedding, retriever, rerank, LLM, guardrail and dataprep stages)');
        } else if (!step.internalService) {
          fail(`step '${label}' has neither internalService nor externalService`, 'give it an internalService with a serviceName, or an externalService URL');
        }
      });
    }
  }

  /** Steps the router executes, in order (downstream services, UI and DataPrep are not executed). */
  private executed(nodeName: string): Step[] {
    return (own(this.graph, nodeName)?.steps ?? []).filter((s) => !isDownstream(s) && !NOT_STAGES.has(text(s.name) ?? '') && s.name !== 'DataPrep');
  }

  /** Emits the steps in order from the given sources; returns the sources of whatever follows. */
  private sequence(nodeName: string, steps: Step[], from: Source[], x: number, y: number, path: string[]): Ends {
    let ends: Ends = { from, x };
    for (const step of steps) {
      if (typeof step.nodeName === 'string') {
        ends = this.routed(step.nodeName, ends.from, ends.x, y, path);
      } else {
        const node = this.stage(nodeName, step, ends.from, ends.x, y);
        if (node) ends = { from: [[node.id, 0]], x: ends.x + 1 };
      }
    }
    return ends;
  }

  private routed(nodeName: string, from: Source[], x: number, y: number, path: string[]): Ends {
    const node = own(this.graph, nodeName);
    if (!node) return { from, x };
    if (path.includes(nodeName) || path.length > MAX_ROUTING_DEPTH) {
      this.problems.add(nodeName, nodeName, path.includes(nodeName) ? `router node '${oneLine(nodeName, 40)}' routes back into itself (${path.map((p) => oneLine(p, 20)).join(' -> ')})` : `routing is nested deeper than ${MAX_ROUTING_DEPTH} router nodes`, 'route every request through each router node at most once');
      return { from, x };
    }
    this.reached.add(nodeName);
    const inner = [...path, nodeName];
    const steps = this.executed(nodeName);
    if (node.routerType === 'Switch') return this.switchNode(nodeName, steps, from, x, y, inner);
    if (node.routerType === 'Ensemble') {
      if (steps.length === 0) return { from, x };
      const ends = steps.map((step, i) => this.sequence(nodeName, [step], from, x, y + i, inner));
      const last = Math.max(...ends.map((e) => e.x));
      const join = this.push(joinNode(this.id(), this.tab, steps.length, column(last), row(y)), ends.flatMap((e) => e.from));
      return { from: [[join.id, 0]], x: last + 1 };
    }
    return this.sequence(nodeName, steps, from, x, y, inner);
  }

  private switchNode(nodeName: string, steps: Step[], from: Source[], x: number, y: number, path: string[]): Ends {
    const found = [...new Set(steps.map((s) => (typeof s.condition === 'string' ? s.condition.trim() : '')))];
    const parsed = found.map((c) => ({ condition: c, test: parseSwitchCondition(c) }));
    const keys = new Set(parsed.map((p) => p.test?.key));
    const defaults = parsed.filter((p) => p.test?.type === 'otherwise');
    if (found.length === 0 || parsed.some((p) => !p.test) || keys.size !== 1 || defaults.length > 1) {
      this.problems.add(nodeName, nodeName, 'its steps do not all test one request field as key==value (with at most one default branch)', 'give every step of the Switch a condition on the same key');
      return { from, x };
    }
    // A default branch (the exporter's "otherwise") comes last, as Node-RED's switch wants it.
    const conditions = [...parsed.filter((p) => p.test?.type === 'equals'), ...defaults].map((p) => p.condition);
    const key = [...keys][0] as string;
    // Dot notation, as people write it, when Node-RED reads the key that way; brackets otherwise.
    const property = /^[A-Za-z0-9_-]+$/.test(key) ? `req.body.${key}` : `req.body[${JSON.stringify(key)}]`;
    const rules = conditions.map((c) => {
      const test = parseSwitchCondition(c);
      return test?.type === 'equals' ? { t: 'eq', v: test.value, vt: 'str' } : { t: 'else' };
    });
    const sw = this.add('switch', { name: key, property, propertyType: 'msg', rules, checkall: 'false', repair: false, outputs: rules.length }, from, x, y, rules.length);
    let offset = 0;
    const ends = conditions.map((condition, i) => {
      const branch = this.sequence(nodeName, steps.filter((s) => (typeof s.condition === 'string' ? s.condition.trim() : '') === condition), [[sw.id, i]], x + 1, y + offset, path);
      offset += 1;
      return branch;
    });
    return { from: ends.flatMap((e) => e.from), x: Math.max(...ends.map((e) => e.x)) };
  }

  private stage(nodeName: string, step: Step, from: Source[], x: number, y: number): FlowNode | null {
    const name = text(step.name) ?? '';
    if (step.externalService !== undefined) {
      const external = own(EXTERNAL_KINDS, name);
      if (!external || typeof step.externalService !== 'string') return null;
      // The CR does not say which model an external service runs: the backend's default stands in
      // (for OpenAI-compatible embeddings, which have none, the kind's), and export does not write it.
      const model = findBackend(external.kind, external.backend)?.defaultModel ?? backendsOf(external.kind).find((b) => b.defaultModel)?.defaultModel;
      return this.add(external.type, { name: '', backend: external.backend, ...(model ? { model } : {}), externalUrl: step.externalService, configVersion: 1 }, from, x, y);
    }
    const known = own(STEP_KINDS, name);
    if (!known || !step.internalService) return null;
    const { use } = known;
    const backend = findBackend(use.kind, known.backend);
    const reading = readStep(step, this.place(nodeName), use, backend?.defaultModel);
    const props: Json = { name: text(step.internalService.serviceName) ?? '', backend: known.backend, ...known.params };
    // An LLM Guard step names no model, and Enterprise RAG's export writes none: the default stands in.
    const model = reading.model ?? (backend?.needsModel ? backend.defaultModel : undefined);
    if (model !== undefined) props.model = model;
    if (use.index) props.indexName = reading.indexName ?? DEFAULT_INDEX_NAME;
    if (reading.serverUrl) props.server = this.server(reading.serverUrl);
    props.configVersion = 1;
    const node = this.add(known.type, props, from, x, y);
    this.record(node, step, reading, use.model ? use.uses[0] : undefined);
    return node;
  }

  /** A DataPrep step: an ingest chain writing the index of the retriever that shares its Redis. */
  private dataprep(nodeName: string, step: Step): void {
    const reading = readStep(step, this.place(nodeName), DATAPREP_USE);
    const redis = reading.servers.get('vectordb');
    const reader = redis && this.place(nodeName).steps.find((s) => s.name === 'Retriever' && this.readings.get(s)?.servers.get('vectordb') === redis);
    const indexName = (reader ? this.readings.get(reader)?.indexName ?? DEFAULT_INDEX_NAME : undefined) ?? reading.indexName ?? DEFAULT_INDEX_NAME;
    if (reading.indexName !== undefined && reading.indexName !== indexName) {
      reading.notes.push({ message: `its index name '${oneLine(reading.indexName, 60)}' differs from index '${oneLine(indexName, 60)}' of the retriever sharing its Redis: the ingest chain writes '${oneLine(indexName, 60)}'`, fix: 'give the dataprep and the retriever it feeds one index name' });
    }
    const y = this.ingestRow;
    this.ingestRow += 1;
    const entry = this.push(httpIn(this.id(), this.tab, '/dataprep', column(0), row(y)), []);
    const dp = this.add('opea-dataprep', { name: text(step.internalService?.serviceName) ?? '', backend: 'redis', indexName, configVersion: 1 }, [[entry.id, 0]], 1, y);
    this.push(httpResponse(this.id(), this.tab, 'ingested', column(2), row(y)), [[dp.id, 0]]);
    this.record(dp, step, reading);
  }
}

/** A parsed GMConnector -> Node-RED flow JSON (an array of nodes on one tab), or null with problems. */
export function gmcToFlow(cr: unknown, problems: ProblemList): FlowNode[] | null {
  const doc = isObject(cr) ? cr : null;
  const spec = isObject(doc?.spec) ? doc.spec : undefined;
  const graph = isObject(spec?.nodes) ? (spec.nodes as Record<string, RouterNode>) : undefined;
  if (!doc || doc.kind !== 'GMConnector' || !graph || !isObject(own(graph, 'root'))) {
    problems.add('', 'input', 'this is not a GMConnector with a root node', 'give a gmc.opea.io/v1alpha3 GMConnector with spec.nodes.root');
    return null;
  }
  const before = problems.items.length;
  for (const [name, node] of Object.entries(graph)) {
    if (!isObject(node) || !Array.isArray(node.steps) || node.steps.some((s) => !isObject(s))) {
      problems.add(name, name, `router node '${oneLine(name, 40)}' has no list of steps`, 'give every node under spec.nodes a steps list of objects');
    }
  }
  if (problems.items.length > before) return null;
  const metadata = isObject(doc.metadata) ? doc.metadata : {};
  const name = text(metadata.name) || 'gmconnector';
  const namespace = text(metadata.namespace) ?? '';
  const labels = isObject(metadata.labels) ? metadata.labels : {};
  const platform = text(labels['gmc/platform']);
  const platformNote = platform === undefined
    ? 'It has no gmc/platform label (GMC then assumes xeon).'
    : (PLATFORMS as readonly string[]).includes(platform)
      ? `It was labelled gmc/platform: ${platform}; the flow is platform-neutral, export with --platform ${platform} for the same step names.`
      : `Its gmc/platform label '${oneLine(platform, 40)}' is none of ${PLATFORMS.join(', ')}; the flow is platform-neutral.`;
  const enterprise = Object.values(graph).some((node) => node.steps?.some((s) => ENTERPRISE_ONLY.has(text(s.name) ?? '')));
  const dialectNote = enterprise ? " Its steps are in Enterprise RAG's dialect: export with --gmc-flavor enterprise to get them back." : '';
  const info = `Imported from GMConnector ${oneLine(name, 63)}${namespace ? ` (namespace ${oneLine(namespace, 63)})` : ''}. ${platformNote}${dialectNote}`;
  for (const n of routerConfigNotes(spec?.routerConfig)) problems.warn('', 'routerConfig', n.message, n.fix);
  const builder = new FlowBuilder(`gmc:${namespace}/${name}`, graph, clusterOf(graph, namespace), problems, name, info);
  builder.build();
  return problems.items.length > before ? null : builder.nodes;
}

/** A Switch step's condition: `key==value` as OPEA's samples write it (spaces allowed), or the exporter's default branch. */
function parseSwitchCondition(condition: string): { type: 'equals'; key: string; value: string } | { type: 'otherwise'; key: string } | null {
  const parsed = parseCondition(condition);
  if (parsed?.type === 'otherwise') return { type: 'otherwise', key: parsed.key };
  const plain = /^\s*([^=\s]+)\s*==\s*(.*?)\s*$/.exec(condition);
  return plain ? { type: 'equals', key: plain[1], value: plain[2] } : null;
}
