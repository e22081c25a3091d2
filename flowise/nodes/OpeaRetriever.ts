/** OPEA Retriever: a BaseRetriever that embeds the query with the connected Embeddings and asks the OPEA retriever service. */
import { RetrieverConfig, runRetriever } from '../../core/stages/retriever';
import { baseUrlParam, credentialParam, endpointFor, inputNamed, limitedNumber, options, str, timeoutParam } from '../common';
import { makeDocument, makeRetriever } from '../langchain';
import { ICommonObject, INode, INodeData, INodeParams } from '../interface';
import { asFlowise, nodeName } from '../words';

export const SEARCH_TYPES = options(['similarity', 'Similarity'], ['similarity_distance_threshold', 'Similarity, distance threshold'], ['similarity_score_threshold', 'Similarity, score threshold'], ['mmr', 'MMR']);

/** The Distance Threshold input: empty, or a cosine distance from 0 to 2. */
function distanceThreshold(raw: unknown): number | undefined {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return undefined;
  const value = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 2) throw new Error(`Distance Threshold must be a number from 0 to 2, not ${JSON.stringify(raw)}`);
  return value;
}

interface EmbeddingsLike {
  embedQuery(text: string): Promise<number[]>;
}

export class OpeaRetriever implements INode {
  label = 'OPEA Retriever';
  name = 'opeaRetriever';
  version = 1.0;
  type = 'OpeaRetriever';
  icon = 'opea-retriever.svg';
  category = 'Retrievers';
  description = 'Searches an OPEA retriever service (/v1/retrieval, e.g. retriever-redis) with the query embedded by the connected Embeddings';
  baseClasses = [this.type, 'BaseRetriever'];
  credential = credentialParam();
  inputs: INodeParams[] = [
    { label: 'Embeddings', name: 'embeddings', type: 'Embeddings', description: 'Use the embedder the documents were ingested with (e.g. OPEA Embeddings)' },
    { label: 'Top K', name: 'topK', type: 'number', default: 4, optional: true },
    { label: 'Search Type', name: 'searchType', type: 'options', options: SEARCH_TYPES, default: 'similarity', optional: true },
    { label: 'Score Threshold', name: 'scoreThreshold', type: 'number', step: 0.05, default: 0.2, optional: true, additionalParams: true },
    { label: 'Distance Threshold', name: 'distanceThreshold', type: 'number', step: 0.05, optional: true, additionalParams: true, description: 'For "Similarity, distance threshold": the largest cosine distance (0 to 2) a document may have' },
    { label: 'Fetch K (MMR)', name: 'fetchK', type: 'number', default: 20, optional: true, additionalParams: true },
    { label: 'Lambda (MMR)', name: 'lambdaMult', type: 'number', step: 0.1, default: 0.5, optional: true, additionalParams: true },
    { label: 'Index Name', name: 'indexName', type: 'string', default: 'rag-redis', optional: true, additionalParams: true },
    baseUrlParam(),
    timeoutParam(),
  ];

  async init(nodeData: INodeData, _input: string, opts?: ICommonObject): Promise<unknown> {
    const node = nodeName(nodeData);
    return asFlowise(node, async () => {
      const embeddings = nodeData.inputs?.embeddings as EmbeddingsLike | undefined;
      if (!embeddings || typeof embeddings.embedQuery !== 'function') throw new Error('connect an Embeddings node');
      const limited = (name: string, key: string) => limitedNumber(nodeData, inputNamed(this.inputs, name), 'opea-retriever', key);
      const searchType = str(nodeData.inputs, 'searchType', 'similarity');
      const searchTypeLabel = SEARCH_TYPES.find((t) => t.name === searchType)?.label;
      if (!searchTypeLabel) throw new Error(`Search Type '${searchType}' is not one of ${SEARCH_TYPES.map((t) => t.name).join(', ')}`);
      const distance = distanceThreshold(nodeData.inputs?.distanceThreshold);
      if (searchType === 'similarity_distance_threshold' && distance === undefined) throw new Error(`Search Type '${searchTypeLabel}' needs Distance Threshold: set it to the largest cosine distance (0 to 2) a document may have`);
      const config: RetrieverConfig = {
        backend: 'redis',
        k: limited('topK', 'searchK'),
        searchType,
        scoreThreshold: limited('scoreThreshold', 'scoreThreshold'),
        fetchK: limited('fetchK', 'fetchK'),
        lambdaMult: limited('lambdaMult', 'lambdaMult'),
        indexName: str(nodeData.inputs, 'indexName', 'rag-redis'),
      };
      const endpoint = await endpointFor(nodeData, opts, true);
      return makeRetriever((query) =>
        asFlowise(node, async () => {
          const embedding = await embeddings.embedQuery(query);
          const found = await runRetriever(config, { endpoint }, { text: query, embedding, ...(distance === undefined ? {} : { distance_threshold: distance }) });
          return found.retrieved_docs.map((d) => makeDocument(d.text, { ...(d.metadata ?? {}), ...(typeof d.score === 'number' ? { score: d.score } : {}) }));
        }),
      );
    });
  }
}

export const nodeClass = OpeaRetriever;
