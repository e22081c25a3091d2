/**
 * The named indexes of one embedded vector store, each a VectorStore persisted in one folder (under
 * the Node-RED user directory), loaded on first use and saved after every change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { VectorStore } from './vector-store';

const INDEX_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

export class IndexDirectory {
  private readonly open = new Map<string, VectorStore>();

  constructor(readonly folder: string) {}

  private file(indexName: string): string {
    if (!INDEX_NAME.test(indexName)) throw new Error(`index name '${indexName}' must be letters, digits, _ . : - (at most 128)`);
    return path.join(this.folder, indexName.replace(/:/g, '_'));
  }

  /** The index, or undefined when nothing was ever written to it. */
  find(indexName: string): VectorStore | undefined {
    const cached = this.open.get(indexName);
    if (cached) return cached;
    const file = this.file(indexName);
    if (!fs.existsSync(`${file}.json`)) return undefined;
    const store = VectorStore.load(file);
    this.open.set(indexName, store);
    return store;
  }

  /** The index for writing vectors of `dimensions`; refuses vectors of another size than it holds. */
  forWriting(indexName: string, dimensions: number): VectorStore {
    const store = this.find(indexName) ?? new VectorStore(dimensions);
    if (store.dimensions !== dimensions) {
      throw new Error(`index '${indexName}' holds ${store.dimensions}-dimensional vectors, these have ${dimensions}: ingest and query need the same embedder (or use another index name)`);
    }
    this.open.set(indexName, store);
    return store;
  }

  save(indexName: string): void {
    const store = this.open.get(indexName);
    if (store) store.save(this.file(indexName));
  }

  names(): string[] {
    const onDisk = fs.existsSync(this.folder) ? fs.readdirSync(this.folder).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)) : [];
    return [...new Set([...this.open.keys(), ...onDisk])].sort();
  }
}
