/** OPEA Embeddings: a LangChain Embeddings over our embedding clients, so Flowise's vector stores can use it. */
import { embedTexts, EmbedderConfig } from '../../core/stages/embedding';
import { DEFAULT_EMBED_BATCH_SIZE } from '../../core/clients/embedding';
import { Endpoint } from '../../core/clients/endpoint';
import { baseUrlParam, credentialParam, endpointFor, inputNamed, limitedNumber, options, str, timeoutParam } from '../common';
import { hostClass } from '../host';
import { ICommonObject, INode, INodeData, INodeParams } from '../interface';
import { asFlowise, nodeName } from '../words';

export const EMBEDDING_BACKENDS = options(['tei', 'TEI (/embed)'], ['opea', 'OPEA embedding service'], ['openai', 'OpenAI-compatible (/v1/embeddings)'], ['ollama', 'Ollama'], ['hashing', 'Hashing embedder (offline)']);

/** Used when the host has no @langchain/core: the same two methods. */
class PlainEmbeddings {
  constructor(_params?: unknown) {}
}

export function makeEmbeddings(config: EmbedderConfig, endpoint: Endpoint | undefined, node: string): { embedDocuments(texts: string[]): Promise<number[][]>; embedQuery(text: string): Promise<number[]>; fromHost: boolean } {
  const { base, fromHost } = hostClass('@langchain/core/embeddings', 'Embeddings', PlainEmbeddings);
  class OpeaEmbeddingsInstance extends base {
    fromHost = fromHost;
    constructor() {
      super({});
    }
    embedDocuments(texts: string[]): Promise<number[][]> {
      return asFlowise(node, () => embedTexts(config, endpoint, texts));
    }
    async embedQuery(text: string): Promise<number[]> {
      return (await asFlowise(node, () => embedTexts(config, endpoint, [text])))[0];
    }
  }
  return new OpeaEmbeddingsInstance();
}

export class OpeaEmbeddings implements INode {
  label = 'OPEA Embeddings';
  name = 'opeaEmbeddings';
  version = 1.0;
  type = 'OpeaEmbeddings';
  icon = 'opea-embedding.svg';
  category = 'Embeddings';
  description = 'Embeddings from an OPEA embedding service, TEI, an OpenAI-compatible server or Ollama (same clients as the Node-RED opea-embedding node)';
  baseClasses = [this.type, 'Embeddings'];
  credential = credentialParam();
  inputs: INodeParams[] = [
    { label: 'Backend', name: 'backend', type: 'options', options: EMBEDDING_BACKENDS, default: 'tei' },
    { label: 'Model Name', name: 'modelName', type: 'string', optional: true, placeholder: 'BAAI/bge-base-en-v1.5' },
    { label: 'Dimensions (hashing only)', name: 'dimensions', type: 'number', optional: true, default: 384, additionalParams: true },
    { label: 'Batch Size', name: 'batchSize', type: 'number', optional: true, default: DEFAULT_EMBED_BATCH_SIZE, additionalParams: true, description: 'Most texts per request; TEI refuses more than its --max-client-batch-size (32 unless set)' },
    baseUrlParam(),
    timeoutParam(),
  ];

  async init(nodeData: INodeData, _input: string, opts?: ICommonObject): Promise<unknown> {
    const node = nodeName(nodeData);
    return asFlowise(node, async () => {
      const backend = str(nodeData.inputs, 'backend', 'tei');
      const limited = (name: string) => limitedNumber(nodeData, inputNamed(this.inputs, name), 'opea-embedding', name);
      const config: EmbedderConfig = { backend, model: str(nodeData.inputs, 'modelName') || undefined, dimensions: limited('dimensions'), batchSize: limited('batchSize') };
      return makeEmbeddings(config, await endpointFor(nodeData, opts, backend !== 'hashing'), node);
    });
  }
}

export const nodeClass = OpeaEmbeddings;
