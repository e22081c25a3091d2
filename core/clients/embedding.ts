/** Embeddings from TEI (`/embed`), an OPEA embedding service or any OpenAI-compatible server (`/v1/embeddings`). */
import { Endpoint } from './endpoint';
import { isObject, unexpected, vectorOrFail } from './wire';

export type RemoteEmbeddingBackend = 'tei' | 'opea' | 'openai' | 'ollama';

export async function embedRemote(endpoint: Endpoint, backend: RemoteEmbeddingBackend, model: string | undefined, texts: string[], signal?: AbortSignal): Promise<number[][]> {
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
