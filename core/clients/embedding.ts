/** Embeddings from TEI (`/embed`), an OPEA embedding service or any OpenAI-compatible server (`/v1/embeddings`). */
import { Endpoint, ServiceError } from './endpoint';
import { isObject, unexpected, vectorOrFail } from './wire';

export type RemoteEmbeddingBackend = 'tei' | 'opea' | 'openai' | 'ollama';

/**
 * Texts per request unless a node says otherwise: TEI's router refuses a request with more inputs than
 * its --max-client-batch-size, default 32 (text-embeddings-inference v1.5.0 router/src/main.rs:72-74,
 * checked in router/src/http/server.rs:625-639; HTTP 413 up to v1.8, 422 from v1.9), and OPEA's
 * embedding service hands a request's whole list to TEI in one call (GenAIComps v1.5
 * comps/embeddings/src/integrations/tei.py:62-72, v1.1 comps/embeddings/tei/langchain/embedding_tei.py:63,96).
 */
export const DEFAULT_EMBED_BATCH_SIZE = 32;

async function embedBatch(endpoint: Endpoint, backend: RemoteEmbeddingBackend, model: string | undefined, texts: string[], signal?: AbortSignal): Promise<number[][]> {
  const url = (path: string) => `${endpoint.config.baseUrl.replace(/\/+$/, '')}${path}`;
  if (backend === 'tei') {
    const answer = await endpoint.postJson('/embed', { inputs: texts, truncate: true }, signal);
    if (!Array.isArray(answer) || answer.length !== texts.length) throw unexpected(url('/embed'), `expected ${texts.length} vectors from TEI`);
    return answer.map((v, i) => vectorOrFail(url('/embed'), v, `vector ${i}`));
  }
  // OpenAI's request, which OpenAI, vLLM, Ollama, TEI's /v1 and OPEA's embedding service take: GenAIComps
  // 1.2-1.5 only this (v1.5 comps/embeddings/src/opea_embedding_microservice.py:44), 1.1 among a TextDoc and a
  // ChatCompletionRequest (v1.1 comps/embeddings/tei/langchain/embedding_tei.py:48-50), answering it in OpenAI's
  // shape, one vector per input (l.62-70).
  const body: Record<string, unknown> = { input: texts, encoding_format: 'float' };
  if (model) body.model = model;
  const answer = await endpoint.postJson('/v1/embeddings', body, signal);
  if (!isObject(answer) || !Array.isArray(answer.data) || answer.data.length !== texts.length) {
    throw unexpected(url('/v1/embeddings'), `expected {data: [${texts.length} embeddings]}`);
  }
  const vectors: number[][] = new Array(texts.length);
  answer.data.forEach((item, i) => {
    const index = isObject(item) && typeof item.index === 'number' ? item.index : i;
    if (!isObject(item) || index < 0 || index >= texts.length) throw unexpected(url('/v1/embeddings'), `data[${i}] has no valid index`);
    vectors[index] = vectorOrFail(url('/v1/embeddings'), item.embedding, `data[${i}].embedding`);
  });
  return vectors;
}

/**
 * One vector per text, in the texts' order, asking at most `batchSize` texts per request, one request
 * after the other. A failed request fails the whole call, naming its batch; no vector is returned.
 */
export async function embedRemote(
  endpoint: Endpoint,
  backend: RemoteEmbeddingBackend,
  model: string | undefined,
  texts: string[],
  signal?: AbortSignal,
  batchSize = DEFAULT_EMBED_BATCH_SIZE,
): Promise<number[][]> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batch size ${batchSize} is not a whole number of at least 1`);
  const batches = Math.ceil(texts.length / batchSize);
  const vectors: number[][] = [];
  for (let b = 0; b < batches; b++) {
    const slice = texts.slice(b * batchSize, (b + 1) * batchSize);
    try {
      vectors.push(...(await embedBatch(endpoint, backend, model, slice, signal)));
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      const which = batches > 1 ? ` (batch ${b + 1} of ${batches}: texts ${b * batchSize + 1}-${b * batchSize + slice.length} of ${texts.length})` : '';
      // OPEA's embedding service answers 500 when its TEI refuses the list.
      const tooMany = err.status === 413 || err.status === 422 || (backend === 'opea' && err.status === 500);
      if (!which && !tooMany) throw err;
      const hint = tooMany ? `${err.hint}; if the server takes fewer texts per request (TEI's --max-client-batch-size), lower the batch size (now ${batchSize})` : err.hint;
      throw new ServiceError(err.url, `${err.reason}${which}`, hint, err.status);
    }
  }
  return vectors;
}
