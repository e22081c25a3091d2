/**
 * `opea-flow status`: what a pipeline deployed with opea-flow deploy is doing now. For GMC, the
 * GMConnector's status (ready/external/total), its condition, the Deployments GMC lists in
 * status.annotations, and its accessUrl; for plain manifests, each Deployment's rollout (rollout.ts),
 * the Services, and the access URL of the entry Service deploy marked.
 */
import type * as K8s from '@kubernetes/client-node';
import { describeGmcStatus, isGmcReady } from './gmc-status';
import { DEFAULT_FIELD_MANAGER, ENTRY_ANNOTATION, serviceUrl } from './names';
import { findOwned, GmcObject, nothingFound, Owned } from './owned';
import { rolloutState } from './rollout';
import { ClusterOptions, connect, DeployError, firstLine, loadClient } from './session';

export interface StatusOptions extends ClusterOptions {
  name: string;
  /** Default: the pipeline's name, as deploy's default namespace. */
  namespace?: string;
  signal?: AbortSignal;
}

export interface PipelineStatus {
  name: string;
  namespace: string;
  ready: boolean;
  accessUrl?: string;
  gmc?: {
    status?: string;
    text: string;
    ready: boolean;
    condition?: { type?: string; reason?: string; message?: string };
    /** The Deployments GMC created and their replicas, as it reports them in status.annotations. */
    deployments: { name: string; text: string }[];
  };
  deployments: { name: string; ready: boolean; text: string }[];
  services: { name: string; type: string; clusterIP?: string; ports: number[] }[];
  configMaps: string[];
  /** Kinds that could not be listed, and why. */
  unlisted: { kind: string; error: string }[];
  namespaceCreatedByDeploy?: boolean;
  namespacePhase?: string;
  hfTokenSecret: Owned['hfTokenSecret'];
}

export async function pipelineStatus(options: StatusOptions): Promise<PipelineStatus> {
  try {
    const k = await loadClient();
    const session = connect(k, options, DEFAULT_FIELD_MANAGER, 'status');
    const namespace = options.namespace ?? options.name;
    const owned = await findOwned(session, options.name, namespace, options.signal);
    if (!owned.gmc && owned.objects.length === 0) {
      if (owned.unlisted.length > 0) throw owned.unlisted[0].error;
      throw nothingFound(options.name, namespace);
    }
    const of = (kind: string) => owned.objects.filter((o) => o.kind === kind);
    const deployments = of('Deployment').map((d) => rolloutState(d));
    const services = of('Service') as (K8s.KubernetesObject & { spec?: { type?: string; clusterIP?: string; ports?: { port?: number }[] } })[];
    const entry = services.find((s) => s.metadata?.annotations?.[ENTRY_ANNOTATION] !== undefined);
    const gmc = owned.gmc ? gmcStatus(owned.gmc) : undefined;
    const accessUrl = gmc ? stringOr(owned.gmc?.status?.accessUrl) : entry ? serviceUrl(entry.metadata?.name as string, namespace, Number(entry.metadata?.annotations?.[ENTRY_ANNOTATION])) : undefined;
    return {
      name: options.name,
      namespace,
      ready: gmc ? gmc.ready : deployments.length > 0 && deployments.every((d) => d.ready),
      ...(accessUrl ? { accessUrl } : {}),
      ...(gmc ? { gmc } : {}),
      deployments: deployments.map((d) => ({ name: d.name, ready: d.ready, text: d.text })),
      services: services.map((s) => ({ name: s.metadata?.name as string, type: s.spec?.type ?? 'ClusterIP', ...(s.spec?.clusterIP ? { clusterIP: s.spec.clusterIP } : {}), ports: (s.spec?.ports ?? []).map((p) => Number(p.port)) })),
      configMaps: of('ConfigMap').map((c) => c.metadata?.name as string),
      unlisted: owned.unlisted.map((u) => ({ kind: u.kind, error: u.error.message })),
      ...(owned.namespaceCreated !== undefined ? { namespaceCreatedByDeploy: owned.namespaceCreated } : {}),
      ...(owned.namespacePhase ? { namespacePhase: owned.namespacePhase } : {}),
      hfTokenSecret: owned.hfTokenSecret,
    };
  } catch (err) {
    if (err instanceof DeployError) throw err;
    throw new DeployError('server', `unexpected failure: ${firstLine(err)} — this is a bug of node-red-contrib-opea if it persists; please report it`);
  }
}

const stringOr = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function gmcStatus(cr: GmcObject): NonNullable<PipelineStatus['gmc']> {
  const status = stringOr(cr.status?.status);
  // GMC keys its annotations "<Kind>:<apiVersion>:<name>:<namespace>" and writes a Deployment's as
  // "Replicas: 1 desired | 1 updated | 1 total | 1 available | 0 unavailable\nConditions: ..."
  // (GenAIInfra microservices-connector internal/controller/gmconnector_controller.go, collectResourceStatus).
  const deployments = Object.entries(cr.status?.annotations ?? {})
    .filter(([key]) => key.startsWith('Deployment:'))
    .map(([key, value]) => ({ name: key.split(':')[2] ?? key, text: String(value).split('\n')[0] }));
  const condition = cr.status?.condition;
  return {
    ...(status ? { status } : {}),
    text: describeGmcStatus(status),
    ready: isGmcReady(status),
    ...(condition && (condition.type || condition.message) ? { condition: { type: condition.type, reason: condition.reason, message: condition.message } } : {}),
    deployments,
  };
}
