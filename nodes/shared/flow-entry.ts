/**
 * The entries of the served flows: the URL of one of this runtime's own `http in` nodes, for nodes
 * that call the served flow the way a client does (the benchmark); and the JSON guard of the `http in`
 * nodes that lead to opea- nodes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeConfig, Red } from './red';

interface HttpInNode {
  type: string;
  url?: string;
  method?: string;
}

function hostOf(address: AddressInfo): string {
  if (address.address === '::' || address.address === '0.0.0.0' || address.address === '') return '127.0.0.1';
  return address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
}

/** The URL that reaches the POST `http in` node `entryId`; throws what to fix when there is none. */
export function flowEntryUrl(RED: Red, entryId: unknown): string {
  if (typeof entryId !== 'string' || entryId === '') throw new Error('no http in entry is chosen: choose the POST http in node of the flow to call');
  const entry = RED.nodes.getNode(entryId) as HttpInNode | null;
  if (!entry || entry.type !== 'http in') throw new Error(`the entry ${entryId} is not a deployed http in node: choose one again and deploy`);
  if (entry.method !== 'post') throw new Error(`the http in entry ${entry.url ?? ''} takes ${String(entry.method).toUpperCase()}: the benchmark POSTs, so choose a POST http in node`);
  const root = RED.settings.httpNodeRoot;
  if (root === false) throw new Error("http in nodes are switched off in this Node-RED (httpNodeRoot is false in settings.js)");
  const address = RED.server?.address();
  if (!address || typeof address === 'string') throw new Error("Node-RED's HTTP server is not listening on a TCP port, so the flow's http in entry cannot be called");
  const scheme = RED.settings.https ? 'https' : 'http';
  const base = (typeof root === 'string' ? root : '/').replace(/\/+$/, '');
  return `${scheme}://${hostOf(address)}:${address.port}${base}${entry.url ?? ''}`;
}

/** The slice of Express (4 or 5) the guard uses: an app, its router's stack, its request. */
interface Layer {
  handle: unknown;
  name?: string;
}
interface HttpNodeApp {
  use(handler: Middleware): void;
  _router?: { stack: Layer[] };
  router?: { stack: Layer[] };
}
type GuardedRequest = IncomingMessage & { path?: string; body?: unknown; _body?: boolean };
type Middleware = (req: GuardedRequest, res: ServerResponse, next: (err?: unknown) => void) => void;

type GuardRed = Red & { httpNode?: HttpNodeApp; nodes: Red['nodes'] & { eachNode?(cb: (node: NodeConfig) => void): void } };

const GUARDED = new WeakSet<object>();
/** The runtime that loaded the pack last: one per process (tests load it again and again). */
let current: GuardRed | undefined;
/** Methods whose http in route parses a JSON body (Node-RED's 21-httpin.js). */
const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);
const DEFAULT_LIMIT = 5 * 1024 * 1024;

/**
 * Node-RED's http in parses a JSON body strictly (an object or an array) and answers anything else,
 * `"hi"`, `null`, `42` or malformed JSON, with a bare 500 and a warning before any node sees the
 * request, so no catch can answer it. For the http in nodes that lead to opea- nodes this guard reads
 * the JSON body first: any JSON value goes on to the flow as msg.payload (its nodes accept or refuse
 * it, and the flow's catch answers), and a body that is no JSON at all is answered 400 with `{error}`
 * naming the http in node. Installed once per runtime, ahead of the routes; not when settings.js has
 * httpNodeMiddleware.
 */
export function guardJsonEntries(RED: GuardRed): void {
  current = RED;
  const app = RED.httpNode;
  if (!app || typeof app.use !== 'function' || GUARDED.has(app)) return;
  GUARDED.add(app);
  const guard: Middleware = (req, res, next) => {
    const RED = current as GuardRed;
    // Middleware of settings.js (authentication, say) runs inside each route, after this guard would:
    // with any, bodies are left to Node-RED, so none is read or answered before it.
    if (RED.settings.httpNodeMiddleware) return next();
    // Read already (by a guard of another app on the same server, as Node-RED's own parsers also check).
    if (req._body === true || req.readableEnded) return next();
    const entry = jsonEntry(RED, req);
    if (!entry) return next();
    readJson(req, bodyLimit(RED.settings.apiMaxLength), (problem, body) => {
      const label = typeof entry.name === 'string' && entry.name.trim() !== '' ? entry.name : 'http in';
      if (problem) {
        res.statusCode = problem.status;
        res.setHeader('Content-Type', 'application/json; charset=utf-8');
        res.end(JSON.stringify({ error: `${label} (${entry.id}): ${problem.message}` }));
        return;
      }
      req.body = body;
      req._body = true;
      next();
    });
  };
  app.use(guard);
  const stack = (app._router ?? app.router)?.stack;
  if (!stack) return;
  // Ahead of every route, just after Express's own request set-up (which gives req.path).
  const at = stack.findIndex((layer) => layer.handle === guard);
  const [layer] = stack.splice(at, 1);
  stack.splice(stack.findIndex((l) => l.name === 'expressInit') + 1, 0, layer);
}

/** The deployed http in node whose JSON route this request takes and which leads to an opea- node, or undefined. */
function jsonEntry(RED: GuardRed, req: GuardedRequest): NodeConfig | undefined {
  const method = (req.method ?? '').toLowerCase();
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (!BODY_METHODS.has(method) || type !== 'application/json' || typeof req.path !== 'string' || !RED.nodes.eachNode) return undefined;
  const nodes = new Map<string, NodeConfig>();
  try {
    RED.nodes.eachNode((n) => nodes.set(n.id, n));
  } catch {
    // Node-RED 5 has no flows to walk while it starts them (its routes answer 404 then).
    return undefined;
  }
  for (const node of nodes.values()) {
    if (node.type !== 'http in' || node.d === true || node.method !== method || node.skipBodyParsing === true) continue;
    const route = routePattern(node.url);
    if (route?.test(req.path) && leadsToOpea(node, nodes)) return node;
  }
  return undefined;
}

/** The paths an http in url matches as Express does (case-insensitive, an optional trailing slash, `:name` parts); null for other patterns. */
function routePattern(url: unknown): RegExp | null {
  if (typeof url !== 'string') return null;
  const path = url.startsWith('/') ? url : `/${url}`;
  if (/[*?()+[\]]/.test(path)) return null;
  const parts = path.split('/').map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.$^{}|\\]/g, '\\$&')));
  return new RegExp(`^${parts.join('/').replace(/\/$/, '')}/?$`, 'i');
}

/** Whether a wire path from the node (through any nodes and links) reaches an opea- node. */
function leadsToOpea(start: NodeConfig, nodes: Map<string, NodeConfig>): boolean {
  const seen = new Set<string>();
  const queue: unknown[] = [start.id];
  while (queue.length > 0) {
    const id = queue.pop();
    if (typeof id !== 'string' || seen.has(id)) continue;
    seen.add(id);
    const node = nodes.get(id);
    if (!node) continue;
    if (node !== start && node.type.startsWith('opea-')) return true;
    if (Array.isArray(node.wires)) for (const port of node.wires) if (Array.isArray(port)) queue.push(...port);
    if (node.type === 'link out' && Array.isArray(node.links)) queue.push(...node.links);
  }
  return false;
}

/** Node-RED's apiMaxLength ('5mb', '100kb', a number of bytes) in bytes; 5 MB when unset or unreadable. */
function bodyLimit(setting: unknown): number {
  if (typeof setting === 'number' && setting > 0) return setting;
  const match = typeof setting === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(setting) : null;
  if (!match) return DEFAULT_LIMIT;
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(match[2] ?? 'b').toLowerCase() as 'b'];
  return Math.floor(Number(match[1]) * unit);
}

/** Reads the whole body (at most `limit` bytes) and parses it as JSON; an empty body is `{}`, as Node-RED's own parser gives. */
function readJson(req: IncomingMessage, limit: number, done: (problem: { status: number; message: string } | null, body?: unknown) => void): void {
  const tooLarge = { status: 413, message: `the request body is larger than ${limit} bytes (Node-RED's apiMaxLength) — send less, or raise apiMaxLength in settings.js` };
  if (Number(req.headers['content-length']) > limit) {
    req.resume();
    return done(tooLarge);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (problem: { status: number; message: string } | null, body?: unknown) => {
    if (finished) return;
    finished = true;
    done(problem, body);
  };
  req.on('data', (chunk: Buffer) => {
    size += chunk.byteLength;
    if (size > limit) {
      req.removeAllListeners('data');
      req.resume();
      return finish(tooLarge);
    }
    chunks.push(chunk);
  });
  req.on('error', (err) => finish({ status: 400, message: `the request body could not be read (${err.message})` }));
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8').replace(/^\uFEFF/, '');
    if (text.trim() === '') return finish(null, {});
    try {
      finish(null, JSON.parse(text));
    } catch (err) {
      finish({ status: 400, message: `the request body is not JSON (${(err as Error).message}) — send JSON, such as {"text": "your question"}, with Content-Type: application/json` });
    }
  });
}
