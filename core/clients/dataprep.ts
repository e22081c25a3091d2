/**
 * OPEA dataprep microservice: multipart ingest of files and links, against GenAIComps 1.1 and 1.2–1.5.
 *
 * The releases differ in where they take an ingest and in what one request may carry:
 * - 1.2 and later: `POST /v1/dataprep/ingest` (v1.5 comps/dataprep/src/opea_dataprep_microservice.py:100),
 *   with `index_name` (l.65-69). It reads the files with `form.get("files")` (l.57), which keeps only the
 *   last file of a request that sends several.
 * - 1.1: `POST /v1/dataprep` (v1.1 comps/dataprep/redis/langchain/prepare_doc_redis.py:218), no
 *   `index_name` (the service writes the index its INDEX_NAME names, l.150), and a request with files
 *   returns before it reads `link_list` (l.234-297).
 * So every file goes in a request of its own and the links in one more, which every release ingests
 * completely. The path is found by asking: FastAPI answers 404 for a path no handler serves, so a 404
 * on `/v1/dataprep/ingest` followed by an answer from `/v1/dataprep` is a 1.1 service. What worked is
 * remembered per server.
 */
import { Endpoint, ServiceError } from './endpoint';
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

/** The GenAIComps releases this client tells apart, by the path their dataprep service answers on. */
export type DataprepRelease = '1.1' | '1.2+';

export const INGEST_PATHS: Readonly<Record<DataprepRelease, string>> = { '1.2+': '/v1/dataprep/ingest', '1.1': '/v1/dataprep' };

const learned = new WeakMap<Endpoint, DataprepRelease>();

interface Part {
  /** What this request carries, for messages: "file a.txt" or "2 links". */
  what: string;
  form: (release: DataprepRelease) => FormData;
}

function parts(request: IngestRequest): Part[] {
  const common = (form: FormData, release: DataprepRelease) => {
    form.append('chunk_size', String(request.chunkSize));
    form.append('chunk_overlap', String(request.chunkOverlap));
    if (request.indexName && release === '1.2+') form.append('index_name', request.indexName);
    return form;
  };
  const out: Part[] = request.files.map((file) => ({
    what: `file ${file.name}`,
    form: (release) => {
      const form = new FormData();
      form.append('files', new Blob([file.content]), file.name);
      return common(form, release);
    },
  }));
  if (request.links.length > 0) {
    out.push({
      what: request.links.length === 1 ? '1 link' : `${request.links.length} links`,
      form: (release) => {
        const form = new FormData();
        form.append('link_list', JSON.stringify(request.links));
        return common(form, release);
      },
    });
  }
  return out;
}

const base = (endpoint: Endpoint) => endpoint.config.baseUrl.replace(/\/+$/, '');

async function post(endpoint: Endpoint, release: DataprepRelease, part: Part, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const answer = await endpoint.postForm(INGEST_PATHS[release], part.form(release), signal);
  if (!isObject(answer)) throw unexpected(`${base(endpoint)}${INGEST_PATHS[release]}`, 'expected a JSON object');
  return answer;
}

const isNotFound = (err: unknown) => err instanceof ServiceError && err.status === 404;

/** Sends the first request, finding the release when the server is new to this client (or answers 404 where it did not). */
async function first(endpoint: Endpoint, part: Part, signal?: AbortSignal): Promise<{ release: DataprepRelease; answer: Record<string, unknown> }> {
  const known = learned.get(endpoint);
  const order: DataprepRelease[] = known === '1.1' ? ['1.1', '1.2+'] : ['1.2+', '1.1'];
  for (const release of order) {
    try {
      return { release, answer: await post(endpoint, release, part, signal) };
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  learned.delete(endpoint);
  throw new ServiceError(
    base(endpoint),
    `no dataprep service here: both POST ${INGEST_PATHS['1.2+']} (GenAIComps 1.2 to 1.5) and POST ${INGEST_PATHS['1.1']} (GenAIComps 1.1) answer 404`,
    "check the opea-server's base URL points at the OPEA dataprep service (port 6007 in 1.1 deployments, 5000 or 6007 in later ones), without a path",
    404,
  );
}

/**
 * Ingests every file and the links, one request each, and gives the service's last answer
 * ({status, message}) with `path` (the ingest path that answered) and `requests` (how many were sent).
 * A failure part-way says what was already ingested.
 */
export async function ingestRemote(endpoint: Endpoint, request: IngestRequest, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const todo = parts(request);
  if (todo.length === 0) throw new ServiceError(base(endpoint), 'nothing to ingest', 'send text, files or links');
  let { release, answer } = await first(endpoint, todo[0], signal);
  learned.set(endpoint, release);
  for (let i = 1; i < todo.length; i++) {
    try {
      answer = await post(endpoint, release, todo[i], signal);
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      const done = todo.slice(0, i).map((p) => p.what).join(', ');
      throw new ServiceError(err.url, `${err.reason} (while ingesting ${todo[i].what}, request ${i + 1} of ${todo.length}; already ingested: ${done})`, err.hint, err.status);
    }
  }
  return { ...answer, path: INGEST_PATHS[release], requests: todo.length };
}
