/**
 * `opea-flow status NAME`: what a pipeline deployed by opea-flow deploy is doing (core/k8s/status.ts),
 * as JSON on stdout. Exit codes: 0 ready, 3 deployed but not ready yet, 1 nothing found or the cluster
 * could not be asked, 2 bad arguments.
 */
import { pipelineStatus } from '../core/k8s/status';
import { readClusterArgs, runClusterCommand } from './cluster-command';

export const STATUS_USAGE = `  opea-flow status NAME [--namespace NS] [--kubeconfig FILE] [--context CTX]`;

export const STATUS_HELP = `status reports a deployed pipeline as JSON: for GMC the GMConnector's status, condition, Deployments
and accessUrl; for plain manifests (deploy --target helm --apply) each Deployment's rollout, the
Services and the access URL. Exit 0 when ready, 3 when deployed but not ready yet, 1 when nothing of
NAME is in the namespace (default: NAME, as deploy's) or the cluster cannot be asked.`;

export const NOT_READY_EXIT = 3;

export async function statusCommand(argv: string[], usage: string): Promise<number> {
  const args = readClusterArgs('status', argv, usage);
  if (typeof args === 'number') return args;
  return runClusterCommand('status', async (signal) => {
    const status = await pipelineStatus({ name: args.name, namespace: args.namespace, kubeconfig: args.kubeconfig, context: args.context, signal });
    process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    for (const u of status.unlisted) process.stderr.write(`opea-flow status: could not list ${u.kind}s: ${u.error}\n`);
    return status.ready ? 0 : NOT_READY_EXIT;
  });
}
