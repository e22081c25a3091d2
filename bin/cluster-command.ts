/**
 * What `opea-flow status` and `opea-flow delete` share: the arguments NAME [--namespace NS]
 * [--kubeconfig FILE] [--context CTX], usage errors (exit 2), and a DeployError said on stderr (exit 1).
 */
import { DeployError } from '../core/k8s/session';
import { readArgs, UsageError, usageErrorText } from './cli-args';

export interface ClusterArgs {
  name: string;
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  values: Record<string, string | boolean | undefined>;
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** The parsed arguments, or the exit code when there is nothing more to do (help: 0, bad arguments: 2). */
export function readClusterArgs(command: string, argv: string[], usage: string, extra: Record<string, { type: 'boolean' | 'string' }> = {}): ClusterArgs | number {
  try {
    const { values, positionals } = readArgs(argv, {
      namespace: { type: 'string', short: 'n' },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      ...extra,
    });
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    const [name, ...rest] = positionals;
    if (!name) throw new UsageError('NAME is missing: the pipeline name deploy printed ("name" in its result)');
    if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
    if (!NAME.test(name) || name.length > 63) throw new UsageError(`'${name}' is not a pipeline name: lowercase letters, digits and '-' (at most 63)`);
    if (values.namespace !== undefined && !NAME.test(values.namespace as string)) throw new UsageError(`'${String(values.namespace)}' is not a namespace name: lowercase letters, digits and '-'`);
    if (values.kubeconfig === '') throw new UsageError('--kubeconfig needs a file path (leave it out to use KUBECONFIG or ~/.kube/config)');
    return { name, namespace: values.namespace as string | undefined, kubeconfig: values.kubeconfig as string | undefined, context: values.context as string | undefined, values };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(usageErrorText(`opea-flow ${command}`, err.message));
    return 2;
  }
}

/** Runs a cluster command with SIGINT/SIGTERM aborting it; a DeployError is said on stderr (exit 1). */
export async function runClusterCommand(command: string, run: (signal: AbortSignal) => Promise<number>): Promise<number> {
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  try {
    return await run(stop.signal);
  } catch (err) {
    if (!(err instanceof DeployError)) {
      process.stderr.write(`opea-flow: internal error: ${(err as Error).stack ?? String(err)}\n`);
      return 1;
    }
    process.stderr.write(`opea-flow ${command}: ${err.kind}: ${err.message}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    process.removeListener('SIGTERM', onInterrupt);
  }
}
