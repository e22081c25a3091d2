/**
 * The named indexes of one embedded vector store, each a VectorStore persisted in one folder (under
 * the Node-RED user directory), loaded on first use and saved after every change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ContractError } from '../contract/documents';
import { VectorStore } from './vector-store';

const INDEX_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

// ':' cannot be in a Windows file name; '%' cannot be in an index name, so this mapping is one-to-one.
const fileNameOf = (indexName: string) => indexName.replace(/:/g, '%3A');
const indexNameOf = (fileName: string) => fileName.replace(/%3A/g, ':');

/** Whether a file in the folder holds an index, that is, whether find() would open it under its decoded name. */
const isIndexFile = (fileName: string) => INDEX_NAME.test(indexNameOf(fileName)) && fileNameOf(indexNameOf(fileName)) === fileName;

export class IndexDirectory {
  private readonly open = new Map<string, VectorStore>();

  constructor(readonly folder: string) {}

  /** Refuses a name the store cannot keep, so a caller can check before doing any work. */
  checkName(indexName: string): void {
    if (!INDEX_NAME.test(indexName)) {
      throw new ContractError(
        `index name '${indexName}' must be letters, digits and _ . : - only (ASCII, starting with a letter or digit, at most 128 characters)`,
        "rename the index in the node's settings (or in msg.payload.index_name)",
      );
    }
  }

  private file(indexName: string): string {
    this.checkName(indexName);
    return path.join(this.folder, fileNameOf(indexName));
  }

  /** The index, or undefined when nothing was ever written to it. */
  find(indexName: string): VectorStore | undefined {
    const cached = this.open.get(indexName);
    if (cached) return cached;
    const file = this.file(indexName);
    if (!VectorStore.exists(file)) return undefined;
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

  /** The indexes loaded in memory and their sizes (an index not used since start is not read for this). */
  loadedSizes(): { index: string; documents: number }[] {
    return [...this.open].map(([index, store]) => ({ index, documents: store.size }));
  }

  /** Every open or saved index, under the name it was written with, sorted. */
  names(): string[] {
    const files = fs.existsSync(this.folder) ? fs.readdirSync(this.folder) : [];
    const onDisk = files.map((f) => /^(.*)\.(vstore|json)$/.exec(f)?.[1]).filter((f): f is string => f !== undefined && isIndexFile(f)).map(indexNameOf);
    return [...new Set([...this.open.keys(), ...onDisk])].sort();
  }
}
