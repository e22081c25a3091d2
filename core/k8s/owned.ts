/**
 * What deploy put in a namespace for one pipeline, as status and delete find it: the GMConnector of
 * that name, and every object of the kinds a plain-manifest deploy applies that carries the
 * pipeline's ownership labels (names.ts); plus the namespace and the HF token Secret, which count as
 * deploy's only when they carry its created-for annotation.
 */
import type * as K8s from '@kubernetes/client-node';
import { CREATED_FOR_ANNOTATION, GMC_GROUP, GMC_PLURAL, GMC_VERSION, HF_TOKEN_SECRET, PIPELINE_LABEL, pipelineSelector } from './names';
import { DeployError, guarded, NotFound, Session } from './session';

/** The kinds a plain-manifest deploy applies, in the order delete removes them (Helm's uninstall order). */
export const OWNED_KINDS: readonly { apiVersion: string; kind: string; resource: string; group?: string }[] = [
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', resource: 'horizontalpodautoscalers', group: 'autoscaling' },
  { apiVersion: 'apps/v1', kind: 'Deployment', resource: 'deployments', group: 'apps' },
  { apiVersion: 'v1', kind: 'Service', resource: 'services' },
  { apiVersion: 'v1', kind: 'PersistentVolumeClaim', resource: 'persistentvolumeclaims' },
  { apiVersion: 'v1', kind: 'ConfigMap', resource: 'configmaps' },
  { apiVersion: 'v1', kind: 'Secret', resource: 'secrets' },
  { apiVersion: 'v1', kind: 'ServiceAccount', resource: 'serviceaccounts' },
];

export interface GmcObject extends K8s.KubernetesObject {
  status?: { status?: unknown; accessUrl?: unknown; condition?: { type?: string; reason?: string; message?: string }; annotations?: Record<string, string> };
}

export interface Owned {
  /** The GMConnector named after the pipeline, whoever applied it; undefined when there is none or GMC is not installed. */
  gmc?: GmcObject;
  gmcInstalled: boolean;
  /** Labelled objects, by kind, in OWNED_KINDS order. */
  objects: K8s.KubernetesObject[];
  /** Kinds that could not be listed, with why (a 403, ...). */
  unlisted: { kind: string; error: DeployError }[];
  /** Whether deploy created the namespace for this pipeline; undefined when it cannot be read. */
  namespaceCreated?: boolean;
  namespacePhase?: string;
  /** What the HF token Secret is to this pipeline. */
  hfTokenSecret: 'created by deploy' | 'not created by deploy' | 'absent' | 'unknown';
}

export const createdFor = (o: K8s.KubernetesObject | undefined, pipeline: string) => o?.metadata?.annotations?.[CREATED_FOR_ANNOTATION] === pipeline;
export const labelledFor = (o: K8s.KubernetesObject | undefined, pipeline: string) => o?.metadata?.labels?.[PIPELINE_LABEL] === pipeline;

export async function findOwned(session: Session, pipeline: string, namespace: string, signal?: AbortSignal): Promise<Owned> {
  const owned: Owned = { gmcInstalled: true, objects: [], unlisted: [], hfTokenSecret: 'unknown' };
  try {
    owned.gmc = (await guarded(session, signal, { action: 'reading the GMConnector', verb: 'get', resource: GMC_PLURAL, group: GMC_GROUP, namespace, name: pipeline, gmc: true }, () =>
      session.custom.getNamespacedCustomObject({ group: GMC_GROUP, version: GMC_VERSION, namespace, plural: GMC_PLURAL, name: pipeline }),
    )) as GmcObject;
  } catch (err) {
    if (err instanceof DeployError && err.kind === 'not-installed') owned.gmcInstalled = false;
    else if (!(err instanceof NotFound)) throw err;
  }
  const labelled = await listLabelled(session, pipeline, namespace, signal);
  owned.objects = labelled.objects;
  owned.unlisted = labelled.unlisted;
  try {
    const ns = await guarded(session, signal, { action: 'reading the namespace', verb: 'get', resource: 'namespaces', namespace }, () => session.core.readNamespace({ name: namespace }));
    owned.namespaceCreated = createdFor(ns, pipeline);
    owned.namespacePhase = ns.status?.phase;
  } catch (err) {
    if (err instanceof NotFound) throw new DeployError('not-found', `namespace ${namespace} does not exist — check --namespace (deploy printed the namespace it used)`);
    if (!(err instanceof DeployError && err.kind === 'forbidden')) throw err;
  }
  try {
    const secret = await guarded(session, signal, { action: 'reading the HF token Secret', verb: 'get', resource: 'secrets', namespace }, () => session.core.readNamespacedSecret({ name: HF_TOKEN_SECRET, namespace }));
    owned.hfTokenSecret = createdFor(secret, pipeline) ? 'created by deploy' : 'not created by deploy';
  } catch (err) {
    if (err instanceof NotFound) owned.hfTokenSecret = 'absent';
    else if (!(err instanceof DeployError && err.kind === 'forbidden')) throw err;
  }
  return owned;
}

/** The objects of OWNED_KINDS that carry the pipeline's labels, and the kinds that could not be listed (a 403, ...). */
export async function listLabelled(session: Session, pipeline: string, namespace: string, signal?: AbortSignal): Promise<Pick<Owned, 'objects' | 'unlisted'>> {
  const found: Pick<Owned, 'objects' | 'unlisted'> = { objects: [], unlisted: [] };
  const selector = pipelineSelector(pipeline);
  for (const kind of OWNED_KINDS) {
    try {
      const list = await guarded(session, signal, { action: `listing the ${kind.kind}s of ${pipeline}`, verb: 'list', resource: kind.resource, group: kind.group, namespace }, () =>
        session.objects.list(kind.apiVersion, kind.kind, namespace, undefined, undefined, undefined, undefined, selector),
      );
      found.objects.push(...list.items.map((o) => ({ ...o, apiVersion: kind.apiVersion, kind: kind.kind })));
    } catch (err) {
      if (err instanceof NotFound) continue; // the cluster does not serve this kind: nothing of it to find
      if (!(err instanceof DeployError) || err.kind === 'unreachable' || err.kind === 'unauthorized') throw err;
      found.unlisted.push({ kind: kind.kind, error: err });
    }
  }
  return found;
}

/** The error when nothing of the pipeline is in the namespace. */
export function nothingFound(pipeline: string, namespace: string): DeployError {
  return new DeployError('not-found', `nothing of pipeline ${pipeline} in namespace ${namespace}: no GMConnector ${pipeline} and no object labelled ${PIPELINE_LABEL}=${pipeline} — check the name and --namespace (deploy prints both in its result)`);
}
