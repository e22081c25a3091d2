/**
 * The embedded vector store: exact cosine search over unit vectors in one Float32Array. For offline
 * pipelines and tests; a deployed pipeline uses Redis.
 *
 * On disk an index is one append-only journal, `<file>.vstore`: a header record, then one record per
 * save holding the documents put and the ids deleted since the previous save. A record is framed by
 * its length and a checksum and made durable (fsync) before save() returns, so a kill at any instant
 * leaves every saved state loadable: a torn last record is ignored on load and cut at the next save.
 * A save costs what changed, not the size of the index. When the records that later ones replaced
 * outnumber the live documents, the journal is compacted: rewritten whole to a temporary file, made
 * durable, renamed over the old one and the folder synced — only when the journal there is still the
 * one this store last read or wrote, so a second writer's records are never overwritten. Indexes of the earlier format (`.bin` plus
 * `.json`) are read, and replaced by a journal at their next save.
 */
import crypto from 'node:crypto';
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

/** The journal a store was loaded from or last saved to, and what it holds beyond the store's state. */
interface Journal {
  file: string;
  /** Bytes of complete records; anything after them is a torn record to cut. */
  length: number;
  /** The file's size and inode as this store last saw them: others mean another writer. */
  size: number;
  ino: number;
  /** Document entries (puts and deletes) in the journal. */
  entries: number;
}

const JOURNAL = '.vstore';
const FORMAT = 2;
/** Documents per record when the journal is written whole, so no record needs the whole index in memory. */
const DOCS_PER_RECORD = 1000;
/** Entries that later ones replaced, tolerated beyond the live documents before compacting. */
const MIN_GARBAGE = 1024;
const FRAME = 8;

export class VectorStore {
  private vectors: Float32Array;
  private docs: StoredDoc[] = [];
  private readonly positions = new Map<string, number>();
  private journal?: Journal;
  /** Ids put or deleted since the journal was last written. */
  private readonly dirty = new Set<string>();

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
      if (this.journal) this.dirty.add(item.id);
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
      if (this.journal) this.dirty.add(id);
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

  /**
   * Makes the store's state durable in `<file>.vstore`: appends what changed since the last save to
   * the journal this store came from, or writes the journal whole (a new file, another file, or
   * compaction). When it returns, the state survives a crash.
   */
  save(file: string): void {
    const journal = this.journal;
    if (journal && journal.file === file && fs.existsSync(file + JOURNAL)) {
      if (this.dirty.size === 0) return;
      const entries = journal.entries + this.dirty.size;
      if (entries - this.docs.length <= Math.max(this.docs.length, MIN_GARBAGE)) {
        this.append(journal);
        return;
      }
    }
    this.rewrite(file);
  }

  /** Whether an index was ever saved at `file` (in either format). */
  static exists(file: string): boolean {
    return fs.existsSync(file + JOURNAL) || fs.existsSync(`${file}.json`);
  }

  static load(file: string): VectorStore {
    if (!fs.existsSync(file + JOURNAL)) return VectorStore.loadLegacy(file);
    const fd = fs.openSync(file + JOURNAL, 'r');
    try {
      const { size, ino } = fs.fstatSync(fd);
      const first = readRecord(fd, 0, size, file);
      if (first === 'torn') throw new Error(`vector store ${file}${JOURNAL}: the header is incomplete — the file was damaged; restore it from a backup or ingest the documents again`);
      const header = first.json as { format?: unknown; dimensions?: unknown };
      if (header.format !== FORMAT) throw new Error(`vector store ${file}${JOURNAL}: unknown format ${String(header.format)} — it was written by another release of node-red-contrib-opea`);
      const store = new VectorStore(header.dimensions as number);
      let offset = first.end;
      let entries = 0;
      for (;;) {
        const record = readRecord(fd, offset, size, file);
        if (record === 'torn') break;
        entries += store.replay(record.json as Batch, record.vectors, `${file}${JOURNAL} at byte ${offset}`);
        offset = record.end;
      }
      store.journal = { file, length: offset, size, ino, entries };
      return store;
    } finally {
      fs.closeSync(fd);
    }
  }

  /** An index of the earlier format: vectors in `<file>.bin`, documents in `<file>.json`. */
  private static loadLegacy(file: string): VectorStore {
    const index = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8')) as { format: number; dimensions: number; docs: StoredDoc[] };
    if (index.format !== 1) throw new Error(`vector store ${file}: unknown format ${index.format}`);
    const store = new VectorStore(index.dimensions, index.docs.length);
    store.replay({ put: index.docs }, fs.readFileSync(`${file}.bin`), file);
    return store;
  }

  /** Applies one saved record; returns its number of entries. */
  private replay(batch: Batch, vectors: Buffer, where: string): number {
    const put = Array.isArray(batch.put) ? batch.put : [];
    const del = Array.isArray(batch.del) ? batch.del : [];
    const width = this.dimensions * 4;
    if (vectors.byteLength !== put.length * width) {
      throw new Error(`vector store ${where}: ${vectors.byteLength} bytes of vectors for ${put.length} documents of ${this.dimensions} dimensions — the file was damaged; restore it from a backup or ingest the documents again`);
    }
    this.delete(del);
    put.forEach((doc, i) => {
      let at = this.positions.get(doc.id);
      if (at === undefined) {
        at = this.docs.length;
        this.ensureCapacity(at + 1);
        this.docs.push(doc);
        this.positions.set(doc.id, at);
      } else {
        this.docs[at] = doc;
      }
      new Uint8Array(this.vectors.buffer, this.vectors.byteOffset + at * width, width).set(vectors.subarray(i * width, (i + 1) * width));
    });
    return put.length + del.length;
  }

  /** One record of the documents at these ids as they are now: present ones put, absent ones deleted. */
  private record(ids: Iterable<string>): Buffer {
    const put: StoredDoc[] = [];
    const del: string[] = [];
    const positions: number[] = [];
    for (const id of ids) {
      const at = this.positions.get(id);
      if (at === undefined) {
        del.push(id);
      } else {
        put.push(this.docs[at]);
        positions.push(at);
      }
    }
    const width = this.dimensions * 4;
    const vectors = Buffer.allocUnsafe(positions.length * width);
    const bytes = new Uint8Array(this.vectors.buffer, this.vectors.byteOffset);
    positions.forEach((at, i) => vectors.set(bytes.subarray(at * width, (at + 1) * width), i * width));
    return frame({ put, del }, vectors);
  }

  private append(journal: Journal): void {
    const record = this.record(this.dirty);
    const fd = fs.openSync(journal.file + JOURNAL, 'r+');
    try {
      if (fs.fstatSync(fd).size !== journal.size) throw anotherWriter(journal.file);
      // A torn record left by a crash is cut first, so the new one follows the last complete record.
      fs.ftruncateSync(fd, journal.length);
      writeAll(fd, record, journal.length);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    journal.length += record.byteLength;
    journal.size = journal.length;
    journal.entries += this.dirty.size;
    this.dirty.clear();
  }

  private rewrite(file: string): void {
    const target = file + JOURNAL;
    const temp = `${target}.tmp`;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const fd = fs.openSync(temp, 'w');
    let length = 0;
    try {
      const put = (record: Buffer) => {
        writeAll(fd, record, length);
        length += record.byteLength;
      };
      put(frame({ format: FORMAT, dimensions: this.dimensions }, Buffer.alloc(0)));
      for (let i = 0; i < this.docs.length; i += DOCS_PER_RECORD) put(this.record(this.docs.slice(i, i + DOCS_PER_RECORD).map((d) => d.id)));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    // Checked as late as possible: a journal another writer created, appended to or compacted since
    // this store last saw it holds records this store does not have.
    const found = statOrNull(target);
    if (found && !(this.journal?.file === file && found.size === this.journal.size && found.ino === this.journal.ino)) {
      fs.rmSync(temp, { force: true });
      throw anotherWriter(file);
    }
    fs.renameSync(temp, target);
    syncFolder(path.dirname(target));
    this.journal = { file, length, size: length, ino: fs.statSync(target).ino, entries: this.docs.length };
    this.dirty.clear();
    // The earlier format's files, now replaced: the journal takes precedence when both exist.
    for (const legacy of [`${file}.json`, `${file}.bin`]) fs.rmSync(legacy, { force: true });
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

interface Batch {
  put?: StoredDoc[];
  del?: string[];
}

/** A record: payload length and checksum, then the JSON's length, the JSON and the vector bytes. */
function frame(json: unknown, vectors: Buffer): Buffer {
  const text = Buffer.from(JSON.stringify(json));
  const record = Buffer.allocUnsafe(FRAME + 4 + text.byteLength + vectors.byteLength);
  record.writeUInt32LE(4 + text.byteLength + vectors.byteLength, 0);
  record.writeUInt32LE(text.byteLength, FRAME);
  text.copy(record, FRAME + 4);
  vectors.copy(record, FRAME + 4 + text.byteLength);
  record.writeUInt32LE(checksum(record.subarray(FRAME)), 4);
  return record;
}

function checksum(payload: Buffer): number {
  return crypto.createHash('sha1').update(payload).digest().readUInt32LE(0);
}

/**
 * The record at `offset`, or 'torn' when the file ends inside it or its last record fails its
 * checksum (what a crash during an append leaves). A bad record followed by others is damage, not a
 * crash: that throws.
 */
function readRecord(fd: number, offset: number, size: number, file: string): { json: unknown; vectors: Buffer; end: number } | 'torn' {
  if (size - offset < FRAME) return 'torn';
  const head = Buffer.alloc(FRAME);
  fs.readSync(fd, head, 0, FRAME, offset);
  const length = head.readUInt32LE(0);
  const end = offset + FRAME + length;
  if (length < 4 || end > size) return 'torn';
  const payload = Buffer.allocUnsafe(length);
  fs.readSync(fd, payload, 0, length, offset + FRAME);
  const damaged = () => new Error(`vector store ${file}${JOURNAL}: the record at byte ${offset} is damaged and more follow — restore the file from a backup or ingest the documents again`);
  if (checksum(payload) !== head.readUInt32LE(4)) {
    if (end === size) return 'torn';
    throw damaged();
  }
  const textLength = payload.readUInt32LE(0);
  if (4 + textLength > length) throw damaged();
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8', 4, 4 + textLength));
  } catch {
    throw damaged();
  }
  return { json, vectors: payload.subarray(4 + textLength), end };
}

function anotherWriter(file: string): Error {
  return new Error(`vector store ${file}${JOURNAL}: another writer changed the file since this store read it — two opea-vectorstore config nodes (or Node-RED and opea-flow run) use the same folder; give each its own folder, and restart to read the index again`);
}

function statOrNull(file: string): fs.Stats | null {
  try {
    return fs.statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function writeAll(fd: number, data: Buffer, position: number): void {
  let written = 0;
  while (written < data.byteLength) written += fs.writeSync(fd, data, written, data.byteLength - written, position + written);
}

/** Makes a rename in `folder` durable. Windows cannot open a folder for syncing; its renames are durable on return. */
function syncFolder(folder: string): void {
  if (process.platform === 'win32') return;
  const fd = fs.openSync(folder, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
