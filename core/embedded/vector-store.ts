/**
 * The embedded vector store: exact cosine search over unit vectors in one Float32Array, persisted as
 * a binary file plus a JSON index, written atomically. For offline pipelines and tests; a deployed
 * pipeline uses Redis.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface StoredDoc {
  id: string;
  text: string;
  metadata: Record<string, unknown>;
}

export interface SearchHit extends StoredDoc {
  /** Cosine similarity, -1..1. */
  score: number;
}

/** Growth of the vector buffer: small, so memory stays near the raw vector bytes. */
const GROWTH = 1.25;
const MIN_CAPACITY = 64;

export class VectorStore {
  private vectors: Float32Array;
  private docs: StoredDoc[] = [];
  private readonly positions = new Map<string, number>();

  constructor(readonly dimensions: number, capacity = MIN_CAPACITY) {
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 65536) {
      throw new RangeError(`vector store: dimensions must be a whole number from 1 to 65536, not ${dimensions}`);
    }
    this.vectors = new Float32Array(Math.max(capacity, 1) * dimensions);
  }

  get size(): number {
    return this.docs.length;
  }

  /** Bytes held for vectors (the buffer, including room to grow). */
  get vectorBytes(): number {
    return this.vectors.byteLength;
  }

  /** Adds or replaces documents by id. Vectors are stored normalised; a zero vector is refused. */
  upsert(items: { id: string; text: string; embedding: ArrayLike<number>; metadata?: Record<string, unknown> }[]): void {
    const unit = items.map((item) => this.normalised(item.embedding, item.id));
    items.forEach((item, i) => {
      const doc: StoredDoc = { id: item.id, text: item.text, metadata: item.metadata ?? {} };
      let at = this.positions.get(item.id);
      if (at === undefined) {
        at = this.docs.length;
        this.ensureCapacity(at + 1);
        this.docs.push(doc);
        this.positions.set(item.id, at);
      } else {
        this.docs[at] = doc;
      }
      this.vectors.set(unit[i], at * this.dimensions);
    });
  }

  /** Removes documents by id; returns how many existed. */
  delete(ids: string[]): number {
    let removed = 0;
    for (const id of ids) {
      const at = this.positions.get(id);
      if (at === undefined) continue;
      const last = this.docs.length - 1;
      if (at !== last) {
        this.docs[at] = this.docs[last];
        this.positions.set(this.docs[at].id, at);
        this.vectors.copyWithin(at * this.dimensions, last * this.dimensions, (last + 1) * this.dimensions);
      }
      this.docs.pop();
      this.positions.delete(id);
      removed += 1;
    }
    return removed;
  }

  /** The k most similar documents, best first, optionally only those scoring at least minScore. */
  search(query: ArrayLike<number>, k: number, minScore = -Infinity): SearchHit[] {
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`vector store: k must be a whole number of at least 1, not ${k}`);
    const q = this.normalised(query, 'query');
    const dim = this.dimensions;
    const v = this.vectors;
    const n = this.docs.length;
    // A min-heap of the best k (scores and positions), root = weakest kept.
    const size = Math.min(k, n);
    const heapScore = new Float64Array(size);
    const heapPos = new Int32Array(size);
    let filled = 0;
    for (let i = 0; i < n; i++) {
      let dot = 0;
      const base = i * dim;
      for (let d = 0; d < dim; d++) dot += q[d] * v[base + d];
      if (dot < minScore) continue;
      if (filled < size) {
        let c = filled++;
        while (c > 0) {
          const p = (c - 1) >> 1;
          if (heapScore[p] <= dot) break;
          heapScore[c] = heapScore[p];
          heapPos[c] = heapPos[p];
          c = p;
        }
        heapScore[c] = dot;
        heapPos[c] = i;
      } else if (dot > heapScore[0]) {
        siftDown(heapScore, heapPos, size, dot, i);
      }
    }
    const hits: SearchHit[] = [];
    for (let j = 0; j < filled; j++) hits.push({ ...this.docs[heapPos[j]], score: heapScore[j] });
    return hits.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
  }

  /** The stored (unit) vector of a document, or undefined; a view, valid until the next change. */
  vector(id: string): Float32Array | undefined {
    const at = this.positions.get(id);
    return at === undefined ? undefined : this.vectors.subarray(at * this.dimensions, (at + 1) * this.dimensions);
  }

  /** Writes `<file>.bin` (vectors) and `<file>.json` (documents); each replaces the old one whole. */
  save(file: string): void {
    const used = this.vectors.subarray(0, this.docs.length * this.dimensions);
    writeAtomic(`${file}.bin`, Buffer.from(used.buffer, used.byteOffset, used.byteLength));
    writeAtomic(`${file}.json`, JSON.stringify({ format: 1, dimensions: this.dimensions, docs: this.docs }));
  }

  static load(file: string): VectorStore {
    const index = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as { format: number; dimensions: number; docs: StoredDoc[] };
    if (index.format !== 1) throw new Error(`vector store ${file}: unknown format ${index.format}`);
    const bytes = fs.readFileSync(`${file}.bin`);
    const expected = index.docs.length * index.dimensions * 4;
    if (bytes.byteLength !== expected) {
      throw new Error(`vector store ${file}: ${bytes.byteLength} bytes of vectors for ${index.docs.length} documents of ${index.dimensions} dimensions (expected ${expected})`);
    }
    const store = new VectorStore(index.dimensions, index.docs.length);
    new Uint8Array(store.vectors.buffer).set(bytes);
    store.docs = index.docs;
    index.docs.forEach((doc, i) => store.positions.set(doc.id, i));
    return store;
  }

  private ensureCapacity(count: number): void {
    if (count * this.dimensions <= this.vectors.length) return;
    const capacity = Math.max(count, Math.ceil((this.vectors.length / this.dimensions) * GROWTH), MIN_CAPACITY);
    const grown = new Float32Array(capacity * this.dimensions);
    grown.set(this.vectors.subarray(0, this.docs.length * this.dimensions));
    this.vectors = grown;
  }

  private normalised(vector: ArrayLike<number>, what: string): Float32Array {
    if (vector.length !== this.dimensions) {
      throw new RangeError(`vector store: ${what} has ${vector.length} dimensions; the store holds ${this.dimensions}`);
    }
    let sum = 0;
    for (let d = 0; d < vector.length; d++) {
      const x = vector[d];
      if (!Number.isFinite(x)) throw new RangeError(`vector store: ${what} has a non-finite value at ${d}`);
      sum += x * x;
    }
    if (sum === 0) throw new RangeError(`vector store: ${what} is a zero vector, which has no direction`);
    const scale = 1 / Math.sqrt(sum);
    const out = new Float32Array(vector.length);
    for (let d = 0; d < vector.length; d++) out[d] = vector[d] * scale;
    return out;
  }
}

function siftDown(score: Float64Array, pos: Int32Array, size: number, value: number, position: number): void {
  let c = 0;
  for (;;) {
    const l = 2 * c + 1;
    if (l >= size) break;
    const r = l + 1;
    const m = r < size && score[r] < score[l] ? r : l;
    if (score[m] >= value) break;
    score[c] = score[m];
    pos[c] = pos[m];
    c = m;
  }
  score[c] = value;
  pos[c] = position;
}

function writeAtomic(file: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temp, data);
  fs.renameSync(temp, file);
}
