// opea-dataprep (redis) against a loopback dataprep service that behaves as GenAIComps 1.1's and 1.5's
// (test/support/dataprep-service.ts, cited per release there).
import assert from 'node:assert/strict';
import { createEndpoint, Endpoint } from '../../core/clients/endpoint';
import { ingestRemote } from '../../core/clients/dataprep';
import { ingestInput, runDataprep } from '../../core/stages/dataprep';
import { DataprepRelease, DataprepService } from '../support/dataprep-service';

const endpointAt = (url: string): Endpoint => createEndpoint({ baseUrl: url, timeoutMs: 5000, retries: 0, backoffMs: 10, headers: {}, verifyTls: true });

const config = { backend: 'redis', chunkSize: 1500, chunkOverlap: 100, indexName: 'rag-redis', embedder: { backend: 'hashing', dimensions: 8 } };

for (const release of ['1.5', '1.1'] as DataprepRelease[]) {
  describe(`dataprep (redis) against GenAIComps ${release}'s ingest`, () => {
    let service: DataprepService;
    let endpoint: Endpoint;

    beforeEach(async () => {
      service = await new DataprepService(release).start();
      endpoint = endpointAt(service.url);
    });
    afterEach(() => service.close());

    const ingest = (payload: unknown) => runDataprep(config, { endpoint }, ingestInput(payload));

    it('two ingests of different anonymous texts into one index both go in, under names from their content', async () => {
      const first = await ingest('Nike revenue in FY2023 was $51.2B.');
      const second = await ingest('OPEA is a set of composable GenAI microservices.');
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.deepEqual(service.stored.map((s) => s.content), ['Nike revenue in FY2023 was $51.2B.', 'OPEA is a set of composable GenAI microservices.']);
      const names = service.stored.map((s) => s.name);
      assert.notEqual(names[0], names[1]);
      for (const name of names) assert.match(name, /^text-[0-9a-f]{12}\.txt$/);
      // The same text is named the same in another run, so the service can tell it was ingested.
      assert.equal(ingestInput('Nike revenue in FY2023 was $51.2B.').files[0].name, names[0]);
    });

    it('every file of one message and its links are ingested, each file in a request of its own and the links in one more', async () => {
      const report = await ingest({ files: ['first text', { name: 'b.md', text: '# B' }, 'third text'], link_list: ['https://example.com/a'] });
      assert.equal(report.status, 200);
      assert.equal(report.message, 'Data preparation succeeded');
      assert.deepEqual(
        service.stored.map((s) => s.content),
        ['first text', '# B', 'third text', '(page at https://example.com/a)'],
      );
      const answered = service.seen.filter((s) => s.path !== '/v1/dataprep/ingest' || release === '1.5');
      assert.deepEqual(answered.map((s) => [s.files.length, s.links ?? null]), [[1, null], [1, null], [1, null], [0, '["https://example.com/a"]']]);
      assert.ok('results' in report);
      assert.deepEqual(
        report.results.map((r) => [r.file ?? r.links, r.outcome, r.status]),
        [
          [service.stored[0].name, 'ingested', 200],
          ['b.md', 'ingested', 200],
          [service.stored[2].name, 'ingested', 200],
          [['https://example.com/a'], 'ingested', 200],
        ],
      );
    });

    it('re-ingesting a text is reported as the service refuses it, per file, and the new file beside it still goes in', async () => {
      await ingest('already there');
      const report = await ingest(['already there', 'something new']);
      assert.ok('results' in report);
      assert.equal(report.status, 400);
      assert.doesNotMatch(report.message, /succeeded/);
      const [again, fresh] = report.results;
      assert.equal(again.outcome, 'refused');
      assert.equal(again.status, 400);
      assert.equal(again.message, `Uploaded file ${again.file} already exists. Please change file name${release === '1.5' ? ' or index name' : ''}.`);
      assert.deepEqual([fresh.outcome, fresh.status, fresh.message], ['ingested', 200, 'Data preparation succeeded']);
      assert.equal(report.ingested, 1);
      assert.match(report.message, /^1 of 2 ingested \(text-[0-9a-f]{12}\.txt\); refused text-[0-9a-f]{12}\.txt \(HTTP 400\): Uploaded file text-[0-9a-f]{12}\.txt already exists/);
      assert.deepEqual(service.stored.map((s) => s.content), ['already there', 'something new']);
    });

    it('a request that gets no answer stops the rest, and the report says which went in and which were not sent', async () => {
      const offset = release === '1.1' ? 1 : 0; // 1.1: the client's first request asks the 1.2+ path (404)
      service.hangUpOn.add(2 + offset);
      const report = await ingestRemote(endpoint, { files: [{ name: 'a.txt', content: 'A' }, { name: 'b.txt', content: 'B' }, { name: 'c.txt', content: 'C' }], links: ['https://example.com/x'], chunkSize: 100, chunkOverlap: 0 });
      assert.deepEqual(
        report.results.map((r) => [r.file ?? r.links, r.outcome]),
        [
          ['a.txt', 'ingested'],
          ['b.txt', 'failed'],
          ['c.txt', 'not sent'],
          [['https://example.com/x'], 'not sent'],
        ],
      );
      assert.equal(report.status, 0);
      assert.equal(report.requests, 2);
      assert.match(report.message, /^1 of 4 ingested \(a\.txt\); failed b\.txt: request failed/);
      assert.match(report.message, /not sent: c\.txt, link https:\/\/example\.com\/x$/);
      assert.deepEqual(service.stored.map((s) => s.name), ['a.txt']);
    });
  });
}
