/**
 * A GMC router world: OPEA's real GMC router running a graph, with the OPEA 1.1 stand-ins at the
 * service host names the graph calls, all inside network and mount namespaces of their own
 * (router_world.py under `unshare --net --mount`), so the router's fixed :8080 and the services'
 * container ports never touch the host. The test talks to the router through a Unix socket.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../reference';
import { routerBinary } from './router-binary';
import { FAKES_PY, HopRecord, readLog, readReady, StandInRole, stopChild } from './stand-ins';

const WORLD_PY = path.join(REPO_ROOT, 'test', 'support', 'peers', 'router_world.py');

export interface WorldService {
  /** Host name, as the graph's serviceUrls name it. */
  name: string;
  role: StandInRole;
  /** The port the graph calls it on (its container port). */
  port: number;
}

export interface RouterReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface UploadFile {
  field: string;
  filename: string;
  content: string;
  contentType?: string;
}

export interface RouterWorld {
  /** POSTs to the router: a string goes as it is, anything else as JSON. */
  post(urlPath: string, body: unknown, headers?: Record<string, string>): Promise<RouterReply>;
  /** POSTs a multipart form (the router's /dataprep). */
  postMultipart(urlPath: string, fields: Record<string, string>, files: UploadFile[]): Promise<RouterReply>;
  /** Every request the stand-ins received, in order. */
  log(): HopRecord[];
  /** The router's own log, its byte arrays (each hop's request and previous response) shown as text. */
  routerLog(): string;
  stop(): Promise<void>;
}

/** The compose project's gateway, its files as the bundle holds them: requests then reach it, and it the router. */
export interface WorldGateway {
  script: string;
  routes: string;
}

export async function startRouterWorld(options: { graph: unknown; services: WorldService[]; gateway?: WorldGateway }): Promise<RouterWorld> {
  const router = await routerBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gmc-world-'));
  let gateway: Record<string, string> | undefined;
  if (options.gateway) {
    gateway = { node: process.execPath, script: path.join(dir, 'gateway.js'), routes: path.join(dir, 'routes.json') };
    fs.writeFileSync(gateway.script, options.gateway.script);
    fs.writeFileSync(gateway.routes, options.gateway.routes);
  }
  const config = {
    router,
    graph: JSON.stringify(options.graph),
    fakes: FAKES_PY,
    dir,
    services: options.services,
    gateway,
  };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const child = spawn('unshare', ['--net', '--mount', 'python3', WORLD_PY, path.join(dir, 'config.json')], { stdio: ['pipe', 'pipe', 'pipe'] });
  let socketPath: string;
  try {
    ({ socket: socketPath } = await readReady<{ socket: string }>(child, 20_000, 'the router world (unshare --net --mount, as root)'));
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const send = (urlPath: string, body: Buffer, headers: Record<string, string>): Promise<RouterReply> =>
    request(socketPath, urlPath, body, { 'content-length': String(body.length), ...headers });
  return {
    post: (urlPath, body, headers = {}) =>
      send(urlPath, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), { 'content-type': 'application/json', ...headers }),
    postMultipart: (urlPath, fields, files) => {
      const { body, contentType } = multipart(fields, files);
      return send(urlPath, body, { 'content-type': contentType });
    },
    log: () => readLog(path.join(dir, 'stand-ins.jsonl')),
    routerLog: () => bytesAsText(readIfThere(path.join(dir, 'router.log'))),
    stop: async () => {
      await stopChild(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function request(socketPath: string, urlPath: string, body: Buffer, headers: Record<string, string>): Promise<RouterReply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: urlPath, method: 'POST', headers, agent: false, timeout: 70_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`the router did not answer ${urlPath} in 70 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

function multipart(fields: Record<string, string>, files: UploadFile[]): { body: Buffer; contentType: string } {
  const boundary = `----gmc-world-${Date.now().toString(16)}`;
  const parts = [
    ...Object.entries(fields).map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    ...files.map(
      (f) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.field}"; filename="${f.filename}"\r\n` +
        `Content-Type: ${f.contentType ?? 'text/plain'}\r\n\r\n${f.content}\r\n`,
    ),
  ];
  return { body: Buffer.from(`${parts.join('')}--${boundary}--\r\n`), contentType: `multipart/form-data; boundary=${boundary}` };
}

function readIfThere(file: string): string {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

/** The router's logger prints []byte values as decimal arrays: `"Request Bytes"=[123,34,...]`. */
function bytesAsText(log: string): string {
  return log.replace(/=\[(\d+(?:,\d+)*)\]/g, (_, bytes: string) => `=${JSON.stringify(Buffer.from(bytes.split(',').map(Number)).toString('utf8'))}`);
}
