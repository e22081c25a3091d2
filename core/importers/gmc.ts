/**
 * GMConnector (gmc.opea.io/v1alpha3) -> Node-RED flow JSON, laid out left to right, so an existing
 * OPEA deployment can be opened and edited visually. Export of the result gives the CR back: names
 * are the serviceNames, models the model servers' MODEL_IDs, indexes the INDEX_NAMEs.
 */
import crypto from 'node:crypto';
import { findBackend } from '../catalog';
import { Kind } from '../model';
import { DEFAULT_INDEX_NAME } from '../node-types';
import { oneLine, ProblemList } from '../problems';
import { GmcRouterNode as RouterNode, GmcStep as Step } from '../gmc-shape';

type Json = Record<string, unknown>;
type FlowNode = Json & { id: string; type: string; wires?: string[][] };

/** What each GMC step deploys, as one of our node types, with the key naming its model server. */
const STEP_KINDS: Record<string, { type: string; kind: Kind; backend: string; modelKey?: string }> = {
  Embedding: { type: 'opea-embedding', kind: 'embedding', backend: 'tei', modelKey: 'TEI_EMBEDDING_ENDPOINT' },
  Retriever: { type: 'opea-retriever', kind: 'retriever', backend: 'redis' },
  Reranking: { type: 'opea-rerank', kind: 'rerank', backend: 'tei', modelKey: 'TEI_RERANKING_ENDPOINT' },
  Llm: { type: 'opea-llm', kind: 'llm', backend: 'tgi', modelKey: 'TGI_LLM_ENDPOINT' },
};

/** Steps GMC calls at an externalService URL, by step name: the backend that needs a URL to export. */
const EXTERNAL_KINDS: Record<string, { type: string; kind: Kind; backend: string }> = {
  Llm: { type: 'opea-llm', kind: 'llm', backend: 'vllm' },
  Router: { type: 'opea-guardrail', kind: 'guardrail', backend: 'opea' },
};

/** Steps that deploy something but are not pipeline stages of ours. */
const NOT_STAGES = new Set(['UI']);

type Source = [string, number];

class FlowBuilder {
  readonly nodes: FlowNode[] = [];
  private count = 0;
  private readonly tab: string;

  constructor(
    private readonly crName: string,
    private readonly graph: Record<string, RouterNode>,
    private readonly problems: ProblemList,
  ) {
    this.tab = this.id();
    this.nodes.push({ id: this.tab, type: 'tab', label: crName, disabled: false, info: `Imported from GMConnector ${crName}.` });
  }

  private id(): string {
    this.count += 1;
    return crypto.createHash('sha1').update(`${this.crName}/${this.count}`).digest('hex').slice(0, 16);
  }

  private add(type: string, props: Json, from: Source[], x: number, y: number, outputs = 1): FlowNode {
    const node: FlowNode = { id: this.id(), type, z: this.tab, ...props, x: 120 + 200 * x, y: 100 + 90 * y, wires: Array.from({ length: outputs }, () => []) };
    if (type === 'http response') delete node.wires;
    this.nodes.push(node);
    for (const [source, port] of from) (this.nodes.find((n) => n.id === source)?.wires as string[][])[port].push(node.id);
    return node;
  }

  build(): void {
    const entry = this.add('http in', { name: `POST /`, url: '/', method: 'post', upload: false, swaggerDoc: '' }, [], 0, 0);
    const end = this.sequence('root', this.executed('root'), [[entry.id, 0]], 1, 0);
    this.add('http response', { name: 'answer', statusCode: '', headers: {} }, end.from, end.x, 0);
    let row = 3;
    for (const [nodeName, node] of Object.entries(this.graph)) {
      for (const step of node.steps ?? []) {
        if (step.name === 'DataPrep' && step.internalService) {
          const ingest = this.add('http in', { name: 'POST /dataprep', url: '/dataprep', method: 'post', upload: true, swaggerDoc: '' }, [], 0, row);
          const config = step.internalService.config ?? {};
          const dp = this.add('opea-dataprep', { name: step.internalService.serviceName ?? '', backend: 'redis', indexName: config.INDEX_NAME ?? DEFAULT_INDEX_NAME, configVersion: 1 }, [[ingest.id, 0]], 1, row);
          this.add('http response', { name: 'ingested', statusCode: '', headers: {} }, [[dp.id, 0]], 2, row);
          row += 1;
        } else if (step.name && NOT_STAGES.has(step.name)) {
          continue;
        } else if (!step.internalService?.isDownstreamService && !step.nodeName && !STEP_KINDS[step.name ?? ''] && !(step.externalService && EXTERNAL_KINDS[step.name ?? ''])) {
          this.problems.add(nodeName, `step ${oneLine(step.name ?? '(no name)', 40)}`, `GMC step '${oneLine(step.name ?? '', 40)}' has no node type here`, 'remove the step, or build that stage in Node-RED by hand');
        }
      }
    }
  }

  private executed(nodeName: string): Step[] {
    return (this.graph[nodeName]?.steps ?? []).filter((s) => !s.internalService?.isDownstreamService && !NOT_STAGES.has(s.name ?? ''));
  }

  /** Emits the steps in order from the given sources; returns the sources of whatever follows. */
  private sequence(nodeName: string, steps: Step[], from: Source[], x: number, y: number): { from: Source[]; x: number } {
    let sources = from;
    let column = x;
    for (const step of steps) {
      if (step.nodeName) {
        const next = this.routed(step.nodeName, sources, column, y);
        sources = next.from;
        column = next.x;
      } else {
        const node = this.stage(nodeName, step, sources, column, y);
        if (!node) continue;
        sources = [[node.id, 0]];
        column += 1;
      }
    }
    return { from: sources, x: column };
  }

  private routed(nodeName: string, from: Source[], x: number, y: number): { from: Source[]; x: number } {
    const node = this.graph[nodeName];
    if (!node) {
      this.problems.add(nodeName, nodeName, 'a step routes to this node, which the CR does not have', 'fix the nodeName');
      return { from, x };
    }
    const steps = this.executed(nodeName);
    if (node.routerType === 'Switch') {
      const conditions = [...new Set(steps.map((s) => s.condition ?? ''))];
      const parsed = conditions.map((c) => /^\s*([^=]+?)\s*==\s*(.*?)\s*$/.exec(c));
      const keys = new Set(parsed.map((p) => p?.[1]));
      if (parsed.some((p) => !p) || keys.size !== 1) {
        this.problems.add(nodeName, nodeName, 'its steps do not all test one request field with key==value', 'give every step of the Switch a condition on the same key');
        return { from, x };
      }
      const key = [...keys][0] as string;
      const rules = parsed.map((p) => ({ t: 'eq', v: (p as RegExpExecArray)[2], vt: 'str' }));
      const sw = this.add('switch', { name: key, property: `req.body[${JSON.stringify(key)}]`, propertyType: 'msg', rules, checkall: 'false', repair: false, outputs: rules.length }, from, x, y, rules.length);
      const ends = conditions.map((condition, i) => this.sequence(nodeName, steps.filter((s) => (s.condition ?? '') === condition), [[sw.id, i]], x + 1, y + i));
      return { from: ends.flatMap((e) => e.from), x: Math.max(...ends.map((e) => e.x)) };
    }
    if (node.routerType === 'Ensemble') {
      const ends = steps.map((step, i) => (step.nodeName ? this.sequence(step.nodeName, this.executed(step.nodeName), from, x, y + i) : this.sequence(nodeName, [step], from, x, y + i)));
      const column = Math.max(...ends.map((e) => e.x));
      const join = this.add('join', { name: 'gather', mode: 'custom', build: 'object', property: 'payload', propertyType: 'msg', key: 'topic', joiner: '\\n', joinerType: 'str', accumulate: false, timeout: '', count: String(steps.length), reduceRight: false }, ends.flatMap((e) => e.from), column, y);
      return { from: [[join.id, 0]], x: column + 1 };
    }
    return this.sequence(nodeName, steps, from, x, y);
  }

  private stage(nodeName: string, step: Step, from: Source[], x: number, y: number): FlowNode | null {
    const name = step.name ?? '';
    if (step.externalService) {
      const external = EXTERNAL_KINDS[name];
      if (!external) return null;
      const backend = findBackend(external.kind, external.backend);
      return this.add(external.type, { name: '', backend: external.backend, model: backend?.defaultModel ?? '', externalUrl: step.externalService, configVersion: 1 }, from, x, y);
    }
    const known = STEP_KINDS[name];
    if (!known || !step.internalService) return null;
    const config = step.internalService.config ?? {};
    const props: Json = { name: step.internalService.serviceName ?? '', backend: known.backend, configVersion: 1 };
    if (known.modelKey) {
      const server = (this.graph[nodeName]?.steps ?? []).find((s) => s.internalService?.serviceName === config[known.modelKey as string]);
      props.model = server?.internalService?.config?.MODEL_ID ?? findBackend(known.kind, known.backend)?.defaultModel ?? '';
    }
    if (known.kind === 'retriever') props.indexName = config.INDEX_NAME ?? DEFAULT_INDEX_NAME;
    return this.add(known.type, props, from, x, y);
  }
}

/** A parsed GMConnector -> Node-RED flow JSON (an array of nodes on one tab). */
export function gmcToFlow(cr: unknown, problems: ProblemList): FlowNode[] | null {
  const doc = cr as Json | null;
  const spec = doc?.spec as Json | undefined;
  const graph = spec?.nodes as Record<string, RouterNode> | undefined;
  if (!doc || doc.kind !== 'GMConnector' || !graph || typeof graph !== 'object' || !graph.root) {
    problems.add('', 'input', 'this is not a GMConnector with a root node', 'give a gmc.opea.io/v1alpha3 GMConnector');
    return null;
  }
  for (const node of Object.values(graph)) {
    if (!node || typeof node !== 'object' || !Array.isArray(node.steps) || node.steps.some((s) => !s || typeof s !== 'object')) {
      problems.add('', 'input', 'a router node of the GMConnector has no list of steps', 'give every node under spec.nodes a steps list');
      return null;
    }
  }
  const name = typeof (doc.metadata as Json | undefined)?.name === 'string' ? ((doc.metadata as Json).name as string) : 'gmconnector';
  const builder = new FlowBuilder(name, graph, problems);
  builder.build();
  return builder.nodes;
}
