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
import { MetricsStore } from './compose/observability';
import { gmcMonitoringBundle } from './gmc/monitoring';
import { helmBundle, helmChart, HelmChart } from './helm';
import { componentsByName, serviceSettings, warnComposeGaudiAccelerators, warnGmcDeploySettings } from './deploy-settings';

export const TARGETS = ['gmc', 'compose', 'ansible', 'helm'] as const;
export type Target = (typeof TARGETS)[number];
export { GMC_FLAVORS, GmcFlavor };

export interface ExportOptions {
  name?: string;
  namespace?: string;
  platform: Platform;
  /** Dialect of the GMConnector file: upstream GenAIInfra GMC (default) or Enterprise RAG's. */
  gmcFlavor?: GmcFlavor;
  /** Adds the observability profile to compose (and so to Ansible) and the monitoring files to GMC, with this metrics store. */
  observability?: MetricsStore;
}

/**
 * Runs rules that belong to the export targets `of` (those of them that were asked for) and names
 * them in every problem and warning the rules add, so a message says whose rule it is.
 */
function targetRules<T>(problems: ProblemList, asked: readonly Target[], of: readonly Target[], rules: () => T): T {
  const items = problems.items.length;
  const warnings = problems.warnings.length;
  const result = rules();
  const target = asked.filter((t) => of.includes(t)).join(', ');
  for (const p of [...problems.items.slice(items), ...problems.warnings.slice(warnings)]) p.target ??= target;
  return result;
}

/**
 * Bundle for the targets, or null with every problem added when the pipeline cannot be exported to
 * them. No target, no export rules: an empty bundle.
 */
export function exportPipeline(pipeline: Pipeline, targets: readonly Target[], options: ExportOptions, problems: ProblemList): Bundle | null {
  return exportParts(pipeline, targets, options, problems)?.bundle ?? null;
}

/** The Helm chart of the pipeline (its manifests: exporters/helm/manifests.ts), or null with every problem added. */
export function exportHelmChart(pipeline: Pipeline, options: ExportOptions, problems: ProblemList): HelmChart | null {
  return exportParts(pipeline, ['helm'], options, problems)?.chart ?? null;
}

function exportParts(pipeline: Pipeline, targets: readonly Target[], options: ExportOptions, problems: ProblemList): { bundle: Bundle; chart?: HelmChart } | null {
  if (targets.length === 0) return { bundle: {} };
  const name = options.name ?? defaultCrName(pipeline.graph.name) ?? '';
  // The rules every target shares: a name for the export, rails where the deployed router can run them,
  // and where the deployment differs from the flow (every target runs GMC's router).
  const requests = targetRules(problems, targets, TARGETS, () => {
    if (name === '' && options.name === undefined) {
      problems.add('', pipeline.graph.name, 'the tab label has no Kubernetes form to name the export', 'pass --name');
      return null;
    }
    checkGuardrailPositions(pipeline.plan, problems);
    return problems.empty ? deployedRequests(pipeline.plan, options.platform, problems) : null;
  });
  if (!requests) return null;
  const gmcOptions = { name, namespace: options.namespace ?? name, platform: options.platform };
  const flavor = options.gmcFlavor ?? 'upstream';
  // The GMConnector file is the GMC export; the Ansible bundle applies it too. Compose runs an upstream
  // GMConnector in GMC's router, whatever the file's flavour, in which the stages compose starts itself
  // (guardrails) are called at their services.
  const needsGmc = targets.includes('gmc') || targets.includes('ansible');
  // The Helm chart deploys the compose project's services and graph.
  const needsCompose = targets.includes('compose') || targets.includes('ansible') || targets.includes('helm');
  let gmc: Bundle = {};
  /** The README section of the requests to the GMConnector's router (GMC and Ansible bundles). */
  let gmcRequests: string[] = [];
  if (needsGmc) {
    const cr = targetRules(problems, targets, ['gmc', 'ansible'], () => {
      warnGmcDeploySettings(planComponents(pipeline.plan), problems);
      return buildGmConnector(pipeline.plan, pipeline.names, { ...gmcOptions, flavor }, problems);
    });
    if (!cr || !problems.empty) return null;
    gmc = gmcBundle(cr, flavor);
    gmcRequests = requestSection(requests, cr, '$ACCESS_URL');
    if (flavor === 'upstream') gmc['gmc/README.md'] = gmcReadme(cr, gmcRequests);
    if (options.observability && flavor === 'upstream') Object.assign(gmc, gmcMonitoringBundle(cr, options.platform));
  }
  let compose: ReturnType<typeof composeBundle> | undefined;
  if (needsCompose) {
    const graph = targetRules(problems, targets, ['compose', 'ansible', 'helm'], () => buildGmConnector(pipeline.plan, pipeline.names, { ...gmcOptions, composeRouted: true }, problems));
    if (options.platform === 'gaudi' && (targets.includes('compose') || targets.includes('ansible'))) targetRules(problems, targets, ['compose', 'ansible'], () => warnComposeGaudiAccelerators(planComponents(pipeline.plan), problems));
    if (!graph || !problems.empty) return null;
    assertAccepted(graph, 'upstream');
    const section = requestSection(requests, graph, 'http://localhost:${ROUTER_PORT:-8080}');
    compose = composeBundle(graph, planComponents(pipeline.plan), pipeline.names, options.platform, section, requests, options.observability);
  }
  const bundle: Bundle = {};
  let chart: HelmChart | undefined;
  let helm: Bundle = {};
  if (targets.includes('helm') && compose) {
    const settings = serviceSettings(Object.keys(compose.project.services), componentsByName(planComponents(pipeline.plan), pipeline.names));
    chart = helmChart(compose.project, compose.bundle, options.platform, settings);
    helm = helmBundle(chart, requests, requestSection(requests, compose.project.graph, 'http://localhost:8080'));
    Object.assign(bundle, helm);
  }
  if (targets.includes('gmc')) Object.assign(bundle, gmc);
  if (targets.includes('compose') && compose) Object.assign(bundle, compose.bundle);
  if (targets.includes('ansible') && compose) {
    Object.assign(bundle, ansibleBundle({ name, namespace: gmcOptions.namespace, platform: options.platform, files: { ...gmc, ...compose.bundle, ...helm }, composeEnv: compose.env, requests: gmcRequests }));
  }
  return { bundle, chart };
}
