/**
 * The editor sidebar's new-pipeline wizard, without Node-RED: what it offers (use cases, their stages,
 * each stage's backends and models, from the catalog and the node-type specs) and the tab it writes
 * for a choice: http in -> the stages -> http response, a catch that answers the request with 400 (502
 * when the error names a server) as the examples do, a refusal answer for guardrails, an opea-server
 * per server URL and an opea-vectorstore when asked for, laid out with the editor's node sizes.
 */
import { randomBytes } from 'node:crypto';
import { BackendDef, backendsOf, service } from '../../core/catalog';
import { isHttpUrl, URL_CREDENTIAL_FIX, urlCredential } from '../../core/flow-json';
import { LaidOutNode, placeRow } from '../../core/flow-layout';
import { Kind } from '../../core/model';
import { CONFIG_VERSION, NODE_TYPES } from '../../core/node-types';
import { oneLine, Problem } from '../../core/problems';
import { TARGETS } from '../../exporters';

export type StageRole = 'input-rail' | 'embedding' | 'retriever' | 'rerank' | 'llm' | 'output-rail';

interface StageDef {
  role: StageRole;
  kind: Kind;
  title: string;
}

const STAGES: Record<StageRole, StageDef> = {
  'input-rail': { role: 'input-rail', kind: 'guardrail', title: 'input rail' },
  embedding: { role: 'embedding', kind: 'embedding', title: 'embedding' },
  retriever: { role: 'retriever', kind: 'retriever', title: 'retriever' },
  rerank: { role: 'rerank', kind: 'rerank', title: 'reranking' },
  llm: { role: 'llm', kind: 'llm', title: 'llm' },
  'output-rail': { role: 'output-rail', kind: 'guardrail', title: 'output rail' },
};

/** `request`: the body the entry takes (a TextDoc for a first embedding or rail; the LLM takes a question as {query}). */
export const USE_CASES = [
  { id: 'chatqna', title: 'ChatQnA', path: '/v1/chatqna', request: '{"text": "…"}', stages: ['embedding', 'retriever', 'rerank', 'llm'] },
  { id: 'chatqna-guardrails', title: 'ChatQnA with guardrails', path: '/v1/chatqna-guarded', request: '{"text": "…"}', stages: ['input-rail', 'embedding', 'retriever', 'rerank', 'llm', 'output-rail'] },
  { id: 'retrieval', title: 'Retrieval only', path: '/v1/retrieval', request: '{"text": "…"}', stages: ['embedding', 'retriever', 'rerank'] },
  { id: 'chat', title: 'Plain chat', path: '/v1/chat', request: '{"query": "…"}', stages: ['llm'] },
] as const satisfies readonly { id: string; title: string; path: string; request: string; stages: readonly StageRole[] }[];

export type UseCaseId = (typeof USE_CASES)[number]['id'];

/** A backend as the wizard offers it. */
export interface WizardBackend {
  backend: string;
  title: string;
  needsModel: boolean;
  defaultModel: string;
  /** It calls a server (an opea-server config node with this URL); embedded backends run in Node-RED. */
  needsServer: boolean;
  /** The host URL OPEA's compose files publish that server on, when the catalog knows it; else ''. */
  defaultUrl: string;
  /** The exporters deploy it ('service'), call it at an external URL ('external'), or it runs only in Node-RED ('embedded'). */
  deploy: BackendDef['deploy']['type'];
}

export interface WizardCatalog {
  /** The export targets (`opea-flow validate --target`, the exporter's targets). */
  targets: readonly string[];
  useCases: { id: string; title: string; path: string; request: string; stages: { role: StageRole; kind: Kind; title: string; backends: WizardBackend[] }[] }[];
}

/**
 * The service a backend's node talks to: the model server it names (tei, tgi) when it is a dependency
 * of the backend's deployment, else the OPEA microservice itself.
 */
function defaultUrl(b: BackendDef): string {
  const d = b.deploy;
  let id: string | undefined;
  if (d.type === 'service') id = d.dependencies.find((dep) => dep.servesModel && dep.service.startsWith(b.backend))?.service ?? d.service;
  else if (d.type === 'external' && d.compose) id = d.compose.modelServer.service.startsWith(b.backend) ? d.compose.modelServer.service : b.backend === 'opea' ? d.compose.service : undefined;
  return id ? `http://localhost:${service(id).hostPort}` : '';
}

function wizardBackend(b: BackendDef): WizardBackend {
  return { backend: b.backend, title: b.title, needsModel: b.needsModel, defaultModel: b.defaultModel ?? '', needsServer: b.deploy.type !== 'embedded', defaultUrl: defaultUrl(b), deploy: b.deploy.type };
}

export function wizardCatalog(): WizardCatalog {
  return {
    targets: TARGETS,
    useCases: USE_CASES.map((u) => ({
      id: u.id,
      title: u.title,
      path: u.path,
      request: u.request,
      stages: u.stages.map((role) => ({ ...STAGES[role], backends: backendsOf(STAGES[role].kind).map(wizardBackend) })),
    })),
  };
}

export interface StageChoice {
  backend: string;
  model?: string;
  /** Server URL, for backends that need a server. */
  url?: string;
  /** memory retriever: the id of an existing opea-vectorstore, or '' for a new one. */
  store?: string;
}

export interface WizardChoice {
  useCase: string;
  /** Tab label; default: the use case's title. */
  label?: string;
  /** http in path; default: the use case's. */
  path?: string;
  stages: Partial<Record<StageRole, StageChoice>>;
}

type FlowNode = LaidOutNode;

const newId = (): string => randomBytes(8).toString('hex');
const HTTP_PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/;

/** Every property of a node type at its spec default, then the wizard's values. */
function stageNode(kind: Kind, values: Record<string, unknown>): FlowNode {
  const spec = NODE_TYPES.find((t) => t.kind === kind);
  if (!spec) throw new Error(`no node type for ${kind}`);
  const defaults = Object.fromEntries(spec.params.map((p) => [p.key, p.default]));
  return { id: newId(), type: spec.type, ...defaults, model: '', server: '', externalUrl: '', configVersion: CONFIG_VERSION, ...values } as FlowNode;
}

/**
 * The flow JSON of a new tab for the choice (the tab first, config nodes last), or the problems of the
 * choice, each naming the stage and what to change. `stores` are the ids of the opea-vectorstore
 * config nodes the editor has.
 */
export function buildPipeline(choice: WizardChoice, stores: readonly string[] = []): { flow: FlowNode[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const fail = (label: string, message: string, fix: string) => problems.push({ nodeId: '', label, message, fix });
  const useCase = USE_CASES.find((u) => u.id === choice.useCase);
  if (!useCase) {
    fail('wizard', `unknown use case '${oneLine(String(choice.useCase), 40)}'`, `choose one of ${USE_CASES.map((u) => u.id).join(', ')}`);
    return { flow: [], problems };
  }
  const label = typeof choice.label === 'string' && choice.label.trim() !== '' ? choice.label.trim() : useCase.title;
  const entryPath = typeof choice.path === 'string' && choice.path.trim() !== '' ? choice.path.trim() : useCase.path;
  if (!HTTP_PATH.test(entryPath)) fail('http in', `the path '${oneLine(entryPath, 60)}' is not a URL path`, 'start it with / and use letters, digits and - _ . / only, e.g. /v1/chatqna');

  const tab: FlowNode = { id: newId(), type: 'tab', label, disabled: false, info: `Written by the OPEA sidebar's wizard: ${useCase.title}. POST ${useCase.request} to ${entryPath}.` };
  const z = tab.id;
  const servers = new Map<string, FlowNode>();
  const config: FlowNode[] = [];
  const stages: FlowNode[] = [];
  for (const role of useCase.stages) {
    const def = STAGES[role];
    const picked = choice.stages?.[role];
    const backend = backendsOf(def.kind).find((b) => b.backend === picked?.backend);
    if (!backend) {
      fail(def.title, `no backend '${oneLine(String(picked?.backend ?? ''), 30)}' for the ${def.title}`, `choose one of ${backendsOf(def.kind).map((b) => b.backend).join(', ')}`);
      continue;
    }
    const values: Record<string, unknown> = { z, name: def.title, backend: backend.backend };
    const model = typeof picked?.model === 'string' ? picked.model.trim() : '';
    if (backend.needsModel) {
      if (model === '') fail(def.title, `the ${backend.backend} backend needs a model`, `give a model id${backend.defaultModel ? `, e.g. ${backend.defaultModel}` : ''}`);
      values.model = model;
    }
    if (backend.deploy.type !== 'embedded') {
      const url = typeof picked?.url === 'string' ? picked.url.trim() : '';
      if (!isHttpUrl(url)) fail(def.title, `the server URL '${oneLine(url, 60)}' is not an http(s) URL`, `give the ${backend.title} server's URL, e.g. ${wizardBackend(backend).defaultUrl || 'http://localhost:8000'}`);
      else if (urlCredential(url)) fail(def.title, `the server URL carries ${urlCredential(url)}`, URL_CREDENTIAL_FIX);
      else {
        let server = servers.get(url);
        if (!server) {
          server = { id: newId(), type: 'opea-server', name: `${backend.backend} ${def.title}`, baseUrl: url, timeout: def.kind === 'llm' ? 300 : 60, retries: 2, backoff: 250, headers: '', verifyTls: true };
          servers.set(url, server);
          config.push(server);
        }
        values.server = server.id;
      }
    }
    if (def.kind === 'retriever' && backend.backend === 'memory') {
      const store = typeof picked?.store === 'string' ? picked.store : '';
      if (store !== '' && !stores.includes(store)) fail(def.title, `there is no vector store ${oneLine(store, 40)} in the editor`, 'choose one of the vector stores, or a new one');
      else if (store !== '') values.store = store;
      else {
        const created: FlowNode = { id: newId(), type: 'opea-vectorstore', name: `${label} store`, folder: '' };
        config.push(created);
        values.store = created.id;
      }
    }
    if (def.kind === 'guardrail') values.position = role === 'input-rail' ? 'input' : 'output';
    // The answer goes out through http response in one piece: nothing reads the stream chunks port.
    if (def.kind === 'llm') values.streaming = false;
    stages.push(stageNode(def.kind, values));
  }
  if (problems.length > 0) return { flow: [], problems };

  const entry: FlowNode = { id: newId(), type: 'http in', z, name: `POST ${entryPath}`, url: entryPath, method: 'post', upload: false, swaggerDoc: '' };
  const answer: FlowNode = { id: newId(), type: 'http response', z, name: 'answer', statusCode: '', headers: {} };
  const row = [entry, ...stages, answer];
  row.forEach((node, i) => {
    const next = row[i + 1];
    if (node === answer) node.wires = [];
    // A rail's second output is its refusal; the LLM's second is its stream chunks.
    else node.wires = node.type === 'opea-guardrail' || node.type === 'opea-llm' ? [[next.id], []] : [[next.id]];
  });

  const lower: FlowNode[][] = [];
  const rails = stages.filter((s) => s.type === 'opea-guardrail');
  if (rails.length > 0) {
    const refusal: FlowNode = { id: newId(), type: 'http response', z, name: 'refusal (403)', statusCode: '403', headers: {}, wires: [] };
    const refusalText: FlowNode = {
      id: newId(), type: 'change', z, name: 'answer with the refusal',
      rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"text": guardrail.violatedPolicies}', tot: 'jsonata' }],
      action: '', property: '', from: '', to: '', reg: false, wires: [[refusal.id]],
    };
    for (const rail of rails) (rail.wires as string[][])[1] = [refusalText.id];
    lower.push([refusalText, refusal]);
  }
  const errorAnswer: FlowNode = { id: newId(), type: 'http response', z, name: 'error answer', statusCode: '', headers: {}, wires: [] };
  const errorText: FlowNode = {
    id: newId(), type: 'change', z, name: 'error answer (400, or 502)',
    rules: [
      { t: 'set', p: 'statusCode', pt: 'msg', to: '$contains(error.message, "://") ? 502 : 400', tot: 'jsonata' },
      { t: 'set', p: 'payload', pt: 'msg', to: '{"error": $replace(error.message, /^Error: /, "")}', tot: 'jsonata' },
    ],
    action: '', property: '', from: '', to: '', reg: false, wires: [[errorAnswer.id]],
  };
  const caught: FlowNode = { id: newId(), type: 'catch', z, name: 'a node failed', scope: null, uncaught: false, wires: [[errorText.id]] };
  lower.push([caught, errorText, errorAnswer]);

  placeRow(row, 120, 40);
  lower.forEach((nodes, i) => placeRow(nodes, 200 + 80 * i, 40));
  return { flow: [tab, ...row, ...lower.flat(), ...config], problems: [] };
}
