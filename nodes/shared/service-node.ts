/**
 * What every opea- service node shares: its settings read and checked with the same rules the
 * exporters use, its config nodes resolved, and one input handler that ends every message in
 * send + done() or done(err), with a status that says what happened.
 */
import { performance } from 'node:perf_hooks';
import { findBackend } from '../../core/catalog';
import { coerceParam } from '../../core/flow-json';
import { migrateNode } from '../../core/migrations';
import { nodeTypeSpec } from '../../core/node-types';
import { ContractError } from '../../core/contract/documents';
import { Endpoint, ServiceError } from '../../core/clients/endpoint';
import { IndexDirectory } from '../../core/embedded/index-directory';
import { ParamValue } from '../../core/model';
import { Done, Msg, NodeConfig, Red, RedNode, Send } from './red';
import { describeNode, observeMessage, observing } from './telemetry';

export interface ServerNode {
  endpoint(): Endpoint;
}

export interface StoreNode {
  indexes: IndexDirectory;
}

export interface ServiceSettings {
  backend: string;
  model?: string;
  params: Record<string, ParamValue>;
}

/** Reads and checks a node's settings; returns the problems in words a user can act on. */
export function readSettings(type: string, saved: NodeConfig): { settings: ServiceSettings; problems: string[] } {
  const config = migrateNode(saved);
  const spec = nodeTypeSpec(type);
  if (!spec) throw new Error(`no node type spec for ${type}`);
  const problems: string[] = [];
  const backend = typeof config.backend === 'string' ? config.backend : '';
  const def = findBackend(spec.kind, backend);
  if (!def) problems.push(`unknown backend '${backend}'`);
  const params: Record<string, ParamValue> = {};
  for (const p of spec.params) {
    const result = coerceParam(p, config[p.key]);
    if ('error' in result) problems.push(`${p.key} ${result.error}`);
    else params[p.key] = result.value;
  }
  const model = typeof config.model === 'string' && config.model.trim() !== '' ? config.model.trim() : def?.defaultModel;
  describeNode(saved.id, { backend: backend || undefined, model });
  return { settings: { backend, model, params }, problems };
}

/** The label Node-RED shows for a node: its name, else its type. */
export function labelOf(node: { name?: unknown; type: string }): string {
  return typeof node.name === 'string' && node.name.trim() !== '' ? node.name : node.type;
}

export function errorText(err: unknown): string {
  if (err instanceof ServiceError || err instanceof ContractError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

export function shortStatus(text: string): string {
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

/** A config node this node references, with a clear problem when it is missing. */
export function configNode<T>(RED: Red, id: unknown, what: string): T | undefined {
  if (typeof id !== 'string' || id === '') return undefined;
  const node = RED.nodes.getNode(id) as T | null;
  if (!node) throw new ContractError(`its ${what} config node ${id} is not deployed`, `open the node and choose a ${what}`);
  return node;
}

export interface WorkResult {
  status: string;
  metrics?: Record<string, unknown>;
  /** Output 2 instead of output 1 (a rail's block), shown as a yellow ring. */
  second?: boolean;
}

export type Work = (msg: Msg, signal: AbortSignal, send: Send) => Promise<WorkResult>;

/**
 * Runs `work` for each message: status while working, the result's status after, errors in the
 * status and done(err). In-flight calls are cancelled when the node is closed (redeploy, stop).
 * `claim` takes the messages that are replies to the node's own work (it ends them itself).
 */
export function handleInput(node: RedNode, kind: string, problems: string[], work: Work, claim?: (msg: Msg, done: Done) => boolean): void {
  const inflight = new Set<AbortController>();
  if (problems.length > 0) node.status({ fill: 'red', shape: 'ring', text: shortStatus(`invalid: ${problems[0]}`) });
  node.on('input', (msg, send, done) => {
    if (claim?.(msg, done)) return;
    const observation = observing() ? observeMessage(node, labelOf(node), kind, msg) : undefined;
    if (problems.length > 0) {
      const err = new Error(`${labelOf(node)} (${node.id}): ${problems.join('; ')} — fix the node's settings and deploy again`);
      observation?.failed(err, 'invalid_settings');
      done(err);
      return;
    }
    const controller = new AbortController();
    inflight.add(controller);
    node.status({ fill: 'blue', shape: 'dot', text: inflight.size > 1 ? `working (${inflight.size})` : 'working' });
    const started = performance.now();
    (observation ? observation.run(() => work(msg, controller.signal, send)) : work(msg, controller.signal, send))
      .then(({ status, metrics, second }) => {
        observation?.succeeded(metrics, second === true, msg.guardrail);
        const ms = performance.now() - started;
        const previous = msg.metrics && typeof msg.metrics === 'object' ? (msg.metrics as Record<string, unknown>) : {};
        msg.metrics = { ...previous, [kind]: { ms, ...metrics } };
        node.status({ fill: second ? 'yellow' : 'green', shape: second ? 'ring' : 'dot', text: shortStatus(`${status} · ${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`) });
        send(second ? [null, msg] : msg);
        done();
      })
      .catch((err: unknown) => {
        observation?.failed(err);
        node.status({ fill: 'red', shape: 'ring', text: shortStatus(errorText(err)) });
        done(new Error(`${labelOf(node)} (${node.id}): ${errorText(err)}`));
      })
      .finally(() => inflight.delete(controller));
  });
  node.on('close', (_removed, closed) => {
    for (const c of inflight) c.abort();
    inflight.clear();
    node.status({});
    closed();
  });
}

/** The endpoint of the node's opea-server, or undefined when none is chosen (embedded backends). */
export function endpointOf(RED: Red, serverId: unknown): Endpoint | undefined {
  return configNode<ServerNode>(RED, serverId, 'server')?.endpoint();
}

/** The indexes of the node's opea-vectorstore, or undefined when none is chosen. */
export function indexesOf(RED: Red, storeId: unknown): IndexDirectory | undefined {
  return configNode<StoreNode>(RED, storeId, 'vector store')?.indexes;
}
