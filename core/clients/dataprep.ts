/** OPEA dataprep microservice: multipart ingest of files and links (GenAIComps v1.5 `/v1/dataprep/ingest`). */
import { Endpoint } from './endpoint';
import { isObject, unexpected } from './wire';

export interface IngestFile {
  name: string;
  content: string | Buffer;
}

export interface IngestRequest {
  files: IngestFile[];
  links: string[];
  chunkSize: number;
  chunkOverlap: number;
  indexName?: string;
}

export async function ingestRemote(endpoint: Endpoint, request: IngestRequest, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const form = new FormData();
  for (const file of request.files) form.append('files', new Blob([file.content]), file.name);
  if (request.links.length > 0) form.append('link_list', JSON.stringify(request.links));
  form.append('chunk_size', String(request.chunkSize));
  form.append('chunk_overlap', String(request.chunkOverlap));
  if (request.indexName) form.append('index_name', request.indexName);
  const answer = await endpoint.postForm('/v1/dataprep/ingest', form, signal);
  if (!isObject(answer)) throw unexpected(`${endpoint.config.baseUrl.replace(/\/+$/, '')}/v1/dataprep/ingest`, 'expected a JSON object');
  return answer;
}
