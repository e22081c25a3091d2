// A loopback redis dataprep service that keeps what GenAIComps' keeps: one file per request (the last `files` part
// in 1.5), links only when no file came, and a document's name refused when its index holds it already. Test-only:
// binds 127.0.0.1 on an ephemeral port.
import http from 'node:http';
import { closeServer, listenLoopback } from './loopback';
import { parseMultipart } from './protocol-server';

export type DataprepRelease = '1.5' | '1.1';

interface Stored {
  index: string;
  name: string;
  content: string;
}

/**
 * The redis dataprep of GenAIComps v1.5 (comps/dataprep/src/opea_dataprep_microservice.py, integrations/redis.py)
 * or v1.1 (comps/dataprep/redis/langchain/prepare_doc_redis.py).
 */
export class DataprepService {
  readonly stored: Stored[] = [];
  /** Paths and file names of every request, in order. */
  readonly seen: { path: string; files: string[]; links?: string }[] = [];
  /** Requests whose number (1-based) is here get their connection closed without an answer. */
  readonly hangUpOn = new Set<number>();
  private server!: http.Server;
  url = '';

  constructor(private readonly release: DataprepRelease) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.answer(req, Buffer.concat(chunks), res));
    });
    this.url = await listenLoopback(this.server);
    return this;
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private answer(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
    const send = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
    const path = new URL(req.url ?? '/', this.url).pathname;
    const ingestPath = this.release === '1.5' ? '/v1/dataprep/ingest' : '/v1/dataprep'; // v1.5 l.100, v1.1 l.218
    const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/.exec(String(req.headers['content-type']));
    const form = boundary ? parseMultipart(body, boundary[1] ?? boundary[2]) : { fields: {}, files: [] };
    this.seen.push({ path, files: form.files.map((f) => f.filename), links: form.fields.link_list?.[0] });
    if (this.hangUpOn.has(this.seen.length)) {
      req.socket.destroy();
      return;
    }
    if (req.method !== 'POST' || path !== ingestPath) return send(404, { detail: 'Not Found' }); // FastAPI, no handler
    // v1.5 l.57-58: Starlette's form.get keeps the last value of a repeated field. v1.1 reads every file (l.239).
    const files = this.release === '1.5' ? form.files.slice(-1) : form.files;
    const linkList = form.fields.link_list?.slice(-1)[0];
    // v1.5 l.65-69 and redis.py:423: index_name, else INDEX_NAME; v1.1 takes none (l.150, l.241).
    const index = this.release === '1.5' ? (form.fields.index_name?.slice(-1)[0] ?? 'rag-redis') : 'rag-redis';
    const exists = (name: string) => this.stored.some((s) => s.index === index && s.name === name);
    if (files.length > 0) {
      // v1.5 redis.py:416-464, v1.1 l.234-297: each file refused when its name is taken, then the answer; links never read.
      for (const file of files) {
        if (exists(file.filename)) {
          const detail = this.release === '1.5' ? `Uploaded file ${file.filename} already exists. Please change file name or index name.` : `Uploaded file ${file.filename} already exists. Please change file name.`;
          return send(400, { detail });
        }
        this.stored.push({ index, name: file.filename, content: file.content });
      }
      return send(200, { status: 200, message: 'Data preparation succeeded' });
    }
    if (linkList) {
      // v1.5 redis.py:466-508: links in order, each refused when ingested before (the earlier ones stay).
      for (const link of JSON.parse(linkList) as string[]) {
        if (exists(`${link}.txt`)) return send(400, { detail: `Uploaded link ${link} already exists. Please change another link or index_name.` });
        this.stored.push({ index, name: `${link}.txt`, content: `(page at ${link})` });
      }
      return send(200, { status: 200, message: 'Data preparation succeeded' });
    }
    return send(400, { detail: 'Must provide either a file or a string list.' }); // v1.5 redis.py:510
  }
}
