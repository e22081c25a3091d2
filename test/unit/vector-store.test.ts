import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VectorStore } from '../../core/embedded/vector-store';
import { seededRandom } from '../support/random';

function vectors(n: number, dim: number, seed = 1): number[][] {
  const next = seededRandom(seed);
  const centred = () => next() - 0.5;
  return Array.from({ length: n }, () => Array.from({ length: dim }, centred));
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  a.forEach((x, i) => ((dot += x * b[i]), (na += x * x), (nb += b[i] * b[i])));
  return dot / Math.sqrt(na * nb);
}

describe('embedded vector store', () => {
  const dim = 16;
  const data = vectors(500, dim);
  const fill = () => {
    const store = new VectorStore(dim);
    store.upsert(data.map((embedding, i) => ({ id: `d${i}`, text: `doc ${i}`, embedding, metadata: { i } })));
    return store;
  };

  it('returns exactly the k best by cosine, best first, as a full scan in doubles does', () => {
    const store = fill();
    for (const query of vectors(20, dim, 7)) {
      const expected = data.map((v, i) => ({ id: `d${i}`, score: cosine(query, v) })).sort((a, b) => b.score - a.score).slice(0, 10);
      const hits = store.search(query, 10);
      assert.deepEqual(hits.map((h) => h.id), expected.map((e) => e.id));
      hits.forEach((h, i) => assert.ok(Math.abs(h.score - expected[i].score) < 1e-5));
      assert.deepEqual(hits[0].metadata, { i: Number(hits[0].id.slice(1)) });
    }
  });

  it('keeps only hits at or above minScore, and returns all documents when k exceeds them', () => {
    const store = fill();
    const query = data[3];
    assert.ok(store.search(query, 500, 0.5).every((h) => h.score >= 0.5));
    assert.equal(store.search(query, 10_000).length, 500);
    assert.equal(store.search(query, 1)[0].id, 'd3');
  });

  it('replaces a document by id and deletes without disturbing the others', () => {
    const store = fill();
    store.upsert([{ id: 'd0', text: 'moved', embedding: data[42] }]);
    assert.equal(store.size, 500);
    assert.deepEqual(store.search(data[42], 2).map((h) => h.id).sort(), ['d0', 'd42']);
    assert.equal(store.delete(['d42', 'nope', 'd499']), 2);
    assert.equal(store.size, 498);
    assert.equal(store.search(data[42], 1)[0].id, 'd0');
    assert.equal(store.search(data[100], 1)[0].id, 'd100');
  });

  it('survives a save and load byte for byte, in one journal file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-vs-'));
    try {
      const store = fill();
      const file = path.join(dir, 'store');
      store.save(file);
      const loaded = VectorStore.load(file);
      assert.equal(loaded.size, 500);
      assert.deepEqual(loaded.search(data[9], 5), store.search(data[9], 5));
      assert.deepEqual(fs.readdirSync(dir), ['store.vstore']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an index of the earlier format whose vector file was truncated', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-vs-'));
    try {
      const file = path.join(dir, 'store');
      fs.writeFileSync(`${file}.json`, JSON.stringify({ format: 1, dimensions: dim, docs: data.map((_, i) => ({ id: `d${i}`, text: '', metadata: {} })) }));
      fs.writeFileSync(`${file}.bin`, Buffer.alloc(100));
      assert.throws(() => VectorStore.load(file), /100 bytes of vectors for 500 documents of 16 dimensions/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses vectors of the wrong size, zero vectors and non-finite values, changing nothing', () => {
    const store = fill();
    assert.throws(() => store.upsert([{ id: 'x', text: '', embedding: [1, 2] }]), /has 2 dimensions; the store holds 16/);
    assert.throws(() => store.upsert([{ id: 'y', text: '', embedding: data[0] }, { id: 'z', text: '', embedding: new Array(dim).fill(0) }]), /zero vector/);
    assert.throws(() => store.search([NaN, ...data[0].slice(1)], 3), /non-finite value at 0/);
    assert.throws(() => store.search(data[0], 0), /k must be a whole number/);
    assert.equal(store.size, 500);
    assert.equal(store.search(data[0], 1)[0].id, 'd0');
  });

  it('grows its buffer by at most 25 % beyond what it holds', () => {
    const store = new VectorStore(dim);
    for (let i = 0; i < 5000; i++) store.upsert([{ id: String(i), text: '', embedding: data[i % 500] }]);
    assert.ok(store.vectorBytes <= 5000 * dim * 4 * 1.25 + 64 * dim * 4, String(store.vectorBytes));
  });
});
