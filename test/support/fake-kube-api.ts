/**
 * A loopback fake of the Kubernetes API server: the protocol subset `core/k8s/deploy.ts` uses, with
 * the answers the real kube-apiserver gives.
 *
 * - Namespaces: GET /api/v1/namespaces/{ns}, POST /api/v1/namespaces (409 AlreadyExists).
 * - Secrets: GET and POST /api/v1/namespaces/{ns}/secrets[/{name}]; a write into a namespace that does
 *   not exist answers 404 `namespaces "x" not found` (NamespaceLifecycle admission).
 * - GMC: discovery GET /apis/gmc.opea.io/v1alpha3 (an APIResourceList); GET and server-side apply
 *   PATCH of /apis/gmc.opea.io/v1alpha3/namespaces/{ns}/gmconnectors/{name}; GET of the collection with
 *   `watch=true` (a stream of JSON lines `{"type": ..., "object": ...}`, fieldSelector metadata.name,
 *   resourceVersion to resume from, timeoutSeconds).
 * - Apply: a Content-Type other than application/apply-patch+yaml answers 415 UnsupportedMediaType;
 *   no fieldManager answers 422 Invalid (PatchOptions.meta.k8s.io, cause fieldManager
 *   FieldValueRequired), as ValidatePatchOptions does; the body's apiVersion, kind and name must match
 *   the URL (400). Field ownership is tracked per leaf path: applying a different value to a field
 *   another manager owns answers 409 Conflict with FieldManagerConflict causes unless force=true,
 *   which takes the field over. generation rises when the spec changes; resourceVersion on every write.
 * - dryRun: only `All` is accepted (422 otherwise); a dry-run write answers as the real write would and
 *   stores nothing.
 * - Without the CRD (`crdInstalled: false`) every /apis/gmc.opea.io path answers 404 with the plain
 *   text body `404 page not found`, as the apiserver's final not-found handler does.
 * - Bearer token check (401 Unauthorized Status), scripted faults (any Status, matched by method and
 *   path), a status timeline applied to the CR after it is first created, a bounded request count
 *   (429 past it) and close(), which ends watches and sockets.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import yaml from 'js-yaml';

type Json = Record<string, unknown>;

export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Json;
  status: 'Failure';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason: string; message: string; field?: string }[]; retryAfterSeconds?: number };
  code: number;
}

export function kubeStatus(code: number, reason: string, message: string, details?: KubeStatus['details']): KubeStatus {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/** The RBAC denial, worded as the apiserver's authorization filter words it. */
export function forbiddenStatus(user: string, verb: string, resource: string, group: string, namespace: string, name: string): KubeStatus {
  const qualified = group ? `${resource}.${group}` : resource;
  return kubeStatus(403, 'Forbidden', `${qualified} "${name}" is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${group}" in the namespace "${namespace}"`, { name, group: group || undefined, kind: resource });
}

/** A 422 as the apiserver words schema and validation failures: `<Kind>.<group> "<name>" is invalid: ...`. */
export function invalidStatus(kind: string, group: string, name: string, causes: { field: string; reason: string; message: string }[]): KubeStatus {
  const list = causes.map((c) => `${c.field}: ${c.message}`);
  const message = `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${list.length === 1 ? list[0] : `[${list.join(', ')}]`}`;
  return kubeStatus(422, 'Invalid', message, { name, group: group || undefined, kind, causes: causes.map((c) => ({ reason: c.reason, message: c.message, field: c.field })) });
}

export interface Fault {
  method?: string;
  /** Matched against the URL path (without the query). */
  path: RegExp;
  status: KubeStatus;
  /** Only watch requests (`watch=true`), or only requests that are not watches. */
  watch?: boolean;
  /** How many matching requests get the fault (default: all). */
  times?: number;
}

export interface TimelineStep {
  /** Milliseconds after the CR was first created (for real, not in a dry run). */
  afterMs: number;
  status: Json;
}

export interface FakeKubeOptions {
  /** Bearer token every request must carry; undefined: no check. */
  token?: string;
  crdInstalled?: boolean;
  namespaces?: string[];
  secrets?: { namespace: string; name: string; data: Record<string, string> }[];
  /** CRs that exist before the test, with the field manager that owns their fields. */
  gmconnectors?: { object: Json; manager: string; status?: Json }[];
  timeline?: TimelineStep[];
  faults?: Fault[];
  maxRequests?: number;
  /** Ends every watch after this many seconds, as the apiserver ends long watches on its own. */
  maxWatchSeconds?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string;
  authorization: string;
  body: string;
}

interface StoredObject {
  object: Json;
  /** leaf path -> field managers that own it */
  owners: Map<string, Set<string>>;
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: Json;
  rv: number;
}

interface Watcher {
  namespace: string;
  name?: string;
  res: http.ServerResponse;
  timer?: NodeJS.Timeout;
}

const GMC = { group: 'gmc.opea.io', version: 'v1alpha3', plural: 'gmconnectors', kind: 'GMConnector' };
const APPLY = 'application/apply-patch+yaml';

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function leaves(value: unknown, prefix: string, out: Map<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Json)) leaves(v, `${prefix}.${k}`, out);
  } else {
    out.set(prefix, JSON.stringify(value));
  }
}

/** The fields an applier sets: spec, labels and annotations (status and server-set metadata are not applied). */
function appliedLeaves(object: Json): Map<string, string> {
  const out = new Map<string, string>();
  leaves(object.spec, '.spec', out);
  const md = (object.metadata ?? {}) as Json;
  if (md.labels) leaves(md.labels, '.metadata.labels', out);
  if (md.annotations) leaves(md.annotations, '.metadata.annotations', out);
  return out;
}

export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  readonly namespaces = new Set<string>();
  readonly secrets = new Map<string, Json>();
  readonly gmconnectors = new Map<string, StoredObject>();
  /** Set when a request came past maxRequests. */
  limitHit = false;
  private resourceVersion = 100;
  private readonly events: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sockets = new Set<Socket>();
  private readonly faults: (Fault & { used: number })[];
  private server!: http.Server;
  url = '';

  private constructor(readonly options: FakeKubeOptions) {
    for (const ns of options.namespaces ?? []) this.namespaces.add(ns);
    for (const s of options.secrets ?? []) {
      this.secrets.set(`${s.namespace}/${s.name}`, { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: this.meta(s.name, s.namespace), data: Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) });
    }
    for (const g of options.gmconnectors ?? []) {
      const md = g.object.metadata as { name: string; namespace: string };
      const object = { ...clone(g.object), metadata: { ...clone(md), ...this.meta(md.name, md.namespace), generation: 1 }, ...(g.status ? { status: clone(g.status) } : {}) };
      const owners = new Map<string, Set<string>>();
      for (const p of appliedLeaves(object).keys()) owners.set(p, new Set([g.manager]));
      this.gmconnectors.set(`${md.namespace}/${md.name}`, { object, owners });
    }
    this.faults = (options.faults ?? []).map((f) => ({ ...f, used: 0 }));
  }

  static async start(options: FakeKubeOptions = {}): Promise<FakeKubeApi> {
    const api = new FakeKubeApi(options);
    api.server = http.createServer((req, res) => api.handle(req, res));
    api.server.on('connection', (s) => {
      api.sockets.add(s);
      s.on('close', () => api.sockets.delete(s));
    });
    await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    api.url = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    return api;
  }

  /** Requests that server-side applied (PATCH with the apply content type). */
  get applies(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'PATCH');
  }

  /** Writes a status onto a stored CR now, as GMC's controller does through the status subresource. */
  setStatus(namespace: string, name: string, status: Json): void {
    const stored = this.gmconnectors.get(`${namespace}/${name}`);
    if (!stored) throw new Error(`no GMConnector ${namespace}/${name}`);
    stored.object.status = clone(status);
    this.bump(stored.object);
    this.emit('MODIFIED', stored.object);
  }

  /** Deletes a stored CR and tells the watchers. */
  deleteGmConnector(namespace: string, name: string): void {
    const stored = this.gmconnectors.get(`${namespace}/${name}`);
    if (!stored) return;
    this.gmconnectors.delete(`${namespace}/${name}`);
    this.bump(stored.object);
    this.emit('DELETED', stored.object);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const w of this.watchers) {
      clearTimeout(w.timer);
      w.res.end();
    }
    this.watchers.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ------------------------------------------------------------------------------------- plumbing

  private meta(name: string, namespace?: string): Json {
    return { name, ...(namespace ? { namespace } : {}), uid: `uid-${name}-${this.resourceVersion}`, resourceVersion: String(++this.resourceVersion), creationTimestamp: '2026-01-01T00:00:00Z' };
  }

  private bump(object: Json): void {
    (object.metadata as Json).resourceVersion = String(++this.resourceVersion);
  }

  private send(res: http.ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private fail(res: http.ServerResponse, status: KubeStatus): void {
    this.send(res, status.code, status);
  }

  private notFoundText(res: http.ServerResponse): void {
    // http.NotFound, the end of the apiserver's delegation chain: not a Status.
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' });
    res.end('404 page not found\n');
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const record: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        contentType: String(req.headers['content-type'] ?? ''),
        authorization: String(req.headers.authorization ?? ''),
        body: Buffer.concat(chunks).toString('utf8'),
      };
      this.requests.push(record);
      try {
        this.route(record, res);
      } catch (err) {
        this.fail(res, kubeStatus(500, 'InternalError', `fake apiserver bug: ${(err as Error).message}`));
      }
    });
  }

  private route(r: RecordedRequest, res: http.ServerResponse): void {
    if (this.requests.length > (this.options.maxRequests ?? 500)) {
      this.limitHit = true;
      return this.fail(res, kubeStatus(429, 'TooManyRequests', 'the fake API server took more requests than the test allows', { retryAfterSeconds: 1 }));
    }
    if (this.options.token !== undefined && r.authorization !== `Bearer ${this.options.token}`) {
      return this.fail(res, kubeStatus(401, 'Unauthorized', 'Unauthorized'));
    }
    for (const f of this.faults) {
      const isWatch = r.query.get('watch') === 'true' || r.query.get('watch') === '1';
      if ((f.method === undefined || f.method === r.method) && f.path.test(r.path) && (f.watch === undefined || f.watch === isWatch) && (f.times === undefined || f.used < f.times)) {
        f.used += 1;
        return this.fail(res, f.status);
      }
    }
    const dryRuns = r.query.getAll('dryRun');
    if (dryRuns.some((d) => d !== 'All')) {
      return this.fail(res, kubeStatus(422, 'Invalid', `PatchOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: "${dryRuns.join(',')}": supported values: "All"`));
    }
    const dryRun = dryRuns.includes('All');
    const p = r.path.replace(/\/+$/, '');
    let m: RegExpExecArray | null;

    if ((m = /^\/api\/v1\/namespaces\/([^/]+)$/.exec(p)) && r.method === 'GET') {
      const ns = decodeURIComponent(m[1]);
      if (!this.namespaces.has(ns)) return this.fail(res, kubeStatus(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' }));
      return this.send(res, 200, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns }, status: { phase: 'Active' } });
    }
    if (p === '/api/v1/namespaces' && r.method === 'POST') {
      const body = JSON.parse(r.body) as Json;
      const name = String((body.metadata as Json | undefined)?.name ?? '');
      if (this.namespaces.has(name)) return this.fail(res, kubeStatus(409, 'AlreadyExists', `namespaces "${name}" already exists`, { name, kind: 'namespaces' }));
      if (!dryRun) this.namespaces.add(name);
      return this.send(res, 201, { ...body, metadata: { ...(body.metadata as Json), ...this.meta(name) }, status: { phase: 'Active' } });
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(p)) && r.method === 'GET') {
      const key = `${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}`;
      const secret = this.secrets.get(key);
      if (!secret) return this.fail(res, kubeStatus(404, 'NotFound', `secrets "${decodeURIComponent(m[2])}" not found`, { name: decodeURIComponent(m[2]), kind: 'secrets' }));
      return this.send(res, 200, secret);
    }
    if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets$/.exec(p)) && r.method === 'POST') {
      const ns = decodeURIComponent(m[1]);
      const body = JSON.parse(r.body) as Json;
      const name = String((body.metadata as Json | undefined)?.name ?? '');
      if (!this.namespaces.has(ns)) return this.fail(res, kubeStatus(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' }));
      if (this.secrets.has(`${ns}/${name}`)) return this.fail(res, kubeStatus(409, 'AlreadyExists', `secrets "${name}" already exists`, { name, kind: 'secrets' }));
      const data: Record<string, string> = {};
      for (const [k, v] of Object.entries((body.stringData ?? {}) as Record<string, string>)) data[k] = Buffer.from(v).toString('base64');
      for (const [k, v] of Object.entries((body.data ?? {}) as Record<string, string>)) data[k] = v;
      const stored = { apiVersion: 'v1', kind: 'Secret', type: body.type ?? 'Opaque', metadata: { ...(body.metadata as Json), ...this.meta(name, ns) }, data };
      if (!dryRun) this.secrets.set(`${ns}/${name}`, stored);
      return this.send(res, 201, stored);
    }

    if (p === `/apis/${GMC.group}` || p.startsWith(`/apis/${GMC.group}/`)) {
      if (this.options.crdInstalled === false) return this.notFoundText(res);
      return this.routeGmc(r, p, dryRun, res);
    }
    return this.notFoundText(res);
  }

  private routeGmc(r: RecordedRequest, p: string, dryRun: boolean, res: http.ServerResponse): void {
    const base = `/apis/${GMC.group}/${GMC.version}`;
    if (p === base && r.method === 'GET') {
      return this.send(res, 200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: `${GMC.group}/${GMC.version}`,
        resources: [
          { name: GMC.plural, singularName: 'gmconnector', namespaced: true, kind: GMC.kind, verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'], shortNames: ['gmc'], storageVersionHash: 'fake' },
          { name: `${GMC.plural}/status`, singularName: '', namespaced: true, kind: GMC.kind, verbs: ['get', 'patch', 'update'] },
        ],
      });
    }
    let m: RegExpExecArray | null;
    if ((m = new RegExp(`^${base}/namespaces/([^/]+)/${GMC.plural}$`).exec(p)) && r.method === 'GET') {
      const ns = decodeURIComponent(m[1]);
      if (r.query.get('watch') === 'true' || r.query.get('watch') === '1') return this.watch(r, ns, res);
      const items = [...this.gmconnectors.values()].map((s) => s.object).filter((o) => (o.metadata as Json).namespace === ns);
      return this.send(res, 200, { apiVersion: `${GMC.group}/${GMC.version}`, kind: 'GMConnectorList', metadata: { resourceVersion: String(this.resourceVersion) }, items });
    }
    if (!(m = new RegExp(`^${base}/namespaces/([^/]+)/${GMC.plural}/([^/]+)$`).exec(p))) return this.notFoundText(res);
    const ns = decodeURIComponent(m[1]);
    const name = decodeURIComponent(m[2]);
    const key = `${ns}/${name}`;
    const notFound = () => this.fail(res, kubeStatus(404, 'NotFound', `${GMC.plural}.${GMC.group} "${name}" not found`, { name, group: GMC.group, kind: GMC.plural }));
    if (r.method === 'GET') {
      const stored = this.gmconnectors.get(key);
      return stored ? this.send(res, 200, stored.object) : notFound();
    }
    if (r.method !== 'PATCH') return this.fail(res, kubeStatus(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));

    const contentType = r.contentType.split(';')[0].trim().toLowerCase();
    const patchTypes = ['application/json-patch+json', 'application/merge-patch+json', APPLY];
    if (!patchTypes.includes(contentType)) {
      return this.fail(res, kubeStatus(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${patchTypes.join(', ')}`));
    }
    if (contentType !== APPLY) {
      // This fake speaks apply only; the module never sends other patches.
      return this.fail(res, kubeStatus(415, 'UnsupportedMediaType', `this fake API server accepts only ${APPLY} patches`));
    }
    const manager = r.query.get('fieldManager') ?? '';
    if (manager === '') {
      return this.fail(res, kubeStatus(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', { group: 'meta.k8s.io', kind: 'PatchOptions', causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }] }));
    }
    const force = r.query.get('force') === 'true';
    let body: Json;
    try {
      body = yaml.load(r.body) as Json;
    } catch (err) {
      return this.fail(res, kubeStatus(400, 'BadRequest', `error decoding YAML: ${(err as Error).message.split('\n')[0]}`));
    }
    if (body === null || typeof body !== 'object') return this.fail(res, kubeStatus(400, 'BadRequest', 'the body of the request was in an unknown format'));
    const md = (body.metadata ?? {}) as Json;
    if (body.apiVersion !== `${GMC.group}/${GMC.version}` || body.kind !== GMC.kind) {
      return this.fail(res, kubeStatus(400, 'BadRequest', `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${GMC.group}/${GMC.version})`));
    }
    if (md.name !== name) return this.fail(res, kubeStatus(400, 'BadRequest', 'the name of the object does not match the name on the URL'));
    if (md.namespace !== undefined && md.namespace !== ns) return this.fail(res, kubeStatus(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request'));
    if (md.managedFields !== undefined) return this.fail(res, kubeStatus(400, 'BadRequest', 'metadata.managedFields must be nil'));
    if (!this.namespaces.has(ns)) return this.fail(res, kubeStatus(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' }));
    if (body.spec === undefined || body.spec === null) {
      return this.fail(res, invalidStatus(GMC.kind, GMC.group, name, [{ field: 'spec', reason: 'FieldValueRequired', message: 'Required value' }]));
    }

    const existing = this.gmconnectors.get(key);
    const applied = appliedLeaves(body);
    const owners = new Map<string, Set<string>>();
    for (const [k, v] of existing?.owners ?? []) owners.set(k, new Set(v));
    if (existing) {
      const current = appliedLeaves(existing.object);
      const conflicts: { field: string; manager: string }[] = [];
      for (const [field, value] of applied) {
        const others = [...(owners.get(field) ?? [])].filter((o) => o !== manager);
        if (others.length > 0 && current.get(field) !== value) for (const o of others) conflicts.push({ field, manager: o });
      }
      if (conflicts.length > 0 && !force) {
        const byManager = [...new Set(conflicts.map((c) => c.manager))];
        const message =
          conflicts.length === 1
            ? `Apply failed with 1 conflict: conflict with "${conflicts[0].manager}" using ${GMC.group}/${GMC.version}: ${conflicts[0].field}`
            : `Apply failed with ${conflicts.length} conflicts: ${byManager.map((o) => `conflicts with "${o}" using ${GMC.group}/${GMC.version}:\n${conflicts.filter((c) => c.manager === o).map((c) => `- ${c.field}`).join('\n')}`).join('\n')}`;
        return this.fail(res, kubeStatus(409, 'Conflict', message, { causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${GMC.group}/${GMC.version}`, field: c.field })) }));
      }
      // What this manager applied before and leaves out now is no longer its own.
      for (const [field, set] of owners) if (!applied.has(field)) set.delete(manager);
    }
    const before = existing ? appliedLeaves(existing.object) : new Map<string, string>();
    for (const [field, value] of applied) {
      // The same value as now: ownership is shared. A new value (taken by force, or with no other
      // owner, else there was a conflict above): this manager alone owns it.
      const shared = !force && before.get(field) === value;
      const set = shared ? owners.get(field) ?? new Set<string>() : new Set<string>();
      set.add(manager);
      owners.set(field, set);
    }
    const specChanged = JSON.stringify(existing?.object.spec) !== JSON.stringify(body.spec);
    const prevMeta = (existing?.object.metadata ?? {}) as Json;
    const object: Json = {
      ...clone(body),
      metadata: {
        ...clone(md),
        namespace: ns,
        uid: prevMeta.uid ?? `uid-${name}`,
        creationTimestamp: prevMeta.creationTimestamp ?? '2026-01-01T00:00:00Z',
        generation: existing ? Number(prevMeta.generation ?? 1) + (specChanged ? 1 : 0) : 1,
        resourceVersion: String(prevMeta.resourceVersion ?? '0'),
        managedFields: [...new Set([...owners.values()].flatMap((s) => [...s]))].sort().map((mgr) => ({ manager: mgr, operation: 'Apply', apiVersion: `${GMC.group}/${GMC.version}`, fieldsType: 'FieldsV1' })),
      },
      ...(existing?.object.status ? { status: clone(existing.object.status) } : {}),
    };
    const unchanged = existing !== undefined && !specChanged && JSON.stringify(existing.object.metadata) === JSON.stringify(object.metadata);
    if (!unchanged) (object.metadata as Json).resourceVersion = String(dryRun ? this.resourceVersion + 1 : ++this.resourceVersion);
    if (dryRun) return this.send(res, existing ? 200 : 201, object);
    this.gmconnectors.set(key, { object, owners });
    if (!unchanged) this.emit(existing ? 'MODIFIED' : 'ADDED', object);
    if (!existing) this.startTimeline(ns, name);
    return this.send(res, existing ? 200 : 201, object);
  }

  private startTimeline(ns: string, name: string): void {
    for (const step of this.options.timeline ?? []) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (this.gmconnectors.has(`${ns}/${name}`)) this.setStatus(ns, name, step.status);
      }, step.afterMs);
      this.timers.add(t);
    }
  }

  private emit(type: WatchEvent['type'], object: Json): void {
    const event: WatchEvent = { type, object: clone(object), rv: Number((object.metadata as Json).resourceVersion) };
    this.events.push(event);
    const md = object.metadata as { name: string; namespace: string };
    for (const w of this.watchers) {
      if (w.namespace === md.namespace && (w.name === undefined || w.name === md.name)) w.res.write(`${JSON.stringify({ type, object: event.object })}\n`);
    }
  }

  private watch(r: RecordedRequest, ns: string, res: http.ServerResponse): void {
    const selector = r.query.get('fieldSelector') ?? '';
    const sel = /^metadata\.name=(.+)$/.exec(selector);
    if (selector !== '' && !sel) return this.fail(res, kubeStatus(400, 'BadRequest', `"${selector}" is not a known field selector: only "metadata.name", "metadata.namespace"`));
    const name = sel?.[1];
    const since = r.query.get('resourceVersion');
    const oldest = this.events.length > 0 ? this.events[0].rv : this.resourceVersion;
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    if (since && since !== '0' && Number(since) < oldest - 1) {
      // Too old: the real server sends an ERROR event with a 410 Status and ends the watch.
      res.end(`${JSON.stringify({ type: 'ERROR', object: kubeStatus(410, 'Expired', `too old resource version: ${since} (${oldest})`) })}\n`);
      return;
    }
    const matches = (o: Json) => (o.metadata as Json).namespace === ns && (name === undefined || (o.metadata as Json).name === name);
    if (!since || since === '0') {
      for (const s of this.gmconnectors.values()) if (matches(s.object)) res.write(`${JSON.stringify({ type: 'ADDED', object: s.object })}\n`);
    } else {
      for (const e of this.events) if (e.rv > Number(since) && matches(e.object)) res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    }
    const w: Watcher = { namespace: ns, name, res };
    const asked = Number(r.query.get('timeoutSeconds') ?? '0');
    const cap = this.options.maxWatchSeconds ?? 0;
    const timeoutSeconds = asked > 0 && cap > 0 ? Math.min(asked, cap) : asked || cap;
    if (timeoutSeconds > 0) {
      w.timer = setTimeout(() => {
        this.watchers.delete(w);
        res.end();
      }, timeoutSeconds * 1000);
    }
    this.watchers.add(w);
    res.on('close', () => {
      clearTimeout(w.timer);
      this.watchers.delete(w);
    });
  }
}

/**
 * A kubeconfig for the fake server. It is plain http, which @kubernetes/client-node accepts only when
 * the cluster sets insecure-skip-tls-verify.
 */
export function writeKubeconfig(file: string, server: string, token: string): string {
  fs.writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: ${server}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: ${token}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n`,
  );
  return file;
}
