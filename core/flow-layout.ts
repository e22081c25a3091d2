/**
 * Node boxes as Node-RED's editor sizes them (@node-red/editor-client, view.js: node_width 100,
 * node_height 30; a node with a label is max(100, 20 * ceil((labelWidth + 50 + 7 if it has an input) / 20))
 * wide, max(30, 6 + 24 * lines, 15 * outputs) high, centred on (x, y); link nodes hide their label and
 * are 30 wide). The editor measures the label in its 14px font; here a label is taken as 8 px a
 * character, wider than the font's average, so a layout that has room here has at least that room in
 * the editor. The example layout test and the editor sidebar's new-pipeline wizard both use it.
 */

export type LaidOutNode = Record<string, unknown> & { id: string; type: string };

export interface NodeBox {
  id: string;
  label: string;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const NODE_WIDTH = 100;
const NODE_HEIGHT = 30;
const CHAR_WIDTH = 8;
const NO_INPUT = new Set(['inject', 'http in', 'link in', 'comment', 'catch', 'status', 'complete']);
const LABEL_HIDDEN = new Set(['link in', 'link out', 'junction']);

/** The label the editor shows: the node's name, else its type's default (as its editor definition builds it). */
export function editorLabel(node: LaidOutNode): string {
  if (typeof node.name === 'string' && node.name !== '') return node.name;
  if (node.type === 'http in') return `[${String(node.method ?? 'get')}] ${String(node.url ?? '')}`;
  if (node.type === 'http response') return node.statusCode ? `http (${String(node.statusCode)})` : 'http';
  if (node.type === 'opea-exporter' && Array.isArray(node.targets)) return `export ${node.targets.join(' + ')}`;
  return node.type;
}

/** Width and height of a node's box in the editor. */
export function nodeSize(node: LaidOutNode): { width: number; height: number } {
  const lines = editorLabel(node).split('\\n');
  const hidden = LABEL_HIDDEN.has(node.type) ? node.l !== true : node.l === false;
  const outputs = Array.isArray(node.wires) ? node.wires.length : 0;
  const labelWidth = Math.max(...lines.map((l) => l.length)) * CHAR_WIDTH;
  const width = hidden ? NODE_HEIGHT : Math.max(NODE_WIDTH, 20 * Math.ceil((labelWidth + 50 + (NO_INPUT.has(node.type) ? 0 : 7)) / 20));
  const height = Math.max(NODE_HEIGHT, hidden ? 0 : 6 + 24 * lines.length, outputs * 15);
  return { width, height };
}

export function nodeBox(node: LaidOutNode): NodeBox {
  const { width, height } = nodeSize(node);
  const x = Number(node.x);
  const y = Number(node.y);
  return { id: node.id, label: editorLabel(node), left: x - width / 2, right: x + width / 2, top: y - height / 2, bottom: y + height / 2 };
}

/** Pairs of nodes on the same tab whose boxes share any area. */
export function overlappingNodes(flow: readonly LaidOutNode[]): [NodeBox, NodeBox][] {
  const placed = flow.filter((n) => typeof n.x === 'number' && typeof n.y === 'number' && typeof n.z === 'string');
  const found: [NodeBox, NodeBox][] = [];
  placed.forEach((a, i) => {
    for (const b of placed.slice(i + 1)) {
      if (a.z !== b.z) continue;
      const [p, q] = [nodeBox(a), nodeBox(b)];
      if (p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom) found.push([p, q]);
    }
  });
  return found;
}

/**
 * Places nodes left to right on one row centred on y, the first box's left edge at `left`, `gap`
 * pixels between boxes (x and y are the box centres, as in flow JSON, on the editor's 20 px grid).
 */
export function placeRow(nodes: readonly LaidOutNode[], y: number, left: number, gap = 40): void {
  let edge = left;
  for (const node of nodes) {
    const { width } = nodeSize(node);
    node.x = Math.ceil((edge + width / 2) / 10) * 10;
    node.y = y;
    edge = (node.x as number) + width / 2 + gap;
  }
}
