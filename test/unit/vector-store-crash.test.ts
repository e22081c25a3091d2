/**
 * The vector store's journal under crashes: torn and damaged records on disk, and a loop of real
 * SIGKILLs of a child process in the middle of ingesting and saving, after each of which the index
 * must load with exactly the acknowledged documents (plus, atomically, the batch being saved).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { VectorStore } from '../../core/embedded/vector-store';
import { seededRandom } from '../support/random';
import { DIMENSIONS, vectorOf, WriterBatch } from '../support/vector-store-writer';

const doc = (id: string, text = `text of ${id}`) => ({ id, text, embedding: vectorOf(text) });

/** Every document of a store, id -> text. */
function contents(store: VectorStore): Map<string, string> {
  if (store.size === 0) return new Map();
  return new Map(store.search(vectorOf('any'), store.size).map((hit) => [hit.id, hit.text]));
}

function unit(v: number[]): number[] {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / norm);
}

describe('vector store journal', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-vs-crash-'));
    file = path.join(dir, 'index');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const journalSize = () => fs.statSync(`${file}.vstore`).size;

  it('appends what changed: a save costs the new documents, not the index', () => {
    const store = new VectorStore(DIMENSIONS);
    store.upsert(Array.from({ length: 2000 }, (_, i) => doc(`d${i}`)));
    store.save(file);
    const whole = journalSize();
    store.upsert([doc('new')]);
    store.save(file);
    const grown = journalSize() - whole;
    assert.ok(grown < 400, `one document added ${grown} bytes to a journal of ${whole}`);
    assert.deepEqual(fs.readdirSync(dir), ['index.vstore']);
    assert.equal(contents(VectorStore.load(file)).get('new'), 'text of new');
  });

  it('ignores a torn last record, and the next save follows the last complete one', () => {
    const store = new VectorStore(DIMENSIONS);
    store.upsert([doc('a'), doc('b')]);
    store.save(file);
    const committed = journalSize();
    store.upsert([doc('c'), doc('d')]);
    store.save(file);
    const full = journalSize();
    for (let cut = committed + 1; cut < full; cut += 7) {
      fs.truncateSync(`${file}.vstore`, full);
      fs.truncateSync(`${file}.vstore`, cut);
      assert.deepEqual([...contents(VectorStore.load(file)).keys()].sort(), ['a', 'b'], `cut at ${cut}`);
    }
    const reopened = VectorStore.load(file);
    reopened.upsert([doc('e')]);
    reopened.save(file);
    assert.deepEqual([...contents(VectorStore.load(file)).keys()].sort(), ['a', 'b', 'e']);
  });

  it('ignores a last record whose bytes were not all written (checksum), refuses damage before the end', () => {
    const store = new VectorStore(DIMENSIONS);
    store.upsert([doc('a')]);
    store.save(file);
    const committed = journalSize();
    store.upsert([doc('b')]);
    store.save(file);
    const bytes = fs.readFileSync(`${file}.vstore`);
    bytes[bytes.length - 3] ^= 0xff;
    fs.writeFileSync(`${file}.vstore`, bytes);
    assert.deepEqual([...contents(VectorStore.load(file)).keys()], ['a']);
    bytes[bytes.length - 3] ^= 0xff;
    bytes[committed + 20] ^= 0xff;
    fs.writeFileSync(`${file}.vstore`, Buffer.concat([bytes, bytes.subarray(committed)]));
    assert.throws(() => VectorStore.load(file), new RegExp(`index\\.vstore: the record at byte ${committed} is damaged and more follow — restore the file from a backup or ingest the documents again`));
  });

  it('keeps deletions and replacements, and compacts when replaced records outnumber the live ones', () => {
    const store = new VectorStore(DIMENSIONS);
    store.upsert(Array.from({ length: 100 }, (_, i) => doc(`d${i}`)));
    store.save(file);
    const whole = journalSize();
    let largest = 0;
    for (let round = 0; round < 40; round++) {
      store.upsert(Array.from({ length: 99 - round }, (_, i) => doc(`d${round + 1 + i}`, `round ${round} of d${round + 1 + i}`)));
      store.delete([`d${round}`]);
      store.save(file);
      largest = Math.max(largest, journalSize());
    }
    const loaded = contents(VectorStore.load(file));
    assert.equal(loaded.size, 100 - 40);
    assert.equal(loaded.get('d99'), 'round 39 of d99');
    assert.equal(loaded.has('d5'), false);
    // 1024 replaced entries are tolerated before compacting; the journal never holds many more.
    assert.ok(largest < whole * 14, `the journal reached ${largest} bytes; written whole it had ${whole}`);
    assert.ok(journalSize() < largest, 'it was compacted');
  });

  it('refuses to append after another writer changed the journal, instead of cutting its records', () => {
    const first = new VectorStore(DIMENSIONS);
    first.upsert([doc('a')]);
    first.save(file);
    const second = VectorStore.load(file);
    second.upsert([doc('b')]);
    second.save(file);
    first.upsert([doc('c')]);
    assert.throws(() => first.save(file), /index\.vstore: another writer changed the file since this store read it — two opea-vectorstore config nodes/);
    assert.deepEqual([...contents(VectorStore.load(file)).keys()].sort(), ['a', 'b']);
  });

  /** Upserts then deletes `count` throw-away documents: replaced entries that make the next save compact. */
  const churn = (store: VectorStore, count = 3000) => {
    store.upsert(Array.from({ length: count }, (_, i) => doc(`tmp${i}`)));
    store.delete(Array.from({ length: count }, (_, i) => `tmp${i}`));
  };

  it('refuses to compact over records another writer appended since, keeping them', () => {
    const first = new VectorStore(DIMENSIONS);
    first.upsert([doc('a')]);
    first.save(file);
    const second = VectorStore.load(file);
    second.upsert([doc('b')]);
    second.save(file);
    churn(first);
    assert.throws(() => first.save(file), /index\.vstore: another writer changed the file since this store read it/);
    assert.deepEqual([...contents(VectorStore.load(file)).keys()].sort(), ['a', 'b']);
    assert.deepEqual(fs.readdirSync(dir), ['index.vstore'], 'the refused compaction leaves no temporary file');
  });

  it('refuses to compact over a journal another writer compacted to the same size (a new file, not the one it read)', () => {
    const first = new VectorStore(DIMENSIONS);
    first.upsert([doc('a', 'text one')]);
    first.save(file);
    const written = journalSize();
    const second = VectorStore.load(file);
    second.upsert([doc('a', 'text two')]);
    churn(second);
    second.save(file);
    assert.equal(journalSize(), written, 'the second writer compacted to a journal of the same size');
    churn(first);
    assert.throws(() => first.save(file), /another writer changed the file since this store read it/);
    assert.equal(contents(VectorStore.load(file)).get('a'), 'text two');
  });

  it('a new store does not replace an index another writer created after it looked', () => {
    const late = new VectorStore(DIMENSIONS);
    const early = new VectorStore(DIMENSIONS);
    early.upsert([doc('a')]);
    early.save(file);
    late.upsert([doc('b')]);
    assert.throws(() => late.save(file), /another writer changed the file since this store read it/);
    assert.deepEqual([...contents(VectorStore.load(file)).keys()], ['a']);
  });

  it('a rewrite cut short leaves the previous journal in place, and the next rewrite replaces its temporary file', () => {
    const store = new VectorStore(DIMENSIONS);
    store.upsert([doc('a')]);
    store.save(file);
    fs.writeFileSync(`${file}.vstore.tmp`, 'half a journal');
    const reopened = VectorStore.load(file);
    assert.deepEqual([...contents(reopened).keys()], ['a']);
    // 6000 replaced entries against one live document: this save compacts.
    reopened.upsert(Array.from({ length: 3000 }, (_, i) => doc(`n${i}`)));
    reopened.delete(Array.from({ length: 3000 }, (_, i) => `n${i}`));
    reopened.save(file);
    assert.deepEqual(fs.readdirSync(dir), ['index.vstore']);
    assert.deepEqual([...contents(VectorStore.load(file)).keys()], ['a']);
  });

  it('reads an index of the earlier format and replaces it by a journal at the next save', () => {
    const vectors = [unit(vectorOf('x')), unit(vectorOf('y'))];
    fs.writeFileSync(`${file}.json`, JSON.stringify({ format: 1, dimensions: DIMENSIONS, docs: [{ id: 'x', text: 'x', metadata: {} }, { id: 'y', text: 'y', metadata: { n: 1 } }] }));
    fs.writeFileSync(`${file}.bin`, Buffer.from(new Float32Array(vectors.flat()).buffer));
    assert.equal(VectorStore.exists(file), true);
    const legacy = VectorStore.load(file);
    assert.equal(legacy.search(vectorOf('y'), 1)[0].id, 'y');
    legacy.upsert([doc('z')]);
    legacy.save(file);
    assert.deepEqual(fs.readdirSync(dir), ['index.vstore']);
    assert.deepEqual([...contents(VectorStore.load(file)).keys()].sort(), ['x', 'y', 'z']);
  });
});

describe('vector store under SIGKILL', function () {
  const kills = Number(process.env.OPEA_KILLS ?? 200);
  this.timeout(kills * 1500 + 30_000);
  const writer = path.join(__dirname, '..', 'support', 'vector-store-writer.js');
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opea-vs-kill-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Runs the writer, kills it after `afterBatches` announced batches (+ `delayMs`); returns the lines of its log. */
  function runAndKill(file: string, run: string, seed: number, afterBatches: number, delayMs: number): Promise<string[]> {
    const log = path.join(dir, `${run}.log`);
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [writer, file, run, String(seed), log], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      let announced = 0;
      let killing = false;
      const kill = () => child.kill('SIGKILL');
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        announced = (out.match(/^B$/gm) ?? []).length;
        if (!killing && announced >= afterBatches) {
          killing = true;
          if (delayMs === 0) kill();
          else setTimeout(kill, delayMs);
        }
      });
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`the writer ended by itself (${code}): ${err}`));
        // Only whole lines: the kill may cut the last append, before its batch was applied.
        else resolve((fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '').split('\n').slice(0, -1));
      });
    });
  }

  it(`loads every acknowledged document after each of ${kills} kills at random points of ingest and save`, async () => {
    const file = path.join(dir, 'index');
    const random = seededRandom(2024);
    const acknowledged = new Map<string, string>();
    let inFlight = 0;
    let compactions = 0;
    let journalBytes = 0;
    for (let k = 0; k < kills; k++) {
      const lines = await runAndKill(file, `r${k}`, k, 1 + Math.floor(random() * 8), random() < 0.5 ? 0 : Math.floor(random() * 4));
      let pending: WriterBatch | undefined;
      const apply = (state: Map<string, string>, batch: WriterBatch) => {
        for (const p of batch.put) state.set(p.id, p.text);
        for (const id of batch.del) state.delete(id);
      };
      for (const line of lines) {
        if (line === 'A') {
          apply(acknowledged, pending as WriterBatch);
          pending = undefined;
        } else {
          pending = JSON.parse(line.slice(2)) as WriterBatch;
        }
      }
      if (!VectorStore.exists(file)) {
        assert.equal(acknowledged.size, 0, `kill ${k}: no index on disk after acknowledged saves`);
        continue;
      }
      let store: VectorStore;
      try {
        store = VectorStore.load(file);
      } catch (err) {
        assert.fail(`kill ${k}: the index does not load: ${(err as Error).message}`);
      }
      const loaded = contents(store);
      const bytes = fs.statSync(`${file}.vstore`).size;
      if (bytes < journalBytes) compactions += 1;
      journalBytes = bytes;
      const withBatch = new Map(acknowledged);
      if (pending) apply(withBatch, pending);
      const same = (expected: Map<string, string>) => expected.size === loaded.size && [...expected].every(([id, text]) => loaded.get(id) === text);
      if (pending) inFlight += 1;
      if (same(withBatch) && pending) {
        apply(acknowledged, pending);
      } else {
        const missing = [...acknowledged.keys()].filter((id) => !loaded.has(id));
        assert.ok(same(acknowledged), `kill ${k}: loaded ${loaded.size} documents, acknowledged ${acknowledged.size}; missing ${missing.slice(0, 5).join(', ')}`);
      }
      for (const [id, text] of loaded) {
        const expected = unit(vectorOf(text));
        const got = store.vector(id) as Float32Array;
        assert.ok(expected.every((x, d) => Math.abs(x - got[d]) < 1e-6), `kill ${k}: the vector of ${id} came back altered`);
      }
    }
    assert.ok(acknowledged.size > kills, `only ${acknowledged.size} documents were acknowledged in ${kills} runs`);
    // Most kills land while a batch is being applied or saved (announced, not yet acknowledged).
    assert.ok(inFlight > kills / 4, `only ${inFlight} of ${kills} kills landed during a save`);
    assert.ok(compactions > 0 || kills < 50, 'the journal was never compacted');
  });
});
