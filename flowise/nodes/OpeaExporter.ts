/**
 * OPEA Exporter (ending node): exports a saved chatflow (this one, or another by id) as an OPEA
 * deployment: GMC GMConnector, docker compose project, Ansible bundle. Same importer and exporters
 * as `opea-flow export`; the answer lists every file with its content.
 */
import { Platform, PLATFORMS } from '../../core/model';
import { Target, TARGETS } from '../../exporters';
import { ENDING_CATEGORY, listInput } from '../ending';
import { exportChatflow } from '../export';
import { options, str } from '../common';
import { ICommonObject, INode, INodeData, INodeParams } from '../interface';

/** The saved chatflow record, read as Flowise's own nodes read the database (appDataSource + databaseEntities). */
async function savedChatflow(id: string, opts: ICommonObject): Promise<{ name?: string; flowData: string }> {
  const repo = opts.appDataSource?.getRepository?.(opts.databaseEntities?.ChatFlow);
  if (!repo) throw new Error('OPEA Exporter: Flowise did not pass its database to run(); export the chatflow with `opea-flow export` instead');
  const record = await repo.findOneBy({ id });
  if (!record || typeof record.flowData !== 'string') throw new Error(`OPEA Exporter: there is no chatflow with id ${id}`);
  return record;
}

export class OpeaExporter implements INode {
  label = 'OPEA Exporter';
  name = 'opeaExporter';
  version = 1.0;
  type = 'OpeaExporter';
  icon = 'opea-exporter.svg';
  category = ENDING_CATEGORY;
  description = 'Exports a chatflow built from OPEA (and supported Flowise) nodes as a GMC GMConnector, a docker compose project and an Ansible bundle';
  baseClasses = [this.type];
  inputs: INodeParams[] = [
    { label: 'Chatflow ID', name: 'chatflowId', type: 'string', optional: true, description: 'The chatflow to export; empty: the chatflow this node is in' },
    { label: 'Targets', name: 'targets', type: 'multiOptions', options: options(['gmc', 'GMC GMConnector'], ['compose', 'docker compose'], ['ansible', 'Ansible'], ['helm', 'Helm chart']), default: '["gmc","compose"]' },
    { label: 'Platform', name: 'platform', type: 'options', options: options(...PLATFORMS.map((p): [string, string] => [p, p])), default: 'xeon' },
    { label: 'Name', name: 'exportName', type: 'string', optional: true, description: 'Kubernetes name of the pipeline; empty: from the chatflow name' },
    { label: 'Namespace', name: 'namespace', type: 'string', optional: true, additionalParams: true },
  ];

  async init(): Promise<unknown> {
    return undefined;
  }

  async run(nodeData: INodeData, _input: string, opts: ICommonObject = {}): Promise<string | ICommonObject> {
    const id = str(nodeData.inputs, 'chatflowId') || String(opts.chatflowid ?? '');
    if (!id) throw new Error('OPEA Exporter: set Chatflow ID');
    const record = await savedChatflow(id, opts);
    const targets = listInput(nodeData.inputs?.targets, ['gmc', 'compose']) as Target[];
    const result = exportChatflow(record, {
      targets,
      platform: str(nodeData.inputs, 'platform', 'xeon') as Platform,
      name: str(nodeData.inputs, 'exportName') || undefined,
      namespace: str(nodeData.inputs, 'namespace') || undefined,
    });
    if (!result.bundle) {
      const lines = result.problems.items.map((p) => `- ${p.label}: ${p.message} — ${p.fix}`);
      return { text: `The chatflow '${result.name}' cannot be exported:\n${lines.join('\n')}`, problems: result.problems.items };
    }
    const files = Object.keys(result.bundle).sort();
    const body = files.map((f) => `### ${f}\n\n\`\`\`${f.endsWith('.json') ? 'json' : f.endsWith('.md') ? 'markdown' : 'yaml'}\n${(result.bundle as Record<string, string>)[f]}\n\`\`\``);
    return { text: `Exported '${result.name}' to ${targets.filter((t) => TARGETS.includes(t)).join(', ')}: ${files.length} files.\n\n${body.join('\n\n')}`, files: result.bundle };
  }
}

export const nodeClass = OpeaExporter;
