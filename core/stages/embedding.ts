/** The embedding stage: text in, EmbedDoc out (or one EmbedDoc per text for a list). */
import { ContractError, EmbedDoc, textsToEmbed } from '../contract/documents';
import { embedRemote, RemoteEmbeddingBackend } from '../clients/embedding';
import { Endpoint } from '../clients/endpoint';
import { hashingEmbed } from '../embedded/hashing-embedder';

export interface EmbedderConfig {
  backend: string;
  model?: string;
  /** Hashing embedder only. */
  dimensions: number;
  /** Remote embedders: most texts per request (default DEFAULT_EMBED_BATCH_SIZE, TEI's own limit). */
  batchSize?: number;
}

/** Fields of an EmbedDoc the retriever reads; a request may carry them through the embedding stage. */
const RETRIEVER_FIELDS = ['search_type', 'k', 'distance_threshold', 'fetch_k', 'lambda_mult', 'score_threshold', 'index_name'];

export async function embedTexts(config: EmbedderConfig, endpoint: Endpoint | undefined, texts: string[], signal?: AbortSignal): Promise<number[][]> {
  if (config.backend === 'hashing') return texts.map((t) => hashingEmbed(t, config.dimensions));
  if (!endpoint) throw new ContractError(`the ${config.backend} embedding backend needs a server`, 'choose an opea-server config node');
  return embedRemote(endpoint, config.backend as RemoteEmbeddingBackend, config.model, texts, signal, config.batchSize);
}

export async function runEmbedding(config: EmbedderConfig, endpoint: Endpoint | undefined, payload: unknown, signal?: AbortSignal): Promise<EmbedDoc | EmbedDoc[]> {
  const { texts, single } = textsToEmbed(payload);
  const vectors = await embedTexts(config, endpoint, texts, signal);
  if (!single) return texts.map((text, i) => ({ text, embedding: vectors[i] }));
  const doc: EmbedDoc = { text: texts[0], embedding: vectors[0] };
  if (payload && typeof payload === 'object') {
    for (const key of RETRIEVER_FIELDS) if ((payload as Record<string, unknown>)[key] !== undefined) (doc as unknown as Record<string, unknown>)[key] = (payload as Record<string, unknown>)[key];
  }
  return doc;
}
