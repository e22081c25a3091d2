/**
 * The dataprep stage: documents in, chunks written to the vector store out. Embedded: chunked here,
 * embedded through the configured embedder (or taken as they come when already embedded) and written
 * to the in-process index. OPEA (redis): the files and links are posted to the dataprep service, which
 * chunks and embeds itself.
 */
import crypto from 'node:crypto';
import axios from 'axios';
import { chunkText, detectDocumentFormat } from '../chunking';
import { ContractError } from '../contract/documents';
import { ingestRemote, IngestFile, IngestResult, RemoteIngestReport } from '../clients/dataprep';
import { Endpoint, ServiceError } from '../clients/endpoint';
import { isObject } from '../clients/wire';
import { IndexDirectory } from '../embedded/index-directory';
import { EmbedderConfig, embedTexts } from './embedding';

export interface DataprepConfig {
  backend: string;
  chunkSize: number;
  chunkOverlap: number;
  indexName: string;
  embedder: EmbedderConfig;
}

export interface IngestInput {
  files: IngestFile[];
  links: string[];
  /** Chunks that arrive embedded already (a list of EmbedDocs from an opea-embedding node). */
  embedded: { text: string; embedding: number[] }[];
}

export interface IngestReport {
  status: 200;
  message: string;
  index: string;
  documents: number;
  chunks: number;
  ids: string[];
  /** Per file and link: what was written, and how many chunks. */
  results: (IngestResult & { chunks: number })[];
}

type Json = Record<string, unknown>;

const MAX_LINK_BYTES = 10 * 1024 * 1024;

/**
 * A name for a document sent without one, from its content: the dataprep service keys a document by
 * its file name and refuses a name the index holds already (v1.5 integrations/redis.py:421-442), so
 * different texts get different names and the same text the same one.
 */
function nameFromContent(content: string | Buffer): string {
  const hash = crypto.createHash('sha256').update(content).digest('hex').slice(0, 12);
  return `${typeof content === 'string' ? 'text' : 'file'}-${hash}.txt`;
}

function fileOf(value: unknown): IngestFile | null {
  if (typeof value === 'string' || Buffer.isBuffer(value)) return { name: nameFromContent(value), content: value };
  if (isObject(value)) {
    const content = typeof value.text === 'string' ? value.text : typeof value.content === 'string' || Buffer.isBuffer(value.content) ? value.content : Buffer.isBuffer(value.buffer) ? value.buffer : null;
    if (content === null) return null;
    const name = typeof value.name === 'string' ? value.name : typeof value.originalname === 'string' ? value.originalname : nameFromContent(content as string | Buffer);
    return { name, content: content as string | Buffer };
  }
  return null;
}

/** Reads what a user sends to ingest: text, {text, name}, {files, link_list}, a list of those, uploads (msg.req.files). */
export function ingestInput(payload: unknown, uploads?: unknown): IngestInput {
  const input: IngestInput = { files: [], links: [], embedded: [] };
  const add = (value: unknown, i: number) => {
    if (isObject(value) && typeof value.text === 'string' && Array.isArray(value.embedding)) {
      input.embedded.push({ text: value.text, embedding: value.embedding as number[] });
      return;
    }
    const file = fileOf(value);
    if (!file) throw new ContractError(`item ${i + 1} to ingest is neither text nor a file`, 'send strings, {name, text} or {name, content}');
    input.files.push(file);
  };
  if (Array.isArray(uploads)) uploads.forEach((u, i) => add(u, i));
  if (Array.isArray(payload)) payload.forEach(add);
  else if (isObject(payload) && (payload.files !== undefined || payload.link_list !== undefined || payload.links !== undefined)) {
    if (Array.isArray(payload.files)) payload.files.forEach(add);
    let links = payload.link_list ?? payload.links;
    if (typeof links === 'string') {
      try {
        links = JSON.parse(links);
      } catch {
        links = [links];
      }
    }
    if (links !== undefined) {
      if (!Array.isArray(links) || !links.every((l) => typeof l === 'string' && /^https?:\/\//.test(l))) {
        throw new ContractError('link_list is not a list of http(s) URLs', 'send link_list: ["https://..."]');
      }
      input.links.push(...(links as string[]));
    }
  } else if (payload !== undefined && payload !== null && payload !== '' && !(uploads && Array.isArray(uploads) && uploads.length)) add(payload, 0);
  if (input.files.length + input.links.length + input.embedded.length === 0) {
    throw new ContractError('there is nothing to ingest', 'send text, {name, text}, {files: [...]}, {link_list: [...]} or upload files through an http in node');
  }
  return input;
}

async function fetchLink(url: string, signal?: AbortSignal): Promise<IngestFile> {
  try {
    const response = await axios.get<string>(url, { responseType: 'text', timeout: 30_000, maxContentLength: MAX_LINK_BYTES, signal, transformResponse: (x: string) => x });
    const type = String(response.headers['content-type'] ?? '');
    const name = type.includes('html') ? `${url}#.html` : type.includes('markdown') ? `${url}#.md` : url;
    return { name, content: response.data };
  } catch (err) {
    throw new ContractError(`could not fetch ${url} (${(err as Error).message})`, 'check the link is reachable from the Node-RED host');
  }
}

function chunkId(source: string, index: number, text: string): string {
  return crypto.createHash('sha1').update(`${source}\u0000${index}\u0000${text}`).digest('hex').slice(0, 24);
}

export async function runDataprep(config: DataprepConfig, deps: { endpoint?: Endpoint; embedderEndpoint?: Endpoint; indexes?: IndexDirectory }, input: IngestInput, signal?: AbortSignal): Promise<IngestReport | RemoteIngestReport> {
  if (config.chunkOverlap >= config.chunkSize) throw new ContractError(`chunk overlap ${config.chunkOverlap} is not smaller than chunk size ${config.chunkSize}`, 'lower the overlap or raise the size');
  if (config.backend === 'redis') {
    if (!deps.endpoint) throw new ContractError('the redis dataprep calls an OPEA dataprep service and needs its server', 'choose an opea-server config node');
    if (input.embedded.length > 0) throw new ContractError('the OPEA dataprep service embeds by itself and cannot take embedded chunks', 'send text or files, not EmbedDocs');
    return ingestRemote(deps.endpoint, { files: input.files, links: input.links, chunkSize: config.chunkSize, chunkOverlap: config.chunkOverlap, indexName: config.indexName }, signal);
  }
  if (!deps.indexes) throw new ContractError('the memory dataprep needs a vector store', 'choose an opea-vectorstore config node');
  deps.indexes.checkName(config.indexName);
  const files = [...input.files];
  for (const link of input.links) files.push(await fetchLink(link, signal));
  const items: { id: string; text: string; metadata: Json; embedding?: number[] }[] = [];
  const results: IngestReport['results'] = [];
  files.forEach((file, f) => {
    const text = typeof file.content === 'string' ? file.content : file.content.toString('utf8');
    const source = file.name.replace(/#\.(html|md)$/, '');
    const chunks = chunkText(text, config.chunkSize, config.chunkOverlap, detectDocumentFormat(text, file.name));
    chunks.forEach((chunk, i) => items.push({ id: chunkId(source, i, chunk), text: chunk, metadata: { source, chunk: i } }));
    const what = f < input.files.length ? { file: file.name } : { links: [source] };
    results.push({ ...what, outcome: 'ingested', message: `${chunks.length} chunks`, chunks: chunks.length });
  });
  input.embedded.forEach((doc, i) => items.push({ id: chunkId('embedded', i, doc.text), text: doc.text, metadata: { source: 'embedded', chunk: i }, embedding: doc.embedding }));
  // Every vector is in hand before anything is written, so a failed embedding request stores nothing.
  const toEmbed = items.filter((item) => !item.embedding);
  const vectors = await embedTexts(config.embedder, deps.embedderEndpoint, toEmbed.map((item) => item.text), signal).catch((err: unknown) => {
    if (err instanceof ServiceError) throw new ServiceError(err.url, `${err.reason}; nothing was written to index '${config.indexName}'`, err.hint, err.status);
    throw err;
  });
  toEmbed.forEach((item, i) => (item.embedding = vectors[i]));
  if (items.length > 0) {
    const dims = new Set(items.map((item) => (item.embedding as number[]).length));
    if (dims.size > 1) throw new ContractError(`the chunks' embeddings have different sizes (${[...dims].join(', ')})`, 'embed every chunk with one embedder');
    const store = deps.indexes.forWriting(config.indexName, [...dims][0]);
    store.upsert(items.map((item) => ({ id: item.id, text: item.text, embedding: item.embedding as number[], metadata: item.metadata })));
    deps.indexes.save(config.indexName);
  }
  return {
    status: 200,
    message: 'Data preparation succeeded',
    index: config.indexName,
    documents: files.length + (input.embedded.length ? 1 : 0),
    chunks: items.length,
    ids: items.map((item) => item.id),
    results,
  };
}
