/**
 * opea-exporter: exports the pipeline of its tab as the GMC GMConnector, the docker compose project
 * and/or the Ansible bundle.
 *
 * - The editor's button POSTs the tab as the editor holds it (undeployed edits included, no
 *   credentials) to `POST <httpAdminRoot>/opea-exporter/:id/export`, guarded by the permission
 *   `opea-exporter.write`. The answer is the zip (download; a header names the folder when one was
 *   written too), or JSON saying where the folder was written, or 400 with `{problems: [{nodeId, label, message, fix}]}`.
 * - An input message exports the tab as deployed: the bundle `{path: text}` on msg.payload, and the
 *   folder written when the node says so.
 * - Apply (optional) sends the GMConnector to a cluster where GMC runs and waits until it is ready:
 *   after an input message, msg.deploy carries the result; after the button, the deployed node
 *   applies in the background (its kubeconfig, its HF token credential), shows progress in its
 *   status, and sends {topic: "apply", deploy} when done.
 *
 * The request body is parsed by Node-RED's admin API before this route sees it, with the limit of
 * the `apiMaxLength` setting (default 5 MB), the same limit a Deploy has: the button sends a subset
 * of what Deploy sends (the tab, the tabs it links to, the dataprep nodes and the config nodes they
 * use), so any flow that deploys fits. A larger body is refused with 413 before the route runs.
 */
import path from 'node:path';
import { formatProblem, formatWarning, Problem } from '../../core/problems';
import { Bundle, writeBundle } from '../../exporters/bundle';
import { ConfinedPathError, EXPORTS_FOLDER, exportFolder } from '../../exporters/confined-path';
import { connectorOf } from '../../exporters/gmc';
import { zipBundle } from '../../exporters/zip';
import { DeployError, DeployResult, deployGmConnector } from '../../core/k8s/deploy';
import { followReadiness, readinessDot } from '../../core/k8s/live';
import { Msg, NodeConfig, Red, RedNode } from '../shared/red';
import { labelOf, shortStatus } from '../shared/service-node';
import { ApplySettings, EXPORTER_TYPE, exportFromFlow, nodeRedFiles, readExporterSettings } from './export-job';

/** The slice of Express that the route uses (Express 4 in Node-RED 4, 5 in Node-RED 5). */
interface Request {
  params: Record<string, string>;
  body?: unknown;
}
interface Response {
  status(code: number): Response;
  json(body: unknown): void;
  set(field: string, value: string): Response;
  send(body: Buffer): void;
}
type Handler = (req: Request, res: Response, next: (err?: unknown) => void) => void;

/** What this node needs of RED beyond the shared part: the admin app, its permissions, the deployed flow. */
type ExporterRed = Red & {
  httpAdmin: { post(route: string, ...handlers: Handler[]): void };
  auth: { needsPermission(permission: string): Handler };
  nodes: Red['nodes'] & { eachNode(cb: (node: NodeConfig) => void): void };
  log?: { error(message: string): void };
};

export const EXPORT_ROUTE = '/opea-exporter/:id/export';
export const EXPORT_PERMISSION = 'opea-exporter.write';

class ExportProblems extends Error {
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
  }
}

/**
 * Writes the bundle into `<user directory>/opea-exports/<sub>` (ExportResult.folder); returns that
 * folder, absolute and relative to the user directory, and the files written.
 */
function writeFolder(RED: ExporterRed, exporter: NodeConfig, sub: string, bundle: Bundle): { folder: string; relative: string; files: string[] } {
  const userDir = RED.settings.userDir;
  if (typeof userDir !== 'string' || userDir === '') {
    throw new ExportProblems([{ nodeId: exporter.id, label: labelOf(exporter), message: 'Node-RED has no user directory to write the folder in', fix: 'untick "write a folder", or start Node-RED with a user directory' }]);
  }
  let dir: string;
  try {
    dir = exportFolder(userDir, sub, nodeRedFiles(RED.settings));
  } catch (err) {
    if (err instanceof ConfinedPathError) throw new ExportProblems([{ nodeId: exporter.id, label: labelOf(exporter), message: err.message, fix: err.fix }]);
    throw err;
  }
  const files = writeBundle(dir, bundle).map((f) => path.relative(dir, f).split(path.sep).join('/'));
  return { folder: dir, relative: `${EXPORTS_FOLDER}/${sub}`, files };
}

/** The deployed flows as flow JSON (tabs, nodes, config nodes; Node-RED keeps credentials apart). */
function deployedFlow(RED: ExporterRed): NodeConfig[] {
  const nodes: NodeConfig[] = [];
  RED.nodes.eachNode((n) => nodes.push(n));
  return nodes;
}

/** A deployed exporter, as the button's route reaches it to apply in the background. */
interface ExporterNode extends RedNode {
  applyInBackground(bundle: Bundle, apply: ApplySettings): void;
}

function readyText(result: DeployResult): string {
  if (result.dryRun) return 'dry run passed';
  if (!result.ready) return `applied${result.status ? ` · ${result.status}` : ''}`;
  return `ready${result.accessUrl ? ` · ${result.accessUrl}` : ''}`;
}

function problemsError(node: { id: string; name?: string; type: string }, problems: Problem[]): Error {
  const count = problems.length === 1 ? 'a problem' : `${problems.length} problems`;
  return new Error(`${labelOf(node)} (${node.id}): the pipeline was not exported, ${count}, nothing written:\n${problems.map(formatProblem).join('\n')}`);
}

module.exports = function register(RED: ExporterRed): void {
  function OpeaExporter(this: RedNode, config: NodeConfig) {
    RED.nodes.createNode(this, config);
    const node = this;
    const { settings, problems } = readExporterSettings(config);
    if (problems.length > 0) node.status({ fill: 'red', shape: 'ring', text: `invalid: ${problems[0].message}`.slice(0, 60) });
    let applying: AbortController | undefined;
    /** Follows the applied pipeline's readiness into the status dot until the next apply or close. */
    let following: AbortController | undefined;

    /** Applies the bundle's GMConnector with this node's kubeconfig and HF token; progress in the status. */
    async function apply(bundle: Bundle, how: ApplySettings): Promise<DeployResult> {
      const connector = connectorOf(bundle);
      if (!connector) throw new Error('the bundle holds no GMConnector to apply: tick the GMC target');
      if (applying) throw new Error('an apply is still running: wait for it to end');
      const stop = new AbortController();
      applying = stop;
      following?.abort();
      const cluster = { kubeconfig: how.kubeconfig === '' ? undefined : path.resolve(RED.settings.userDir ?? process.cwd(), how.kubeconfig), context: how.context === '' ? undefined : how.context };
      try {
        const result = await deployGmConnector({
          connector,
          ...cluster,
          dryRun: how.dryRun,
          timeoutMs: how.waitS * 1000,
          hfToken: node.credentials?.hfToken || undefined,
          signal: stop.signal,
          onProgress: (p) => node.status({ fill: 'blue', shape: 'dot', text: shortStatus(p.text) }),
        });
        node.status({ fill: result.ready || result.dryRun ? 'green' : 'yellow', shape: 'dot', text: shortStatus(readyText(result)) });
        if (!result.dryRun) {
          const live = new AbortController();
          following = live;
          followReadiness({ ...cluster, name: result.name, namespace: result.namespace, kind: 'gmc', signal: live.signal }, (r) => {
            const dot = readinessDot(r);
            node.status({ ...dot, text: shortStatus(dot.text) });
          }).catch((err: Error) => {
            if (!live.signal.aborted) node.status({ fill: 'red', shape: 'ring', text: shortStatus(`status: ${err.message}`) });
          });
        }
        return result;
      } catch (err) {
        if (!stop.signal.aborted) node.status({ fill: 'red', shape: 'ring', text: shortStatus(`apply failed: ${(err as Error).message}`) });
        throw new Error(`${labelOf(node)} (${node.id}): the apply failed${err instanceof DeployError ? ` (${err.kind})` : ''}: ${(err as Error).message}`);
      } finally {
        applying = undefined;
      }
    }

    (node as ExporterNode).applyInBackground = (bundle, how) => {
      const msg: Msg = { topic: 'apply' };
      apply(bundle, how).then(
        (result) => node.send({ ...msg, payload: bundle, deploy: result }),
        (err: Error) => node.error(err, msg),
      );
    };

    node.on('input', (msg, send, done) => {
      if (problems.length > 0) return done(problemsError(node, problems));
      try {
        const result = exportFromFlow(deployedFlow(RED), node.id);
        if (!result.bundle) {
          node.status({ fill: 'red', shape: 'ring', text: `${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}` });
          return done(problemsError(node, result.problems));
        }
        const count = Object.keys(result.bundle).length;
        let where = '';
        if (result.folder) {
          const written = writeFolder(RED, config, result.folder, result.bundle);
          msg.folder = written.folder;
          where = ` → ${written.relative}`;
        }
        msg.payload = result.bundle;
        const warnings = (result.warnings ?? []).map(formatWarning);
        msg.warnings = warnings;
        const warned = warnings.length > 0 ? `, ${warnings.length} warning${warnings.length === 1 ? '' : 's'}` : '';
        node.status({ fill: warned ? 'yellow' : 'green', shape: 'dot', text: `${count} file${count === 1 ? '' : 's'}${warned}${where}`.slice(0, 60) });
        if (!settings.apply) {
          send(msg);
          return done();
        }
        const bundle = result.bundle;
        apply(bundle, settings.apply).then(
          (deployed) => {
            msg.deploy = deployed;
            send(msg);
            done();
          },
          (err: Error) => done(err),
        );
      } catch (err) {
        const problemList = err instanceof ExportProblems ? err.problems : undefined;
        node.status({ fill: 'red', shape: 'ring', text: problemList ? problemList[0].message.slice(0, 60) : 'export failed' });
        done(problemList ? problemsError(node, problemList) : new Error(`${labelOf(node)} (${node.id}): the export failed: ${(err as Error).message}`));
      }
    });

    node.on('close', (_removed, closed) => {
      applying?.abort();
      following?.abort();
      node.status({});
      closed();
    });
  }
  RED.nodes.registerType(EXPORTER_TYPE, OpeaExporter, { credentials: { hfToken: { type: 'password' } } });

  RED.httpAdmin.post(EXPORT_ROUTE, RED.auth.needsPermission(EXPORT_PERMISSION), (req, res) => {
    const id = String(req.params.id ?? '');
    const answerProblems = (problems: Problem[]) => res.status(400).json({ problems });
    try {
      const body = req.body;
      const flow = Array.isArray(body) ? body : body && typeof body === 'object' && Array.isArray((body as { flows?: unknown }).flows) ? (body as { flows: unknown[] }).flows : null;
      if (!flow) {
        return answerProblems([{ nodeId: id, label: id, message: 'the request body is not flow JSON', fix: 'POST the tab\'s nodes as a JSON array (Content-Type: application/json), as the node\'s button does' }]);
      }
      const result = exportFromFlow(flow, id);
      if (!result.bundle || !result.settings) return answerProblems(result.problems);
      const exporter = flow.find((n) => (n as NodeConfig)?.id === id) as NodeConfig;
      const { download, toFolder, apply } = result.settings;
      if (!download && !toFolder && !apply) {
        return answerProblems([{ nodeId: id, label: labelOf(exporter), message: 'the button has nowhere to deliver the export', fix: 'tick Download (a zip), Write (a folder) and/or Apply under Deliver; input messages get the bundle on msg.payload either way' }]);
      }
      const deployed = apply ? (RED.nodes.getNode(id) as ExporterNode | null) : null;
      if (apply && !deployed?.applyInBackground) {
        return answerProblems([{ nodeId: id, label: labelOf(exporter), message: 'Apply runs in the deployed node (which holds the HF token credential), and this node is not deployed yet', fix: 'deploy the flow, then press the button again' }]);
      }
      const written = result.folder ? writeFolder(RED, exporter, result.folder, result.bundle) : undefined;
      if (apply && deployed) deployed.applyInBackground(result.bundle, apply);
      if (!download) {
        return res.status(200).json({ name: result.name, ...(written ? { folder: written.folder, relative: written.relative, files: written.files } : {}), ...(apply ? { apply: 'started' } : {}) });
      }
      res.status(200).set('Content-Type', 'application/zip').set('Content-Disposition', `attachment; filename="${result.name}.zip"`);
      if (written) res.set('X-OPEA-Export-Folder', encodeURIComponent(written.folder));
      if (apply) res.set('X-OPEA-Apply', 'started');
      return res.send(zipBundle(result.bundle));
    } catch (err) {
      if (err instanceof ExportProblems) return answerProblems(err.problems);
      RED.log?.error(`opea-exporter ${id}: export failed: ${(err as Error).stack ?? String(err)}`);
      return res.status(500).json({ error: `the export failed: ${(err as Error).message}` });
    }
  });
};
