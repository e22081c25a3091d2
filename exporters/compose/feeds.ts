/**
 * Which embedding feeds each step of a GMConnector: the last embedding the router runs before it,
 * in its own branch, else before the switch or fan-out that holds the branch. GMC's controller
 * resolves an endpoint key only to a step of the same router node, so the GMConnector leaves a
 * retriever without the TEI of an embedding that sits in another node; compose wires it from here.
 */
import { GmcRouterNode, GmcStep } from '../../core/gmc-shape';

/**
 * serviceName of every executed internal step -> serviceName of the embedding step that feeds it
 * (undefined: none, or one the pipeline does not deploy). `embeds` tells an embedding step.
 */
export function embeddingFeeds(nodes: Record<string, GmcRouterNode>, embeds: (step: GmcStep) => boolean): Map<string, string | undefined> {
  const feeds = new Map<string, string | undefined>();
  /** Returns the embedding that feeds what follows the node: a switch passes on its last branch's, as GMC's exporter does. */
  const walk = (name: string, before: string | undefined): string | undefined => {
    const node = nodes[name] ?? {};
    const latest = new Map<unknown, string | undefined>();
    let after = before;
    (node.steps ?? []).forEach((step, i) => {
      if (step.internalService?.isDownstreamService) return;
      // A Sequence is one branch; a Switch's branches are told by their condition; each Ensemble step is its own.
      const branch = node.routerType === 'Switch' ? step.condition : node.routerType === 'Ensemble' ? i : '';
      const feeder = latest.has(branch) ? latest.get(branch) : before;
      const serviceName = step.internalService?.serviceName;
      if (serviceName) feeds.set(serviceName, feeder);
      const next = step.nodeName ? walk(step.nodeName, feeder) : embeds(step) ? serviceName : feeder;
      latest.set(branch, next);
      if (next !== feeder) after = next;
    });
    return node.routerType === 'Ensemble' ? before : after;
  };
  walk('root', undefined);
  return feeds;
}
