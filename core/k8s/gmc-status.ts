/**
 * What GMC's controller reports on a GMConnector (GenAIInfra microservices-connector,
 * internal/controller/gmconnector_controller.go): `status.status` is "<ready>/<external>/<total>",
 * where <total> counts the Deployments GMC created for the pipeline (its router's included),
 * <ready> those whose available replicas equal their desired replicas, and <external> the
 * `externalService` steps, which GMC does not deploy and which are not part of <total>.
 * `status.accessUrl` is the router Service's URL (`http://<svc>.<ns>.svc.cluster.local:<port>` for
 * a ClusterIP Service). The CR carries no conditions and no observedGeneration.
 */

export interface GmcCounts {
  ready: number;
  external: number;
  total: number;
}

export function parseGmcStatus(status: unknown): GmcCounts | null {
  if (typeof status !== 'string') return null;
  const m = /^\s*(\d+)\/(\d+)\/(\d+)\s*$/.exec(status);
  if (!m) return null;
  return { ready: Number(m[1]), external: Number(m[2]), total: Number(m[3]) };
}

/** Ready: GMC deployed at least one Deployment and every one of them is available. */
export function isGmcReady(status: unknown): boolean {
  const c = parseGmcStatus(status);
  return c !== null && c.total > 0 && c.ready === c.total;
}

/** "2 of 3 services ready (1 external)" for a status string, or what is known when there is none. */
export function describeGmcStatus(status: unknown): string {
  const c = parseGmcStatus(status);
  if (c === null) return typeof status === 'string' && status !== '' ? `status "${status}"` : 'no status yet (GMC has not reconciled it)';
  const external = c.external > 0 ? `, ${c.external} external` : '';
  return `${c.ready} of ${c.total} services ready${external} (status ${c.ready}/${c.external}/${c.total})`;
}
