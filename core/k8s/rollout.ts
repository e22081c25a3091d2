/**
 * Whether a Deployment has rolled out, decided as `kubectl rollout status` decides it
 * (kubernetes/kubectl pkg/polymorphichelpers/rollout_status.go, DeploymentStatusViewer): the
 * controller has seen the current generation (status.observedGeneration), every replica is updated,
 * no old replica is left, and every updated replica is available; a Progressing condition with reason
 * ProgressDeadlineExceeded is a failure.
 */

export interface DeploymentLike {
  metadata?: { name?: string; generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
  };
}

export interface RolloutState {
  name: string;
  ready: boolean;
  /** Set when the rollout will not finish on its own (its progress deadline passed). */
  failed?: string;
  /** "2 of 3 updated replicas available". */
  text: string;
  replicas: number;
  available: number;
}

export function rolloutState(d: DeploymentLike): RolloutState {
  const name = d.metadata?.name ?? '?';
  const replicas = d.spec?.replicas ?? 1;
  const status = d.status ?? {};
  const available = status.availableReplicas ?? 0;
  const base = { name, replicas, available };
  if ((status.observedGeneration ?? 0) < (d.metadata?.generation ?? 1)) return { ...base, ready: false, text: 'waiting for the Deployment controller to see the new spec' };
  const stalled = (status.conditions ?? []).find((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
  if (stalled) return { ...base, ready: false, failed: stalled.message || 'its progress deadline passed', text: `failed: ${stalled.message || 'progress deadline exceeded'}` };
  const updated = status.updatedReplicas ?? 0;
  if (updated < replicas) return { ...base, ready: false, text: `${updated} of ${replicas} replicas updated` };
  if ((status.replicas ?? 0) > updated) return { ...base, ready: false, text: `${(status.replicas ?? 0) - updated} old replicas pending termination` };
  if (available < updated) return { ...base, ready: false, text: `${available} of ${updated} updated replicas available` };
  return { ...base, ready: true, text: `${available} of ${replicas} replicas available` };
}
