/**
 * Chatflows built as Flowise's canvas builds them, from the component definitions the running Flowise
 * serves (GET /api/v1/nodes/:name): a dropped node gets its inputs' defaults, input anchors and
 * params and one output anchor (packages/ui/src/utils/genericHelper.js initNode); a connection sets
 * the target input to `{{source.data.instance}}`, or appends it for a list input
 * (packages/ui/src/views/canvas/index.jsx onConnect). On the Agentflow V2 canvas nodes run one after
 * another: `then` links them (packages/ui/src/views/agentflowsv2/Canvas.jsx; marketplaces/agentflowsv2).
 */
import { FlowiseProcess } from './flowise-process';

interface ParamDefinition {
  name: string;
  type: string;
  default?: unknown;
  list?: boolean;
}

interface ComponentDefinition {
  name: string;
  label: string;
  version: number;
  type: string;
  category: string;
  baseClasses: string[];
  description?: string;
  inputs?: ParamDefinition[];
  credential?: ParamDefinition;
}

/** The canvas's widget types; an input of any other type is an anchor another node connects to. */
const PARAM_TYPES = ['asyncOptions', 'asyncMultiOptions', 'options', 'multiOptions', 'array', 'datagrid', 'string', 'number', 'boolean', 'password', 'json', 'code', 'date', 'file', 'folder', 'tabs'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type CanvasNode = { id: string; position: { x: number; y: number }; type: string; data: Record<string, any> };
type Edge = { id: string; source: string; sourceHandle: string; target: string; targetHandle: string; type: string };

export class Canvas {
  private readonly nodes: CanvasNode[] = [];
  private readonly edges: Edge[] = [];
  private static readonly definitions = new Map<string, ComponentDefinition>();

  /** `agentflow`: an Agentflow V2 canvas (node and edge type agentFlow, output anchors named by the node). */
  constructor(private readonly flowise: FlowiseProcess, private readonly agentflow = false) {}

  private async definition(name: string): Promise<ComponentDefinition> {
    const key = `${this.flowise.url} ${name}`;
    const known = Canvas.definitions.get(key);
    if (known) return known;
    const answer = await this.flowise.api('GET', `/api/v1/nodes/${name}`);
    if (answer.status !== 200) throw new Error(`Flowise has no node ${name} (${answer.status}): ${JSON.stringify(answer.body)}`);
    Canvas.definitions.set(key, answer.body as ComponentDefinition);
    return answer.body as ComponentDefinition;
  }

  /** Drops a node, sets `inputs` over its defaults (and its credential); its id. */
  async add(name: string, inputs: Record<string, unknown> = {}, credential?: string): Promise<string> {
    const def = await this.definition(name);
    const id = `${name}_${this.nodes.filter((n) => n.data.name === name).length}`;
    const params = def.inputs ?? [];
    const withId = (p: ParamDefinition) => ({ ...p, id: `${id}-input-${p.name}-${p.type}` });
    const defaults = Object.fromEntries(params.map((p) => [p.name, p.default || '']));
    // `<input>Config` holds the settings of the component an input names (the Agentflow LLM node's llmModelConfig).
    for (const key of Object.keys(inputs)) if (!(key in defaults) && !(key.replace(/Config$/, '') in defaults)) throw new Error(`${name} has no input ${key}`);
    this.nodes.push({
      id,
      position: { x: 400 * this.nodes.length, y: 100 },
      type: this.agentflow ? 'agentFlow' : 'customNode',
      data: {
        id,
        label: def.label,
        name: def.name,
        version: def.version,
        type: def.type,
        category: def.category,
        baseClasses: def.baseClasses,
        description: def.description ?? '',
        inputAnchors: params.filter((p) => !PARAM_TYPES.includes(p.type)).map(withId),
        inputParams: [...(def.credential ? [withId(def.credential)] : []), ...params.filter((p) => PARAM_TYPES.includes(p.type)).map(withId)],
        inputs: { ...defaults, ...inputs, ...(credential ? { FLOWISE_CREDENTIAL_ID: credential } : {}) },
        outputAnchors: [
          this.agentflow ? { id: `${id}-output-${def.name}`, name: def.name, label: def.label } : { id: `${id}-output-${def.name}-${def.baseClasses.join('|')}`, name: def.name, label: def.type, type: def.baseClasses.join(' | ') },
        ],
        outputs: {},
        ...(def.credential ? { credential: credential ?? '' } : {}),
        selected: false,
      },
    });
    return id;
  }

  /** Connects `source`'s output to `target`'s input anchor `input`. */
  connect(source: string, target: string, input: string): void {
    const from = this.nodes.find((n) => n.id === source);
    const to = this.nodes.find((n) => n.id === target);
    const anchor = to?.data.inputAnchors.find((a: ParamDefinition) => a.name === input);
    if (!from || !to || !anchor) throw new Error(`cannot connect ${source} to ${target}.${input}`);
    const reference = `{{${source}.data.instance}}`;
    to.data.inputs[input] = anchor.list ? [...(Array.isArray(to.data.inputs[input]) ? to.data.inputs[input] : []), reference] : reference;
    const sourceHandle = from.data.outputAnchors[0].id as string;
    const targetHandle = `${target}-input-${input}-${anchor.type}`;
    this.edges.push({ id: `${source}-${sourceHandle}-${target}-${targetHandle}`, source, sourceHandle, target, targetHandle, type: 'buttonedge' });
  }

  /** Agentflow V2: `target` runs after `source`. */
  then(source: string, target: string): void {
    const from = this.nodes.find((n) => n.id === source);
    if (!from || !this.nodes.some((n) => n.id === target)) throw new Error(`cannot link ${source} to ${target}`);
    const sourceHandle = from.data.outputAnchors[0].id as string;
    this.edges.push({ id: `${source}-${sourceHandle}-${target}-${target}`, source, sourceHandle, target, targetHandle: target, type: 'agentFlow' });
  }

  flowData(): { nodes: CanvasNode[]; edges: Edge[]; viewport: { x: number; y: number; zoom: number } } {
    return { nodes: this.nodes, edges: this.edges, viewport: { x: 0, y: 0, zoom: 1 } };
  }
}
