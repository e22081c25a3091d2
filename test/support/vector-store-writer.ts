/**
 * Run as a child process by vector-store-crash.test, to be killed with SIGKILL at any instant:
 * `node vector-store-writer.js <file> <run> <seed> <log>` loads the index at <file> (or starts one),
 * then saves batches in a loop — new documents, replacements and deletions — appending each batch to
 * <log> as `B <json>` before applying and saving it, and `A` once save() has returned (acknowledged).
 * The log is written with synchronous appends, which a kill cannot lose (stdout can: what a pipe has
 * not taken yet dies with the process), and stdout only says `B` for the parent to time its kill.
 * It stops by itself after MAX_BATCHES or MAX_MS.
 */
import fs from 'node:fs';
import { VectorStore } from '../../core/embedded/vector-store';
import { seededRandom } from './random';

export const DIMENSIONS = 16;
const MAX_BATCHES = 5000;
const MAX_MS = 20_000;

/** The vector of a document, derived from its text, so a reader can check vectors came back whole. */
export function vectorOf(text: string): number[] {
  const next = seededRandom([...text].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, 7));
  return Array.from({ length: DIMENSIONS }, () => next() - 0.5);
}

export interface WriterBatch {
  put: { id: string; text: string }[];
  del: string[];
}

function main(): void {
  const [file, run, seedText, log] = process.argv.slice(2);
  const next = seededRandom(Number(seedText));
  const store = VectorStore.exists(file) ? VectorStore.load(file) : new VectorStore(DIMENSIONS);
  // Every document in the index, this run's and earlier runs': the ones a batch may replace or delete.
  const known = store.size > 0 ? store.search(vectorOf(''), store.size).map((hit) => hit.id) : [];
  const started = Date.now();
  for (let b = 0; b < MAX_BATCHES && Date.now() - started < MAX_MS; b++) {
    const batch: WriterBatch = { put: [], del: [] };
    const fresh = 1 + Math.floor(next() * 5);
    for (let i = 0; i < fresh; i++) {
      const id = `${run}-${b}-${i}`;
      batch.put.push({ id, text: `${id} ${'text '.repeat(Math.floor(next() * 40))}` });
    }
    // Replacements and deletions, more than new documents: what makes the journal compact.
    for (let i = Math.floor(next() * 40); i > 0 && known.length > 0; i--) {
      const id = known[Math.floor(next() * known.length)];
      if (!batch.put.some((p) => p.id === id)) batch.put.push({ id, text: `${id} replaced ${b}.${i}` });
    }
    if (known.length > 10 && next() < 0.3) {
      const id = known.splice(Math.floor(next() * known.length), 1)[0];
      batch.put = batch.put.filter((p) => p.id !== id);
      batch.del.push(id);
    }
    fs.appendFileSync(log, `B ${JSON.stringify(batch)}\n`);
    process.stdout.write('B\n');
    store.upsert(batch.put.map((p) => ({ id: p.id, text: p.text, embedding: vectorOf(p.text) })));
    store.delete(batch.del);
    store.save(file);
    fs.appendFileSync(log, 'A\n');
    for (let i = 0; i < fresh; i++) known.push(`${run}-${b}-${i}`);
  }
}

if (require.main === module) main();
