/**
 * The routing shape of a GMConnector, independent of service and node names: per router node, the
 * steps in order with their name, data, condition, whether they are downstream services, which
 * sub-node they route to (by shape) and which step each downstream config key names (by position).
 */
const KEYS = ['TEI_EMBEDDING_ENDPOINT', 'TEI_RERANKING_ENDPOINT', 'TGI_LLM_ENDPOINT', 'REDIS_URL', 'TEI_ENDPOINT'];

interface Step {
  name: string;
  data?: string;
  condition?: string;
  nodeName?: string;
  externalService?: string;
  internalService?: { serviceName?: string; isDownstreamService?: boolean; config?: Record<string, string> };
}

export interface StepShape {
  name: string;
  data: string | null;
  condition: string | null;
  downstream: boolean;
  external: boolean;
  node: unknown;
  wiring: Record<string, string>;
}

export function gmcShape(cr: Record<string, unknown>, nodeName = 'root'): { routerType: string; steps: StepShape[] } {
  const nodes = (cr.spec as { nodes: Record<string, { routerType: string; steps: Step[] }> }).nodes;
  const node = nodes[nodeName];
  const steps = node.steps.map((step) => {
    const wiring: Record<string, string> = {};
    for (const [key, value] of Object.entries(step.internalService?.config ?? {})) {
      if (!KEYS.includes(key)) continue;
      const index = node.steps.findIndex((s) => s.internalService?.serviceName === value);
      wiring[key] = index >= 0 ? `${index}:${node.steps[index].name}` : `missing:${value}`;
    }
    return {
      name: step.name,
      data: step.data ?? null,
      condition: step.condition ?? null,
      downstream: step.internalService?.isDownstreamService === true,
      external: step.externalService !== undefined,
      node: step.nodeName ? gmcShape(cr, step.nodeName) : null,
      wiring,
    };
  });
  return { routerType: node.routerType, steps };
}
