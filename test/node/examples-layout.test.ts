/**
 * No example flow has nodes on top of each other, each node's box sized as Node-RED's editor sizes
 * it (core/flow-layout.ts, which the editor sidebar's wizard also lays its tabs out with).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { LaidOutNode as FlowNode, NodeBox as Box, nodeBox as boxOf, overlappingNodes as overlaps } from '../../core/flow-layout';
import { REPO_ROOT } from '../support/reference';

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
