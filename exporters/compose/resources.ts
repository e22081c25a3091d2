/**
 * The nodes' deploy settings in the compose project (`deploy.replicas`, `deploy.resources`), in
 * compose's units: cores as decimals, memory in its binary units (1g = 1 GiB). A service at its
 * defaults is left as it was.
 */
import { Platform } from '../../core/model';
import { atDefault, ServiceSettings } from '../deploy-settings';

type Json = Record<string, unknown>;

/** 500m -> 0.5, 2 -> 2. */
export function composeCpus(quantity: string): string {
  return quantity.endsWith('m') ? String(Number(quantity.slice(0, -1)) / 1000) : quantity;
}

/** 16Gi -> 16g, 512Mi -> 512m, 1Ti -> 1024g, bytes -> <n>b. */
export function composeMemory(quantity: string): string {
  const m = /^(\d+)(Ki|Mi|Gi|Ti)?$/.exec(quantity);
  if (!m) throw new Error(`internal error: '${quantity}' is not a memory quantity`);
  const n = Number(m[1]);
  if (m[2] === 'Ti') return `${n * 1024}g`;
  return m[2] ? `${n}${m[2][0].toLowerCase()}` : `${n}b`;
}

function amounts(of: { cpu?: string; memory?: string }): Json {
  return { ...(of.cpu ? { cpus: composeCpus(of.cpu) } : {}), ...(of.memory ? { memory: composeMemory(of.memory) } : {}) };
}

export function applyComposeSettings(services: Record<string, Json>, settings: ReadonlyMap<string, ServiceSettings>, platform: Platform): void {
  for (const [name, service] of Object.entries(services)) {
    const s = settings.get(name);
    if (!s || atDefault(s)) continue;
    const deploy = (service.deploy ?? {}) as Json;
    if (s.replicas !== 1) deploy.replicas = s.replicas;
    const resources = (deploy.resources ?? {}) as Json;
    const limits = amounts(s.limits);
    if (Object.keys(limits).length) resources.limits = limits;
    const reservations = { ...amounts(s.requests), ...((resources.reservations ?? {}) as Json) };
    const devices = reservations.devices as Json[] | undefined;
    if (platform === 'nvidia' && devices && s.accelerators > 0) devices[0].count = s.accelerators;
    if (Object.keys(reservations).length) resources.reservations = reservations;
    if (Object.keys(resources).length) deploy.resources = resources;
    service.deploy = deploy;
  }
}
