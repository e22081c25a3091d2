/**
 * OPEA pipeline YAML -> Node-RED flow JSON.
 *
 * The format facts this rests on (read, not copied, from the sources named):
 * - opea-project/docs community/rfcs/24-05-17-OPEA-001-Deployment-Design.md (commit f755ea52): the
 *   deployment RFC's "unified language interface": `opea_micro_services:` maps a service name to
 *   `{endpoint: /v1/embeddings, port: 6000}`; `opea_mega_service:` has `port` and `mega_flow:`, a
 *   list of rules such as `- embedding >> retrieval >> reranking >> llm`; a converter to docker
 *   compose or a GMC resource was announced for it.
 * - opea-project/docs community/rfcs/24-05-16-GenAIExamples-001-Using_MicroService_to_implement_ChatQnA.md:
 *   `endpoint` may be a full URL (`http://localhost:6000/v1/embeddings`), and a second megaservice may
 *   sit under a key of `opea_mega_service` with its own `mega_flow` (ChatQnA's `dataprep: {mega_flow:
 *   [dataprep]}`, served by a separate DataPrep gateway).
 * - opea-project/GenAIComps comps/cores/mega/orchestrator_with_yaml.py and mega_service.yaml (commit
 *   8130a3fb), the code that runs this YAML: a rule is split at `>>` into groups; a group `(a, b)` is
 *   parallel and every node of a group feeds every node of the next; several rules add to one DAG
 *   (`(s1, s5) >> s2`, `s2 >> (s3, s4)`, `s3 >> s4`); a node with several predecessors gets their
 *   outputs merged; a cycle makes the graph invalid; with no `mega_flow` every service of
 *   `opea_micro_services` is an independent node.
 * - opea-project/GenAIEval evals/auto_tuning/chatqna.yaml and README (commit 6488a8aa): services may
 *   carry `image` (`opea/embedding-tei:latest`, `ghcr.io/huggingface/tgi-gaudi:1.2.1`), `model-id`,
 *   `endpoint` and `type` (cpu/hpu); model servers (`tei-embedding-service`, `tei-reranking-service`,
 *   `tgi_service`, `redis-vector-db`) are listed as services of their own; the megaservice itself may
 *   appear as a service with the `opea/chatqna` image; a service may also be written as
 *   `<image>: {tag, type, dependency: {<image>: {requirements: {model_id}}}}`.
 * Compose-style fields (`host`, `ports`, `environment` as a map or `KEY=value` list, `model`) are read
 * the same way where present.
 *
 * Mapping: a service's kind comes from its image (the repository's last path segment), else its
 * name: dataprep -> opea-dataprep redis (an ingest chain, never routed), guardrail -> opea-guardrail
 * opea, embedding -> opea-embedding opea, retriever/retrieval -> opea-retriever redis, reranking ->
 * opea-rerank opea, llm -> opea-llm opea (vllm when the image or name says vllm). These are OPEA
 * microservices, so the `opea` backends, which every exporter deploys with their model servers. TEI,
 * TGI, vLLM and Redis services are model servers: not stages, but where a stage's model comes from.
 * A service's model is its own (model / model-id / model_id / environment *MODEL_ID), else its model
 * server's, else the catalog's default. `>>` becomes a wire; a service fed by several becomes a join
 * gathering them. Without `mega_flow` the stages are chained in the contract's order (guardrail,
 * embedding, retriever, rerank, llm), which is what the services of a ChatQnA-style file describe.
 * Services a rule names that map to nothing are problems, all at once; services defined but never
 * used by a rule are not part of the pipeline and are left out (dataprep excepted: it is ingest).
 */
import { findBackend } from '../catalog';
import { isHttpUrl } from '../flow-json';
import { Kind } from '../model';
import { oneLine, ProblemList } from '../problems';
import { baseName, column, CONTRACT_ORDER, FlowNode, httpIn, httpResponse, isObject, Json, joinNode, nodeId, own, row, tabNode, text, wire } from './common';

interface StageKind {
  type: string;
  kind: Kind;
  backend: string;
}

const STAGE: Record<string, StageKind> = {
  dataprep: { type: 'opea-dataprep', kind: 'dataprep', backend: 'redis' },
  guardrail: { type: 'opea-guardrail', kind: 'guardrail', backend: 'opea' },
  embedding: { type: 'opea-embedding', kind: 'embedding', backend: 'opea' },
  retriever: { type: 'opea-retriever', kind: 'retriever', backend: 'redis' },
  rerank: { type: 'opea-rerank', kind: 'rerank', backend: 'opea' },
  llm: { type: 'opea-llm', kind: 'llm', backend: 'opea' },
  vllm: { type: 'opea-llm', kind: 'llm', backend: 'vllm' },
};

type Role =
  | { role: 'stage'; stage: StageKind }
  /** A model server or vector DB: serves the stage of that kind. */
  | { role: 'server'; serves: Kind }
  /** The megaservice itself or a UI: not a stage, not a problem. */
  | { role: 'skip' };

const MODEL_KEYS = ['model', 'model-id', 'model_id', 'modelId', 'MODEL_ID'];
const MODEL_ENV = ['LLM_MODEL_ID', 'EMBEDDING_MODEL_ID', 'RERANK_MODEL_ID', 'SAFETY_GUARD_MODEL_ID', 'MODEL_ID'];

export function isOpeaYaml(doc: unknown): boolean {
  return isObject(doc) && (own(doc, 'opea_micro_services') !== undefined || own(doc, 'opea_mega_service') !== undefined);
}

/** `ghcr.io/huggingface/tgi-gaudi:1.2.1` -> `tgi-gaudi`. */
function imageName(image: string): string {
  const last = image.trim().split('/').pop() ?? '';
  return last.replace(/[:@].*$/, '').toLowerCase();
}

/** The service's images: `image:`, or keys written as images in the auto-tuning form. */
function imagesOf(svc: Json): string[] {
  const images = typeof svc.image === 'string' ? [svc.image] : [];
  for (const [key, value] of Object.entries(svc)) if (key.includes('/') && isObject(value)) images.push(key);
  return images;
}

function roleOf(name: string, svc: Json): Role | null {
  const image = imagesOf(svc).map(imageName)[0];
  const serves = (hint: string): Kind => (/rerank/i.test(hint) ? 'rerank' : 'embedding');
  if (name === 'opea_mega_service' || (image !== undefined && /^(chatqna|.*-ui|.*-ui-server|nginx)$/.test(image))) return { role: 'skip' };
  if (image !== undefined) {
    if (/data_?prep/.test(image)) return { role: 'stage', stage: STAGE.dataprep };
    if (/guardrail/.test(image)) return { role: 'stage', stage: STAGE.guardrail };
    if (/^embedding/.test(image)) return { role: 'stage', stage: STAGE.embedding };
    if (/^retriever/.test(image)) return { role: 'stage', stage: STAGE.retriever };
    if (/^rerank/.test(image)) return { role: 'stage', stage: STAGE.rerank };
    if (/^llm/.test(image)) return { role: 'stage', stage: /vllm/.test(image) ? STAGE.vllm : STAGE.llm };
    if (/text-embeddings-inference|^tei/.test(image)) return { role: 'server', serves: serves(name) };
    if (/text-generation-inference|^tgi|vllm/.test(image)) return { role: 'server', serves: 'llm' };
    if (/redis/.test(image)) return { role: 'server', serves: 'retriever' };
  }
  if (/(^|[-_])ui([-_]|$)|nginx/i.test(name)) return { role: 'skip' };
  if (/data_?prep/i.test(name)) return { role: 'stage', stage: STAGE.dataprep };
  if (/^tei([-_]|$)/i.test(name)) return { role: 'server', serves: serves(name) };
  if (/^(tgi|vllm)([-_]|$)/i.test(name)) return { role: 'server', serves: 'llm' };
  if (/^redis([-_]|$)|vector[-_]?db/i.test(name)) return { role: 'server', serves: 'retriever' };
  if (/guard/i.test(name)) return { role: 'stage', stage: STAGE.guardrail };
  if (/embed/i.test(name)) return { role: 'stage', stage: STAGE.embedding };
  if (/retriev/i.test(name)) return { role: 'stage', stage: STAGE.retriever };
  if (/rerank/i.test(name)) return { role: 'stage', stage: STAGE.rerank };
  if (/vllm/i.test(name)) return { role: 'stage', stage: STAGE.vllm };
  if (/llm/i.test(name)) return { role: 'stage', stage: STAGE.llm };
  return null;
}

function environment(svc: Json): Record<string, string> {
  const env: Record<string, string> = {};
  if (isObject(svc.environment)) {
    for (const [k, v] of Object.entries(svc.environment)) if (typeof v === 'string' || typeof v === 'number') env[k] = String(v);
  } else if (Array.isArray(svc.environment)) {
    for (const item of svc.environment) {
      const m = typeof item === 'string' ? /^([^=]+)=(.*)$/.exec(item) : null;
      if (m) env[m[1].trim()] = m[2].trim();
    }
  }
  return env;
}

/** The model a service names itself, in any of the forms above. */
function modelOf(svc: Json): string | undefined {
  for (const key of MODEL_KEYS) {
    const value = own(svc, key);
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  }
  const env = environment(svc);
  for (const key of MODEL_ENV) if (env[key] && !env[key].includes('${')) return env[key];
  const nested = [svc, ...Object.values(svc).filter(isObject)];
  for (const part of nested) {
    const req = isObject(part.requirements) ? part.requirements : undefined;
    if (typeof req?.model_id === 'string') return req.model_id;
    if (isObject(part.dependency)) {
      for (const dep of Object.values(part.dependency)) {
        const r = isObject(dep) && isObject(dep.requirements) ? dep.requirements : undefined;
        if (typeof r?.model_id === 'string') return r.model_id;
      }
    }
  }
  return undefined;
}

/** Where the service listens, when the file says it fully (a URL endpoint, or host + port + path). */
function urlOf(svc: Json): string | undefined {
  const endpoint = text(svc.endpoint);
  if (endpoint && isHttpUrl(endpoint)) return endpoint;
  const host = text(svc.host);
  const ports = Array.isArray(svc.ports) ? svc.ports : [];
  const port = svc.port ?? ports.map((p) => String(p).split(':')[0]).find((p) => /^\d+$/.test(p));
  const url = host && port !== undefined ? `http://${host}:${String(port)}${endpoint?.startsWith('/') ? endpoint : ''}` : undefined;
  return url && isHttpUrl(url) ? url : undefined;
}

/** `(a, b) >> c` -> [['a', 'b'], ['c']]. */
function parseRule(rule: string): string[][] {
  return rule.split('>>').map((group) => {
    const g = group.trim();
    const inner = g.startsWith('(') && g.endsWith(')') ? g.slice(1, -1) : g;
    return inner.split(',').map((s) => s.trim());
  });
}

export function opeaYamlToFlow(doc: Json, fileName: string, problems: ProblemList): FlowNode[] | null {
  const label = oneLine(fileName, 80) || 'input';
  const services: Json = isObject(doc.opea_micro_services) ? doc.opea_micro_services : {};
  const mega: Json = isObject(doc.opea_mega_service) ? doc.opea_mega_service : {};
  const before = problems.items.length;
  const fail = (name: string, message: string, fix: string) => problems.add(name, name, message, fix);

  const rules: string[] = [];
  if (mega.mega_flow !== undefined) {
    if (!Array.isArray(mega.mega_flow) || mega.mega_flow.some((r) => typeof r !== 'string')) {
      problems.add('', label, 'opea_mega_service.mega_flow is not a list of rules', 'write it as a list: mega_flow: ["embedding >> retrieval >> reranking >> llm"]');
    } else {
      rules.push(...(mega.mega_flow as string[]));
    }
  }
  // A second megaservice under a key of opea_mega_service: only a dataprep one has a place here.
  const ingestOnly = new Set<string>();
  for (const [key, value] of Object.entries(mega)) {
    if (key === 'mega_flow' || !isObject(value) || value.mega_flow === undefined) continue;
    const sub = Array.isArray(value.mega_flow) ? value.mega_flow.filter((r): r is string => typeof r === 'string') : [];
    const names = sub.flatMap(parseRule).flat();
    const all = names.every((n) => { const svc = own(services, n); const r = isObject(svc) ? roleOf(n, svc) : null; return r?.role === 'stage' && r.stage.kind === 'dataprep'; });
    if (names.length > 0 && all) names.forEach((n) => ingestOnly.add(n));
    else fail(key, `megaservice '${oneLine(key, 40)}' is a second pipeline beside the main mega_flow`, 'import it from a file of its own (one served pipeline per flow tab); only a dataprep megaservice is taken as the ingest chain');
  }

  const roles = new Map<string, Role>();
  const roleFor = (name: string, inFlow: boolean): Role | null => {
    const svc = own(services, name);
    if (!isObject(svc)) {
      if (inFlow) fail(name, `mega_flow names service '${oneLine(name, 40)}', which opea_micro_services does not define`, 'define it under opea_micro_services, or fix the name in mega_flow');
      return null;
    }
    const role = roleOf(name, svc);
    if (!role) fail(name, `service '${oneLine(name, 40)}'${imagesOf(svc).length ? ` (image ${oneLine(imagesOf(svc)[0], 60)})` : ''} is none of embedding, retrieval, reranking, llm, guardrail, dataprep`, 'name it (or its image) after its kind, or remove it from the pipeline');
    else roles.set(name, role);
    return role;
  };

  const edges = new Map<string, string[]>();
  const order: string[] = [];
  const seen = (name: string) => { if (!order.includes(name)) order.push(name); };
  for (const rule of rules) {
    const groups = parseRule(rule);
    if (groups.some((g) => g.some((n) => n === ''))) {
      problems.add('', label, `mega_flow rule '${oneLine(rule, 80)}' has an empty step`, 'write rules as a >> b >> c, parallel steps as (a, b)');
      continue;
    }
    groups.flat().forEach(seen);
    for (let i = 0; i + 1 < groups.length; i++) {
      for (const from of groups[i]) for (const to of groups[i + 1]) {
        const list = edges.get(from) ?? [];
        if (!list.includes(to)) list.push(to);
        edges.set(from, list);
      }
    }
  }
  for (const name of order) {
    const role = roleFor(name, true);
    if (role && role.role !== 'stage') {
      fail(name, role.role === 'server' ? `service '${oneLine(name, 40)}' is a model server or vector DB, which serves a stage rather than being one` : `service '${oneLine(name, 40)}' is the megaservice or a UI, not a stage`, 'remove it from mega_flow: exports deploy model servers and the vector DB for the stages that use them');
    }
  }
  // Every defined service still gets a role: model servers give models, dataprep becomes ingest.
  for (const name of Object.keys(services)) if (!roles.has(name) && !order.includes(name)) {
    const svc = services[name];
    const role = isObject(svc) ? roleOf(name, svc) : null;
    if (role) roles.set(name, role);
    else if (rules.length === 0) roleFor(name, false);
  }
  const isDataprep = (n: string) => { const r = roles.get(n); return r?.role === 'stage' && r.stage.kind === 'dataprep'; };
  const isStage = (n: string) => roles.get(n)?.role === 'stage' && !isDataprep(n);

  let stages: string[];
  if (rules.length > 0) {
    stages = order.filter(isStage);
  } else {
    const kindOf = (n: string) => (roles.get(n) as { stage: StageKind }).stage.kind;
    stages = Object.keys(services).filter(isStage).sort((a, b) => CONTRACT_ORDER.indexOf(kindOf(a)) - CONTRACT_ORDER.indexOf(kindOf(b)));
    for (let i = 0; i + 1 < stages.length; i++) edges.set(stages[i], [stages[i + 1]]);
  }
  const ingest = [...new Set([...order.filter(isDataprep), ...ingestOnly, ...Object.keys(services).filter(isDataprep)])];
  if (stages.length === 0 && problems.items.length === before) {
    problems.add('', label, 'the file defines no embedding, retrieval, reranking, llm or guardrail service in its pipeline', 'add opea_micro_services and a mega_flow such as "embedding >> retrieval >> reranking >> llm"');
  }

  // Predecessors among stages (dataprep is never routed), and a topological order (GenAIComps refuses cycles).
  const preds = new Map<string, string[]>(stages.map((s) => [s, []]));
  for (const [from, tos] of edges) if (isStage(from)) for (const to of tos) if (isStage(to)) (preds.get(to) as string[]).push(from);
  const depth = new Map<string, number>();
  const remaining = new Map(stages.map((s) => [s, (preds.get(s) as string[]).length]));
  const queue = stages.filter((s) => remaining.get(s) === 0);
  for (const s of queue) depth.set(s, 0);
  while (queue.length > 0) {
    const s = queue.shift() as string;
    for (const to of (edges.get(s) ?? []).filter(isStage)) {
      depth.set(to, Math.max(depth.get(to) ?? 0, (depth.get(s) as number) + 1));
      remaining.set(to, (remaining.get(to) as number) - 1);
      if (remaining.get(to) === 0) queue.push(to);
    }
  }
  const cyclic = stages.filter((s) => (remaining.get(s) as number) > 0);
  for (const s of cyclic) fail(s, `service '${oneLine(s, 40)}' is on a cycle of mega_flow`, 'a megaservice is a DAG: remove the rule that leads back');
  if (problems.items.length > before) return null;

  const base = baseName(fileName);
  const id = (seed: string) => nodeId(`${base}/${seed}`);
  const tab = id('tab');
  const how = rules.length > 0 ? 'its mega_flow' : 'the contract order (the file has no mega_flow)';
  const flow: FlowNode[] = [tabNode(tab, base, `Imported from OPEA pipeline YAML ${oneLine(fileName, 120)}, wired by ${how}.`)];

  const servers = [...roles].filter(([, r]) => r.role === 'server') as [string, { role: 'server'; serves: Kind }][];
  const toNode = (name: string, x: number, y: number): FlowNode => {
    const stage = (roles.get(name) as { stage: StageKind }).stage;
    const svc = services[name] as Json;
    const backend = findBackend(stage.kind, stage.backend);
    const props: Json = { name, backend: stage.backend };
    if (backend?.needsModel) {
      const server = servers.find(([n, r]) => r.serves === stage.kind && modelOf(services[n] as Json));
      props.model = modelOf(svc) ?? (server ? modelOf(services[server[0]] as Json) : undefined) ?? backend.defaultModel ?? '';
    }
    const url = urlOf(svc);
    if (backend?.deploy.type === 'external' && url) props.externalUrl = url;
    props.configVersion = 1;
    return { id: id(`service/${name}`), type: stage.type, z: tab, ...props, x, y, wires: [[]] };
  };

  const lastDepth = Math.max(0, ...stages.map((s) => depth.get(s) as number));
  const ends = stages.filter((s) => !(edges.get(s) ?? []).some(isStage));
  const entry = httpIn(id('entry'), tab, '/', column(0), row(0));
  const exit = httpResponse(id('exit'), tab, 'answer', column(lastDepth + (ends.length > 1 ? 3 : 2)), row(0));
  flow.push(entry);
  const rows = new Map<number, number>();
  const nodeOf = new Map<string, FlowNode>();
  for (const name of stages) {
    const d = depth.get(name) as number;
    const r = rows.get(d) ?? 0;
    rows.set(d, r + 1);
    const node = toNode(name, column(1 + d), row(r));
    nodeOf.set(name, node);
    flow.push(node);
  }
  for (const name of stages) {
    const node = nodeOf.get(name) as FlowNode;
    const from = (preds.get(name) as string[]).map((p) => nodeOf.get(p) as FlowNode);
    if (from.length === 0) wire(entry, node);
    else if (from.length === 1) wire(from[0], node);
    else {
      // GenAIComps merges the outputs of several predecessors: a join gathers them first.
      const gather = joinNode(id(`join/${name}`), tab, from.length, (node.x as number) - 90, node.y as number);
      flow.push(gather);
      from.forEach((f) => wire(f, gather));
      wire(gather, node);
    }
  }
  if (ends.length === 1) wire(nodeOf.get(ends[0]) as FlowNode, exit);
  else if (ends.length > 1) {
    const gather = joinNode(id('join/exit'), tab, ends.length, column(lastDepth + 2), row(0));
    flow.push(gather);
    ends.forEach((e) => wire(nodeOf.get(e) as FlowNode, gather));
    wire(gather, exit);
  }
  flow.push(exit);
  const firstIngestRow = Math.max(1, ...rows.values()) + 1;
  ingest.forEach((name, i) => {
    const y = row(firstIngestRow + i);
    const into = httpIn(id(`service/${name}/in`), tab, '/dataprep', column(0), y);
    const dp = toNode(name, column(1), y);
    const done = httpResponse(id(`service/${name}/out`), tab, 'ingested', column(2), y);
    wire(into, dp);
    wire(dp, done);
    flow.push(into, dp, done);
  });
  return flow;
}
