/**
 * Reranking through TEI (`/rerank`) or the OPEA reranking service (`/v1/reranking`, SearchedDoc -> LLMParamsDoc, the
 * same in GenAIComps 1.1 and 1.5: v1.1 comps/reranks/tei/reranking_tei.py:58-84, v1.5 comps/rerankings/src/integrations/tei.py:64-87;
 * neither gives the scores back).
 */
import { LLMParamsDoc, SearchedDoc } from '../contract/documents';
import { Endpoint } from './endpoint';
import { isObject, unexpected } from './wire';

export type RemoteRerankBackend = 'tei' | 'opea';

export async function rerankRemote(endpoint: Endpoint, backend: RemoteRerankBackend, doc: SearchedDoc, topN: number, signal?: AbortSignal): Promise<LLMParamsDoc> {
  const base = endpoint.config.baseUrl.replace(/\/+$/, '');
  const texts = doc.retrieved_docs.map((d) => d.text);
  if (texts.length === 0) return { query: doc.initial_query, documents: [], scores: [] };
  if (backend === 'opea') {
    const answer = await endpoint.postJson('/v1/reranking', { ...doc, top_n: topN }, signal);
    if (!isObject(answer) || typeof answer.query !== 'string' || !Array.isArray(answer.documents)) {
      throw unexpected(`${base}/v1/reranking`, 'expected an LLMParamsDoc {query, documents}');
    }
    const documents = answer.documents.map((d, i) => {
      if (typeof d === 'string') return d;
      if (isObject(d) && typeof d.text === 'string') return d.text;
      throw unexpected(`${base}/v1/reranking`, `documents[${i}] is not text`);
    });
    return { query: answer.query, documents };
  }
  const answer = await endpoint.postJson('/rerank', { query: doc.initial_query, texts, raw_scores: false }, signal);
  if (!Array.isArray(answer)) throw unexpected(`${base}/rerank`, 'expected [{index, score}]');
  const ranked = answer.map((r, i) => {
    if (!isObject(r) || !Number.isInteger(r.index) || (r.index as number) < 0 || (r.index as number) >= texts.length || typeof r.score !== 'number') {
      throw unexpected(`${base}/rerank`, `result ${i} is not {index, score} for one of the ${texts.length} texts`);
    }
    return { index: r.index as number, score: r.score };
  });
  ranked.sort((a, b) => b.score - a.score);
  const kept = ranked.slice(0, topN);
  return { query: doc.initial_query, documents: kept.map((r) => texts[r.index]), scores: kept.map((r) => r.score) };
}
