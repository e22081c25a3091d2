/**
 * Deploys plain manifests (the Helm chart rendered with its default values) to a cluster without
 * helm or GMC: the namespace and the HF token Secret created when missing (prepare.ts); every object
 * applied server-side (field manager, force) in Helm's install order, carrying the ownership labels
 * status and delete look for; then, unless it is a dry run or timeoutMs is 0, the pipeline's
 * Deployments followed with client-node's informer until every one has rolled out (rollout.ts).
 */
import type * as K8s from '@kubernetes/client-node';
import { deploymentSource, follow } from './follow';
import { ENTRY_ANNOTATION, ownershipLabels, pipelineSelector, serviceUrl } from './names';
import { CommonDeployOptions, Created, deployRun, prepare, Progress } from './prepare';
import { rolloutState, RolloutState } from './rollout';
import { listLabelled, OWNED_KINDS } from './owned';
import { DeployError, guarded, NotFound, Session } from './session';

export interface ManifestDeployOptions extends CommonDeployOptions {
  /** The pipeline's name: every object is labelled with it, and status and delete find them by it. */
  name: string;
  namespace?: string;
  objects: readonly K8s.KubernetesObject[];
  /** The Service that is the pipeline's entry, and its port: the access URL. */
  entry?: { service: string; port: number };
}

export interface ManifestDeployResult {
  name: string;
  namespace: string;
  dryRun: boolean;
  ready: boolean;
  applied: string[];
  deployments: { name: string; ready: boolean; text: string }[];
  accessUrl?: string;
  created: Created;
}

/** Helm's install order (pkg/release/util/kind_sorter.go, InstallOrder), for the kinds a chart of ours can hold; other kinds go last. */
const INSTALL_ORDER = ['Namespace', 'ServiceAccount', 'Secret', 'ConfigMap', 'PersistentVolumeClaim', 'Role', 'RoleBinding', 'Service', 'Deployment', 'HorizontalPodAutoscaler', 'StatefulSet', 'Job', 'Ingress'];
const rank = (kind: string | undefined) => {
  const i = INSTALL_ORDER.indexOf(kind ?? '');
  return i < 0 ? INSTALL_ORDER.length : i;
};

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const label = (o: K8s.KubernetesObject) => `${o.kind} ${o.metadata?.name}`;

function checkObjects(objects: readonly K8s.KubernetesObject[]): void {
  const fix = 'pass the manifests of the Helm export (opea-flow deploy FLOW --target helm --apply builds them)';
  if (objects.length === 0) throw new DeployError('invalid', `there are no manifests to apply — ${fix}`);
  const seen = new Set<string>();
  for (const [i, o] of objects.entries()) {
    if (typeof o?.apiVersion !== 'string' || typeof o.kind !== 'string' || typeof o.metadata?.name !== 'string') {
      throw new DeployError('invalid', `manifest ${i + 1} has no apiVersion, kind or metadata.name — ${fix}`);
    }
    if (!NAME.test(o.metadata.name)) throw new DeployError('invalid', `${label(o)}: the name is not a Kubernetes name — use lowercase letters, digits, '-' and '.'`);
    if (o.kind === 'Namespace') throw new DeployError('invalid', `${label(o)}: the manifests may not hold a Namespace — give the namespace with --namespace instead`);
    const key = `${o.apiVersion}/${o.kind}/${o.metadata.name}`;
    if (seen.has(key)) throw new DeployError('invalid', `${label(o)} appears twice in the manifests — each object once`);
    seen.add(key);
  }
}

export function deployManifests(options: ManifestDeployOptions): Promise<ManifestDeployResult> {
  return deployRun(options, async (progress, k, fieldManager) => {
    if (!NAME.test(options.name) || options.name.length > 63) throw new DeployError('invalid', `the pipeline name ${JSON.stringify(options.name)} is not a label value — use lowercase letters, digits and '-' (at most 63)`);
    checkObjects(options.objects);
    const dryRun = options.dryRun === true;
    const prepared = await prepare(k, options, fieldManager, options.name, options.namespace, progress);
    const { session, call, dry, created, namespace } = prepared;
    const objects = [...options.objects].sort((a, b) => rank(a.kind) - rank(b.kind)).map((o) => marked(o, options, namespace));
    const deployments = objects.filter((o) => o.kind === 'Deployment' && o.apiVersion === 'apps/v1').map((o) => o.metadata?.name as string);
    const accessUrl = options.entry ? serviceUrl(options.entry.service, namespace, options.entry.port) : undefined;
    const result = (ready: boolean, states: RolloutState[]): ManifestDeployResult => ({
      name: options.name,
      namespace,
      dryRun,
      ready,
      applied: objects.map(label),
      deployments: states.map((s) => ({ name: s.name, ready: s.ready, text: s.text })),
      ...(accessUrl ? { accessUrl } : {}),
      created,
    });

    if (!prepared.namespaceExists) {
      progress('apply', `${objects.length} objects would be applied (dry run); the server did not check them, because namespace ${namespace} does not exist yet`);
      return result(false, []);
    }
    const applied: string[] = [];
    for (const object of objects) {
      prepared.aborted();
      try {
        await call({ action: `applying ${label(object)}`, verb: 'patch', resource: object.kind as string, namespace, name: object.metadata?.name }, () =>
          session.objects.patch(object, undefined, dry, fieldManager, true, session.k.PatchStrategy.ServerSideApply),
        );
      } catch (err) {
        if (!(err instanceof DeployError) || applied.length === 0) throw err;
        throw new DeployError(err.kind, `${err.message} (${applied.length} of ${objects.length} objects were applied before it: ${applied.join(', ')}; they stay — fix this and deploy again, or remove them with opea-flow delete ${options.name} -n ${namespace})`);
      }
      applied.push(label(object));
      progress('apply', `${label(object)} applied to ${namespace} (server-side apply, field manager ${fieldManager}${dryRun ? ', dry run' : ''})`);
    }
    await prune(session, options, namespace, objects, dry, progress);
    if (dryRun || options.timeoutMs === 0 || deployments.length === 0) return result(false, []);
    const states = await waitForRollout(session, options, namespace, deployments, progress);
    if (accessUrl) progress('ready', `${options.name} answers at ${accessUrl}`);
    return result(true, states);
  });
}

/**
 * Deletes what an earlier deploy of the pipeline applied and these manifests no longer hold (a node
 * removed from the flow), as `kubectl apply --prune -l` does. Secrets are never pruned: the only one
 * deploy labels is the HF token Secret, which is not in the manifests.
 */
async function prune(session: Session, options: ManifestDeployOptions, namespace: string, objects: K8s.KubernetesObject[], dry: 'All' | undefined, progress: Progress): Promise<void> {
  const wanted = new Set(objects.map((o) => `${o.kind}/${o.metadata?.name}`));
  const { objects: labelled, unlisted } = await listLabelled(session, options.name, namespace, options.signal);
  for (const u of unlisted) progress('apply', `could not look for ${u.kind}s the manifests no longer hold, so none was removed: ${u.error.message.split(' — ')[0]}`);
  for (const o of labelled) {
    if (o.kind === 'Secret' || wanted.has(`${o.kind}/${o.metadata?.name}`)) continue;
    const name = o.metadata?.name as string;
    const kind = OWNED_KINDS.find((k) => k.kind === o.kind);
    try {
      await guarded(session, options.signal, { action: `removing ${o.kind} ${name}, which the manifests no longer hold`, verb: 'delete', resource: kind?.resource ?? String(o.kind), group: kind?.group, namespace, name }, () =>
        session.objects.delete({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name, namespace } } as K8s.KubernetesObject, undefined, dry, undefined, undefined, 'Background'),
      );
    } catch (err) {
      if (err instanceof NotFound) continue;
      throw err;
    }
    progress('apply', `${o.kind} ${name} removed from ${namespace}: the manifests no longer hold it${dry ? ' (dry run)' : ''}`);
  }
}

/** The object as applied: in the namespace, with the ownership labels, the entry Service marked. */
function marked(o: K8s.KubernetesObject, options: ManifestDeployOptions, namespace: string): K8s.KubernetesObject {
  const metadata = o.metadata ?? {};
  const entry = o.kind === 'Service' && metadata.name === options.entry?.service;
  return {
    ...o,
    metadata: {
      ...metadata,
      namespace,
      labels: { ...metadata.labels, ...ownershipLabels(options.name) },
      ...(entry ? { annotations: { ...metadata.annotations, [ENTRY_ANNOTATION]: String(options.entry?.port) } } : {}),
    },
  };
}

/** Follows the pipeline's Deployments (a label-selected list and watch) until every one has rolled out. */
function waitForRollout(session: Session, options: ManifestDeployOptions, namespace: string, names: string[], progress: Progress): Promise<RolloutState[]> {
  let states: RolloutState[] = [];
  let lastReported = '';
  const selector = pipelineSelector(options.name);
  const pending = () => states.filter((s) => !s.ready).map((s) => `${s.name} (${s.text})`);
  return follow<K8s.KubernetesObject, RolloutState[]>(session, {
    what: `the Deployments of ${options.name} in ${namespace}`,
    ...deploymentSource(session, options.signal, namespace, selector),
    deadline: Date.now() + options.timeoutMs,
    signal: options.signal,
    progress: (text) => progress('waiting', text),
    timeoutError: () =>
      new DeployError(
        'timeout',
        `the Deployments of ${options.name} in ${namespace} were not all available within ${Math.round(options.timeoutMs / 1000)} s; waiting for ${pending().join(', ') || 'the first reading'} — they stay applied and keep starting: kubectl describe deployment NAME -n ${namespace} and kubectl get pods -n ${namespace} say why (model downloads can take many minutes: opea-flow status ${options.name} -n ${namespace} follows them)`,
      ),
    abortError: () => new DeployError('aborted', `stopped waiting for the Deployments of ${options.name} in ${namespace}: aborted; ${pending().length} not available yet — they stay applied (opea-flow status ${options.name} -n ${namespace} follows them; opea-flow delete ${options.name} -n ${namespace} removes them)`),
    judge: (objects) => {
      states = names.map((name) => {
        const d = objects.find((o) => o.metadata?.name === name);
        if (!d) throw new DeployError('conflict', `Deployment ${name} in ${namespace} was deleted while waiting for it to roll out — something else removed it; deploy again`);
        return rolloutState(d);
      });
      const failed = states.find((s) => s.failed);
      if (failed) throw new DeployError('timeout', `Deployment ${failed.name} in ${namespace} will not roll out: ${failed.failed} — kubectl describe deployment ${failed.name} -n ${namespace} and kubectl get pods -n ${namespace} -l app.kubernetes.io/name=${failed.name} say why`);
      const ready = states.filter((s) => s.ready).length;
      const text = `Deployments of ${options.name}: ${ready} of ${states.length} available${ready < states.length ? `; waiting for ${pending().join(', ')}` : ''}`;
      if (text !== lastReported) {
        lastReported = text;
        progress(ready === states.length ? 'ready' : 'waiting', text, { ready, total: states.length });
      }
      return ready === states.length ? states : undefined;
    },
  });
}
