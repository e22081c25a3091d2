/**
 * Deploys a GMConnector to a Kubernetes cluster with @kubernetes/client-node: the namespace and the
 * HF token Secret created when missing (prepare.ts); the CR applied server-side
 * (application/apply-patch+yaml, a field manager, force) with the ownership labels status and delete
 * look for; then, unless it is a dry run or timeoutMs is 0, the CR followed with client-node's
 * informer (follow.ts) until GMC's controller reports every service ready (see gmc-status.ts for what
 * status.status means).
 *
 * Every failure is a DeployError whose message says what is wrong and how to fix it. The HF token is
 * never put in a message or a progress text.
 */
import type * as K8s from '@kubernetes/client-node';
import { follow, gmConnectorSource } from './follow';
import { describeGmcStatus, isGmcReady, parseGmcStatus } from './gmc-status';
import { GMC_API_VERSION, GMC_GROUP, GMC_KIND, GMC_PLURAL, GMC_VERSION, ownershipLabels } from './names';
import { CommonDeployOptions, Created, deployRun, prepare, Progress } from './prepare';
import { Call, DeployError, NotFound, notInstalled, Session } from './session';

export { DeployError } from './session';
export type { DeployErrorKind } from './session';
export type { DeployProgress } from './prepare';

export interface DeployOptions extends CommonDeployOptions {
  connector: Record<string, unknown>; // the GMConnector object (apiVersion gmc.opea.io/v1alpha3, kind GMConnector, metadata.name/namespace)
}

export interface DeployResult {
  name: string;
  namespace: string;
  dryRun: boolean;
  ready: boolean;
  status?: string;
  accessUrl?: string;
  /** What this call created (in a dry run: what it would create). */
  created: Created;
}

/**
 * After an apply that changed an existing CR's spec, its status is the previous reconcile's until GMC
 * writes a new one (the CR has no observedGeneration). A ready status counts once the CR has changed
 * again after our apply, or once it has stayed ready this long.
 */
const STALE_STATUS_GRACE_MS = 15_000;

interface Target {
  name: string;
  namespace: string;
}

export function deployGmConnector(options: DeployOptions): Promise<DeployResult> {
  return deployRun(options, async (progress, k, fieldManager) => {
    const connector = checkConnector(options.connector);
    const dryRun = options.dryRun === true;
    const prepared = await prepare(k, options, fieldManager, connector.name, connector.namespace, progress);
    const { session, call, dry, created } = prepared;
    const target: Target = { name: connector.name, namespace: prepared.namespace };
    const metadata = options.connector.metadata as Record<string, unknown>;
    const body = { ...options.connector, metadata: { ...metadata, namespace: target.namespace, labels: { ...(metadata.labels as Record<string, string> | undefined), ...ownershipLabels(target.name) } } };
    const namespaceExists = prepared.namespaceExists;

    const crCall = (action: string, verb: string): Call => ({ action, verb, resource: GMC_PLURAL, group: GMC_GROUP, namespace: target.namespace, name: target.name, gmc: true });
    if (!namespaceExists) {
      // Dry run into a namespace that does not exist yet: the server cannot dry-run the apply, but it
      // can say whether GMC's resource type is there.
      try {
        const list = await call(crCall('looking up the GMConnector resource type', 'get'), () => session.custom.getAPIResources({ group: GMC_GROUP, version: GMC_VERSION }));
        if (!(list.resources ?? []).some((r) => r.kind === GMC_KIND)) throw notInstalled(session);
      } catch (err) {
        if (err instanceof NotFound) throw notInstalled(session);
        throw err;
      }
      progress('apply', `GMConnector ${target.namespace}/${target.name} would be applied (dry run); the server did not check it, because namespace ${target.namespace} does not exist yet — the GMConnector resource type is installed`);
      return { name: target.name, namespace: target.namespace, dryRun, ready: false, created };
    }

    let before: KubeObject | undefined;
    try {
      before = await call(crCall('reading the GMConnector', 'get'), () => session.objects.read(header(target)) as Promise<KubeObject>);
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
    }
    const applied = (await call(crCall('applying the GMConnector', 'patch'), () =>
      session.objects.patch(body as K8s.KubernetesObject, undefined, dry, fieldManager, true, session.k.PatchStrategy.ServerSideApply),
    )) as KubeObject;
    const changed = before === undefined || before.metadata?.generation !== applied.metadata?.generation;
    const verbText = before === undefined ? (dryRun ? 'would be created' : 'created') : changed ? (dryRun ? 'would be updated' : 'updated') : 'unchanged';
    progress('apply', `GMConnector ${target.namespace}/${target.name} ${verbText} (server-side apply, field manager ${fieldManager}${dryRun ? ', dry run' : ''})`);

    const current = before !== undefined && !changed ? applied : undefined;
    const result = (obj: KubeObject | undefined, ready: boolean): DeployResult => ({
      name: target.name,
      namespace: target.namespace,
      dryRun,
      ready,
      status: statusOf(obj),
      accessUrl: accessUrlOf(obj),
      created,
    });
    if (dryRun || options.timeoutMs === 0) {
      const ready = current !== undefined && isGmcReady(statusOf(current));
      if (!dryRun) progress(ready ? 'ready' : 'apply', `not waiting: ${describeGmcStatus(statusOf(applied))}${accessUrlOf(applied) ? `, access URL ${accessUrlOf(applied)}` : ''}`);
      return result(dryRun ? before : applied, ready);
    }

    const final = await waitUntilReady(session, target, options, progress, {
      staleResourceVersion: before !== undefined && changed ? applied.metadata?.resourceVersion : undefined,
    });
    return result(final, true);
  });
}

// ----------------------------------------------------------------------------------------- connector

function checkConnector(connector: Record<string, unknown>): { name: string; namespace?: string } {
  const fix = 'pass the GMConnector built by the GMC exporter (opea-flow export FLOW --target gmc writes one)';
  if (connector === null || typeof connector !== 'object' || Array.isArray(connector)) throw new DeployError('invalid', `the GMConnector is not an object — ${fix}`);
  if (connector.apiVersion !== GMC_API_VERSION) throw new DeployError('invalid', `the GMConnector's apiVersion is ${JSON.stringify(connector.apiVersion)}, not ${GMC_API_VERSION} — ${fix}`);
  if (connector.kind !== GMC_KIND) throw new DeployError('invalid', `the object's kind is ${JSON.stringify(connector.kind)}, not ${GMC_KIND} — ${fix}`);
  const metadata = connector.metadata as Record<string, unknown> | undefined;
  const name = metadata?.name;
  if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
    throw new DeployError('invalid', `the GMConnector's metadata.name ${JSON.stringify(name)} is not a Kubernetes name — ${fix}, or use lowercase letters, digits, '-' and '.'`);
  }
  const namespace = metadata?.namespace;
  if (namespace !== undefined && (typeof namespace !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63)) {
    throw new DeployError('invalid', `the GMConnector's metadata.namespace ${JSON.stringify(namespace)} is not a namespace name — use lowercase letters, digits and '-' (at most 63)`);
  }
  return { name, namespace: namespace as string | undefined };
}


const header = (t: Target) => ({ apiVersion: GMC_API_VERSION, kind: GMC_KIND, metadata: { name: t.name, namespace: t.namespace } });

interface KubeObject {
  metadata?: { name?: string; namespace?: string; generation?: number; resourceVersion?: string };
  status?: { status?: unknown; accessUrl?: unknown };
}

const statusOf = (o: KubeObject | undefined): string | undefined => (typeof o?.status?.status === 'string' && o.status.status !== '' ? o.status.status : undefined);
const accessUrlOf = (o: KubeObject | undefined): string | undefined => (typeof o?.status?.accessUrl === 'string' && o.status.accessUrl !== '' ? o.status.accessUrl : undefined);

// ------------------------------------------------------------------------------------------- waiting

interface WaitState {
  staleResourceVersion?: string;
}

/** Follows the one CR (a field-selected list and watch) until GMC reports every service ready. */
function waitUntilReady(session: Session, target: Target, options: DeployOptions, progress: Progress, state: WaitState): Promise<KubeObject> {
  const id = `${target.namespace}/${target.name}`;
  let last: KubeObject | undefined;
  let lastReported: string | undefined;
  let readySince: number | undefined;
  let freshAfterApply = state.staleResourceVersion === undefined;
  const lastSeen = () => describeGmcStatus(statusOf(last));
  return follow<K8s.KubernetesObject, KubeObject>(session, {
    what: `GMConnector ${id}`,
    ...gmConnectorSource(session, options.signal, target.namespace, target.name),
    deadline: Date.now() + options.timeoutMs,
    signal: options.signal,
    progress: (text) => progress('waiting', text),
    timeoutError: () =>
      new DeployError(
        'timeout',
        `GMConnector ${id} was not ready within ${Math.round(options.timeoutMs / 1000)} s; last seen ${lastSeen()}${accessUrlOf(last) ? `, access URL ${accessUrlOf(last)}` : ''} — GMC keeps deploying it: see which Deployment is not available with kubectl get gmc ${target.name} -n ${target.namespace} -o jsonpath='{.status.annotations}' and kubectl get pods -n ${target.namespace} (model downloads can take many minutes: wait longer)`,
      ),
    abortError: () =>
      new DeployError('aborted', `stopped waiting for GMConnector ${id}: aborted; last seen ${lastSeen()} — it stays applied and GMC keeps deploying it (opea-flow status ${target.name} -n ${target.namespace} follows it; opea-flow delete ${target.name} -n ${target.namespace} removes it)`),
    judge: (objects, recheckIn) => {
      const obj = objects.find((o) => o.metadata?.name === target.name) as KubeObject | undefined;
      if (!obj) throw new DeployError('conflict', `GMConnector ${id} was deleted while waiting for it to become ready — something else removed it; deploy again`);
      last = obj;
      const rv = obj.metadata?.resourceVersion;
      if (!freshAfterApply && rv !== undefined && rv !== state.staleResourceVersion) freshAfterApply = true;
      const status = statusOf(obj);
      const counts = parseGmcStatus(status);
      const text = `GMConnector ${id}: ${describeGmcStatus(status)}`;
      if (text !== lastReported) {
        lastReported = text;
        progress('waiting', text, counts ? { ready: counts.ready, total: counts.total } : undefined);
      }
      if (!isGmcReady(status)) {
        readySince = undefined;
        return undefined;
      }
      readySince ??= Date.now();
      const waited = Date.now() - readySince;
      if (!freshAfterApply && waited < STALE_STATUS_GRACE_MS) {
        recheckIn(STALE_STATUS_GRACE_MS - waited + 5);
        return undefined;
      }
      progress('ready', `GMConnector ${id} is ready: ${counts?.ready} of ${counts?.total} services${accessUrlOf(obj) ? `; it answers at ${accessUrlOf(obj)}` : ''}`, counts ? { ready: counts.ready, total: counts.total } : undefined);
      return obj;
    },
  });
}
