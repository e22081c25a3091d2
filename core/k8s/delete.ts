/**
 * `opea-flow delete`: removes what deploy created for a pipeline and nothing else — the GMConnector
 * and the objects that carry the pipeline's ownership labels (owned.ts), the HF token Secret only
 * when deploy created it, and the namespace only when deploy created it for this pipeline and
 * nothing else is left in it. Each object is deleted on its own (propagationPolicy Background: the
 * garbage collector removes ReplicaSets, Pods and GMC's Deployments after it), and a failure of one
 * is reported for that object while the others go on.
 */
import type * as K8s from '@kubernetes/client-node';
import { DEFAULT_FIELD_MANAGER, GMC_GROUP, GMC_PLURAL, GMC_VERSION, PIPELINE_LABEL } from './names';
import { findOwned, labelledFor, nothingFound, OWNED_KINDS } from './owned';
import { Call, ClusterOptions, connect, DeployError, firstLine, guarded, loadClient, NotFound, Session } from './session';

export interface DeleteOptions extends ClusterOptions {
  name: string;
  /** Default: the pipeline's name, as deploy's default namespace. */
  namespace?: string;
  /** Server-side dry run: every DELETE carries dryRun=All, nothing is removed. */
  dryRun?: boolean;
  signal?: AbortSignal;
  onProgress?: (text: string) => void;
}

export interface DeleteOutcome {
  /** "Deployment llm", "GMConnector chatqna", "Namespace chatqna". */
  object: string;
  outcome: 'deleted' | 'already gone' | 'kept' | 'failed';
  /** Why it was kept, or what failed and how to fix it. */
  reason?: string;
}

export interface DeleteResult {
  name: string;
  namespace: string;
  dryRun: boolean;
  outcomes: DeleteOutcome[];
  /** How many objects could not be deleted (see their outcome's reason). */
  failed: number;
}

/** Namespaced objects every namespace holds, which do not make a namespace "in use". */
const NAMESPACE_DEFAULTS = new Set(['ConfigMap kube-root-ca.crt', 'ServiceAccount default', 'Service kubernetes']);

export async function deletePipeline(options: DeleteOptions): Promise<DeleteResult> {
  try {
    const k = await loadClient();
    const session = connect(k, options, DEFAULT_FIELD_MANAGER, 'delete');
    const namespace = options.namespace ?? options.name;
    return await remove(session, options, namespace);
  } catch (err) {
    if (err instanceof DeployError) throw err;
    throw new DeployError('server', `unexpected failure: ${firstLine(err)} — this is a bug of node-red-contrib-opea if it persists; please report it`);
  }
}

async function remove(session: Session, options: DeleteOptions, namespace: string): Promise<DeleteResult> {
  const dryRun = options.dryRun === true;
  const dry = dryRun ? 'All' : undefined;
  const say = (text: string) => options.onProgress?.(text);
  const owned = await findOwned(session, options.name, namespace, options.signal);
  if (!owned.gmc && owned.objects.length === 0 && owned.unlisted.length === 0) throw nothingFound(options.name, namespace);
  const outcomes: DeleteOutcome[] = owned.unlisted.map((u) => ({ object: `${u.kind}s of ${options.name}`, outcome: 'failed', reason: `could not list them: ${u.error.message}` }));
  const record = (o: DeleteOutcome) => {
    outcomes.push(o);
    say(`${o.object}: ${o.outcome}${dryRun && o.outcome === 'deleted' ? ' (dry run)' : ''}${o.reason ? ` — ${o.reason}` : ''}`);
  };

  const deleteOne = async (object: string, what: Call, run: () => Promise<unknown>): Promise<void> => {
    try {
      await guarded(session, options.signal, what, run);
      record({ object, outcome: 'deleted' });
    } catch (err) {
      if (err instanceof NotFound) return record({ object, outcome: 'already gone' });
      if (!(err instanceof DeployError) || err.kind === 'aborted') throw err;
      record({ object, outcome: 'failed', reason: err.message });
    }
  };

  for (const kind of OWNED_KINDS) {
    for (const o of owned.objects.filter((x) => x.kind === kind.kind)) {
      const name = o.metadata?.name as string;
      await deleteOne(`${kind.kind} ${name}`, { action: `deleting ${kind.kind} ${name}`, verb: 'delete', resource: kind.resource, group: kind.group, namespace, name }, () =>
        session.objects.delete({ apiVersion: kind.apiVersion, kind: kind.kind, metadata: { name, namespace } } as K8s.KubernetesObject, undefined, dry, undefined, undefined, 'Background'),
      );
    }
  }

  if (owned.gmc) {
    const object = `GMConnector ${options.name}`;
    if (!labelledFor(owned.gmc, options.name)) {
      record({ object, outcome: 'kept', reason: `it does not carry the label ${PIPELINE_LABEL}=${options.name} that opea-flow deploy sets, so it was applied by something else — kubectl delete gmc ${options.name} -n ${namespace} removes it if you mean to` });
    } else {
      await deleteOne(object, { action: `deleting GMConnector ${options.name}`, verb: 'delete', resource: GMC_PLURAL, group: GMC_GROUP, namespace, name: options.name, gmc: true }, () =>
        session.custom.deleteNamespacedCustomObject({ group: GMC_GROUP, version: GMC_VERSION, namespace, plural: GMC_PLURAL, name: options.name, propagationPolicy: 'Background', dryRun: dry }),
      );
    }
  }

  if (owned.hfTokenSecret === 'not created by deploy') record({ object: 'Secret hf-token', outcome: 'kept', reason: 'deploy did not create it (it was there before): an existing Secret is never deleted' });

  const object = `Namespace ${namespace}`;
  if (owned.namespaceCreated === true) {
    const failed = outcomes.filter((o) => o.outcome === 'failed').length;
    const others = failed > 0 ? [] : await othersIn(session, options, namespace, owned.gmcInstalled);
    if (failed > 0) {
      record({ object, outcome: 'kept', reason: `deploy created it, but ${failed} object${failed === 1 ? '' : 's'} of the pipeline could not be deleted: fix that and run delete again` });
    } else if (others.length > 0) {
      record({ object, outcome: 'kept', reason: `deploy created it, but it holds other objects now (${others.slice(0, 5).join(', ')}${others.length > 5 ? ', ...' : ''}) — kubectl delete namespace ${namespace} removes it with them` });
    } else {
      await deleteOne(object, { action: `deleting namespace ${namespace}`, verb: 'delete', resource: 'namespaces', namespace }, () => session.core.deleteNamespace({ name: namespace, dryRun: dry, propagationPolicy: 'Background' }));
    }
  } else if (owned.namespaceCreated === false) {
    record({ object, outcome: 'kept', reason: 'deploy did not create it' });
  }
  return { name: options.name, namespace, dryRun, outcomes, failed: outcomes.filter((o) => o.outcome === 'failed').length };
}

/** What is in the namespace that is not this pipeline's (after its own objects were deleted). */
async function othersIn(session: Session, options: DeleteOptions, namespace: string, gmcInstalled: boolean): Promise<string[]> {
  const others: string[] = [];
  for (const kind of OWNED_KINDS) {
    try {
      const list = await guarded(session, options.signal, { action: `listing the ${kind.kind}s left in the namespace`, verb: 'list', resource: kind.resource, group: kind.group, namespace }, () => session.objects.list(kind.apiVersion, kind.kind, namespace));
      for (const o of list.items) {
        const label = `${kind.kind} ${o.metadata?.name}`;
        // Ours are still listed for a moment while the garbage collector removes them in the
        // background, and so are their dependents (GMC's Deployments): those have owner references.
        if (!labelledFor(o, options.name) && !NAMESPACE_DEFAULTS.has(label) && !(o.metadata?.ownerReferences ?? []).length) others.push(label);
      }
    } catch (err) {
      if (err instanceof NotFound) continue;
      if (!(err instanceof DeployError)) throw err;
      return [`${kind.kind}s, which could not be listed (${err.message.split(' — ')[0]})`];
    }
  }
  if (gmcInstalled) {
    try {
      const list = (await guarded(session, options.signal, { action: 'listing the GMConnectors left in the namespace', verb: 'list', resource: GMC_PLURAL, group: GMC_GROUP, namespace, gmc: true }, () =>
        session.custom.listNamespacedCustomObject({ group: GMC_GROUP, version: GMC_VERSION, namespace, plural: GMC_PLURAL }),
      )) as K8s.KubernetesListObject<K8s.KubernetesObject>;
      for (const o of list.items) if (!labelledFor(o, options.name)) others.push(`GMConnector ${o.metadata?.name}`);
    } catch (err) {
      if (!(err instanceof DeployError)) throw err;
      return [`GMConnectors, which could not be listed (${err.message.split(' — ')[0]})`];
    }
  }
  return others;
}
