/** The pipeline model: what every importer produces and every exporter reads. No Node-RED here. */

export const KINDS = ['embedding', 'retriever', 'rerank', 'llm', 'guardrail', 'dataprep'] as const;
export type Kind = (typeof KINDS)[number];

export const PLATFORMS = ['xeon', 'gaudi', 'nvidia'] as const;
export type Platform = (typeof PLATFORMS)[number];

export type ParamValue = string | number | boolean;

/** A service stage of the pipeline: one of our opea-* nodes. */
export interface Component {
  id: string;
  /** The node's name as the user typed it ('' when unnamed). */
  name: string;
  /** What problems and reports call it: the name, else the node type. */
  label: string;
  /** Node-RED tab (z) the node sits on. */
  tab: string;
  kind: Kind;
  backend: string;
  model?: string;
  params: Record<string, ParamValue>;
  /** Base URL of the server the node talks to (from its opea-server config node), when it has one. */
  serverUrl?: string;
}

/** A core switch node testing one request property for equality: one rule per output port. */
export interface SwitchRoute {
  id: string;
  label: string;
  tab: string;
  /** The request property it tests, as a top-level key of the request body. */
  key: string;
  /** Where the key was read from: the original request (req.body) or the message payload. */
  source: 'request' | 'payload';
  /** rules[i] is the value that sends a message to output i. */
  values: string[];
  /** An "otherwise" rule follows them: output values.length takes every request no rule matches. */
  otherwise: boolean;
  /**
   * Its "otherwise" output answers in Node-RED alone (it reaches an http response and no opea- stage:
   * an error answer), so it is not exported and `otherwise` is false.
   */
  answersOtherwise?: boolean;
}

/** A core join node that gathers a fan-out. */
export interface JoinRoute {
  id: string;
  label: string;
  tab: string;
}

export interface Edge {
  from: string;
  /** Output port of `from` (0 for single-output nodes). */
  port: number;
  to: string;
}

/** Entry (http in) and exit (http response) markers of a served pipeline. */
export interface Endpoint {
  id: string;
  label: string;
  tab: string;
  /** URL path of an http in node; '' for exits. */
  path: string;
}

export interface PipelineGraph {
  name: string;
  components: Component[];
  switches: SwitchRoute[];
  joins: JoinRoute[];
  entries: Endpoint[];
  exits: Endpoint[];
  edges: Edge[];
}

export type GraphNode =
  | { type: 'component'; node: Component }
  | { type: 'switch'; node: SwitchRoute }
  | { type: 'join'; node: JoinRoute }
  | { type: 'entry'; node: Endpoint }
  | { type: 'exit'; node: Endpoint };

export function indexGraph(graph: PipelineGraph): Map<string, GraphNode> {
  const index = new Map<string, GraphNode>();
  for (const node of graph.components) index.set(node.id, { type: 'component', node });
  for (const node of graph.switches) index.set(node.id, { type: 'switch', node });
  for (const node of graph.joins) index.set(node.id, { type: 'join', node });
  for (const node of graph.entries) index.set(node.id, { type: 'entry', node });
  for (const node of graph.exits) index.set(node.id, { type: 'exit', node });
  return index;
}
