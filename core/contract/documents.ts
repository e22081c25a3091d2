/**
 * The OPEA documents that travel on msg.payload between stages (GenAIComps v1.5 docarray shapes), and
 * readers that accept what a user is likely to send and explain what is missing otherwise.
 */

export interface EmbedDoc {
  text: string;
  embedding: number[];
  search_type?: string;
  k?: number;
  distance_threshold?: number;
  fetch_k?: number;
  lambda_mult?: number;
  score_threshold?: number;
  index_name?: string;
}

export interface RetrievedDoc {
  text: string;
  metadata?: Record<string, unknown>;
  /** Similarity or rerank score, where the stage that produced the document knows it. */
  score?: number;
}

export interface SearchedDoc {
  initial_query: string;
  retrieved_docs: RetrievedDoc[];
  top_n: number;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface LLMParamsDoc {
  query: string;
  documents: string[];
  /** Rerank scores of `documents`, best first (kept by opea-rerank; not part of the OPEA wire format). */
  scores?: number[];
  model?: string;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  repetition_penalty?: number;
  stream?: boolean;
  chat_template?: string;
  /** Earlier turns of the conversation, oldest first. */
  history?: ChatMessage[];
}

export interface GeneratedDoc {
  text: string;
  prompt: string;
  /** The model's reasoning, where the server returns it apart from the answer. */
  reasoning?: string;
}

/** Input that does not fit the stage: what is wrong and how to fix it. */
export class ContractError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(`${message} — ${fix}`);
    this.name = 'ContractError';
  }
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (isObject(value)) {
    const keys = Object.keys(value).slice(0, 6);
    return keys.length ? `an object with ${keys.join(', ')}` : 'an empty object';
  }
  return `a ${typeof value}`;
}

/** The last user message of an OpenAI chat request, or null when `payload` is not one. */
function lastUserMessage(payload: Json): string | null {
  if (!Array.isArray(payload.messages)) return null;
  for (let i = payload.messages.length - 1; i >= 0; i--) {
    const m = payload.messages[i] as Json;
    if (isObject(m) && m.role === 'user') {
      if (typeof m.content === 'string') return m.content;
      if (Array.isArray(m.content)) {
        return m.content.filter((p) => isObject(p) && p.type === 'text' && typeof p.text === 'string').map((p) => (p as Json).text as string).join('\n');
      }
    }
  }
  return null;
}

/** The question or text a payload carries: a string, TextDoc, EmbedDoc, SearchedDoc, LLMParamsDoc or chat request. */
export function textOf(payload: unknown): string | null {
  if (typeof payload === 'string') return payload;
  if (!isObject(payload)) return null;
  for (const key of ['text', 'query', 'initial_query', 'input', 'question']) if (typeof payload[key] === 'string') return payload[key] as string;
  return lastUserMessage(payload);
}

/** Texts to embed: one (string or document) or several (an array of strings or `input: string[]`). */
export function textsToEmbed(payload: unknown): { texts: string[]; single: boolean } {
  if (Array.isArray(payload) && payload.length > 0 && payload.every((t) => typeof t === 'string')) return { texts: payload as string[], single: false };
  if (isObject(payload) && Array.isArray(payload.input) && payload.input.length > 0 && payload.input.every((t) => typeof t === 'string')) {
    return { texts: payload.input as string[], single: false };
  }
  const text = textOf(payload);
  if (!nonEmpty(text)) {
    throw new ContractError(`msg.payload has no text to embed (it is ${describe(payload)})`, 'send a string, {text: "..."} or an array of strings');
  }
  return { texts: [text], single: true };
}

function finiteVector(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

export function asEmbedDoc(payload: unknown): EmbedDoc {
  if (!isObject(payload) || typeof payload.text !== 'string' || !finiteVector(payload.embedding)) {
    throw new ContractError(
      `the retriever needs an EmbedDoc {text, embedding: number[]}, not ${describe(payload)}`,
      'wire an opea-embedding node in front of the retriever',
    );
  }
  return payload as unknown as EmbedDoc;
}

function retrievedDoc(d: unknown): RetrievedDoc | null {
  if (typeof d === 'string') return { text: d };
  if (isObject(d) && typeof d.text === 'string') {
    const doc: RetrievedDoc = { text: d.text };
    if (isObject(d.metadata)) doc.metadata = d.metadata;
    if (typeof d.score === 'number') doc.score = d.score;
    return doc;
  }
  return null;
}

export function asSearchedDoc(payload: unknown): SearchedDoc {
  if (isObject(payload) && Array.isArray(payload.retrieved_docs)) {
    const query = typeof payload.initial_query === 'string' ? payload.initial_query : typeof payload.query === 'string' ? payload.query : null;
    const docs = payload.retrieved_docs.map(retrievedDoc);
    if (query !== null && docs.every((d) => d !== null)) {
      const topN = typeof payload.top_n === 'number' && Number.isInteger(payload.top_n) && payload.top_n > 0 ? payload.top_n : 1;
      return { initial_query: query, retrieved_docs: docs as RetrievedDoc[], top_n: topN };
    }
  }
  throw new ContractError(
    `the reranker needs a SearchedDoc {initial_query, retrieved_docs: [{text}]}, not ${describe(payload)}`,
    'wire an opea-retriever node in front of the reranker',
  );
}

/**
 * A chat message's text: string content, or OpenAI content parts whose text parts are joined by newlines.
 * Null when malformed; a ContractError for parts that are well formed but not text (images, audio).
 */
function contentText(content: unknown, where: string): string | null {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return null;
  const texts: string[] = [];
  for (const part of content) {
    if (!isObject(part) || typeof part.type !== 'string') return null;
    if (part.type !== 'text') {
      throw new ContractError(
        `${where} has a content part of type "${part.type}", which the LLM stage does not support (it sends text only)`,
        'send the content as a string or as text parts [{type: "text", text: "..."}], without images, audio or files',
      );
    }
    if (typeof part.text !== 'string') return null;
    texts.push(part.text);
  }
  return texts.join('\n');
}

function messages(value: unknown, field: string): ChatMessage[] | null {
  if (!Array.isArray(value)) return null;
  const out: ChatMessage[] = [];
  for (const [i, m] of value.entries()) {
    if (!isObject(m) || !['system', 'user', 'assistant'].includes(m.role as string)) return null;
    const content = contentText(m.content, `msg.payload.${field}[${i}]`);
    if (content === null) return null;
    out.push({ role: m.role as ChatMessage['role'], content });
  }
  return out;
}

/** Fields of an OpenAI chat request that mean what they mean in an LLMParamsDoc. */
const CHAT_REQUEST_SETTINGS = ['model', 'max_tokens', 'temperature', 'top_p', 'top_k', 'repetition_penalty', 'stream'] as const;

/**
 * What the LLM stage is asked: an LLMParamsDoc, a SearchedDoc (documents not reranked), an OpenAI
 * chat request (its last user message is the question, earlier messages the history) or a string.
 */
export function asLlmInput(payload: unknown): LLMParamsDoc {
  if (typeof payload === 'string' && payload.trim() !== '') return { query: payload, documents: [] };
  if (isObject(payload)) {
    if (typeof payload.query === 'string') {
      const documents = Array.isArray(payload.documents)
        ? payload.documents.map((d) => (typeof d === 'string' ? d : isObject(d) && typeof d.text === 'string' ? d.text : null))
        : [];
      if (documents.every((d) => d !== null)) {
        const doc: LLMParamsDoc = { ...(payload as object), query: payload.query, documents: documents as string[] } as LLMParamsDoc;
        const history = messages(payload.history, 'history');
        if (payload.history !== undefined && history === null) {
          throw new ContractError('msg.payload.history is not a list of {role, content} messages', 'give history as [{role: "user"|"assistant"|"system", content: "..."}]');
        }
        if (history) doc.history = history;
        return doc;
      }
    }
    if (Array.isArray(payload.retrieved_docs)) {
      const searched = asSearchedDoc(payload);
      return { query: searched.initial_query, documents: searched.retrieved_docs.map((d) => d.text) };
    }
    const chat = messages(payload.messages, 'messages');
    if (chat && chat.length > 0 && chat[chat.length - 1].role === 'user') {
      const last = chat[chat.length - 1];
      const documents = Array.isArray(payload.documents) && payload.documents.every((d) => typeof d === 'string') ? (payload.documents as string[]) : [];
      // Every earlier message, a system message included, goes on as history.
      const doc: LLMParamsDoc = { query: last.content, documents, history: chat.slice(0, -1) };
      for (const key of CHAT_REQUEST_SETTINGS) if (payload[key] !== undefined) Object.assign(doc, { [key]: payload[key] });
      return doc;
    }
  }
  throw new ContractError(
    `the LLM needs a question: a string, an LLMParamsDoc {query, documents}, a SearchedDoc or an OpenAI chat request — not ${describe(payload)}`,
    'wire an opea-rerank or opea-retriever node in front, or send {query: "..."}',
  );
}

/**
 * The documents of an LLM stage's input with what is known of each: the text, and the score and
 * metadata where the payload carries them (a SearchedDoc's retrieved_docs, {text, metadata, score}
 * objects in documents, or the scores opea-rerank keeps beside the texts).
 */
export function llmDocuments(payload: unknown): RetrievedDoc[] {
  if (!isObject(payload)) return [];
  const list = Array.isArray(payload.documents) ? payload.documents : Array.isArray(payload.retrieved_docs) ? payload.retrieved_docs : [];
  const scores = Array.isArray(payload.scores) ? payload.scores : [];
  return list.map(retrievedDoc).flatMap((doc, i) => {
    if (!doc) return [];
    if (doc.score === undefined && typeof scores[i] === 'number') doc.score = scores[i] as number;
    return [doc];
  });
}

/** OPEA ChatQnA's way of asking: answer from the search results, and say so when they do not help. */
export const DEFAULT_CHAT_TEMPLATE = [
  '### You are a helpful, respectful and honest assistant. Answer the question using the search results',
  'below where they are relevant, and ignore them where they are not. If you do not know the answer,',
  'say so instead of making one up.',
  '### Search results: {context}',
  '### Question: {question}',
  '### Answer:',
].join('\n');

/** Fills `{context}` and `{question}`; a template without `{question}` gets the question appended. */
export function renderPrompt(template: string, query: string, documents: string[]): string {
  const values: Record<string, string> = { context: documents.join('\n'), question: query };
  // One pass over the template: inserted text is never searched for placeholders (nor for `$` patterns).
  const prompt = template.replace(/\{(context|question)\}/g, (_, name: string) => values[name]);
  return template.includes('{question}') ? prompt : `${prompt}\n${query}`;
}

/**
 * The template in the OPEA service's syntax, a LangChain f-string PromptTemplate (v1.1 llm.py:81,
 * v1.5 service.py:188): braces other than {context} and {question} doubled so they stay literal, and
 * {question} appended when missing (renderPrompt does the same), since the service uses a template only
 * when its variables are {context, question} or {question} (llm.py:138-145, service.py:133-140).
 * The service then fills in the very prompt renderPrompt gives.
 */
export function serviceTemplate(template: string): string {
  const escaped = template.replace(/\{(?:context|question)\}|[{}]/g, (m) => (m.length > 1 ? m : m + m));
  return template.includes('{question}') ? escaped : `${escaped}\n{question}`;
}
