import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ContractError, EmbedDoc } from '../../core/contract/documents';
import { IndexDirectory } from '../../core/embedded/index-directory';
import { runDataprep } from '../../core/stages/dataprep';
import { RetrieverConfig, retrievalRequest, searchEmbedded } from '../../core/stages/retriever';

const CONFIG: RetrieverConfig = {
  backend: 'memory',
  k: 4,
  searchType: 'similarity',
  scoreThreshold: 0.2,
  fetchK: 20,
  lambdaMult: 0.5,
  indexName: 'rag-redis',
};

/** Query direction, two near-duplicates close to it, and one different document further away. */
const QUERY = [1, 0, 0];
const DOCS = [
  { id: 'dup-a', text: 'near duplicate A', embedding: [1, 0.1, 0] },
  { id: 'dup-b', text: 'near duplicate B', embedding: [1, 0.1, 0.02] },
  { id: 'other', text: 'a different document', embedding: [0.6, 0, 0.8] },
  { id: 'far', text: 'an unrelated document', embedding: [0, 1, 0] },
];

describe('IndexDirectory', () => {
  let folder: string;

  beforeEach(() => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-index-'));
  });

  afterEach(() => {
    fs.rmSync(folder, { recursive: true, force: true });
  });

  it('finds nothing in an empty folder, or one that does not exist yet', () => {
    assert.equal(new IndexDirectory(folder).find('docs'), undefined);
    assert.deepEqual(new IndexDirectory(folder).names(), []);
    const missing = new IndexDirectory(path.join(folder, 'not', 'yet'));
    assert.equal(missing.find('docs'), undefined);
    assert.deepEqual(missing.names(), []);
  });

  it('creates an index for writing, keeps it open, and saves it where a second IndexDirectory sees it', () => {
    const first = new IndexDirectory(path.join(folder, 'store'));
    const store = first.forWriting('docs', 3);
    assert.equal(store.dimensions, 3);
    assert.equal(first.forWriting('docs', 3), store, 'the same open store');
    assert.equal(first.find('docs'), store);
    store.upsert(DOCS.slice(0, 2));
    assert.equal(new IndexDirectory(path.join(folder, 'store')).find('docs'), undefined, 'nothing on disk before save');
    first.save('docs');

    const second = new IndexDirectory(path.join(folder, 'store'));
    const loaded = second.find('docs');
    assert.ok(loaded);
    assert.equal(loaded.size, 2);
    assert.equal(loaded.dimensions, 3);
    assert.deepEqual(loaded.search(QUERY, 1).map((h) => h.id), ['dup-a']);
    assert.deepEqual(second.names(), ['docs']);
    assert.equal(second.find('docs'), loaded, 'loaded once, then cached');
  });

  it('a second save replaces the first on disk', () => {
    const writer = new IndexDirectory(folder);
    writer.forWriting('docs', 3).upsert([DOCS[0]]);
    writer.save('docs');
    writer.forWriting('docs', 3).upsert([DOCS[2]]);
    writer.save('docs');
    assert.equal(new IndexDirectory(folder).find('docs')?.size, 2);
  });

  it('save of an index never opened does nothing', () => {
    const dir = new IndexDirectory(folder);
    dir.save('never');
    assert.deepEqual(fs.readdirSync(folder), []);
  });

  it('lists open and saved index names, sorted', () => {
    const dir = new IndexDirectory(folder);
    dir.forWriting('zeta', 2).upsert([{ id: '1', text: 'z', embedding: [1, 0] }]);
    dir.save('zeta');
    dir.forWriting('alpha', 2);
    assert.deepEqual(dir.names(), ['alpha', 'zeta']);
    assert.deepEqual(new IndexDirectory(folder).names(), ['zeta']);
  });

  it("names() lists a saved index whose name has ':' once, under its own name", () => {
    const dir = new IndexDirectory(folder);
    dir.forWriting('tenant:docs', 2).upsert([{ id: '1', text: 'x', embedding: [1, 0] }]);
    dir.save('tenant:docs');
    assert.deepEqual(dir.names(), ['tenant:docs']);
    assert.deepEqual(new IndexDirectory(folder).names(), ['tenant:docs']);
  });

  it("keeps 'a:b' and 'a_b' apart on disk, in file names without ':'", () => {
    const dir = new IndexDirectory(folder);
    dir.forWriting('a:b', 2).upsert([{ id: 'colon', text: 'x', embedding: [1, 0] }]);
    dir.save('a:b');
    dir.forWriting('a_b', 2).upsert([{ id: 'under', text: 'y', embedding: [0, 1] }]);
    dir.save('a_b');
    for (const file of fs.readdirSync(folder)) assert.ok(!file.includes(':'), file);
    const reopened = new IndexDirectory(folder);
    assert.deepEqual(reopened.names(), ['a:b', 'a_b']);
    assert.deepEqual(reopened.find('a:b')?.search([1, 0], 2).map((h) => h.id), ['colon']);
    assert.deepEqual(reopened.find('a_b')?.search([1, 0], 2).map((h) => h.id), ['under']);
  });

  it('names() lists only files that find() opens under the listed name', () => {
    const dir = new IndexDirectory(folder);
    dir.forWriting('docs', 2).upsert([{ id: '1', text: 'x', embedding: [1, 0] }]);
    dir.save('docs');
    for (const stray of ['notes about.json', 'a:b.json', 'a%3ab.json', '.hidden.json', 'docs.json.tmp', 'a:b.vstore', '.hidden.vstore', 'docs.vstore.tmp', 'other.vstore.tmp']) fs.writeFileSync(path.join(folder, stray), '{}');
    assert.deepEqual(new IndexDirectory(folder).names(), ['docs']);
  });

  it('refuses vectors of another dimension than the index holds, naming both sizes', () => {
    const dir = new IndexDirectory(folder);
    dir.forWriting('docs', 384).upsert([{ id: '1', text: 'x', embedding: new Array(384).fill(0.1) }]);
    dir.save('docs');
    assert.throws(() => dir.forWriting('docs', 768), (err: Error) => /384/.test(err.message) && /768/.test(err.message) && /'docs'/.test(err.message));
    // Also after reloading from disk.
    assert.throws(() => new IndexDirectory(folder).forWriting('docs', 3), /holds 384-dimensional vectors, these have 3/);
    // Another index name is free to hold another size.
    assert.equal(dir.forWriting('docs-768', 768).dimensions, 768);
  });

  it('refuses invalid index names', () => {
    const dir = new IndexDirectory(folder);
    for (const bad of ['../x', '', '.hidden', 'a/b', 'a\\b', '..', '/abs', 'space name', '-lead', 'x'.repeat(129), 'nul\0', 'a%3Ab', 'café']) {
      assert.throws(() => dir.forWriting(bad, 3), /index name .* must be letters, digits/, JSON.stringify(bad));
      assert.throws(() => dir.find(bad), /index name/, JSON.stringify(bad));
    }
    assert.deepEqual(fs.readdirSync(folder), []);
    // What the node user sees: the name, the characters allowed, and where to change it.
    assert.throws(
      () => dir.forWriting('my docs', 3),
      (err: unknown) =>
        err instanceof ContractError && /index name 'my docs' must be letters, digits and _ \. : - only/.test(err.message) && /node's settings .*msg\.payload\.index_name/.test(err.fix),
    );
    for (const good of ['rag-redis', 'a', 'A.b_c:d-1', 'x'.repeat(128)]) assert.equal(dir.forWriting(good, 3).dimensions, 3, good);
  });

  it('dataprep refuses a bad index name before fetching links or embedding anything', async () => {
    const dir = new IndexDirectory(folder);
    const config = { backend: 'memory', chunkSize: 100, chunkOverlap: 10, indexName: 'my docs', embedder: { backend: 'hashing', model: '', dimensions: 64 } };
    // The link would be refused (port 9 is closed); the name must be refused first.
    const input = { files: [{ name: 'a.txt', content: 'some text' }], links: ['http://127.0.0.1:9/doc.html'], embedded: [] };
    await assert.rejects(runDataprep(config, { indexes: dir }, input), /index name 'my docs'/);
    assert.deepEqual(fs.readdirSync(folder), []);
  });
});

describe('retrievalRequest', () => {
  const payload = { text: 'q', embedding: QUERY };

  it('fills the request from the node config', () => {
    assert.deepEqual(retrievalRequest(CONFIG, payload), {
      text: 'q',
      embedding: QUERY,
      search_type: 'similarity',
      k: 4,
      fetch_k: 20,
      lambda_mult: 0.5,
      score_threshold: 0.2,
      index_name: 'rag-redis',
    });
  });

  it('lets the payload fields override the node config', () => {
    const request = retrievalRequest(CONFIG, {
      ...payload,
      k: 2,
      search_type: 'mmr',
      fetch_k: 7,
      lambda_mult: 0.1,
      score_threshold: 0.9,
      index_name: 'other',
    });
    assert.equal(request.k, 2);
    assert.equal(request.search_type, 'mmr');
    assert.equal(request.fetch_k, 7);
    assert.equal(request.lambda_mult, 0.1);
    assert.equal(request.score_threshold, 0.9);
    assert.equal(request.index_name, 'other');
    assert.equal(retrievalRequest(CONFIG, { ...payload, distance_threshold: 0.3, search_type: 'similarity_distance_threshold' }).distance_threshold, 0.3);
  });

  it('refuses an unknown search_type, from the payload or the config, listing the known ones', () => {
    assert.throws(
      () => retrievalRequest(CONFIG, { ...payload, search_type: 'fuzzy' }),
      (err: unknown) => err instanceof ContractError && /search_type 'fuzzy'/.test(err.message) && /similarity_score_threshold/.test(err.fix) && /mmr/.test(err.fix),
    );
    assert.throws(() => retrievalRequest({ ...CONFIG, searchType: 'nearest' }, payload), /search_type 'nearest'/);
  });

  it('refuses k that is not a whole number of at least 1', () => {
    for (const k of [0, -1, 1.5]) assert.throws(() => retrievalRequest(CONFIG, { ...payload, k }), ContractError, String(k));
    assert.throws(() => retrievalRequest({ ...CONFIG, k: 0 }, payload), /k must be a whole number/);
  });

  it('needs distance_threshold for similarity_distance_threshold, and an EmbedDoc', () => {
    assert.throws(() => retrievalRequest(CONFIG, { ...payload, search_type: 'similarity_distance_threshold' }), /distance_threshold/);
    assert.throws(() => retrievalRequest(CONFIG, { text: 'q' }), /EmbedDoc/);
  });
});

describe('searchEmbedded', () => {
  let folder: string;
  let indexes: IndexDirectory;

  before(() => {
    folder = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-search-'));
    indexes = new IndexDirectory(folder);
    indexes.forWriting('rag-redis', 3).upsert(DOCS.map((d) => ({ ...d, metadata: { source: `${d.id}.md` } })));
    indexes.save('rag-redis');
  });

  after(() => {
    fs.rmSync(folder, { recursive: true, force: true });
  });

  const search = (fields: Partial<EmbedDoc>) => searchEmbedded(indexes, retrievalRequest(CONFIG, { text: 'the query', embedding: QUERY, ...fields }));
  const ids = (fields: Partial<EmbedDoc>) => search(fields).retrieved_docs.map((d) => d.metadata?.id);

  it('similarity: the k best, best first, as a SearchedDoc with scores and metadata', () => {
    const result = search({ k: 3 });
    assert.equal(result.initial_query, 'the query');
    assert.equal(result.top_n, 1);
    assert.deepEqual(result.retrieved_docs.map((d) => d.metadata?.id), ['dup-a', 'dup-b', 'other']);
    assert.equal(result.retrieved_docs[0].text, 'near duplicate A');
    assert.equal(result.retrieved_docs[0].metadata?.source, 'dup-a.md');
    const scores = result.retrieved_docs.map((d) => d.score as number);
    assert.ok(scores[0] >= scores[1] && scores[1] >= scores[2], String(scores));
    assert.ok(Math.abs(scores[2] - 0.6) < 1e-6, String(scores[2]));
  });

  it('MMR with lambda 1 is plain similarity order', () => {
    for (const k of [1, 2, 3, 4]) {
      assert.deepEqual(ids({ search_type: 'mmr', lambda_mult: 1, k }), ids({ search_type: 'similarity', k }), `k=${k}`);
    }
  });

  it('MMR with lambda 0 picks a diverse document instead of the near-duplicate', () => {
    assert.deepEqual(ids({ search_type: 'similarity', k: 2 }), ['dup-a', 'dup-b']);
    const diverse = ids({ search_type: 'mmr', lambda_mult: 0, k: 2 });
    assert.equal(diverse[0], 'dup-a', 'the first pick is the most similar');
    assert.notEqual(diverse[1], 'dup-b', 'the near-duplicate is not picked second');
    assert.ok(diverse.includes('dup-a') && !diverse.includes('dup-b'));
    // A middle lambda also prefers the different document to the near-duplicate here.
    assert.deepEqual(ids({ search_type: 'mmr', lambda_mult: 0.5, k: 2 }), ['dup-a', 'other']);
  });

  it('MMR chooses only among the fetch_k most similar candidates', () => {
    // fetch_k 2 leaves only the two near-duplicates to choose from (fetch_k is raised to k when smaller).
    assert.deepEqual(ids({ search_type: 'mmr', lambda_mult: 0, k: 2, fetch_k: 2 }), ['dup-a', 'dup-b']);
    assert.deepEqual(ids({ search_type: 'mmr', lambda_mult: 0, k: 2, fetch_k: 1 }), ['dup-a', 'dup-b']);
  });

  it('similarity_score_threshold drops hits below the threshold', () => {
    const result = search({ search_type: 'similarity_score_threshold', score_threshold: 0.9, k: 4 });
    assert.deepEqual(result.retrieved_docs.map((d) => d.metadata?.id), ['dup-a', 'dup-b']);
    for (const d of result.retrieved_docs) assert.ok((d.score as number) >= 0.9);
    assert.deepEqual(ids({ search_type: 'similarity_score_threshold', score_threshold: 0.5, k: 4 }), ['dup-a', 'dup-b', 'other']);
    assert.deepEqual(ids({ search_type: 'similarity_score_threshold', score_threshold: 0.999, k: 4 }), []);
    // Below the node's minimum of 0 only as a request built by hand: a message's override is held to the node's limits.
    const everything = { ...retrievalRequest(CONFIG, { text: 'the query', embedding: QUERY, search_type: 'similarity_score_threshold', k: 4 }), score_threshold: -1 };
    assert.equal(searchEmbedded(indexes, everything).retrieved_docs.length, 4);
  });

  it('similarity_distance_threshold keeps hits within the cosine distance', () => {
    assert.deepEqual(ids({ search_type: 'similarity_distance_threshold', distance_threshold: 0.5, k: 4 }), ['dup-a', 'dup-b', 'other']);
  });

  it('payload k overrides the node config k', () => {
    assert.equal(ids({}).length, 4, 'node config k = 4');
    assert.equal(ids({ k: 1 }).length, 1);
  });

  it('an index that does not exist gives no documents', () => {
    assert.deepEqual(search({ index_name: 'nothing-here' }).retrieved_docs, []);
  });

  it('refuses an invalid index_name from the payload with a ContractError naming it', () => {
    assert.throws(() => search({ index_name: 'tenant docs' }), (err: unknown) => err instanceof ContractError && /^msg\.payload\.index_name .*'tenant docs'/.test(err.message));
  });

  it('refuses a query embedding of another size than the index, naming both sizes', () => {
    assert.throws(
      () => searchEmbedded(indexes, retrievalRequest(CONFIG, { text: 'q', embedding: [1, 0, 0, 0, 0] })),
      (err: unknown) => err instanceof ContractError && /holds 3-dimensional vectors/.test(err.message) && /has 5/.test(err.message) && /same embedder/.test(err.fix),
    );
  });
});
