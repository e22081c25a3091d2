/**
 * Node-RED flow JSON in, PipelineGraph out. Accepts the editor's export (an array of nodes), a flows
 * file (the same array) and the Admin API's `{flows: [...]}`. Core nodes carry the routing; our
 * opea-* nodes are the stages.
 */
import { Component, Edge, Endpoint, JoinRoute, Kind, ParamValue, PipelineGraph, SwitchRoute } from './model';
import { backendsOf, findBackend } from './catalog';
import { migrateNode } from './migrations';
import { CONFIG_VERSION, DEFAULT_INDEX_NAME, nodeTypeSpec, NodeTypeSpec, ParamSpec } from './node-types';
import { oneLine, ProblemList } from './problems';
import { libraryPromptOf } from './prompts/library';
import { PROMPTS } from './prompts/settings';

type RawNode = Record<string, unknown> & { id: string; type: string };

/**
 * Nodes that carry no pipeline semantics: core debugging, documentation, events and test inputs, and
 * our tools that measure, score or export a pipeline (wires through them are not followed, so an
 * evaluator that feeds the pipeline and takes its answers back makes no cycle).
 */
const IGNORED_TYPES = new Set(['debug', 'comment', 'catch', 'status', 'complete', 'inject', 'group', 'opea-benchmark', 'opea-evaluator', 'opea-exporter']);
/** Wire plumbing, followed as if the wire went straight through. */
const TRANSPARENT_TYPES = new Set(['junction', 'link in', 'link out']);
/** Our config nodes: referenced by service nodes, never stages. */
const CONFIG_TYPES = new Set(['opea-server', 'opea-vectorstore', 'opea-prompt', 'opea-memory']);

const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,199}$/;

export interface ImportOptions {
  /** Tab id or label, when several tabs hold pipelines. */
  tab?: string;
}

function labelOf(node: RawNode): string {
  return typeof node.name === 'string' && node.name.trim() !== '' ? node.name : node.type;
}

function isServiceType(type: string): boolean {
  return nodeTypeSpec(type) !== undefined;
}

/** Pulls the node array out of any accepted shape. */
function nodeArray(input: unknown, problems: ProblemList): RawNode[] {
  const list = Array.isArray(input)
    ? input
    : input && typeof input === 'object' && Array.isArray((input as { flows?: unknown }).flows)
      ? (input as { flows: unknown[] }).flows
      : null;
  if (list === null) {
    problems.add('', 'input', 'this is not Node-RED flow JSON', 'give an array of nodes (Export > JSON) or a flows file');
    return [];
  }
  const nodes: RawNode[] = [];
  const seen = new Set<string>();
  list.forEach((item, i) => {
    if (!item || typeof item !== 'object' || typeof (item as RawNode).id !== 'string' || typeof (item as RawNode).type !== 'string') {
      problems.add('', `element ${i}`, 'this element is not a Node-RED node (it needs a string id and type)', 'remove it or export the flow again from the editor');
      return;
    }
    const node = item as RawNode;
    if (seen.has(node.id)) {
      problems.add(node.id, labelOf(node), 'two nodes share this id', 'export the flow again from the editor; ids must be unique');
      return;
    }
    seen.add(node.id);
    nodes.push(migrateNode(node));
  });
  return nodes;
}

interface TabInfo {
  id: string;
  label: string;
}

function tabInfo(z: string, byId: Map<string, RawNode>): TabInfo {
  const tabNode = byId.get(z);
  return { id: z, label: tabNode && typeof tabNode.label === 'string' ? tabNode.label : z };
}

function chooseTab(tabs: TabInfo[], options: ImportOptions, problems: ProblemList): TabInfo | null {
  const list = tabs.map((t) => `'${oneLine(t.label, 40)}'`).join(', ');
  if (options.tab !== undefined) {
    const wanted = options.tab;
    const byIdMatch = tabs.find((t) => t.id === wanted);
    const byLabel = tabs.filter((t) => t.label === wanted);
    if (byIdMatch) return byIdMatch;
    if (byLabel.length === 1) return byLabel[0];
    if (byLabel.length > 1) {
      problems.add('', wanted, 'several tabs have this label', `choose one by id: ${byLabel.map((t) => t.id).join(', ')}`);
    } else {
      problems.add('', wanted, 'no tab with this id or label holds opea- nodes', tabs.length ? `choose one of ${list}` : 'add opea- nodes to a tab');
    }
    return null;
  }
  if (tabs.length === 0) {
    problems.add('', 'input', 'no enabled opea- service node was found', 'wire opea-embedding, opea-retriever, opea-rerank, opea-llm ... nodes on a tab');
    return null;
  }
  if (tabs.length > 1) {
    problems.add('', 'input', `${tabs.length} tabs hold pipelines: ${list}`, 'choose one with --tab');
    return null;
  }
  return tabs[0];
}

/** Resolves wires through junctions and links to the nodes that really receive a message. */
class WireResolver {
  /** Broken wiring found while resolving, by the node whose outputs were resolved. */
  readonly faults = new Map<string, { message: string; fix: string }[]>();

  constructor(private readonly byId: Map<string, RawNode>) {}

  outputs(node: RawNode): string[][] {
    const wires = Array.isArray(node.wires) ? node.wires : [];
    return wires.map((port) => this.resolve(Array.isArray(port) ? port : [], node.id));
  }

  private fault(origin: string, message: string, fix: string): void {
    this.faults.set(origin, [...(this.faults.get(origin) ?? []), { message, fix }]);
  }

  /**
   * The receiving nodes the targets lead to, in wiring order (depth first through junctions and
   * links). Iterative, with a stack of the target lists being walked, so a chain of any length
   * resolves; each junction or link is passed once per port, so loops end.
   */
  private resolve(targets: unknown[], origin: string): string[] {
    const result = new Set<string>();
    const visited = new Set<string>();
    const stack: Iterator<unknown>[] = [targets[Symbol.iterator]()];
    while (stack.length > 0) {
      const step = stack[stack.length - 1].next();
      if (step.done) {
        stack.pop();
        continue;
      }
      const target = step.value;
      if (typeof target !== 'string') continue;
      const node = this.byId.get(target);
      if (!node) {
        this.fault(origin, `a wire leads to node ${oneLine(target, 40)}, which is not in the flow`, 'delete the wire or include that node in the export');
        continue;
      }
      if (node.d === true || IGNORED_TYPES.has(node.type)) continue;
      if (!TRANSPARENT_TYPES.has(node.type)) {
        result.add(node.id);
        continue;
      }
      if (visited.has(node.id)) continue;
      visited.add(node.id);
      stack.push(this.passThrough(node, origin)[Symbol.iterator]());
    }
    return [...result];
  }

  private passThrough(node: RawNode, origin: string): unknown[] {
    if (node.type === 'link out') {
      if (node.mode === 'return') {
        this.fault(origin, `its wire reaches a 'return' link out (${oneLine(labelOf(node), 40)}), which has no fixed target`, 'use link out in "send to all connected link nodes" mode');
        return [];
      }
      return Array.isArray(node.links) ? node.links : [];
    }
    const wires = Array.isArray(node.wires) && Array.isArray(node.wires[0]) ? node.wires[0] : [];
    return wires;
  }
}

type Coerced = { value: ParamValue } | { error: string };

export function coerceParam(spec: ParamSpec, raw: unknown): Coerced {
  if (raw === undefined || raw === null || raw === '') return { value: spec.default };
  switch (spec.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return { value: raw };
      if (raw === 'true' || raw === 'false') return { value: raw === 'true' };
      return { error: 'must be true or false' };
    case 'int':
    case 'number': {
      const value = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(value)) return { error: 'must be a number' };
      if (spec.type === 'int' && !Number.isInteger(value)) return { error: 'must be a whole number' };
      if (spec.min !== undefined && value < spec.min) return { error: `must be at least ${spec.min}` };
      if (spec.max !== undefined && value > spec.max) return { error: `must be at most ${spec.max}` };
      return { value };
    }
    case 'enum':
      if (typeof raw === 'string' && spec.values?.includes(raw)) return { value: raw };
      return { error: `must be one of ${spec.values?.join(', ')}` };
    case 'string':
      if (typeof raw !== 'string') return { error: 'must be text' };
      if (!/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/.test(raw)) return { error: 'must be letters, digits, _ . : - (at most 128)' };
      return spec.check?.(raw) === undefined ? { value: raw } : { error: spec.check(raw) as string };
    case 'text': {
      if (typeof raw !== 'string') return { error: 'must be text' };
      if (raw.length > 20_000) return { error: 'must be at most 20000 characters' };
      const wrong = spec.check?.(raw);
      return wrong === undefined ? { value: raw } : { error: wrong };
    }
    case 'model':
      if (typeof raw !== 'string' || !MODEL_ID.test(raw.trim())) return { error: 'must be a model id (letters, digits and . _ / : @ + -, at most 200)' };
      return { value: raw.trim() };
  }
}

function toComponent(node: RawNode, spec: NodeTypeSpec, byId: Map<string, RawNode>, problems: ProblemList): Component {
  const label = labelOf(node);
  const kind: Kind = spec.kind;
  const fail = (message: string, fix: string) => problems.add(node.id, label, message, fix);

  if (typeof node.configVersion === 'number' && node.configVersion > CONFIG_VERSION) {
    fail(`it was saved by a newer node-red-contrib-opea (config version ${node.configVersion})`, 'upgrade node-red-contrib-opea');
  }
  const name = typeof node.name === 'string' ? node.name.trim() : '';
  const backendName = typeof node.backend === 'string' ? node.backend : '';
  const backend = findBackend(kind, backendName);
  const choices = backendsOf(kind).map((b) => b.backend).join(', ');
  if (!backend) {
    fail(backendName ? `unknown ${kind} backend '${oneLine(backendName, 40)}'` : 'it has no backend', `set backend to one of ${choices}`);
  }

  let model: string | undefined;
  if (typeof node.model === 'string' && node.model.trim() !== '') {
    model = node.model.trim();
    if (!MODEL_ID.test(model)) {
      fail('its model is not a model id', "use an id such as BAAI/bge-base-en-v1.5 (letters, digits and . _ / : @ + -, at most 200)");
      model = undefined;
    }
  } else if (node.model !== undefined && typeof node.model !== 'string') {
    fail('its model is not text', 'set model to a model id');
  } else if (backend?.needsModel) {
    fail(`backend ${backend.backend} needs a model`, `set model${backend.defaultModel ? ` (e.g. ${backend.defaultModel})` : ''}`);
  }

  const params: Record<string, ParamValue> = {};
  for (const p of spec.params) {
    const coerced = coerceParam(p, node[p.key]);
    if ('error' in coerced) fail(`${p.key} ${coerced.error}`, `fix ${p.key} (${p.doc})`);
    else params[p.key] = coerced.value;
  }
  // A library prompt is what the node sends, so an export carries its templates.
  const library = spec.type === 'opea-llm' ? libraryPromptOf(node, byId, PROMPTS) : undefined;
  if (library && 'message' in library) fail(library.message, library.fix);
  else if (library) Object.assign(params, library.params);

  let serverUrl: string | undefined;
  if (typeof node.server === 'string' && node.server !== '') {
    const server = byId.get(node.server);
    if (!server || server.type !== 'opea-server') {
      fail('its server config node is missing from the flow', 'choose a server in the node, or export the flow with its config nodes');
    } else if (typeof server.baseUrl === 'string' && server.baseUrl.trim() !== '') {
      serverUrl = server.baseUrl.trim();
    }
  }

  if (typeof node.externalUrl === 'string' && node.externalUrl.trim() !== '') {
    const text = node.externalUrl.trim();
    if (!isHttpUrl(text)) fail('its externalUrl is not an http(s) URL', 'set externalUrl to e.g. http://llm.example.svc:9000/v1/chat/completions');
    else if (urlCredential(text)) fail(`its externalUrl carries ${urlCredential(text)}, which an export would write out`, URL_CREDENTIAL_FIX);
    else params.externalUrl = text;
  }

  // A node with problems stays in the graph, so its neighbours are not reported as unwired too.
  return { id: node.id, name, label, tab: String(node.z ?? ''), kind, backend: backend?.backend ?? backendName, model, params, serverUrl };
}

/** Query parameter names that carry a secret: key, api_key, token, access_token, secret, password, sig, X-Amz-Signature, ... */
const CREDENTIAL_PARAM = /^(key|sig|pwd|pass|auth|authorization|.*(apikey|accesskey|secretkey|privatekey|subscriptionkey|token|secret|password|passwd|signature|credential|credentials))$/;

export const URL_CREDENTIAL_FIX = "remove it from the URL; keys belong in the opea-server config node's credentials (sent as a header), never in a URL that an export writes into its files";

/** What credential an http(s) URL carries — user:password, or a query parameter named for a secret — or null. */
export function urlCredential(text: string): string | null {
  const url = new URL(text);
  if (url.username || url.password) return 'a user name or password (user:password@)';
  for (const name of url.searchParams.keys()) {
    if (CREDENTIAL_PARAM.test(name.toLowerCase().replace(/[-_.]/g, ''))) return `a credential in its query parameter '${oneLine(name, 40)}'`;
  }
  return null;
}

export function isHttpUrl(text: string): boolean {
  if (text.length > 2048 || /\s/.test(text)) return false;
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** `req.body.key`, `req.body["key"]`, `payload.key`, `payload['key']` -> the key and where it is read. */
export function parseSwitchProperty(property: string): { key: string; source: 'request' | 'payload' } | null {
  const match = /^(req\.body|payload)(?:\.([^.[\]"']+)|\[(["'])([^"'\]]+)\3\])$/.exec(property.trim());
  if (!match) return null;
  return { key: match[2] ?? match[4], source: match[1] === 'payload' ? 'payload' : 'request' };
}

/**
 * Whether the switch's last output is an "otherwise" rule answering in Node-RED alone: what it
 * reaches (through any nodes) holds an http response and no opea- stage, such as an error answer
 * for requests no route takes. The importer follows it no further, as it does a service node's side outputs.
 */
function answersOtherwise(node: RawNode, outs: Map<string, string[][]>, byId: Map<string, RawNode>): boolean {
  const rules = Array.isArray(node.rules) ? node.rules : [];
  const last = rules[rules.length - 1] as { t?: unknown } | undefined;
  const ports = outs.get(node.id) ?? [];
  if (rules.length < 2 || last?.t !== 'else' || ports.length !== rules.length) return false;
  const seen = new Set<string>();
  const queue = [...ports[ports.length - 1]];
  let answers = false;
  while (queue.length > 0) {
    const id = queue.pop() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    const type = byId.get(id)?.type ?? '';
    if (type.startsWith('opea-')) return false;
    if (type === 'http response') answers = true;
    for (const port of outs.get(id) ?? []) queue.push(...port);
  }
  return answers;
}

function toSwitch(node: RawNode, problems: ProblemList, answers = false): SwitchRoute {
  const label = labelOf(node);
  const before = problems.items.length;
  const property = typeof node.property === 'string' ? node.property : '';
  const parsed = node.propertyType === undefined || node.propertyType === 'msg' ? parseSwitchProperty(property) : null;
  if (!parsed) {
    problems.add(node.id, label, `it tests '${oneLine(property, 60)}', which is not a request property`, 'test msg.req.body.<key> (the original request, as GMC does) or msg.payload.<key> right after the entry');
  }
  const rules: Record<string, unknown>[] = Array.isArray(node.rules) ? node.rules.map((r) => (r && typeof r === 'object' ? (r as Record<string, unknown>) : {})) : [];
  if (rules.length === 0) problems.add(node.id, label, 'it has no rules', 'add one "==" rule per branch');
  const values: string[] = [];
  const otherwise = rules.length > 1 && rules[rules.length - 1].t === 'else';
  if (otherwise) rules.pop();
  rules.forEach((rule, i) => {
    const vt = rule.vt ?? 'str';
    if (rule.t === 'else') {
      problems.add(node.id, label, `rule ${i + 1} is "otherwise" but not the last rule`, 'move the "otherwise" rule to the end');
    } else if (rule.t !== 'eq') {
      problems.add(node.id, label, `rule ${i + 1} is '${oneLine(String(rule.t), 20)}'; a GMC Switch only tests equality`, 'use "==" rules, one per branch, and at most one "otherwise" rule at the end');
    } else if (vt !== 'str' && vt !== 'num' && vt !== 'bool') {
      problems.add(node.id, label, `rule ${i + 1} compares with a ${oneLine(String(vt), 20)} value`, 'compare with a fixed string, number or boolean');
    } else if (values.includes(String(rule.v))) {
      problems.add(node.id, label, `rule ${i + 1} repeats the value '${oneLine(String(rule.v), 40)}'`, 'give each branch its own value');
    } else {
      values.push(String(rule.v ?? ''));
    }
  });
  if (problems.items.length > before) {
    // Keep one value per rule so the outputs still line up with their wires.
    values.splice(0, values.length, ...rules.map((rule) => String(rule.v ?? '')));
  }
  const route: SwitchRoute = { id: node.id, label, tab: String(node.z ?? ''), key: parsed?.key ?? '', source: parsed?.source ?? 'request', values, otherwise: otherwise && !answers };
  return answers ? { ...route, answersOtherwise: true } : route;
}

function checkJoin(node: RawNode, branches: number, problems: ProblemList): void {
  const count = Number(node.count);
  if (node.mode !== 'custom' || !Number.isInteger(count) || count !== branches) {
    problems.add(node.id, labelOf(node), `it does not wait for the ${branches} branches of the fan-out`, `set the join to manual mode, "After a number of message parts" = ${branches}`);
  }
}

/**
 * The nodes that belong to the pipeline: everything wired (in either direction, through links and
 * junctions) to a stage of the chosen tab, without crossing dataprep nodes, whose ingest plumbing
 * runs in Node-RED only.
 */
function pipelineNodes(seeds: RawNode[], byId: Map<string, RawNode>, outs: Map<string, string[][]>): Set<string> {
  const inbound = new Map<string, string[]>();
  for (const [from, ports] of outs) for (const port of ports) for (const to of port) {
    inbound.set(to, [...(inbound.get(to) ?? []), from]);
  }
  const member = new Set<string>();
  const queue = seeds.map((n) => n.id);
  while (queue.length > 0) {
    const id = queue.pop() as string;
    if (member.has(id)) continue;
    member.add(id);
    if (byId.get(id)?.type === 'opea-dataprep') continue;
    for (const port of outs.get(id) ?? []) queue.push(...port);
    for (const from of inbound.get(id) ?? []) if (byId.get(from)?.type !== 'opea-dataprep') queue.push(from);
  }
  return member;
}

export function importNodeRedFlow(input: unknown, options: ImportOptions = {}): { graph: PipelineGraph; problems: ProblemList } {
  const problems = new ProblemList();
  const nodes = nodeArray(input, problems);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const graph: PipelineGraph = { name: '', components: [], switches: [], joins: [], entries: [], exits: [], edges: [] };
  const onDisabledTab = (n: RawNode) => byId.get(String(n.z))?.type === 'tab' && byId.get(String(n.z))?.disabled === true;
  const live = nodes.filter((n) => n.d !== true && !onDisabledTab(n) && !IGNORED_TYPES.has(n.type) && !TRANSPARENT_TYPES.has(n.type));
  const resolver = new WireResolver(byId);
  // A service node's first output carries the pipeline; later ones are side outputs (LLM stream
  // chunks, a guardrail's blocked messages, which the deployed guardrail answers itself), not stages.
  const outs = new Map<string, string[][]>();
  for (const node of live) outs.set(node.id, isServiceType(node.type) ? resolver.outputs(node).slice(0, 1) : resolver.outputs(node));
  const answering = new Set(live.filter((n) => n.type === 'switch' && answersOtherwise(n, outs, byId)).map((n) => n.id));
  for (const id of answering) outs.set(id, (outs.get(id) ?? []).slice(0, -1));

  // Each connected set of stages is one pipeline, at home on the tab of its http in (else of its first stage).
  const groups: { tab: TabInfo; members: Set<string> }[] = [];
  const grouped = new Set<string>();
  for (const seed of live) {
    if (!isServiceType(seed.type) || seed.type === 'opea-dataprep' || grouped.has(seed.id)) continue;
    const group = pipelineNodes([seed], byId, outs);
    group.forEach((id) => grouped.add(id));
    const entry = [...group].map((id) => byId.get(id) as RawNode).find((n) => n.type === 'http in');
    groups.push({ tab: tabInfo(String((entry ?? seed).z ?? ''), byId), members: group });
  }
  const candidates = [...new Map(groups.map((g) => [g.tab.id, g.tab])).values()];
  const tab = chooseTab(candidates, options, problems);
  if (!tab) return { graph, problems };
  graph.name = tab.label;

  const members = new Set(groups.filter((g) => g.tab.id === tab.id).flatMap((g) => [...g.members]));
  // Dataprep nodes are side services, deployed beside the pipeline and never routed: those of the
  // tab, and those anywhere that write an index a retriever of this pipeline reads.
  // An index is named by its name and, for the embedded store, by the opea-vectorstore that holds it:
  // two embedded stores with an index of the same name are two indexes.
  const indexOf = (n: RawNode) => {
    const name = typeof n.indexName === 'string' && n.indexName !== '' ? n.indexName : DEFAULT_INDEX_NAME;
    return n.backend === 'memory' ? `${name}\u0000${String(n.store ?? '')}` : name;
  };
  const readIndexes = new Set([...members].map((id) => byId.get(id) as RawNode).filter((n) => n.type === 'opea-retriever').map(indexOf));
  for (const node of live) {
    if (node.type === 'opea-dataprep' && (node.z === tab.id || readIndexes.has(indexOf(node)))) members.add(node.id);
  }
  for (const id of members) {
    const node = byId.get(id) as RawNode;
    for (const f of resolver.faults.get(id) ?? []) problems.add(id, labelOf(node), f.message, f.fix);
  }

  const fanIn = new Map<string, number>();
  for (const id of members) {
    if (byId.get(id)?.type === 'opea-dataprep') continue;
    for (const port of outs.get(id) ?? []) for (const to of port) if (members.has(to)) fanIn.set(to, (fanIn.get(to) ?? 0) + 1);
  }

  for (const node of nodes) {
    if (!members.has(node.id)) continue;
    const label = labelOf(node);
    const z = String(node.z ?? '');
    const spec = nodeTypeSpec(node.type);
    if (spec) {
      graph.components.push(toComponent(node, spec, byId, problems));
    } else if (node.type === 'http in') {
      const entry: Endpoint = { id: node.id, label, tab: z, path: typeof node.url === 'string' ? node.url : '' };
      if (node.method !== undefined && String(node.method).toLowerCase() !== 'post') {
        problems.add(node.id, label, `it accepts ${oneLine(String(node.method), 10).toUpperCase()} requests; a served pipeline takes a POSTed JSON request`, 'set its method to POST');
      }
      graph.entries.push(entry);
    } else if (node.type === 'http response') {
      graph.exits.push({ id: node.id, label, tab: z, path: '' });
    } else if (node.type === 'switch') {
      graph.switches.push(toSwitch(node, problems, answering.has(node.id)));
    } else if (node.type === 'join') {
      graph.joins.push({ id: node.id, label, tab: z } satisfies JoinRoute);
    } else if (node.type === 'link call') {
      problems.add(node.id, label, 'a link call returns to its caller, which a deployed pipeline cannot do', 'wire the stages directly or through link out / link in');
    } else if (node.type.startsWith('subflow:')) {
      problems.add(node.id, label, 'subflow instances are not followed', 'place the subflow\'s opea- nodes on the tab itself');
    } else if (CONFIG_TYPES.has(node.type)) {
      continue;
    } else if (node.type.startsWith('opea-')) {
      problems.add(node.id, label, `unknown node type '${oneLine(node.type, 40)}'`, 'update node-red-contrib-opea or replace the node');
    } else {
      problems.add(node.id, label, `a '${oneLine(node.type, 40)}' node cannot become a pipeline stage`, 'remove or disable it; only opea- nodes, switch, join, link, junction and http in/response carry a pipeline');
    }
  }

  const known = new Set<string>([
    ...graph.components.map((c) => c.id),
    ...graph.switches.map((s) => s.id),
    ...graph.joins.map((j) => j.id),
    ...graph.entries.map((e) => e.id),
    ...graph.exits.map((e) => e.id),
  ]);
  // Nodes already reported as unmappable are passed through, so what they connect still plans.
  const receivers = (targets: string[], seen: Set<string>): string[] =>
    targets.flatMap((to) => {
      if (known.has(to)) return byId.get(to)?.type === 'opea-dataprep' ? [] : [to];
      if (!members.has(to) || seen.has(to)) return [];
      seen.add(to);
      return receivers((outs.get(to) ?? []).flat(), seen);
    });
  const edges: Edge[] = [];
  for (const id of members) {
    if (!known.has(id) || byId.get(id)?.type === 'opea-dataprep') continue;
    (outs.get(id) ?? []).forEach((port, portIndex) => {
      for (const to of new Set(receivers(port, new Set()))) edges.push({ from: id, port: portIndex, to });
    });
  }
  graph.edges = edges;

  for (const join of graph.joins) checkJoin(byId.get(join.id) as RawNode, fanIn.get(join.id) ?? 0, problems);
  return { graph, problems };
}
