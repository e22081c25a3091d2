/**
 * The deploy settings of the nodes (core/node-types.ts DEPLOY_PARAMS) per exported service: replicas
 * for a stage's OPEA service and model server, resources and accelerators for its model server (else
 * its service). Compose and the Helm chart read them here; GMC's GMConnector cannot carry them.
 */
import { Component } from '../core/model';
import { DEPLOY_PARAMS } from '../core/node-types';
import { ProblemList } from '../core/problems';

export interface ServiceSettings {
  replicas: number;
  /** Kubernetes quantities, each only when the node sets it. */
  requests: { cpu?: string; memory?: string };
  limits: { cpu?: string; memory?: string };
  /** 0: the platform's default. */
  accelerators: number;
}

/** Service-name suffixes of a stage's model servers (exporters/gmc DEPENDENCY_SUFFIX, guardModelServerName). */
const MODEL_SERVER_SUFFIXES = ['tei', 'tgi'];

function settingsOf(component: Component): ServiceSettings {
  const text = (key: string) => (typeof component.params[key] === 'string' && component.params[key] !== '' ? (component.params[key] as string) : undefined);
  const drop = (o: Record<string, string | undefined>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return {
    replicas: typeof component.params.replicas === 'number' ? component.params.replicas : 1,
    requests: drop({ cpu: text('cpuRequest'), memory: text('memoryRequest') }),
    limits: drop({ cpu: text('cpuLimit'), memory: text('memoryLimit') }),
    accelerators: typeof component.params.accelerators === 'number' ? component.params.accelerators : 0,
  };
}

const AT_DEFAULT: ServiceSettings = { replicas: 1, requests: {}, limits: {}, accelerators: 0 };

/**
 * Settings of each service name of an export (`services`), from the components by their base name
 * (the name of their OPEA service). Services of no component (router, gateway, a vector database)
 * and settings that do not apply to a service are at their defaults.
 */
export function serviceSettings(services: readonly string[], byName: ReadonlyMap<string, Component>): Map<string, ServiceSettings> {
  const out = new Map<string, ServiceSettings>();
  const present = new Set(services);
  for (const service of services) {
    const owner = ownerOf(service, byName);
    const component = owner === undefined ? undefined : byName.get(owner);
    if (owner === undefined || !component) {
      out.set(service, AT_DEFAULT);
      continue;
    }
    const settings = settingsOf(component);
    // Resources go where the work is: the model server, else the service itself.
    const hasModelServer = MODEL_SERVER_SUFFIXES.some((s) => present.has(`${owner}-${s}`));
    out.set(service, service !== owner || !hasModelServer ? settings : { ...AT_DEFAULT, replicas: settings.replicas });
  }
  return out;
}

/** The component a service belongs to: its own OPEA service, or its model server `<name>-tei`/`<name>-tgi`. */
function ownerOf(service: string, byName: ReadonlyMap<string, Component>): string | undefined {
  if (byName.has(service)) return service;
  for (const suffix of MODEL_SERVER_SUFFIXES) {
    const base = service.slice(0, -suffix.length - 1);
    if (service.endsWith(`-${suffix}`) && byName.has(base)) return base;
  }
  return undefined;
}

/** Components by the base name of their services (pipeline.names). */
export function componentsByName(components: readonly Component[], names: ReadonlyMap<string, string>): Map<string, Component> {
  const byName = new Map<string, Component>();
  for (const c of components) {
    const base = names.get(c.id);
    if (base) byName.set(base, c);
  }
  return byName;
}

export function atDefault(settings: ServiceSettings): boolean {
  return settings.replicas === 1 && settings.accelerators === 0 && Object.keys(settings.requests).length === 0 && Object.keys(settings.limits).length === 0;
}

/** The deploy settings a component sets away from their defaults. */
export function changedDeploySettings(component: Component): string[] {
  return DEPLOY_PARAMS.filter((p) => component.params[p.key] !== undefined && component.params[p.key] !== p.default).map((p) => p.key);
}

/** GMC's GMConnector has no field for them (its CRD: a step's internalService holds only string config). */
export function warnGmcDeploySettings(components: readonly Component[], problems: ProblemList): void {
  for (const c of components) {
    const changed = changedDeploySettings(c);
    if (changed.length === 0) continue;
    problems.warn(
      c.id,
      c.label,
      `GMC's GMConnector cannot carry ${changed.join(', ')} (its CRD gives a step only string config), so GMC deploys this stage with its own templates' replicas and resources`,
      'export with --target helm or compose, which set them, or scale and size the Deployments GMC makes yourself (kubectl scale / kubectl set resources)',
    );
  }
}

/** Compose on Gaudi hands a container every card (runtime habana, HABANA_VISIBLE_DEVICES=all). */
export function warnComposeGaudiAccelerators(components: readonly Component[], problems: ProblemList): void {
  for (const c of components) {
    if (typeof c.params.accelerators !== 'number' || c.params.accelerators === 0) continue;
    problems.warn(
      c.id,
      c.label,
      `the compose project on Gaudi gives its model server every card (runtime habana, HABANA_VISIBLE_DEVICES=all), not the ${c.params.accelerators} of accelerators`,
      'set HABANA_VISIBLE_DEVICES in compose.yaml to the cards it may use, or deploy with --target helm, which asks for habana.ai/gaudi',
    );
  }
}
