/**
 * No example flow has nodes on top of each other. Each node's box is computed as Node-RED's editor
 * sizes it (@node-red/editor-client, view.js: node_width 100, node_height 30; a node with a label is
 * max(100, 20 * ceil((labelWidth + 50 + 7 if it has an input) / 20)) wide, max(30, 6 + 24 * lines,
 * 15 * outputs) high, centred on (x, y); link nodes hide their label and are 30 wide). The editor
 * measures the label in its 14px font; here a label is taken as 8 px a character, wider than the
 * font's average, so a layout that passes here has at least the room it shows in the editor.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/reference';

type FlowNode = Record<string, unknown> & { id: string; type: string };

interface Box {
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
function labelOf(node: FlowNode): string {
  if (typeof node.name === 'string' && node.name !== '') return node.name;
  if (node.type === 'http in') return `[${String(node.method ?? 'get')}] ${String(node.url ?? '')}`;
  if (node.type === 'http response') return node.statusCode ? `http (${String(node.statusCode)})` : 'http';
  if (node.type === 'opea-exporter' && Array.isArray(node.targets)) return `export ${node.targets.join(' + ')}`;
  return node.type;
}

function boxOf(node: FlowNode): Box {
  const label = labelOf(node);
  const lines = label.split('\\n');
  const hidden = LABEL_HIDDEN.has(node.type) ? node.l !== true : node.l === false;
  const outputs = Array.isArray(node.wires) ? node.wires.length : 0;
  const labelWidth = Math.max(...lines.map((l) => l.length)) * CHAR_WIDTH;
  const w = hidden ? NODE_HEIGHT : Math.max(NODE_WIDTH, 20 * Math.ceil((labelWidth + 50 + (NO_INPUT.has(node.type) ? 0 : 7)) / 20));
  const h = Math.max(NODE_HEIGHT, hidden ? 0 : 6 + 24 * lines.length, outputs * 15);
  const x = Number(node.x);
  const y = Number(node.y);
  return { id: node.id, label, left: x - w / 2, right: x + w / 2, top: y - h / 2, bottom: y + h / 2 };
}

/** Pairs of nodes on the same tab whose boxes share any area. */
function overlaps(flow: FlowNode[]): [Box, Box][] {
  const placed = flow.filter((n) => typeof n.x === 'number' && typeof n.y === 'number' && typeof n.z === 'string');
  const found: [Box, Box][] = [];
  placed.forEach((a, i) => {
    for (const b of placed.slice(i + 1)) {
      if (a.z !== b.z) continue;
      const [p, q] = [boxOf(a), boxOf(b)];
      if (p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom) found.push([p, q]);
    }
  });
  return found;
}

const describeBox = (b: Box) => `${b.label} (${b.id}) x ${b.left}..${b.right}, y ${b.top}..${b.bottom}`;

describe('example flows: layout', () => {
  const dir = path.join(REPO_ROOT, 'flows');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

  it('sizes boxes as the editor does', () => {
    assert.deepEqual(boxOf({ id: 'a', type: 'debug', name: 'x', x: 100, y: 40, z: 't' }), { id: 'a', label: 'x', left: 50, right: 150, top: 25, bottom: 55 });
    // 24 characters: 192 + 50 = 242, rounded up to 260.
    const entry = boxOf({ id: 'b', type: 'http in', name: 'POST /v1/chatqna-guarded', x: 130, y: 120, z: 't' });
    assert.equal(entry.right - entry.left, 260);
    assert.equal(boxOf({ id: 'c', type: 'link out', x: 0, y: 0, z: 't' }).right, 15);
    assert.equal(boxOf({ id: 'd', type: 'switch', name: 's', x: 0, y: 0, z: 't', wires: [[], [], [], []] }).bottom, 30);
    assert.equal(overlaps([{ id: 'e', type: 'debug', x: 100, y: 100, z: 't' }, { id: 'f', type: 'debug', x: 199, y: 129, z: 't' }]).length, 1);
    assert.equal(overlaps([{ id: 'e', type: 'debug', x: 100, y: 100, z: 't' }, { id: 'f', type: 'debug', x: 199, y: 129, z: 'other' }]).length, 0);
  });

  for (const file of files) {
    it(`${file}: no two nodes overlap`, () => {
      const flow = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as FlowNode[];
      const found = overlaps(flow);
      assert.deepEqual(found.map(([a, b]) => `${describeBox(a)} overlaps ${describeBox(b)}`), []);
    });
  }
});
