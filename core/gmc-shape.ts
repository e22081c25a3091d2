/**
 * The shape of a GMConnector's routing as read from YAML (gmc.opea.io/v1alpha3, GenAIInfra
 * api/v1alpha3/gmconnector_types.go): every field optional, since input may be anything.
 */
export interface GmcStep {
  name?: string;
  nodeName?: string;
  data?: string;
  condition?: string;
  dependency?: string;
  externalService?: string;
  /** Set by GMC's controller (and by our compose export) to the URL the router calls. */
  serviceUrl?: string;
  internalService?: { serviceName?: string; nameSpace?: string; config?: Record<string, string>; isDownstreamService?: boolean };
}

export interface GmcRouterNode {
  routerType?: string;
  steps?: GmcStep[];
}

/** The router nodes of a GMConnector object (`spec.nodes`), none when it has none. */
export function routerNodes(cr: Record<string, unknown>): Record<string, GmcRouterNode> {
  return ((cr.spec as { nodes?: Record<string, GmcRouterNode> } | undefined)?.nodes ?? {}) as Record<string, GmcRouterNode>;
}
