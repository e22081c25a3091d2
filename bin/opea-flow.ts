#!/usr/bin/env node
/**
 * opea-flow: validate, export and run Node-RED flows of node-red-contrib-opea from the command line.
 * Exit codes: 0 done, 2 the input has problems (nothing written), 1 a run failed or an internal error,
 * 3 (eval) a metric below its threshold.
 */
import fs from 'node:fs';
import { loadPipeline } from '../core/pipeline';
import { PLATFORMS, Platform } from '../core/model';
import { formatProblem, formatWarning, oneLine, Problem, ProblemList } from '../core/problems';
import { writeBundle } from '../exporters/bundle';
import { exportPipeline, GMC_FLAVORS, GmcFlavor, Target, TARGETS } from '../exporters';
import { METRICS_STORES, MetricsStore } from '../exporters/compose/observability';
import { readFlowFile } from './flow-file';
import { runFlow, RunError } from './run-command';
import { BENCH_HELP, BENCH_USAGE, benchCommand } from './bench-command';
import { DEPLOY_HELP, DEPLOY_USAGE, deployCommand } from './deploy-command';
import { STATUS_HELP, STATUS_USAGE, statusCommand } from './status-command';
import { DELETE_HELP, DELETE_USAGE, deleteCommand } from './delete-command';
import { EVAL_HELP, EVAL_USAGE, evalCommand } from './eval-command';
import { closest, readArgs, UsageError, usageErrorText } from './cli-args';

const USAGE = `Usage:
  opea-flow validate FLOW [--tab TAB] [--target gmc|compose|ansible|helm|all] [--gmc-flavor upstream|enterprise]
  opea-flow export FLOW --target gmc|compose|ansible|helm|all --out DIR [--name NAME] [--namespace NS]
                   [--platform xeon|gaudi|nvidia] [--gmc-flavor upstream|enterprise] [--tab TAB]
                   [--observability [prometheus|victoriametrics]]
  opea-flow import FILE --out FLOW.json
  opea-flow run FLOW --input JSON [--tab TAB] [--entry URL] [--credentials FILE] [--user-dir DIR]
                [--timeout SECONDS]
${BENCH_USAGE}
${EVAL_USAGE}
${DEPLOY_USAGE}
${STATUS_USAGE}
${DELETE_USAGE}

FLOW is Node-RED flow JSON (the editor's export, a flows file or {"flows": [...]}), a Flowise or
GenAI Studio chatflow, or a GMConnector CR; import converts any of them to Node-RED flow JSON.
validate exits 0 when the flow is a valid pipeline, 2 with one line per problem; --target adds
that target's export rules (their problems and warnings name it: [compose] ...). export writes DIR/gmc/<name>.yaml, DIR/compose/, DIR/ansible/ and the
Helm chart DIR/helm/<name>/ (as --target asks) and exits 2 with nothing written when the flow has problems. --gmc-flavor picks
the dialect of the GMConnector: upstream GenAIInfra GMC (default) or Enterprise RAG's.
--observability adds the compose profile 'observability' (OpenTelemetry Collector, Prometheus or
VictoriaMetrics, Grafana with the pipeline's dashboard), which the Ansible bundle starts too, and
DIR/gmc/monitoring/ (scrape configuration and dashboard for a cluster's Prometheus and Grafana).
run starts an embedded Node-RED (no editor; the flow file is not changed), posts the JSON input (or
@file) to the pipeline's http in node (or the one at --entry URL), prints the answer as JSON and exits
0, or 1 when a node fails. --credentials reads {"<config node id>": {"apiKey": "..."}}; --user-dir
keeps the embedded vector store between runs (default: a temporary folder). Needs node-red installed.
${BENCH_HELP}
${EVAL_HELP}
${DEPLOY_HELP}
${STATUS_HELP}
${DELETE_HELP}`;

const FLOW_COMMANDS = ['validate', 'export', 'import', 'run'];
/** Every command, for suggestions; bench, eval, deploy, status and delete are read before any option, as the first word. */
const COMMANDS = [...FLOW_COMMANDS, 'bench', 'eval', 'deploy', 'status', 'delete'];

const OPTIONS = {
  tab: { type: 'string' },
  target: { type: 'string' },
  out: { type: 'string' },
  name: { type: 'string' },
  namespace: { type: 'string' },
  platform: { type: 'string' },
  'gmc-flavor': { type: 'string' },
  observability: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  input: { type: 'string' },
  entry: { type: 'string' },
  credentials: { type: 'string' },
  'user-dir': { type: 'string' },
  timeout: { type: 'string' },
} as const;

function usageError(err: UsageError): number {
  process.stderr.write(usageErrorText('opea-flow', err.message));
  return 2;
}

function targetsOf(value: string | undefined, required: boolean): readonly Target[] {
  if (value === undefined) {
    if (required) throw new UsageError('--target is required');
    return [];
  }
  if (value === 'all') return TARGETS;
  if ((TARGETS as readonly string[]).includes(value)) return [value as Target];
  throw new UsageError(`unknown target '${value}': choose ${TARGETS.join(', ')} or all`);
}

function platformOf(value: string | undefined): Platform {
  if (value === undefined) return 'xeon';
  if ((PLATFORMS as readonly string[]).includes(value)) return value as Platform;
  throw new UsageError(`unknown platform '${value}': choose ${PLATFORMS.join(', ')}`);
}

function gmcFlavorOf(value: string | undefined): GmcFlavor {
  if (value === undefined) return 'upstream';
  if ((GMC_FLAVORS as readonly string[]).includes(value)) return value as GmcFlavor;
  throw new UsageError(`unknown GMC flavour '${value}': choose ${GMC_FLAVORS.join(', ')}`);
}

function metricsStoreOf(value: string | undefined): MetricsStore | undefined {
  if (value === undefined) return undefined;
  if ((METRICS_STORES as readonly string[]).includes(value)) return value as MetricsStore;
  throw new UsageError(`unknown metrics store '${value}' for --observability: choose ${METRICS_STORES.join(', ')}`);
}

/** `--observability` alone means Prometheus; parseArgs wants a string option's value spelled out. */
function observabilityDefault(argv: string[]): string[] {
  return argv.map((arg, i) => (arg === '--observability' && !(METRICS_STORES as readonly string[]).includes(argv[i + 1] ?? '') ? '--observability=prometheus' : arg));
}

function warn(warnings: readonly Problem[]): void {
  for (const w of warnings) process.stderr.write(`${formatWarning(w)}\n`);
}

function report(problems: ProblemList): number {
  for (const p of problems.items) process.stderr.write(`${formatProblem(p)}\n`);
  return 2;
}

/** Writes the Node-RED flow JSON of any supported file, after checking it imports as a pipeline. */
function importCommand(file: string, out: string | undefined): number {
  if (!out) throw new UsageError('--out is required');
  const problems = new ProblemList();
  const flow = readFlowFile(file, problems);
  if (!flow || !problems.empty) return report(problems);
  const loaded = loadPipeline(flow);
  if (!loaded.problems.empty) return report(loaded.problems);
  const temp = `${out}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${JSON.stringify(flow, null, 2)}\n`);
  fs.renameSync(temp, out);
  warn(problems.warnings);
  process.stdout.write(`${out}\n`);
  return 0;
}

async function runCommand(file: string, values: Record<string, string | boolean | undefined>): Promise<number> {
  if (typeof values.input !== 'string') throw new UsageError('--input is required (JSON, or @file)');
  const timeout = values.timeout === undefined ? 120 : Number(values.timeout);
  if (!(timeout > 0)) throw new UsageError('--timeout must be a number of seconds above 0');
  const problems = new ProblemList();
  const flow = readFlowFile(file, problems);
  if (!flow || !problems.empty) return report(problems);
  try {
    const answer = await runFlow(flow as never, {
      input: values.input,
      tab: values.tab as string | undefined,
      entry: values.entry as string | undefined,
      credentials: values.credentials as string | undefined,
      userDir: values['user-dir'] as string | undefined,
      timeoutMs: timeout * 1000,
    });
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof RunError)) throw err;
    process.stderr.write(`opea-flow run: ${err.message}\n`);
    return err.exitCode;
  }
}

export function main(argv: string[]): number | Promise<number> {
  if (argv[0] === 'bench') return benchCommand(argv.slice(1), USAGE);
  if (argv[0] === 'deploy') return deployCommand(argv.slice(1), USAGE);
  if (argv[0] === 'status') return statusCommand(argv.slice(1), USAGE);
  if (argv[0] === 'delete') return deleteCommand(argv.slice(1), USAGE);
  if (argv[0] === 'eval') return evalCommand(argv.slice(1), USAGE);
  let parsed;
  try {
    parsed = readArgs(observabilityDefault(argv), OPTIONS);
  } catch (err) {
    if (err instanceof UsageError) return usageError(err);
    throw err;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    const pkg = JSON.parse(fs.readFileSync(`${__dirname}/../../package.json`, 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const [command, file, ...extra] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  try {
    if (!FLOW_COMMANDS.includes(command)) {
      if (COMMANDS.includes(command)) throw new UsageError(`${command} comes first: opea-flow ${command} ...`);
      const guess = closest(command, COMMANDS);
      throw new UsageError(`unknown command '${command}'${guess ? `: did you mean ${guess}?` : ''}`);
    }
    if (!file) throw new UsageError('FLOW is missing');
    if (extra.length > 0) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
    if (command === 'import') return importCommand(file, values.out);
    if (command === 'run') {
      return runCommand(file, values).catch((err: Error) => {
        if (err instanceof UsageError) return usageError(err);
        process.stderr.write(`opea-flow: internal error: ${err.stack ?? String(err)}\n`);
        return 1;
      });
    }
    const targets = targetsOf(values.target, command === 'export');
    const platform = platformOf(values.platform);
    const gmcFlavor = gmcFlavorOf(values['gmc-flavor']);
    const observability = metricsStoreOf(values.observability);
    if (command === 'export' && !values.out) throw new UsageError('--out is required');

    const fileProblems = new ProblemList();
    const flow = readFlowFile(file, fileProblems);
    if (!fileProblems.empty) return report(fileProblems);
    // What an import could not place (a GMConnector's unknown config keys) is said before anything else.
    warn(fileProblems.warnings);
    const { pipeline, problems } = loadPipeline(flow, { tab: values.tab });
    if (!problems.empty) return report(problems);
    const bundle = exportPipeline(pipeline, targets, { name: values.name, namespace: values.namespace, platform, gmcFlavor, observability }, problems);
    if (!bundle) return report(problems);
    warn(problems.warnings);
    if (command === 'validate') {
      const count = pipeline.graph.components.length;
      process.stdout.write(`valid: ${oneLine(pipeline.graph.name, 60)}: ${count} component${count === 1 ? '' : 's'}${targets.length ? `, exportable to ${targets.join(', ')}` : ''}\n`);
      return 0;
    }
    for (const written of writeBundle(values.out as string, bundle)) process.stdout.write(`${written}\n`);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) return usageError(err);
    process.stderr.write(`opea-flow: internal error: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

if (require.main === module) {
  // A reader that stops early (opea-flow ... | head) is not an error of ours.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  void Promise.resolve(main(process.argv.slice(2))).then((code) => {
    process.exitCode = code;
  });
}
