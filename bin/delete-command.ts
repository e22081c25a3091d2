/**
 * `opea-flow delete NAME`: removes what opea-flow deploy created for a pipeline (core/k8s/delete.ts),
 * one line per object on stderr, the outcomes as JSON on stdout. Exit codes: 0 every object deleted
 * (or kept by rule: a namespace or Secret deploy did not create), 1 one or more could not be deleted
 * (each one's reason says why and what to do) or nothing of NAME was found, 2 bad arguments.
 */
import { deletePipeline } from '../core/k8s/delete';
import { readClusterArgs, runClusterCommand } from './cluster-command';

export const DELETE_USAGE = `  opea-flow delete NAME [--namespace NS] [--kubeconfig FILE] [--context CTX] [--dry-run]`;

export const DELETE_HELP = `delete removes what deploy created for NAME: the GMConnector and the objects labelled as the
pipeline's, the HF token Secret and the namespace only when deploy created them (the namespace also
only when nothing else is left in it). --dry-run asks the server to check and change nothing. Exit 1
when an object could not be deleted; the others are deleted all the same.`;

export async function deleteCommand(argv: string[], usage: string): Promise<number> {
  const args = readClusterArgs('delete', argv, usage, { 'dry-run': { type: 'boolean' } });
  if (typeof args === 'number') return args;
  return runClusterCommand('delete', async (signal) => {
    const result = await deletePipeline({
      name: args.name,
      namespace: args.namespace,
      kubeconfig: args.kubeconfig,
      context: args.context,
      dryRun: args.values['dry-run'] === true,
      signal,
      onProgress: (text) => process.stderr.write(`opea-flow delete: ${text}\n`),
    });
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (result.failed > 0) process.stderr.write(`opea-flow delete: ${result.failed} object${result.failed === 1 ? '' : 's'} of ${result.name} could not be deleted (see above); run delete again once fixed\n`);
    return result.failed > 0 ? 1 : 0;
  });
}
