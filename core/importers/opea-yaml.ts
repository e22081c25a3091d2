/**
 * OPEA's pipeline YAML -> Node-RED flow JSON. The format, as OPEA's deployment RFC and GenAIComps'
 * ServiceOrchestratorWithYaml read it (opea-project/docs community/rfcs; GenAIComps
 * comps/cores/mega/orchestrator_with_yaml.py):
 *
 *   opea_micro_services:            # name -> {endpoint, port} (endpoint may be a full URL)
 *     embedding: {endpoint: /v1/embeddings, port: 6000}
 *   opea_mega_service:
 *     port: 8080
 *     mega_flow:                    # rules; '(a, b)' is a parallel group, '>>' feeds the next group
 *       - embedding >> retrieval >> reranking >> llm
 *
 * Services are mapped to our kinds by name (embed, retriev, rerank, llm, guardrail, dataprep); a
 * parallel group becomes a fan-out gathered by a join. Services only dataprep flows reach are ingest.
 */
import crypto from 'node:crypto';
import { findBackend } from '../catalog';
import { Kind } from '../model';
import { oneLine, ProblemList } from '../problems';

type Json = Record<string, unknown>;
type FlowNode = Json & { id: string; type: string; wires?: string[][] };

const KINDS: { match: RegExp; type: string; kind: Kind; backend: string }[] = [
  { match: /data_?prep/i, type: 'opea-dataprep', kind: 'dataprep', backend: 'redis' },
  { match: /guard/i, type: 'opea-guardrail', kind: 'guardrail', backend: 'opea' },
  { match: /embed/i, type: 'opea-embedding', kind: 'embedding', backend: 'opea' },
  { match: /retriev/i, type: 'opea-retriever', kind: 'retriever', backend: 'redis' },
  { match: /rerank/i, type: 'opea-rerank', kind: 'rerank', backend: 'opea' },
  { match: /llm/i, type: 'opea-llm', kind: 'llm', backend: 'opea' },
];

function parseRule(rule: string): string[][] {
  return rule.split('>>').map((group) => group.trim().replace(/^\(|\)$/g, '').split(',').map((s) => s.trim()).filter(Boolean));
}

export function isOpeaYaml(doc: unknown): boolean {
  return !!doc && typeof doc === 'object' && ('opea_micro_services' in (doc as Json) || 'opea_mega_service' in (doc as Json));
}

export function opeaYamlToFlow(doc: Json, fileName: string, problems: ProblemList): FlowNode[] | null {
  const services = (doc.opea_micro_services && typeof doc.opea_micro_services === 'object' ? doc.opea_micro_services : {}) as Json;
  const mega = (doc.opea_mega_service && typeof doc.opea_mega_service === 'object' ? doc.opea_mega_service : {}) as Json;
  const rules = Array.isArray(mega.mega_flow) ? mega.mega_flow.filter((r): r is string => typeof r === 'string') : [];
  if (rules.length === 0) {
    problems.add('', fileName, 'opea_mega_service has no mega_flow rules', 'add mega_flow: ["embedding >> retrieval >> reranking >> llm"]');
    return null;
  }
  const edges = new Map<string, Set<string>>();
  const names: string[] = [];
  for (const rule of rules) {
    const groups = parseRule(rule);
    for (const group of groups) for (const name of group) if (!names.includes(name)) names.push(name);
    for (let i = 0; i + 1 < groups.length; i++) for (const from of groups[i]) for (const to of groups[i + 1]) edges.set(from, new Set([...(edges.get(from) ?? []), to]));
  }
  const kinds = new Map<string, (typeof KINDS)[number]>();
  for (const name of names) {
    const known = KINDS.find((k) => k.match.test(name));
    if (!known) problems.add(name, name, `service '${oneLine(name, 40)}' is none of embedding, retrieval, reranking, llm, guardrail, dataprep`, 'rename it after its kind or remove it from mega_flow');
    else kinds.set(name, known);
    if (!(name in services)) problems.add(name, name, 'mega_flow names a service that opea_micro_services does not define', 'define it under opea_micro_services');
  }
  if (!problems.empty) return null;

  const hash = (seed: string) => crypto.createHash('sha1').update(`${fileName}/${seed}`).digest('hex').slice(0, 16);
  const tab = hash('tab');
  const flow: FlowNode[] = [{ id: tab, type: 'tab', label: fileName.replace(/\.[^.]+$/, '').replace(/.*[\\/]/, ''), disabled: false, info: `Imported from ${fileName}.` }];
  const preds = new Map<string, string[]>();
  for (const [from, tos] of edges) for (const to of tos) preds.set(to, [...(preds.get(to) ?? []), from]);
  const depth = new Map<string, number>();
  const depthOf = (name: string, seen: string[] = []): number => {
    if (depth.has(name)) return depth.get(name) as number;
    if (seen.includes(name)) return 0;
    const d = Math.max(0, ...(preds.get(name) ?? []).map((p) => depthOf(p, [...seen, name]) + 1));
    depth.set(name, d);
    return d;
  };
  const row = new Map<number, number>();
  const nodeOf = new Map<string, FlowNode>();
  for (const name of names) {
    const known = kinds.get(name) as (typeof KINDS)[number];
    const d = depthOf(name);
    const r = row.get(d) ?? 0;
    row.set(d, r + 1);
    const model = findBackend(known.kind, known.backend)?.defaultModel;
    const node: FlowNode = { id: hash(name), type: known.type, z: tab, name, backend: known.backend, ...(model ? { model } : {}), configVersion: 1, x: 320 + 200 * d, y: 100 + 90 * r, wires: [[]] };
    nodeOf.set(name, node);
    flow.push(node);
  }
  const wire = (from: FlowNode, to: FlowNode) => (from.wires as string[][])[0].push(to.id);
  const isIngest = (name: string) => kinds.get(name)?.kind === 'dataprep';
  const lastX = 320 + 200 * (Math.max(...names.map((n) => depth.get(n) ?? 0)) + 1);
  const entry: FlowNode = { id: hash('entry'), type: 'http in', z: tab, name: 'POST /', url: '/', method: 'post', upload: false, swaggerDoc: '', x: 120, y: 100, wires: [[]] };
  const exit: FlowNode = { id: hash('exit'), type: 'http response', z: tab, name: 'answer', statusCode: '', headers: {}, x: lastX + 200, y: 100 };
  flow.push(entry, exit);
  const join = (id: string, count: number, x: number, y: number): FlowNode => {
    const node: FlowNode = { id: hash(id), type: 'join', z: tab, name: 'gather', mode: 'custom', build: 'object', property: 'payload', propertyType: 'msg', key: 'topic', count: String(count), timeout: '', x, y, wires: [[]] };
    flow.push(node);
    return node;
  };
  for (const name of names.filter((n) => !isIngest(n))) {
    const node = nodeOf.get(name) as FlowNode;
    const from = (preds.get(name) ?? []).filter((p) => !isIngest(p)).map((p) => nodeOf.get(p) as FlowNode);
    if (from.length === 0) wire(entry, node);
    else if (from.length === 1) wire(from[0], node);
    else {
      const gather = join(`join/${name}`, from.length, (node.x as number) - 100, node.y as number);
      from.forEach((f) => wire(f, gather));
      wire(gather, node);
    }
  }
  const ends = names.filter((n) => !isIngest(n) && ![...(edges.get(n) ?? [])].some((t) => !isIngest(t))).map((n) => nodeOf.get(n) as FlowNode);
  if (ends.length === 1) wire(ends[0], exit);
  else if (ends.length > 1) {
    const gather = join('join/exit', ends.length, lastX, 100);
    ends.forEach((e) => wire(e, gather));
    wire(gather, exit);
  }
  names.filter(isIngest).forEach((name, i) => {
    const dp = nodeOf.get(name) as FlowNode;
    const y = 300 + 90 * i;
    Object.assign(dp, { x: 320, y, wires: [[hash(`${name}/out`)]] });
    flow.push({ id: hash(`${name}/in`), type: 'http in', z: tab, name: 'POST /dataprep', url: '/dataprep', method: 'post', upload: true, swaggerDoc: '', x: 120, y, wires: [[dp.id]] });
    flow.push({ id: hash(`${name}/out`), type: 'http response', z: tab, name: 'ingested', statusCode: '', headers: {}, x: 520, y });
  });
  return flow;
}
