/**
 * OPEA dataprep microservice: multipart ingest of files and links, against GenAIComps 1.1 and 1.2–1.5.
 *
 * The releases differ in where they take an ingest and in what one request may carry:
 * - 1.2 and later: `POST /v1/dataprep/ingest` (v1.5 comps/dataprep/src/opea_dataprep_microservice.py:100),
 *   with `index_name` (l.65-69). It reads the files with `form.get("files")` (l.57), which keeps only the
 *   last file of a request that sends several, and reads `link_list` only when no file came
 *   (integrations/redis.py:416-466 returns after the files).
 * - 1.1: `POST /v1/dataprep` (v1.1 comps/dataprep/redis/langchain/prepare_doc_redis.py:218), no
 *   `index_name` (the service writes the index its INDEX_NAME names, l.150), and a request with files
 *   returns before it reads `link_list` (l.234-297).
 * So every file goes in a request of its own and the links in one more, which every release ingests
 * completely. Both refuse a file whose name the index holds already (HTTP 400, v1.5 redis.py:438-442,
 * v1.1 l.253-256); each request's answer is kept, so the report says per file what the service did.
 * The path is found by asking: FastAPI answers 404 for a path no handler serves, so a 404 on
 * `/v1/dataprep/ingest` followed by an answer from `/v1/dataprep` is a 1.1 service. What worked is
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

/** What became of one request: a file, or the links. */
export interface IngestResult {
  file?: string;
  links?: string[];
  /** ingested: the service answered 2xx; refused: it answered an HTTP error; failed: no answer; not sent: a request before it got no answer. */
  outcome: 'ingested' | 'refused' | 'failed' | 'not sent';
  /** The HTTP status the service answered. */
  status?: number;
  /** The service's words ("Data preparation succeeded", "Uploaded file a.txt already exists. …"), or why there were none. */
  message: string;
}

export interface RemoteIngestReport {
  /** 200 when every request was ingested; otherwise the status of the first one that was not (0: no answer). */
  status: number;
  message: string;
  /** The ingest path that answered. */
  path: string;
  requests: number;
  ingested: number;
  results: IngestResult[];
}

const learned = new WeakMap<Endpoint, DataprepRelease>();

interface Part {
  what: Pick<IngestResult, 'file' | 'links'>;
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
    what: { file: file.name },
    form: (release) => {
      const form = new FormData();
      form.append('files', new Blob([file.content]), file.name);
      return common(form, release);
    },
  }));
  if (request.links.length > 0) {
    out.push({
      what: { links: [...request.links] },
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

/** FastAPI's error body {"detail": "..."} as the endpoint quoted it ("HTTP 400: {...}"), else the whole reason. */
function serviceWords(err: ServiceError): string {
  const quoted = /^HTTP \d+: ([\s\S]*)$/.exec(err.reason)?.[1];
  if (quoted === undefined) return err.reason;
  try {
    const body: unknown = JSON.parse(quoted);
    if (isObject(body) && typeof body.detail === 'string') return body.detail;
  } catch {
    // a cut or non-JSON body is quoted as it came
  }
  return quoted;
}

/** Sends one part; an HTTP error is the service's refusal of that part, anything else stops the ingest. */
async function send(endpoint: Endpoint, release: DataprepRelease, part: Part, signal?: AbortSignal): Promise<IngestResult> {
  try {
    const answer = await post(endpoint, release, part, signal);
    return { ...part.what, outcome: 'ingested', status: typeof answer.status === 'number' ? answer.status : 200, message: typeof answer.message === 'string' ? answer.message : 'ingested' };
  } catch (err) {
    if (!(err instanceof ServiceError)) throw err;
    if (err.status === undefined) return { ...part.what, outcome: 'failed', message: `${err.reason} — ${err.hint}` };
    return { ...part.what, outcome: 'refused', status: err.status, message: serviceWords(err) };
  }
}

/** Sends the first part, finding the release when the server is new to this client (or answers 404 where it did not). */
async function first(endpoint: Endpoint, part: Part, signal?: AbortSignal): Promise<{ release: DataprepRelease; result: IngestResult }> {
  const known = learned.get(endpoint);
  const order: DataprepRelease[] = known === '1.1' ? ['1.1', '1.2+'] : ['1.2+', '1.1'];
  for (const release of order) {
    const result = await send(endpoint, release, part, signal);
    if (result.status !== 404) return { release, result };
  }
  learned.delete(endpoint);
  throw new ServiceError(
    base(endpoint),
    `no dataprep service here: both POST ${INGEST_PATHS['1.2+']} (GenAIComps 1.2 to 1.5) and POST ${INGEST_PATHS['1.1']} (GenAIComps 1.1) answer 404`,
    "check the opea-server's base URL points at the OPEA dataprep service (port 6007 in 1.1 deployments, 5000 or 6007 in later ones), without a path",
    404,
  );
}

const nameOf = (r: IngestResult) => r.file ?? (r.links!.length === 1 ? `link ${r.links![0]}` : `${r.links!.length} links`);

function summary(results: IngestResult[]): string {
  const ingested = results.filter((r) => r.outcome === 'ingested');
  const unsent = results.filter((r) => r.outcome === 'not sent');
  const lines = [`${ingested.length} of ${results.length} ingested${ingested.length ? ` (${ingested.map(nameOf).join(', ')})` : ''}`];
  for (const r of results) if (r.outcome === 'refused' || r.outcome === 'failed') lines.push(`${r.outcome} ${nameOf(r)}${r.status ? ` (HTTP ${r.status})` : ''}: ${r.message}`);
  if (unsent.length) lines.push(`not sent: ${unsent.map(nameOf).join(', ')}`);
  return lines.join('; ');
}

/**
 * Ingests every file and the links, one request each, going on past a refused one, and reports per
 * request what the service answered. A request that gets no answer (network, timeout) stops the rest.
 */
export async function ingestRemote(endpoint: Endpoint, request: IngestRequest, signal?: AbortSignal): Promise<RemoteIngestReport> {
  const todo = parts(request);
  if (todo.length === 0) throw new ServiceError(base(endpoint), 'nothing to ingest', 'send text, files or links');
  const { release, result } = await first(endpoint, todo[0], signal);
  if (result.outcome !== 'failed') learned.set(endpoint, release);
  const results = [result];
  for (const part of todo.slice(1)) {
    const stopped = results.some((r) => r.outcome === 'failed');
    results.push(stopped ? { ...part.what, outcome: 'not sent', message: 'an earlier request got no answer' } : await send(endpoint, release, part, signal));
  }
  const ingested = results.filter((r) => r.outcome === 'ingested').length;
  const firstMiss = results.find((r) => r.outcome !== 'ingested');
  return {
    status: firstMiss ? (firstMiss.status ?? 0) : 200,
    message: firstMiss ? summary(results) : results[results.length - 1].message,
    path: INGEST_PATHS[release],
    requests: results.filter((r) => r.outcome !== 'not sent').length,
    ingested,
    results,
  };
}
