/**
 * `opea-flow deploy`: builds the flow's GMConnector with the GMC exporter and deploys it to a
 * Kubernetes cluster (core/k8s/deploy.ts): namespace and HF token Secret when missing, server-side
 * apply, then a wait until GMC reports every service ready. With --target helm --apply, the Helm
 * chart's manifests rendered with its default values are applied instead, for a cluster without GMC
 * or helm (core/k8s/apply-manifests.ts), and every Deployment is waited for. Progress goes to stderr,
 * the result as JSON to stdout.
 * Exit codes: 0 ready (or applied with --wait 0, or a dry run that passed), 1 the deploy failed,
 * 2 bad arguments or a flow with problems (nothing sent to the cluster).
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { ROUTER } from '../core/catalog';
import { deployManifests } from '../core/k8s/apply-manifests';
import { deployGmConnector, DeployOptions } from '../core/k8s/deploy';
import { HF_TOKEN_SECRET } from '../core/k8s/names';
import { PLATFORMS, Platform } from '../core/model';
import { loadPipeline } from '../core/pipeline';
import { formatProblem, ProblemList } from '../core/problems';
import { exportPipeline, GMC_FLAVORS, GmcFlavor } from '../exporters';
import { GATEWAY_SERVICE } from '../exporters/compose/gateway';
import { connectorOf, defaultCrName } from '../exporters/gmc';
import { helmManifests } from '../exporters/helm/manifests';
import { readFlowFile } from './flow-file';
import { readArgs, UsageError, usageErrorText } from './cli-args';
import { runClusterCommand } from './cluster-command';

export const DEPLOY_USAGE = `  opea-flow deploy FLOW [--tab TAB] [--name NAME] [--namespace NS] [--platform xeon|gaudi|nvidia]
                   [--gmc-flavor upstream|enterprise] [--kubeconfig FILE] [--context CTX] [--dry-run]
                   [--wait SECONDS] [--target gmc|helm --apply]`;

export const DEPLOY_HELP = `deploy builds the flow's GMConnector (as export --target gmc does) and applies it to the cluster of
--kubeconfig (default: KUBECONFIG, ~/.kube/config, else the pod's service account) with server-side
apply, creating the namespace, and the Secret ${HF_TOKEN_SECRET} from the environment variable HF_TOKEN
when that is set and the Secret is missing; then it waits up to --wait seconds (default 1200; 0: do
not wait) until GMC reports every service ready, and prints the result (status, accessUrl) as JSON.
--dry-run asks the server to check everything and change nothing. Exit 1 when the deploy fails.
--target helm --apply, for a cluster without GMC: the Helm chart's manifests (as export --target helm
writes them, default values) are applied server-side, then every Deployment is waited for; no helm
binary is needed. status and delete find what deploy created by its labels.`;

const DEFAULT_WAIT_S = 1200;

type Built = { apply: (common: Omit<DeployOptions, 'connector'>) => Promise<unknown>; problems?: undefined } | { apply?: undefined; problems: ProblemList };

/** What to apply: the GMConnector (target gmc) or the chart's manifests (target helm), or the flow's problems. */
function build(file: string, values: Record<string, string | boolean | undefined>): Built {
  const problems = new ProblemList();
  const flow = readFlowFile(file, problems);
  if (!flow || !problems.empty) return { problems };
  const { pipeline, problems: loadProblems } = loadPipeline(flow, { tab: values.tab as string | undefined });
  if (!loadProblems.empty) return { problems: loadProblems };
  const options = { name: values.name as string | undefined, namespace: values.namespace as string | undefined, platform: (values.platform ?? 'xeon') as Platform, gmcFlavor: (values['gmc-flavor'] ?? 'upstream') as GmcFlavor };
  if (values.target === 'helm') {
    const objects = helmManifests(pipeline, options, problems);
    if (!objects) return { problems };
    const name = options.name ?? (defaultCrName(pipeline.graph.name) as string);
    return { apply: (common) => deployManifests({ ...common, name, namespace: options.namespace ?? name, objects, entry: entryOf(objects) }) };
  }
  const bundle = exportPipeline(pipeline, ['gmc'], options, problems);
  if (!bundle) return { problems };
  const connector = connectorOf(bundle);
  if (!connector) throw new Error('the GMC exporter wrote no gmc/<name>.yaml');
  return { apply: (common) => deployGmConnector({ ...common, connector }) };
}

/** The pipeline's entry among the manifests, as the chart's NOTES.txt names it: the gateway, else the router. */
function entryOf(objects: readonly KubernetesObject[]): { service: string; port: number } | undefined {
  const services = objects.filter((o) => o.kind === 'Service') as (KubernetesObject & { spec?: { ports?: { port?: number }[] } })[];
  const gateway = services.find((s) => s.metadata?.name === GATEWAY_SERVICE);
  const router = services.find((s) => (s.spec?.ports ?? []).some((p) => p.port === ROUTER.port));
  const entry = gateway ?? router;
  const port = entry?.spec?.ports?.[0]?.port;
  return entry && port ? { service: entry.metadata?.name as string, port } : undefined;
}

export async function deployCommand(argv: string[], usage: string): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let file: string;
  let waitS: number;
  try {
    const parsed = readArgs(argv, {
      tab: { type: 'string' },
      name: { type: 'string' },
      namespace: { type: 'string' },
      platform: { type: 'string' },
      'gmc-flavor': { type: 'string' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      'dry-run': { type: 'boolean' },
      wait: { type: 'string' },
      target: { type: 'string' },
      apply: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    values = parsed.values;
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    const [first, ...extra] = parsed.positionals;
    if (!first) throw new UsageError('FLOW is missing');
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    file = first;
    if (values.platform !== undefined && !(PLATFORMS as readonly string[]).includes(values.platform as string)) {
      throw new UsageError(`unknown platform '${String(values.platform)}': choose ${PLATFORMS.join(', ')}`);
    }
    if (values['gmc-flavor'] !== undefined && !(GMC_FLAVORS as readonly string[]).includes(values['gmc-flavor'] as string)) {
      throw new UsageError(`unknown GMC flavour '${String(values['gmc-flavor'])}': choose ${GMC_FLAVORS.join(', ')}`);
    }
    const rawWait = values.wait as string | undefined;
    waitS = rawWait === undefined ? DEFAULT_WAIT_S : Number(rawWait);
    if (rawWait !== undefined && (rawWait.trim() === '' || !Number.isFinite(waitS) || waitS < 0)) throw new UsageError(`--wait must be a number of seconds, 0 or more, not '${rawWait}'`);
    if (values.kubeconfig === '') throw new UsageError('--kubeconfig needs a file path (leave it out to use KUBECONFIG or ~/.kube/config)');
    if (values.target !== undefined && values.target !== 'gmc' && values.target !== 'helm') throw new UsageError(`deploy --target takes gmc or helm, not '${String(values.target)}' (compose and Ansible bundles are run where they are written)`);
    if (values.target === 'helm' && values.apply !== true) {
      throw new UsageError('--target helm needs --apply: deploy applies the chart\'s manifests itself (no helm binary); to install with helm, run export --target helm and helm install the chart');
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(usageErrorText('opea-flow deploy', err.message));
    return 2;
  }

  let built: Built;
  try {
    built = build(file, values);
  } catch (err) {
    process.stderr.write(`opea-flow: internal error: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
  if (!built.apply) {
    for (const p of built.problems.items) process.stderr.write(`${formatProblem(p)}\n`);
    return 2;
  }
  const apply = built.apply;
  return runClusterCommand('deploy', async (signal) => {
    const result = await apply({
      kubeconfig: values.kubeconfig as string | undefined,
      context: values.context as string | undefined,
      dryRun: values['dry-run'] === true,
      timeoutMs: waitS * 1000,
      hfToken: process.env.HF_TOKEN || undefined,
      signal,
      onProgress: (p) => process.stderr.write(`opea-flow deploy: [${p.phase}] ${p.text}\n`),
    });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  });
}
