/**
 * Wires through chains of any length: 5,000 and 20,000 junctions in a row resolve without a stack
 * overflow, for the library and the command line; fan-out, fan-in and loops through junctions keep
 * their meaning.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPipeline } from '../../core/pipeline';
import { junctionChain, RawNode } from '../support/junction-chain';
import { runCli } from '../support/run-cli';

describe('wires through long junction chains', function () {
  this.timeout(60_000);

  for (const length of [5000, 20_000]) {
    it(`resolves ${length} junctions in a row to the stage at the end`, () => {
      const { pipeline, problems } = loadPipeline(junctionChain(length));
      assert.ok(problems.empty, JSON.stringify(problems.items.slice(0, 3)));
      assert.deepEqual(pipeline.graph.edges, [{ from: 'emb', port: 0, to: 'ret' }]);
    });

    it(`the command line validates ${length} junctions in a row`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-junctions-'));
      try {
        const file = path.join(dir, 'flow.json');
        fs.writeFileSync(file, JSON.stringify(junctionChain(length)));
        const result = await runCli(['validate', file, '--target', 'all']);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /valid: chain: 2 components, exportable to gmc, compose, ansible/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('keeps fan-out, fan-in and loops through junctions: each receiver once', () => {
    const flow = junctionChain(3);
    const j0 = flow.find((n) => n.id === 'j0') as RawNode;
    // j0 fans out to j1 and straight to ret (which j1 -> j2 reaches too); j2 also loops back to j0.
    j0.wires = [['j1', 'ret']];
    (flow.find((n) => n.id === 'j2') as RawNode).wires = [['ret', 'j0']];
    const { pipeline, problems } = loadPipeline(flow);
    assert.ok(problems.empty, JSON.stringify(problems.items));
    assert.deepEqual(pipeline.graph.edges, [{ from: 'emb', port: 0, to: 'ret' }]);
  });
});
