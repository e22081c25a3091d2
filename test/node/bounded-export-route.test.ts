/** The exporter's admin route answers normally for a pipeline wired through 5,000 and 20,000 junctions. */
import assert from 'node:assert/strict';
import { junctionChain } from '../support/junction-chain';
import { helper, onEachRuntime, packNodes } from '../support/runtimes';

const nodes = packNodes();

onEachRuntime('export route and long junction chains', () => {
  for (const length of [5000, 20_000]) {
    it(`answers the zip for a pipeline through ${length} junctions`, async function () {
      this.timeout(60_000);
      const exporter = { id: 'exp', type: 'opea-exporter', z: 't', name: 'export', targets: ['gmc'], exportName: '', namespace: '', platform: 'xeon', gmcFlavor: 'upstream', externalUrls: [], download: true, toFolder: false, folder: 'opea-export', configVersion: 1, wires: [[]] };
      const flow = [...junctionChain(length), exporter];
      await helper.load(nodes, flow);
      const res = await (helper as any).request().post('/opea-exporter/exp/export').set('Content-Type', 'application/json').send(JSON.stringify(flow));
      assert.equal(res.status, 200, JSON.stringify(res.body).slice(0, 500));
      assert.match(String(res.headers['content-type']), /application\/zip/);
    });
  }
});
