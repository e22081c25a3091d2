/**
 * The OPEA editor sidebar, a Node-RED plugin (package.json node-red.plugins; the editor side is
 * opea-sidebar.html). Its admin routes, under httpAdminRoot, need the permission `opea-sidebar.read`
 * (Node-RED gives every `*.read` permission to a user with `read`): they change nothing in the runtime.
 *
 * - GET  opea-sidebar/catalog: the wizard's use cases, stages, backends and models (pipeline-wizard.ts).
 * - POST opea-sidebar/pipeline {choice, stores}: the flow JSON of the new tab, or 400 {problems}.
 * - POST opea-sidebar/check {flow, tab, target}: the tab's problems as `opea-flow validate [--target]` finds them.
 *
 * Export and apply go through the opea-exporter node's own route (nodes/opea-exporter/opea-exporter.ts).
 */
import { isObject } from '../../core/clients/wire';
import { Problem } from '../../core/problems';
import { buildPipeline, wizardCatalog, WizardChoice } from './pipeline-wizard';
import { checkTab, targetsOf } from './tab-check';

interface Request {
  body?: unknown;
}
interface Response {
  status(code: number): Response;
  json(body: unknown): void;
}
type Handler = (req: Request, res: Response, next: (err?: unknown) => void) => void;

interface SidebarRed {
  httpAdmin: { get(route: string, ...handlers: Handler[]): void; post(route: string, ...handlers: Handler[]): void };
  auth: { needsPermission(permission: string): Handler };
  plugins?: { registerPlugin(id: string, definition: Record<string, unknown>): void };
  log?: { error(message: string): void };
}

export const SIDEBAR_PLUGIN = 'opea-sidebar';
export const SIDEBAR_PERMISSION = 'opea-sidebar.read';

const refuse = (res: Response, problems: Problem[]) => res.status(400).json({ problems });
const bodyProblem = (message: string, fix: string): Problem[] => [{ nodeId: '', label: 'OPEA sidebar', message, fix }];

module.exports = function register(RED: SidebarRed): void {
  RED.plugins?.registerPlugin(SIDEBAR_PLUGIN, { type: SIDEBAR_PLUGIN });
  const allowed = RED.auth.needsPermission(SIDEBAR_PERMISSION);
  const guarded = (handler: (req: Request, res: Response) => void): Handler => (req, res) => {
    try {
      handler(req, res);
    } catch (err) {
      RED.log?.error(`opea-sidebar: ${(err as Error).stack ?? String(err)}`);
      res.status(500).json({ error: `the OPEA sidebar's request failed: ${(err as Error).message}` });
    }
  };

  RED.httpAdmin.get('/opea-sidebar/catalog', allowed, guarded((_req, res) => res.status(200).json(wizardCatalog())));

  RED.httpAdmin.post('/opea-sidebar/pipeline', allowed, guarded((req, res) => {
    const body = req.body;
    if (!isObject(body) || !isObject(body.choice)) return refuse(res, bodyProblem('the request body has no choice', 'POST {choice: {useCase, stages}, stores: [ids]} as JSON'));
    const stores = Array.isArray(body.stores) ? body.stores.filter((s): s is string => typeof s === 'string') : [];
    const { flow, problems } = buildPipeline(body.choice as unknown as WizardChoice, stores);
    if (problems.length > 0) return refuse(res, problems);
    res.status(200).json({ flow });
  }));

  RED.httpAdmin.post('/opea-sidebar/check', allowed, guarded((req, res) => {
    const body = req.body;
    if (!isObject(body) || !Array.isArray(body.flow) || typeof body.tab !== 'string') return refuse(res, bodyProblem('the request body is not {flow, tab}', "POST {flow: [the editor's nodes], tab: id, target: ''|gmc|compose|ansible|all} as JSON"));
    const targets = targetsOf(body.target);
    if (!targets) return refuse(res, bodyProblem(`unknown target '${String(body.target).slice(0, 20)}'`, 'choose gmc, compose, ansible, all, or none'));
    res.status(200).json(checkTab(body.flow, body.tab, targets));
  }));
};
