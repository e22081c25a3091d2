/**
 * OPEA retriever microservice: EmbedDoc in, SearchedDoc out (`/v1/retrieval`, GenAIComps 1.1 to 1.5). 1.1 answers
 * a SearchedDoc without metadata (v1.1 comps/retrievers/redis/langchain/retriever_redis.py:97-100) and searches the
 * index its INDEX_NAME names, ignoring `index_name` (v1.1 docarray.py:95-104 has no such field); 1.5 answers a
 * SearchedMultimodalDoc with a `metadata` list beside `retrieved_docs` (v1.5 comps/retrievers/src/opea_retrievers_microservice.py:80-94).
 */
import { EmbedDoc, RetrievedDoc, SearchedDoc } from '../contract/documents';
import { Endpoint } from './endpoint';
import { isObject, unexpected } from './wire';

/** A SearchedDoc, with 1.5's metadata list kept as it came when it cannot be matched to the documents. */
export type RemoteSearchedDoc = SearchedDoc & { metadata?: Record<string, unknown>[] };

export async function retrieveRemote(endpoint: Endpoint, doc: EmbedDoc, signal?: AbortSignal): Promise<RemoteSearchedDoc> {
  const url = `${endpoint.config.baseUrl.replace(/\/+$/, '')}/v1/retrieval`;
  const answer = await endpoint.postJson('/v1/retrieval', doc, signal);
  if (!isObject(answer) || !Array.isArray(answer.retrieved_docs)) throw unexpected(url, 'expected a SearchedDoc {retrieved_docs: [...]}');
  // 1.5 lists metadata beside retrieved_docs but appends a document's only when it has any (v1.5
  // opea_retrievers_microservice.py:89-90): a list as long as the documents is theirs in order, a shorter
  // one cannot be matched by position, so it is kept whole beside them. A RetrievalResponse puts
  // metadata inside each doc; 1.1's SearchedDoc has none.
  const listed: unknown[] = Array.isArray(answer.metadata) ? answer.metadata : [];
  const aligned = listed.length === answer.retrieved_docs.length;
  const docs: RetrievedDoc[] = answer.retrieved_docs.map((d, i) => {
    if (!isObject(d) || typeof d.text !== 'string') throw unexpected(url, `retrieved_docs[${i}] has no text`);
    const out: RetrievedDoc = { text: d.text };
    const meta = aligned ? listed[i] : d.metadata;
    if (isObject(meta)) out.metadata = meta;
    return out;
  });
  const searched: RemoteSearchedDoc = {
    initial_query: typeof answer.initial_query === 'string' ? answer.initial_query : doc.text,
    retrieved_docs: docs,
    top_n: typeof answer.top_n === 'number' ? answer.top_n : 1,
  };
  const unplaced = aligned ? [] : listed.filter(isObject);
  if (unplaced.length > 0) searched.metadata = unplaced;
  return searched;
}
