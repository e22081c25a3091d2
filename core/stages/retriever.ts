/** The retriever stage: EmbedDoc in, SearchedDoc out, from the OPEA retriever or the embedded store. */
import { asEmbedDoc, ContractError, EmbedDoc, SearchedDoc } from '../contract/documents';
import { Endpoint } from '../clients/endpoint';
import { retrieveRemote } from '../clients/retrieval';
import { IndexDirectory } from '../embedded/index-directory';
import { SearchHit } from '../embedded/vector-store';
import { settingValue } from './overrides';

export interface RetrieverConfig {
  backend: string;
  k: number;
  searchType: string;
  scoreThreshold: number;
  fetchK: number;
  lambdaMult: number;
  indexName: string;
}

/**
 * The request: node settings, overridden by the fields the EmbedDoc itself carries (as OPEA's retriever
 * reads them); every value held to the node's limits (core/node-types.ts).
 */
export function retrievalRequest(config: RetrieverConfig, payload: unknown): EmbedDoc {
  const doc = asEmbedDoc(payload);
  const setting = <T extends number | string>(key: string, field: keyof EmbedDoc, fromNode: T): T => settingValue('opea-retriever', key, field, doc[field], fromNode);
  const request: EmbedDoc = {
    text: doc.text,
    embedding: doc.embedding,
    search_type: setting('searchType', 'search_type', config.searchType),
    k: setting('searchK', 'k', config.k),
    fetch_k: setting('fetchK', 'fetch_k', config.fetchK),
    lambda_mult: setting('lambdaMult', 'lambda_mult', config.lambdaMult),
    score_threshold: setting('scoreThreshold', 'score_threshold', config.scoreThreshold),
    index_name: setting('indexName', 'index_name', config.indexName),
  };
  if (doc.distance_threshold !== undefined && doc.distance_threshold !== null) {
    if (typeof doc.distance_threshold !== 'number' || !Number.isFinite(doc.distance_threshold)) {
      throw new ContractError(`msg.payload.distance_threshold must be a number (a cosine distance), not ${JSON.stringify(doc.distance_threshold)}`, 'fix msg.payload.distance_threshold or leave it out');
    }
    request.distance_threshold = doc.distance_threshold;
  }
  if (request.search_type === 'similarity_distance_threshold' && request.distance_threshold === undefined) {
    throw new ContractError('similarity_distance_threshold needs distance_threshold', 'send msg.payload.distance_threshold (cosine distance, 0..2)');
  }
  return request;
}

/** Maximal marginal relevance over the candidates, with their stored unit vectors. */
function mmr(candidates: SearchHit[], vectors: Float32Array[], k: number, lambda: number): SearchHit[] {
  const chosen: number[] = [];
  const left = candidates.map((_, i) => i);
  while (chosen.length < k && left.length > 0) {
    let best = -1;
    let bestScore = -Infinity;
    for (const i of left) {
      let redundancy = -Infinity;
      for (const j of chosen) {
        let dot = 0;
        for (let d = 0; d < vectors[i].length; d++) dot += vectors[i][d] * vectors[j][d];
        if (dot > redundancy) redundancy = dot;
      }
      const score = lambda * candidates[i].score - (1 - lambda) * (chosen.length ? redundancy : 0);
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    chosen.push(best);
    left.splice(left.indexOf(best), 1);
  }
  return chosen.map((i) => candidates[i]);
}

export function searchEmbedded(indexes: IndexDirectory, request: EmbedDoc): SearchedDoc {
  const indexName = request.index_name as string;
  const store = indexes.find(indexName);
  const k = request.k as number;
  let hits: SearchHit[] = [];
  if (store && store.size > 0) {
    if (store.dimensions !== request.embedding.length) {
      throw new ContractError(
        `index '${indexName}' holds ${store.dimensions}-dimensional vectors but the query embedding has ${request.embedding.length}`,
        'embed queries with the same embedder (backend and model) that dataprep used',
      );
    }
    switch (request.search_type) {
      case 'similarity_score_threshold':
        hits = store.search(request.embedding, k, request.score_threshold);
        break;
      case 'similarity_distance_threshold':
        hits = store.search(request.embedding, k, 1 - (request.distance_threshold as number));
        break;
      case 'mmr': {
        const candidates = store.search(request.embedding, Math.max(request.fetch_k as number, k));
        hits = mmr(candidates, candidates.map((c) => Float32Array.from(store.vector(c.id) as Float32Array)), k, request.lambda_mult as number);
        break;
      }
      default:
        hits = store.search(request.embedding, k);
    }
  }
  return {
    initial_query: request.text,
    retrieved_docs: hits.map((h) => ({ text: h.text, metadata: { ...h.metadata, id: h.id }, score: h.score })),
    top_n: 1,
  };
}

export async function runRetriever(config: RetrieverConfig, deps: { endpoint?: Endpoint; indexes?: IndexDirectory }, payload: unknown, signal?: AbortSignal): Promise<SearchedDoc> {
  const request = retrievalRequest(config, payload);
  if (config.backend === 'memory') {
    if (!deps.indexes) throw new ContractError('the memory retriever needs a vector store', 'choose an opea-vectorstore config node');
    return searchEmbedded(deps.indexes, request);
  }
  if (!deps.endpoint) throw new ContractError('the redis retriever calls an OPEA retriever service and needs its server', 'choose an opea-server config node');
  return retrieveRemote(deps.endpoint, request, signal);
}
