/**
 * `opea-flow deploy`: builds the flow's GMConnector with the GMC exporter and deploys it to a
 * Kubernetes cluster (core/k8s/deploy.ts): namespace and HF token Secret when missing, server-side
 * apply, then a wait until GMC reports every service ready. Progress goes to stderr, the result as
 * JSON to stdout.
 * Exit codes: 0 ready (or applied with --wait 0, or a dry run that passed), 1 the deploy failed,
 * 2 bad arguments or a flow with problems (nothing sent to the cluster).
 */
import { DeployError, deployGmConnector } from '../core/k8s/deploy';
import { HF_TOKEN_SECRET } from '../core/k8s/names';
import { PLATFORMS, Platform } from '../core/model';
import { loadPipeline } from '../core/pipeline';
import { formatProblem, ProblemList } from '../core/problems';
import { exportPipeline, GMC_FLAVORS, GmcFlavor } from '../exporters';
import { connectorOf } from '../exporters/gmc';
import { readFlowFile } from './flow-file';
import { readArgs, UsageError, usageErrorText } from './cli-args';

export const DEPLOY_USAGE = `  opea-flow deploy FLOW [--tab TAB] [--name NAME] [--namespace NS] [--platform xeon|gaudi|nvidia]
                   [--gmc-flavor upstream|enterprise] [--kubeconfig FILE] [--context CTX] [--dry-run]
                   [--wait SECONDS]`;

export const DEPLOY_HELP = `deploy builds the flow's GMConnector (as export --target gmc does) and applies it to the cluster of
--kubeconfig (default: KUBECONFIG, ~/.kube/config, else the pod's service account) with server-side
apply, creating the namespace, and the Secret ${HF_TOKEN_SECRET} from the environment variable HF_TOKEN
when that is set and the Secret is missing; then it waits up to --wait seconds (default 1200; 0: do
not wait) until GMC reports every service ready, and prints the result (status, accessUrl) as JSON.
--dry-run asks the server to check everything and change nothing. Exit 1 when the deploy fails.`;

const DEFAULT_WAIT_S = 1200;

function buildConnector(file: string, values: Record<string, string | boolean | undefined>): { connector?: Record<string, unknown>; problems: ProblemList } {
  const problems = new ProblemList();
  const flow = readFlowFile(file, problems);
  if (!flow || !problems.empty) return { problems };
  const { pipeline, problems: loadProblems } = loadPipeline(flow, { tab: values.tab as string | undefined });
  if (!loadProblems.empty) return { problems: loadProblems };
  const platform = (values.platform ?? 'xeon') as Platform;
  const gmcFlavor = (values['gmc-flavor'] ?? 'upstream') as GmcFlavor;
  const bundle = exportPipeline(pipeline, ['gmc'], { name: values.name as string | undefined, namespace: values.namespace as string | undefined, platform, gmcFlavor }, problems);
  if (!bundle) return { problems };
  const connector = connectorOf(bundle);
  if (!connector) throw new Error('the GMC exporter wrote no gmc/<name>.yaml');
  return { connector, problems };
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
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(usageErrorText('opea-flow deploy', err.message));
    return 2;
  }

  let built: ReturnType<typeof buildConnector>;
  try {
    built = buildConnector(file, values);
  } catch (err) {
    process.stderr.write(`opea-flow: internal error: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
  const { connector, problems } = built;
  if (!connector) {
    for (const p of problems.items) process.stderr.write(`${formatProblem(p)}\n`);
    return 2;
  }

  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  try {
    const result = await deployGmConnector({
      connector,
      kubeconfig: values.kubeconfig as string | undefined,
      context: values.context as string | undefined,
      dryRun: values['dry-run'] === true,
      timeoutMs: waitS * 1000,
      hfToken: process.env.HF_TOKEN || undefined,
      signal: stop.signal,
      onProgress: (p) => process.stderr.write(`opea-flow deploy: [${p.phase}] ${p.text}\n`),
    });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof DeployError)) {
      process.stderr.write(`opea-flow: internal error: ${(err as Error).stack ?? String(err)}\n`);
      return 1;
    }
    process.stderr.write(`opea-flow deploy: ${err.kind}: ${err.message}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    process.removeListener('SIGTERM', onInterrupt);
  }
}
