/**
 * Reads the config of a GMConnector step against the downstream steps of its router node (the key
 * table is ./gmc-keys): which model server and vector DB it calls, its model and index, and a note for
 * every key the flow cannot hold, saying what the import does instead and how to make up for it.
 */
import { backendsOf } from '../catalog';
import { isHttpUrl } from '../flow-json';
import { Kind } from '../model';
import { oneLine } from '../problems';
import { GmcRouterNode as RouterNode, GmcStep as Step } from '../gmc-shape';
import { INDEX_KEYS, isFixedValue, MODEL_KEYS, Served, SERVER_KEYS, SERVING_STEPS, shown, stepPath, TEMPLATE_MODELS, TEMPLATE_MODELS_0_7, unplaced } from './gmc-keys';
import { isObject, own, text } from './common';

export interface Note {
  message: string;
  fix: string;
}

/** What a stage built from a step calls and reads. */
export interface StageUse {
  kind: Kind;
  /** The downstream steps it calls, by what they serve; with `model`, the first serves its model. */
  uses: readonly Served[];
  model: boolean;
  /** It reads an index name (INDEX_NAME). */
  index: boolean;
}

/** What holds for the whole CR: its namespace, and the models GMC deploys where a server names none. */
export interface Cluster {
  namespace: string;
  templateModels: Readonly<Record<string, string>>;
}

/** The router node a step sits in. */
export interface Place extends Cluster {
  nodeName: string;
  steps: Step[];
}

export interface Reading {
  /** The downstream steps it calls, by what they serve. */
  servers: Map<Served, Step>;
  /** Its model, when the stage has one and the CR names it (through its server, or on the step). */
  model?: string;
  indexName?: string;
  /** An http(s) model server outside the CR that its endpoint key names. */
  serverUrl?: string;
  notes: Note[];
}

const SERVER_TITLES: Record<Served, string> = { embedding: 'embedding model server', rerank: 'reranking model server', llm: 'LLM model server', vectordb: 'VectorDB' };

/** The key the exports write for each kind of downstream step: how to name one. */
const NAMING_KEYS: Record<Served, string> = { embedding: 'TEI_EMBEDDING_ENDPOINT', rerank: 'TEI_RERANKING_ENDPOINT', llm: 'TGI_LLM_ENDPOINT', vectordb: 'REDIS_URL' };

export const isDownstream = (s: Step): boolean => s.internalService?.isDownstreamService === true;

function config(step: Step): Record<string, string> {
  const raw = step.internalService?.config;
  const out: Record<string, string> = {};
  if (!isObject(raw)) return out;
  for (const [key, value] of Object.entries(raw)) if (typeof value === 'string') out[key] = value;
  return out;
}

const isModelKey = (key: string, kind: Served): boolean => {
  const of = own(MODEL_KEYS, key);
  return of === 'any' || of === kind;
};

/** The model a downstream step's config names. */
function namedModel(server: Step): string | undefined {
  const served = own(SERVING_STEPS, server.name);
  return Object.entries(config(server)).find(([key]) => served !== undefined && isModelKey(key, served))?.[1];
}

/** GMC 0.7 found model servers by step name, and its CRs name none: the only CRs where no step names one. */
export function clusterOf(graph: Record<string, RouterNode>, namespace: string): Cluster {
  const namesServers = Object.values(graph).some((node) => node.steps?.some((s) => Object.keys(config(s)).some((key) => own(SERVER_KEYS, key) !== undefined)));
  return { namespace, templateModels: namesServers ? TEMPLATE_MODELS : TEMPLATE_MODELS_0_7 };
}

/** The downstream step of that kind a value names: its serviceName, or a URL on its in-cluster host. */
function findServer(steps: Step[], value: string, kind: Served): Step | undefined {
  let host = value.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) {
    try {
      host = new URL(host).hostname;
    } catch {
      return undefined;
    }
  }
  return steps.find((s) => {
    const service = s.internalService?.serviceName;
    return isDownstream(s) && own(SERVING_STEPS, s.name) === kind && typeof service === 'string' && service !== '' && (host === service || host.startsWith(`${service}.`));
  });
}

const stepTitle = (s: Step): string => `${oneLine(text(s.internalService?.serviceName) ?? '?', 40)} (${oneLine(text(s.name) ?? '?', 30)})`;

function namespaceNote(step: Step, place: Place, whose: string): Note[] {
  const ns = step.internalService?.nameSpace;
  if (typeof ns !== 'string' || ns === '' || ns === place.namespace) return [];
  return [{ message: `${whose} runs in namespace '${oneLine(ns, 63)}', not the CR's: the export puts every service in the namespace it is given`, fix: 'export into that namespace with --namespace, or move the service there after export' }];
}

/**
 * Reads an executed step (or a DataPrep) that becomes a node: what it calls, its model (else
 * `defaultModel`, with a note) and index, and notes on the rest.
 */
export function readStep(step: Step, place: Place, use: StageUse, defaultModel?: string): Reading {
  const name = text(step.name) ?? '';
  const reading: Reading = { servers: new Map(), notes: namespaceNote(step, place, 'it') };
  const modelKind = use.model ? use.uses[0] : undefined;
  const named = new Set<Served>();
  const ownModels: [string, string][] = [];
  for (const [key, value] of Object.entries(config(step))) {
    const serves = own(SERVER_KEYS, key);
    if (key === 'endpoint') {
      const path = stepPath(name);
      if (path !== undefined && value !== path) {
        reading.notes.push({ message: `its endpoint is '${oneLine(value, 80)}', and the export writes the path of the ${name} service, '${path}': GMC's router would call that one`, fix: `serve the ${name} API at ${path}, or change the step's endpoint in the exported CR` });
      }
    } else if (serves !== undefined && use.uses.includes(serves)) {
      named.add(serves);
      const server = findServer(place.steps, value, serves);
      if (server) reading.servers.set(serves, server);
      else if (serves === modelKind && isHttpUrl(value) && !/\/\/[^/]*@/.test(value)) {
        reading.serverUrl = value;
        reading.notes.push(externalServer(key, value, use.kind));
      } else reading.notes.push(unresolved(key, value, serves, place.nodeName));
    } else if (modelKind !== undefined && isModelKey(key, modelKind)) {
      ownModels.push([key, value]);
    } else if (use.index && INDEX_KEYS.includes(key)) {
      reading.indexName = value;
    } else if (!isFixedValue(key, value)) {
      const { why, fix } = unplaced(key, 'the config of its step in the exported CR');
      reading.notes.push({ message: `config key ${shown(key, value)}: ${why}; the export leaves it out`, fix });
    }
  }
  // GMC 0.7 and the RFC's sample name no server on some steps: the only one of the kind in the node is it.
  for (const kind of use.uses) {
    if (named.has(kind)) continue;
    const only = place.steps.filter((s) => isDownstream(s) && own(SERVING_STEPS, s.name) === kind);
    if (only.length === 1) reading.servers.set(kind, only[0]);
  }
  if (modelKind !== undefined) {
    const server = reading.servers.get(modelKind);
    const served = server && (namedModel(server) ?? own(place.templateModels, server.name));
    reading.model = served ?? ownModels[0]?.[1];
    const model = reading.model;
    const from = served !== undefined ? `the model its server ${stepTitle(server as Step)} runs` : 'the model the node takes';
    for (const [key, value] of ownModels.filter(([, value]) => value !== model)) {
      reading.notes.push({ message: `config key ${shown(key, value)} differs from ${from}, '${oneLine(model as string, 100)}': the node takes that one`, fix: "set the node's model to the one the pipeline should run; the export writes it to the model server" });
    }
    if (reading.model === undefined && defaultModel !== undefined) {
      reading.model = defaultModel;
      // A server outside the CR has had its note, which says to set the model.
      if (reading.serverUrl === undefined) {
        const where = server ? `its model server ${stepTitle(server)} has no model key` : 'no model server step of its router node serves it';
        reading.notes.push({ message: `the CR names no model for it (${where}): the node takes the catalog's default '${defaultModel}'`, fix: "set the node's model to the model the pipeline should run" });
      }
    }
  }
  return reading;
}

function externalServer(key: string, value: string, kind: Kind): Note {
  const external = backendsOf(kind).filter((b) => b.deploy.type === 'external').map((b) => b.backend).join(' or ');
  return {
    message: `${shown(key, value)} is a model server outside the CR: the node calls it in the editor (through an opea-server config node), but the GMC export deploys a model server of its own for the node's model, as GMC 0.8 and later resolve ${key} only to a downstream step of the same router node`,
    fix: `set the node's model to the one that server runs${external ? `; to keep calling it from the cluster, run an OPEA ${kind} microservice against it and choose backend ${external} with that microservice's URL as externalUrl` : ''}`,
  };
}

function unresolved(key: string, value: string, serves: Served, nodeName: string): Note {
  const instead = serves === 'vectordb' ? 'no node setting holds a Redis address, and the export deploys a Redis for the retriever' : `the export wires it to the ${SERVER_TITLES[serves]} it deploys`;
  return {
    message: `${shown(key, value)} names no ${SERVER_TITLES[serves]} step of router node '${oneLine(nodeName, 40)}': ${instead}`,
    fix: serves === 'vectordb' ? 'ingest the documents into the exported pipeline (its POST /dataprep entry, or a dataprep node)' : `name a downstream ${SERVER_TITLES[serves]} step of the same router node by its serviceName`,
  };
}

/** Notes on the keys of a downstream step that a stage calls (its model, when some stage took it, is placed). */
export function serverNotes(server: Step, place: Place, modelTaken: boolean): Note[] {
  const served = own(SERVING_STEPS, server.name);
  const whose = `its downstream step ${stepTitle(server)}`;
  const notes = namespaceNote(server, place, whose);
  for (const [key, value] of Object.entries(config(server))) {
    if (key === 'endpoint' || (modelTaken && served !== undefined && isModelKey(key, served))) continue;
    if (served !== undefined && isModelKey(key, served)) {
      notes.push({ message: `${whose} has ${shown(key, value)}, but no stage takes its model from that step: the export deploys model servers for the nodes' own models`, fix: 'set that model on the node that should run it' });
      continue;
    }
    const { why, fix } = unplaced(key, `the config of its ${oneLine(text(server.name) ?? '', 30)} step in the exported CR`);
    notes.push({ message: `${whose} has config key ${shown(key, value)}: ${why}; the export leaves it out`, fix });
  }
  return notes;
}

/** A model server or vector DB step no step names or falls back to. */
export function unusedServer(server: Step): Note {
  const served = own(SERVING_STEPS, server.name) as Served;
  const model = namedModel(server);
  return {
    message: `downstream step ${stepTitle(server)} serves no stage: no step of its router node names it${model && served !== 'vectordb' ? `, so its model '${oneLine(model, 100)}' is not imported` : ''}; the import leaves it out`,
    fix: `name it in the config of the step it serves (${NAMING_KEYS[served]}: ${oneLine(text(server.internalService?.serviceName) ?? '', 40)}), or remove it`,
  };
}

/** The router's own config (GMC 0.6 samples set proxies there): the export writes none. */
export function routerConfigNotes(routerConfig: unknown): Note[] {
  const raw = isObject(routerConfig) && isObject(routerConfig.config) ? routerConfig.config : {};
  return Object.entries(raw).map(([key, value]) => {
    const { why, fix } = unplaced(key, 'spec.routerConfig.config in the exported CR');
    return { message: `the router's config key ${shown(key, String(value))}: ${why}; the export leaves it out`, fix };
  });
}
