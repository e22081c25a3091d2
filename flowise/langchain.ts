/**
 * LangChain shapes built on the host's @langchain/core when Flowise provides it (so the instances
 * connect to Flowise's own chains), or on small classes of ours with the same public methods.
 */
import { hostClass, hostModule } from './host';

export interface DocumentLike {
  pageContent: string;
  metadata: Record<string, unknown>;
}

export interface RetrieverLike {
  invoke(query: string): Promise<DocumentLike[]>;
  getRelevantDocuments(query: string): Promise<DocumentLike[]>;
  fromHost: boolean;
}

export function makeDocument(pageContent: string, metadata: Record<string, unknown>): DocumentLike {
  const Doc = hostModule('@langchain/core/documents')?.Document;
  return typeof Doc === 'function' ? new Doc({ pageContent, metadata }) : { pageContent, metadata };
}

class PlainRetriever {
  constructor(_fields?: unknown) {}
  _getRelevantDocuments(_query: string): Promise<DocumentLike[]> {
    return Promise.resolve([]);
  }
  invoke(query: string): Promise<DocumentLike[]> {
    return this._getRelevantDocuments(query);
  }
  getRelevantDocuments(query: string): Promise<DocumentLike[]> {
    return this._getRelevantDocuments(query);
  }
}

/** A BaseRetriever (host) or PlainRetriever whose search is `search`. */
export function makeRetriever(search: (query: string) => Promise<DocumentLike[]>): RetrieverLike {
  const { base, fromHost } = hostClass('@langchain/core/retrievers', 'BaseRetriever', PlainRetriever);
  class OpeaRetrieverInstance extends base {
    lc_namespace = ['opea', 'retrievers'];
    fromHost = fromHost;
    constructor() {
      super({});
    }
    _getRelevantDocuments(query: string): Promise<DocumentLike[]> {
      return search(query);
    }
  }
  return new OpeaRetrieverInstance() as unknown as RetrieverLike;
}

/** Documents from any retriever Flowise connects (LangChain's invoke, or the older getRelevantDocuments). */
export async function retrieve(retriever: unknown, query: string): Promise<DocumentLike[]> {
  const r = retriever as Partial<RetrieverLike> | undefined;
  if (r && typeof r.invoke === 'function') return r.invoke(query);
  if (r && typeof r.getRelevantDocuments === 'function') return r.getRelevantDocuments(query);
  throw new Error('the connected retriever has neither invoke() nor getRelevantDocuments()');
}

/** The fields of an AI message or chunk this package sets (LangChain's AIMessageFields). */
export interface AiMessageFields {
  content: string;
  tool_calls?: unknown[];
  invalid_tool_calls?: unknown[];
  tool_call_chunks?: unknown[];
  additional_kwargs?: Record<string, unknown>;
  usage_metadata?: { input_tokens: number; output_tokens: number; total_tokens: number };
  response_metadata?: Record<string, unknown>;
}

export interface GenerationChunkLike {
  text: string;
  message: { content: unknown };
  generationInfo?: Record<string, unknown>;
}

const plainMessage = (fields: AiMessageFields) => ({ role: 'assistant', type: 'ai', ...fields });

/** The host's AIMessage, or a plain object with its fields. */
export function makeAiMessage(fields: AiMessageFields): { content: unknown } {
  const AIMessage = hostModule('@langchain/core/messages')?.AIMessage;
  return typeof AIMessage === 'function' ? new AIMessage(fields) : plainMessage(fields);
}

/** The host's ChatGenerationChunk holding an AIMessageChunk, or plain objects of the same shape. */
export function makeGenerationChunk(fields: AiMessageFields, generationInfo?: Record<string, unknown>): GenerationChunkLike {
  const AIMessageChunk = hostModule('@langchain/core/messages')?.AIMessageChunk;
  const ChatGenerationChunk = hostModule('@langchain/core/outputs')?.ChatGenerationChunk;
  const text = fields.content;
  if (typeof AIMessageChunk === 'function' && typeof ChatGenerationChunk === 'function') {
    return new ChatGenerationChunk({ text, message: new AIMessageChunk(fields), ...(generationInfo ? { generationInfo } : {}) });
  }
  return { text, message: plainMessage(fields), ...(generationInfo ? { generationInfo } : {}) };
}
