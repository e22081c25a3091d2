/** Runs the export targets over a loaded pipeline and gathers one Bundle. */
import { Platform } from '../core/model';
import { Pipeline } from '../core/pipeline';
import { planComponents } from '../core/plan';
import { ProblemList } from '../core/problems';
import { Bundle } from './bundle';
import { ansibleBundle } from './ansible';
import { composeBundle } from './compose';
import { assertAccepted, buildGmConnector, defaultCrName, GMC_FLAVORS, GmcFlavor, gmcBundle, gmcReadme } from './gmc';
import { requestSection } from './request-readme';
import { deployedRequests } from './router-requests';
import { checkGuardrailPositions } from './guardrails';

export const TARGETS = ['gmc', 'compose', 'ansible'] as const;
export type Target = (typeof TARGETS)[number];
export { GMC_FLAVORS, GmcFlavor };

export interface ExportOptions {
  name?: string;
  namespace?: string;
  platform: Platform;
  /** Dialect of the GMConnector file: upstream GenAIInfra GMC (default) or Enterprise RAG's. */
  gmcFlavor?: GmcFlavor;
}

/** Bundle for the targets, or null with every problem added when the pipeline cannot be exported. */
export function exportPipeline(pipeline: Pipeline, targets: readonly Target[], options: ExportOptions, problems: ProblemList): Bundle | null {
  const name = options.name ?? defaultCrName(pipeline.graph.name) ?? '';
  if (name === '' && options.name === undefined) {
    problems.add('', pipeline.graph.name, 'the tab label has no Kubernetes form to name the export', 'pass --name');
    return null;
  }
  checkGuardrailPositions(pipeline.plan, problems);
  if (!problems.empty) return null;
  // Warnings about what the deployment does differently concern a target; validate without one checks the flow.
  const requests = targets.length > 0 ? deployedRequests(pipeline.plan, options.platform, problems) : undefined;
  const gmcOptions = { name, namespace: options.namespace ?? name, platform: options.platform };
  const flavor = options.gmcFlavor ?? 'upstream';
  // The GMConnector file is the GMC export (the Ansible bundle applies it too; validate without a
  // target checks it). Compose runs an upstream GMConnector in GMC's router, whatever the file's
  // flavour, in which the stages compose starts itself (guardrails) are called at their services.
  const needsGmc = targets.length === 0 || targets.includes('gmc') || targets.includes('ansible');
  const needsCompose = targets.includes('compose') || targets.includes('ansible');
  let gmc: Bundle = {};
  /** The README section of the requests to the GMConnector's router (GMC and Ansible bundles). */
  let gmcRequests: string[] = [];
  if (needsGmc) {
    const cr = buildGmConnector(pipeline.plan, pipeline.names, { ...gmcOptions, flavor }, problems);
    if (!cr || !problems.empty) return null;
    gmc = gmcBundle(cr, flavor);
    if (requests) gmcRequests = requestSection(requests, cr, '$ACCESS_URL');
    if (requests && flavor === 'upstream') gmc['gmc/README.md'] = gmcReadme(cr, gmcRequests);
  }
  let compose: ReturnType<typeof composeBundle> | undefined;
  if (needsCompose) {
    const graph = buildGmConnector(pipeline.plan, pipeline.names, { ...gmcOptions, composeRouted: true }, problems);
    if (!graph || !problems.empty) return null;
    assertAccepted(graph, 'upstream');
    const section = requests ? requestSection(requests, graph, 'http://localhost:${ROUTER_PORT:-8080}') : [];
    compose = composeBundle(graph, planComponents(pipeline.plan), pipeline.names, options.platform, section, requests);
  }
  const bundle: Bundle = {};
  if (targets.includes('gmc')) Object.assign(bundle, gmc);
  if (targets.includes('compose') && compose) Object.assign(bundle, compose.bundle);
  if (targets.includes('ansible') && compose) {
    Object.assign(bundle, ansibleBundle({ name, namespace: gmcOptions.namespace, platform: options.platform, files: { ...gmc, ...compose.bundle }, composeEnv: compose.env, requests: gmcRequests }));
  }
  return bundle;
}
