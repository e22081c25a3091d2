/** OPEA Rerank Retriever: wraps a base retriever and reranks its documents with TEI / the OPEA reranking service / BM25. */
import { runRerank } from '../../core/stages/rerank';
import { baseUrlParam, credentialParam, endpointFor, inputNamed, limitedNumber, options, str, timeoutParam } from '../common';
import { DocumentLike, makeDocument, makeRetriever, retrieve } from '../langchain';
import { ICommonObject, INode, INodeData, INodeParams } from '../interface';
import { asFlowise, nodeName } from '../words';

export const RERANK_BACKENDS = options(['tei', 'TEI (/rerank)'], ['opea', 'OPEA reranking service'], ['bm25', 'BM25 (offline)']);

export class OpeaRerankRetriever implements INode {
  label = 'OPEA Rerank Retriever';
  name = 'opeaRerankRetriever';
  version = 1.0;
  type = 'OpeaRerankRetriever';
  icon = 'opea-rerank.svg';
  category = 'Retrievers';
  description = 'Reranks the documents of a base retriever with a TEI reranker, the OPEA reranking service or BM25, and keeps the best Top N';
  baseClasses = [this.type, 'BaseRetriever'];
  credential = credentialParam();
  inputs: INodeParams[] = [
    { label: 'Base Retriever', name: 'baseRetriever', type: 'BaseRetriever' },
    { label: 'Backend', name: 'backend', type: 'options', options: RERANK_BACKENDS, default: 'tei' },
    { label: 'Top N', name: 'topN', type: 'number', default: 1, optional: true },
    { label: 'Model Name', name: 'modelName', type: 'string', optional: true, placeholder: 'BAAI/bge-reranker-base', description: 'The reranking model (TEI serves one model; used when the chatflow is exported)', additionalParams: true },
    baseUrlParam(),
    timeoutParam(),
  ];

  async init(nodeData: INodeData, _input: string, opts?: ICommonObject): Promise<unknown> {
    const node = nodeName(nodeData);
    return asFlowise(node, async () => {
      const baseRetriever = nodeData.inputs?.baseRetriever;
      if (!baseRetriever) throw new Error('connect a base retriever');
      const backend = str(nodeData.inputs, 'backend', 'tei');
      const topN = limitedNumber(nodeData, inputNamed(this.inputs, 'topN'), 'opea-rerank', 'topN');
      const endpoint = await endpointFor(nodeData, opts, backend !== 'bm25');
      return makeRetriever(async (query) => {
        const docs: DocumentLike[] = await retrieve(baseRetriever, query);
        if (docs.length === 0) return [];
        const ranked = await asFlowise(node, () => runRerank({ backend, topN }, endpoint, { initial_query: query, retrieved_docs: docs.map((d) => ({ text: d.pageContent, metadata: d.metadata })), top_n: topN }));
        const unused = [...docs];
        return ranked.documents.map((text, i) => {
          const at = unused.findIndex((d) => d.pageContent === text);
          const source = at >= 0 ? unused.splice(at, 1)[0] : undefined;
          const score = ranked.scores?.[i];
          return makeDocument(text, { ...(source?.metadata ?? {}), ...(typeof score === 'number' ? { relevance_score: score } : {}) });
        });
      });
    });
  }
}

export const nodeClass = OpeaRerankRetriever;
