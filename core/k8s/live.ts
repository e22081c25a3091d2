/**
 * Live readiness of a deployed pipeline, for a node's status dot: the GMConnector's ready/total (GMC)
 * or the pipeline's Deployments that have rolled out (plain manifests), followed with the informer
 * (follow.ts) until the signal aborts or the pipeline is deleted.
 */
import type * as K8s from '@kubernetes/client-node';
import { deploymentSource, follow, gmConnectorSource } from './follow';
import { isGmcReady, parseGmcStatus } from './gmc-status';
import { DEFAULT_FIELD_MANAGER, pipelineSelector } from './names';
import { rolloutState } from './rollout';
import { ClusterOptions, connect, DeployError, loadClient } from './session';

export interface Readiness {
  ready: number;
  total: number;
  accessUrl?: string;
  /** The pipeline is no longer in the cluster. */
  gone?: boolean;
}

export interface FollowReadinessOptions extends ClusterOptions {
  name: string;
  namespace: string;
  kind: 'gmc' | 'manifests';
  signal: AbortSignal;
}

/** The node status for a readiness: green when every service is ready, yellow while some are not, grey once deleted. */
export function readinessDot(r: Readiness): { fill: 'green' | 'yellow' | 'grey'; shape: 'dot' | 'ring'; text: string } {
  if (r.gone) return { fill: 'grey', shape: 'ring', text: 'deleted from the cluster' };
  if (r.total > 0 && r.ready === r.total) return { fill: 'green', shape: 'dot', text: r.accessUrl ? `ready · ${r.accessUrl}` : `ready ${r.ready}/${r.total}` };
  return { fill: 'yellow', shape: 'ring', text: `${r.ready}/${r.total} ready` };
}

/**
 * Calls onChange with every new readiness until options.signal aborts (resolves) or the pipeline is
 * deleted (onChange gets {gone: true}, then it resolves). Rejects with a DeployError when the cluster
 * refuses (rights, credentials); a cluster briefly away is waited for.
 */
export async function followReadiness(options: FollowReadinessOptions, onChange: (r: Readiness) => void): Promise<void> {
  const k = await loadClient();
  const session = connect(k, options, DEFAULT_FIELD_MANAGER, 'status');
  const { name, namespace, signal } = options;
  let last = '';
  const report = (r: Readiness): void => {
    const key = JSON.stringify(r);
    if (key !== last) {
      last = key;
      onChange(r);
    }
  };
  const gmc = options.kind === 'gmc';
  const quiet = () => new DeployError('aborted', 'stopped following');
  try {
    await follow<K8s.KubernetesObject, true>(session, {
      what: gmc ? `GMConnector ${namespace}/${name}` : `the Deployments of ${name} in ${namespace}`,
      ...(gmc ? gmConnectorSource(session, signal, namespace, name) : deploymentSource(session, signal, namespace, pipelineSelector(name))),
      deadline: Number.POSITIVE_INFINITY,
      signal,
      progress: () => undefined,
      timeoutError: quiet,
      abortError: quiet,
      judge: (objects) => {
        if (objects.length === 0) {
          report({ ready: 0, total: 0, gone: true });
          return true;
        }
        if (gmc) {
          const status = (objects[0] as { status?: { status?: unknown; accessUrl?: unknown } }).status;
          const counts = parseGmcStatus(status?.status);
          const accessUrl = typeof status?.accessUrl === 'string' && status.accessUrl !== '' ? status.accessUrl : undefined;
          report({ ready: counts?.ready ?? 0, total: counts?.total ?? 0, ...(isGmcReady(status?.status) && accessUrl ? { accessUrl } : {}) });
        } else {
          const states = objects.map((d) => rolloutState(d));
          report({ ready: states.filter((s) => s.ready).length, total: states.length });
        }
        return undefined;
      },
    });
  } catch (err) {
    if (err instanceof DeployError && err.kind === 'aborted') return;
    throw err;
  }
}
