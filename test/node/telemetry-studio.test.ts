/** The studio (npm start) serves the pack's Prometheus metrics at /opea/metrics and counts the messages its pipeline answers. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startStudio, type StudioProcess } from '../support/editor';
import { sampleSum } from '../support/prometheus-text';

describe('studio: Prometheus metrics', function () {
  this.timeout(120_000);
  let dir = '';
  let studio: StudioProcess | undefined;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-studio-metrics-'));
  });
  after(async () => {
    await studio?.stop('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves GET /opea/metrics and counts each answered question at the LLM node', async () => {
    studio = await startStudio({ userDir: path.join(dir, 'user') });
    assert.match(studio.output(), /^Prometheus metrics: http:\/\/127\.0\.0\.1:\d+\/opea\/metrics$/m);
    const scrape = async () => {
      const res = await fetch(`${studio!.url}opea/metrics`);
      assert.equal(res.status, 200);
      return sampleSum(await res.text(), 'opea_node_requests_total', { type: 'opea-llm', outcome: 'ok' });
    };
    // The start-up ingest runs after the flows start: wait for the first answer naming what the samples say.
    const until = Date.now() + 30_000;
    for (;;) {
      const { status, body } = await studio.post('/v1/chatqna', { text: 'Who developed Node-RED?' });
      if (status === 200 && /IBM/.test(String(body?.text))) break;
      if (Date.now() > until) assert.fail(`no answer naming IBM within 30 s: ${status} ${JSON.stringify(body)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const before = await scrape();
    assert.ok(before >= 1, `the answered question was counted: ${before}`);
    for (const text of ['What is Node-RED?', 'What does OPEA stand for?', 'Who developed Node-RED?']) {
      assert.equal((await studio.post('/v1/chatqna', { text })).status, 200);
    }
    assert.equal(await scrape(), before + 3);
  });
});
