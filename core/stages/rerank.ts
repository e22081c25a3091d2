/** The rerank stage: SearchedDoc in, LLMParamsDoc (query + best documents, scores kept) out. */
import { asSearchedDoc, ContractError, LLMParamsDoc } from '../contract/documents';
import { Endpoint } from '../clients/endpoint';
import { RemoteRerankBackend, rerankRemote } from '../clients/rerank';
import { bm25Rank } from '../embedded/bm25';

export async function runRerank(config: { backend: string; topN: number }, endpoint: Endpoint | undefined, payload: unknown, signal?: AbortSignal): Promise<LLMParamsDoc> {
  const doc = asSearchedDoc(payload);
  if (config.backend === 'bm25') {
    const texts = doc.retrieved_docs.map((d) => d.text);
    const ranked = bm25Rank(doc.initial_query, texts).slice(0, config.topN);
    return { query: doc.initial_query, documents: ranked.map((r) => texts[r.index]), scores: ranked.map((r) => r.score) };
  }
  if (!endpoint) throw new ContractError(`the ${config.backend} reranker needs a server`, 'choose an opea-server config node');
  return rerankRemote(endpoint, config.backend as RemoteRerankBackend, doc, config.topN, signal);
}
