/**
 * npm run bench:vectorstore — the embedded vector store on 100,000 x 768 vectors: ingest rate, top-10
 * search against one plain pass of dot products over the same Float32Array (same run), and memory;
 * then on disk: the cost per document of ingesting 10 documents (upsert and a durable save) into an
 * index of 1,000 and of 100,000 documents, the first (whole) save and the load.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { VectorStore } from '../../core/embedded/vector-store';

const N = Number(process.env.BENCH_VECTORS ?? 100_000);
const DIM = 768;

function randomVector(next: () => number): Float32Array {
  const v = new Float32Array(DIM);
  for (let d = 0; d < DIM; d++) v[d] = next();
  return v;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function main(): void {
  let seed = 42;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  const before = process.memoryUsage().arrayBuffers;
  const store = new VectorStore(DIM);
  // Only upsert is timed: making up the random vectors is not the store's work.
  let ingestMs = 0;
  for (let i = 0; i < N; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(N, i + 1000); j++) batch.push({ id: `doc-${j}`, text: '', embedding: randomVector(next) });
    const t = performance.now();
    store.upsert(batch);
    ingestMs += performance.now() - t;
  }
  const arrayBuffers = process.memoryUsage().arrayBuffers - before;
  const raw = N * DIM * 4;

  // The same loop without ranking: what any exact search must at least do.
  const flat = (store as unknown as { vectors: Float32Array }).vectors;
  const scores = new Float32Array(N);
  const plainPass = (q: Float32Array): number => {
    const t = performance.now();
    for (let i = 0; i < N; i++) {
      let dot = 0;
      const base = i * DIM;
      for (let d = 0; d < DIM; d++) dot += q[d] * flat[base + d];
      scores[i] = dot;
    }
    return performance.now() - t;
  };
  const search = (q: Float32Array): number => {
    const t = performance.now();
    store.search(q, 10);
    return performance.now() - t;
  };
  const queries = Array.from({ length: 15 }, () => randomVector(next));
  for (const q of queries.slice(0, 3)) (plainPass(q), search(q));
  const plain: number[] = [];
  const ours: number[] = [];
  for (const q of queries) {
    plain.push(plainPass(q));
    ours.push(search(q));
  }
  const p = median(plain);
  const s = median(ours);
  console.log(`vectors: ${N} x ${DIM} (${(raw / 2 ** 20).toFixed(1)} MiB raw)`);
  console.log(`ingest: ${(N / (ingestMs / 1000)).toFixed(0)} vectors/s (${ingestMs.toFixed(0)} ms)`);
  console.log(`top-10 search median: ${s.toFixed(1)} ms; plain pass median: ${p.toFixed(1)} ms; ratio ${(s / p).toFixed(2)}x`);
  console.log(`vector buffer: ${(store.vectorBytes / raw).toFixed(3)}x raw; array-buffer memory after ingest: ${(arrayBuffers / raw).toFixed(3)}x raw`);
  const misses = [s / p > SEARCH_LIMIT && `search ratio ${(s / p).toFixed(2)}x > ${SEARCH_LIMIT}x`, store.vectorBytes / raw > MEMORY_LIMIT && `memory ${(store.vectorBytes / raw).toFixed(3)}x > ${MEMORY_LIMIT}x`].filter(Boolean);
  if (misses.length > 0) {
    console.log(`FAIL: ${misses.join('; ')}`);
    process.exitCode = 1;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-vs-bench-'));
  try {
    for (const size of [1000, N]) diskFigures(dir, size === N ? store : filled(size, next), next);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const CHUNK_TEXT = 'a chunk of some document text '.repeat(10);

function filled(n: number, next: () => number): VectorStore {
  const store = new VectorStore(DIM);
  for (let i = 0; i < n; i += 1000) {
    store.upsert(Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({ id: `doc-${i + j}`, text: CHUNK_TEXT, embedding: randomVector(next) })));
  }
  return store;
}

/** Save, load and per-document ingest cost with the index at its size. */
function diskFigures(dir: string, store: VectorStore, next: () => number): void {
  const file = path.join(dir, `index-${store.size}`);
  let t = performance.now();
  store.save(file);
  const wholeMs = performance.now() - t;
  t = performance.now();
  const loaded = VectorStore.load(file);
  const loadMs = performance.now() - t;
  const per: number[] = [];
  for (let round = 0; round < 7; round++) {
    const batch = Array.from({ length: 10 }, (_, j) => ({ id: `new-${round}-${j}`, text: CHUNK_TEXT, embedding: randomVector(next) }));
    t = performance.now();
    loaded.upsert(batch);
    loaded.save(file);
    per.push((performance.now() - t) / batch.length);
  }
  console.log(`on disk, ${store.size} documents: first save ${wholeMs.toFixed(0)} ms, load ${loadMs.toFixed(0)} ms; ingest of 10 documents (upsert + durable save) median ${median(per).toFixed(2)} ms per document`);
}

/** The limits the README states. */
const SEARCH_LIMIT = 1.5;
const MEMORY_LIMIT = 1.3;

if (require.main === module) main();
