/**
 * A loopback fake of the Kubernetes API server: the protocol subset `core/k8s/*` uses, with the
 * answers the real kube-apiserver gives. Each rule cites where Kubernetes documents it:
 * [conv] API conventions, https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md
 * [concepts] API concepts, https://kubernetes.io/docs/reference/using-api/api-concepts/
 * [ssa] Server-side apply, https://kubernetes.io/docs/reference/using-api/server-side-apply/
 * [gc] Garbage collection, https://kubernetes.io/docs/concepts/architecture/garbage-collection/
 * [ns] Namespaces, https://kubernetes.io/docs/tasks/administer-cluster/namespaces/ and the NamespaceLifecycle admission plugin
 *
 * Resources: namespaces, secrets, configmaps, services, serviceaccounts, persistentvolumeclaims
 * (core v1), deployments (apps/v1), horizontalpodautoscalers (autoscaling/v2) and GMC's gmconnectors
 * (gmc.opea.io/v1alpha3, absent with `crdInstalled: false`: every /apis/gmc.opea.io path then answers
 * the apiserver's final handler's plain-text `404 page not found`). Discovery (GET /api/v1,
 * /apis/{group}/{version}) lists them, as client-node's KubernetesObjectApi asks before each call.
 *
 * Verbs: GET, LIST (labelSelector with =, ==, !=, key and !key; fieldSelector metadata.name and
 * metadata.namespace), WATCH (JSON lines, resumed from resourceVersion, 410 Expired when too old,
 * timeoutSeconds), POST (create), PATCH (server-side apply only) and DELETE (propagationPolicy,
 * dryRun). A Deployment controller stand-in writes each applied Deployment's status, and a GMC
 * stand-in plays a status timeline on a new GMConnector.
 *
 * Scripted faults (any Status, matched by method and path), a bearer token check (401), a bounded
 * request count (429 past it) and close(), which ends watches and sockets.
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
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: { reason: string; message: string; field?: string }[]; retryAfterSeconds?: number };
  code: number;
}

/** [conv] "Response Status Kind": every error is a Status with code, reason, message and details. */
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

/** An object that exists before the test, with the field manager that owns its applied fields. */
export interface SeedObject {
  object: Json;
  manager: string;
  status?: Json;
}

export interface FakeKubeOptions {
  /** Bearer token every request must carry; undefined: no check. */
  token?: string;
  crdInstalled?: boolean;
  namespaces?: string[];
  secrets?: { namespace: string; name: string; data: Record<string, string>; annotations?: Record<string, string>; labels?: Record<string, string> }[];
  /** CRs that exist before the test, with the field manager that owns their fields. */
  gmconnectors?: SeedObject[];
  /** Any other objects (Namespaces, Deployments, Services, ConfigMaps, ...) that exist before the test. */
  objects?: SeedObject[];
  timeline?: TimelineStep[];
  /**
   * The Deployment controller stand-in: after an apply that creates or changes a Deployment, its
   * status says every replica is available after `availableAfterMs` (default 100), except for the
   * Deployments named in `unavailable` (their pods never become ready). `false`: no controller.
   */
  deployments?: { availableAfterMs?: number; unavailable?: string[] } | false;
  /** How long a deleted namespace stays Terminating before it and its contents are gone (default 50 ms). */
  namespaceTerminationMs?: number;
  faults?: Fault[];
  maxRequests?: number;
  /** Ends every watch after this many seconds, as the apiserver ends long watches on its own. */
  maxWatchSeconds?: number;
  /** Holds a watch's response headers this long, as a slow proxy in front of the apiserver would. */
  watchHeadersDelayMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string;
  authorization: string;
  body: string;
}

export interface StoredObject {
  object: Json;
  /** leaf path -> field managers that own it */
  owners: Map<string, Set<string>>;
}

interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** The CR returns the deleted object; built-in registries answer a Status Success (apiserver registry store, ReturnDeletedObject). */
  returnsDeleted?: boolean;
}

const RESOURCES: ResourceType[] = [
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false, returnsDeleted: true },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true },
  { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true },
  { group: '', version: 'v1', plural: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true },
  { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true },
  { group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', namespaced: true },
  { group: 'gmc.opea.io', version: 'v1alpha3', plural: 'gmconnectors', kind: 'GMConnector', namespaced: true, returnsDeleted: true },
];
const GMC = RESOURCES[RESOURCES.length - 1];
const APPLY = 'application/apply-patch+yaml';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const apiVersionOf = (t: ResourceType) => (t.group ? `${t.group}/${t.version}` : t.version);
const qualified = (t: ResourceType) => (t.group ? `${t.plural}.${t.group}` : t.plural);

interface Leaf {
  segments: string[];
  value: string;
}

function leaves(value: unknown, segments: string[], out: Map<string, Leaf>): void {
  const isMap = value !== null && typeof value === 'object' && !Array.isArray(value);
  if (isMap && Object.keys(value as Json).length > 0) {
    for (const [k, v] of Object.entries(value as Json)) leaves(v, [...segments, k], out);
  } else {
    // [ssa] "Merge strategy": lists are atomic unless the schema says otherwise — this fake treats every list as atomic.
    out.set(`.${segments.join('.')}`, { segments, value: JSON.stringify(value) });
  }
}

/** [ssa] The fields an applier sets: everything but apiVersion, kind, status and server-set metadata. */
function appliedLeaves(object: Json): Map<string, Leaf> {
  const out = new Map<string, Leaf>();
  for (const [k, v] of Object.entries(object)) if (!['apiVersion', 'kind', 'metadata', 'status'].includes(k)) leaves(v, [k], out);
  const md = (object.metadata ?? {}) as Json;
  if (md.labels) leaves(md.labels, ['metadata', 'labels'], out);
  if (md.annotations) leaves(md.annotations, ['metadata', 'annotations'], out);
  return out;
}

function setPath(target: Json, segments: string[], value: unknown): void {
  let at = target;
  for (const s of segments.slice(0, -1)) {
    if (at[s] === null || typeof at[s] !== 'object' || Array.isArray(at[s])) at[s] = {};
    at = at[s] as Json;
  }
  at[segments[segments.length - 1]] = value;
}

/** [concepts] "Label selectors" (equality- and existence-based) as the list and watch queries take them. */
function labelMatcher(selector: string): ((labels: Record<string, string>) => boolean) | string {
  const tests: ((l: Record<string, string>) => boolean)[] = [];
  for (const raw of selector.split(',').map((s) => s.trim()).filter(Boolean)) {
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s*!=\s*([\w.-]*)$/.exec(raw))) {
      const [, k, v] = m;
      tests.push((l) => l[k] !== v);
    } else if ((m = /^([\w./-]+)\s*==?\s*([\w.-]*)$/.exec(raw))) {
      const [, k, v] = m;
      tests.push((l) => l[k] === v);
    } else if ((m = /^!([\w./-]+)$/.exec(raw))) {
      const k = m[1];
      tests.push((l) => !(k in l));
    } else if ((m = /^([\w./-]+)$/.exec(raw))) {
      const k = m[1];
      tests.push((l) => k in l);
    } else {
      return `unable to parse requirement: found '${raw}'`;
    }
  }
  return (labels) => tests.every((t) => t(labels));
}

interface Selection {
  name?: string;
  namespace?: string;
  labels: (labels: Record<string, string>) => boolean;
}

interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  plural: string;
  object: Json;
  rv: number;
}

interface Watcher {
  plural: string;
  selection: Selection;
  res: http.ServerResponse;
  timer?: NodeJS.Timeout;
}

interface Route {
  type: ResourceType;
  namespace?: string;
  name?: string;
}

export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  /** Set when a request came past maxRequests. */
  limitHit = false;
  private readonly store = new Map<string, Map<string, StoredObject>>(RESOURCES.map((t) => [t.plural, new Map()]));
  private resourceVersion = 100;
  private readonly events: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sockets = new Set<Socket>();
  private readonly faults: (Fault & { used: number })[];
  private server!: http.Server;
  url = '';

  private constructor(readonly options: FakeKubeOptions) {
    for (const ns of options.namespaces ?? []) this.seed({ object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }, manager: 'kubectl' });
    for (const s of options.secrets ?? []) {
      const data = Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
      this.seed({ object: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: s.name, namespace: s.namespace, ...(s.labels ? { labels: s.labels } : {}), ...(s.annotations ? { annotations: s.annotations } : {}) }, data }, manager: 'kubectl' });
    }
    for (const g of options.gmconnectors ?? []) this.seed(g);
    for (const o of options.objects ?? []) this.seed(o);
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

  /** Names of the namespaces that exist (Terminating ones included, as the real server keeps them until they are empty). */
  get namespaces(): Set<string> {
    return new Set(this.store.get('namespaces')?.keys());
  }

  /** Secrets by "namespace/name". */
  get secrets(): Map<string, Json> {
    return new Map([...(this.store.get('secrets') ?? new Map<string, StoredObject>())].map(([k, s]) => [k, s.object]));
  }

  get gmconnectors(): Map<string, StoredObject> {
    return this.store.get(GMC.plural) as Map<string, StoredObject>;
  }

  /** The stored objects of one resource type (its plural, e.g. "deployments"), by "namespace/name" (or "name"). */
  stored(plural: string): Map<string, StoredObject> {
    const map = this.store.get(plural);
    if (!map) throw new Error(`the fake API server has no resource "${plural}"`);
    return map;
  }

  /** Watches open now. */
  get openWatches(): number {
    return this.watchers.size;
  }

  /** Requests that server-side applied (PATCH with the apply content type). */
  get applies(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'PATCH');
  }

  /** Writes a status onto a stored CR now, as GMC's controller does through the status subresource. */
  setStatus(namespace: string, name: string, status: Json): void {
    this.setObjectStatus(GMC.plural, namespace, name, status);
  }

  /** Writes a status onto any stored object now, as its controller would (and tells the watchers). */
  setObjectStatus(plural: string, namespace: string | undefined, name: string, status: Json): void {
    const stored = this.stored(plural).get(namespace ? `${namespace}/${name}` : name);
    if (!stored) throw new Error(`no ${plural} ${namespace ?? ''}/${name}`);
    stored.object.status = clone(status);
    this.bump(stored.object);
    this.emit('MODIFIED', plural, stored.object);
  }

  /** Deletes a stored CR and tells the watchers. */
  deleteGmConnector(namespace: string, name: string): void {
    this.remove(GMC, `${namespace}/${name}`);
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

  private seed(seed: SeedObject): void {
    const type = RESOURCES.find((t) => apiVersionOf(t) === seed.object.apiVersion && t.kind === seed.object.kind);
    if (!type) throw new Error(`the fake API server has no kind ${String(seed.object.kind)}`);
    const md = seed.object.metadata as { name: string; namespace?: string };
    const object: Json = { ...clone(seed.object), metadata: { ...clone(md), ...this.meta(md.name, type.namespaced ? md.namespace : undefined), ...('spec' in seed.object ? { generation: 1 } : {}) } };
    if (seed.status) object.status = clone(seed.status);
    if (type.plural === 'namespaces') object.status = { phase: 'Active' };
    const owners = new Map<string, Set<string>>();
    for (const p of appliedLeaves(object).keys()) owners.set(p, new Set([seed.manager]));
    this.stored(type.plural).set(type.namespaced ? `${md.namespace}/${md.name}` : md.name, { object, owners });
  }

  private meta(name: string, namespace?: string): Json {
    return { name, ...(namespace ? { namespace } : {}), uid: `uid-${name}-${this.resourceVersion}`, resourceVersion: String(++this.resourceVersion), creationTimestamp: '2026-01-01T00:00:00Z' };
  }

  private bump(object: Json): void {
    // [concepts] "Resource versions": every write gives the object a new resourceVersion.
    (object.metadata as Json).resourceVersion = String(++this.resourceVersion);
  }

  private later(ms: number, run: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      run();
    }, ms);
    this.timers.add(t);
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

  private typeInstalled(t: ResourceType): boolean {
    return t !== GMC || this.options.crdInstalled !== false;
  }

  private route(r: RecordedRequest, res: http.ServerResponse): void {
    if (this.requests.length > (this.options.maxRequests ?? 500)) {
      this.limitHit = true;
      return this.fail(res, kubeStatus(429, 'TooManyRequests', 'the fake API server took more requests than the test allows', { retryAfterSeconds: 1 }));
    }
    if (this.options.token !== undefined && r.authorization !== `Bearer ${this.options.token}`) {
      return this.fail(res, kubeStatus(401, 'Unauthorized', 'Unauthorized'));
    }
    const isWatch = r.query.get('watch') === 'true' || r.query.get('watch') === '1';
    for (const f of this.faults) {
      if ((f.method === undefined || f.method === r.method) && f.path.test(r.path) && (f.watch === undefined || f.watch === isWatch) && (f.times === undefined || f.used < f.times)) {
        f.used += 1;
        return this.fail(res, f.status);
      }
    }
    const dryRuns = r.query.getAll('dryRun');
    if (dryRuns.some((d) => d !== 'All')) {
      // [concepts] "Dry-run": All is the only accepted value.
      return this.fail(res, kubeStatus(422, 'Invalid', `PatchOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: "${dryRuns.join(',')}": supported values: "All"`));
    }
    const dryRun = dryRuns.includes('All');
    const p = r.path.replace(/\/+$/, '');
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))((?:\/[^/]+)*)$/.exec(p);
    if (!m) return this.notFoundText(res);
    const group = m[1] ? '' : m[2];
    const version = m[1] ?? m[3];
    const rest = m[4].split('/').filter(Boolean).map(decodeURIComponent);
    const types = RESOURCES.filter((t) => t.group === group && t.version === version && this.typeInstalled(t));
    if (types.length === 0) return this.notFoundText(res);
    if (rest.length === 0 && r.method === 'GET') return this.discovery(group, version, types, res);

    let route: Route | undefined;
    if (rest[0] === 'namespaces' && rest.length <= 2 && group === '') route = { type: RESOURCES[0], name: rest[1] };
    else if (rest[0] === 'namespaces' && (rest.length === 3 || rest.length === 4)) {
      const type = types.find((t) => t.plural === rest[2] && t.namespaced);
      if (type) route = { type, namespace: rest[1], name: rest[3] };
    } else if (rest.length <= 2) {
      const type = types.find((t) => t.plural === rest[0] && !t.namespaced);
      if (type) route = { type, name: rest[1] };
    }
    if (!route) return this.notFoundText(res);
    const { type, namespace, name } = route;
    if (name === undefined) {
      if (r.method === 'GET') return isWatch ? this.watch(r, type, namespace, res) : this.list(r, type, namespace, res);
      if (r.method === 'POST') return this.create(r, type, namespace, dryRun, res);
      return this.fail(res, kubeStatus(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
    }
    const key = namespace ? `${namespace}/${name}` : name;
    if (r.method === 'GET') {
      const stored = this.stored(type.plural).get(key);
      return stored ? this.send(res, 200, stored.object) : this.fail(res, this.notFound(type, name));
    }
    if (r.method === 'PATCH') return this.apply(r, type, namespace, name, dryRun, res);
    if (r.method === 'DELETE') return this.delete(r, type, key, name, dryRun, res);
    return this.fail(res, kubeStatus(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
  }

  /** [conv] "404 StatusNotFound": `<resource>[.<group>] "<name>" not found`, details naming the object. */
  private notFound(type: ResourceType, name: string): KubeStatus {
    return kubeStatus(404, 'NotFound', `${qualified(type)} "${name}" not found`, { name, ...(type.group ? { group: type.group } : {}), kind: type.plural });
  }

  private namespaceProblem(namespace: string | undefined): KubeStatus | undefined {
    if (namespace === undefined) return undefined;
    const ns = this.stored('namespaces').get(namespace);
    // [ns] NamespaceLifecycle admission: no writes into a namespace that does not exist or is being deleted.
    if (!ns) return kubeStatus(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' });
    if ((ns.object.status as Json | undefined)?.phase === 'Terminating') {
      return kubeStatus(403, 'Forbidden', `unable to create new content in namespace ${namespace} because it is being terminated`, { name: namespace, kind: 'namespaces', causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }] });
    }
    return undefined;
  }

  private discovery(group: string, version: string, types: ResourceType[], res: http.ServerResponse): void {
    this.send(res, 200, {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources: types.flatMap((t) => [
        { name: t.plural, singularName: t.kind.toLowerCase(), namespaced: t.namespaced, kind: t.kind, verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'], ...(t === GMC ? { shortNames: ['gmc'] } : {}), storageVersionHash: 'fake' },
        { name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] },
      ]),
    });
  }

  /** [concepts] "Field selectors": metadata.name and metadata.namespace work on every resource. */
  private selection(r: RecordedRequest, namespace: string | undefined): Selection | string {
    const fields = r.query.get('fieldSelector') ?? '';
    const out: Selection = { namespace, labels: () => true };
    for (const part of fields.split(',').filter(Boolean)) {
      const m = /^metadata\.(name|namespace)==?(.+)$/.exec(part);
      if (!m) return `"${part}" is not a known field selector: only "metadata.name", "metadata.namespace"`;
      if (m[1] === 'name') out.name = m[2];
      else out.namespace = m[2];
    }
    const labels = labelMatcher(r.query.get('labelSelector') ?? '');
    if (typeof labels === 'string') return labels;
    out.labels = labels;
    return out;
  }

  private matches(selection: Selection, object: Json): boolean {
    const md = object.metadata as { name: string; namespace?: string; labels?: Record<string, string> };
    return (selection.namespace === undefined || md.namespace === selection.namespace) && (selection.name === undefined || md.name === selection.name) && selection.labels(md.labels ?? {});
  }

  private list(r: RecordedRequest, type: ResourceType, namespace: string | undefined, res: http.ServerResponse): void {
    const selection = this.selection(r, namespace);
    if (typeof selection === 'string') return this.fail(res, kubeStatus(400, 'BadRequest', selection));
    const items = [...this.stored(type.plural).values()].map((s) => s.object).filter((o) => this.matches(selection, o));
    // [concepts] "Efficient detection of changes": a list carries the collection's resourceVersion to watch from.
    this.send(res, 200, { apiVersion: apiVersionOf(type), kind: `${type.kind}List`, metadata: { resourceVersion: String(this.resourceVersion) }, items });
  }

  private create(r: RecordedRequest, type: ResourceType, namespace: string | undefined, dryRun: boolean, res: http.ServerResponse): void {
    const body = JSON.parse(r.body) as Json;
    const name = String((body.metadata as Json | undefined)?.name ?? '');
    const problem = this.namespaceProblem(namespace);
    if (problem) return this.fail(res, problem);
    const key = namespace ? `${namespace}/${name}` : name;
    // [conv] "409 StatusConflict" with reason AlreadyExists when the name is taken.
    if (this.stored(type.plural).has(key)) return this.fail(res, kubeStatus(409, 'AlreadyExists', `${qualified(type)} "${name}" already exists`, { name, ...(type.group ? { group: type.group } : {}), kind: type.plural }));
    const object: Json = { ...body, metadata: { ...(body.metadata as Json), ...this.meta(name, namespace) } };
    if (type.plural === 'secrets') {
      // stringData is write-only: the server merges it into data (base64) and never returns it.
      const data: Record<string, string> = { ...((body.data ?? {}) as Record<string, string>) };
      for (const [k, v] of Object.entries((body.stringData ?? {}) as Record<string, string>)) data[k] = Buffer.from(v).toString('base64');
      delete object.stringData;
      object.type = body.type ?? 'Opaque';
      object.data = data;
    }
    if (type.plural === 'namespaces') object.status = { phase: 'Active' };
    const manager = r.query.get('fieldManager') ?? 'unknown';
    const owners = new Map<string, Set<string>>();
    for (const p of appliedLeaves(object).keys()) owners.set(p, new Set([manager]));
    if (!dryRun) {
      this.stored(type.plural).set(key, { object, owners });
      this.emit('ADDED', type.plural, object);
    }
    this.send(res, 201, object);
  }

  private apply(r: RecordedRequest, type: ResourceType, namespace: string | undefined, name: string, dryRun: boolean, res: http.ServerResponse): void {
    const contentType = r.contentType.split(';')[0].trim().toLowerCase();
    const patchTypes = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', APPLY];
    if (!patchTypes.includes(contentType)) {
      return this.fail(res, kubeStatus(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${patchTypes.join(', ')}`));
    }
    if (contentType !== APPLY) {
      // This fake speaks apply only; the module never sends other patches.
      return this.fail(res, kubeStatus(415, 'UnsupportedMediaType', `this fake API server accepts only ${APPLY} patches`));
    }
    // [ssa] "Field management": an apply names its field manager (ValidatePatchOptions).
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
    if (body.apiVersion !== apiVersionOf(type) || body.kind !== type.kind) {
      return this.fail(res, kubeStatus(400, 'BadRequest', `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersionOf(type)})`));
    }
    if (md.name !== name) return this.fail(res, kubeStatus(400, 'BadRequest', 'the name of the object does not match the name on the URL'));
    if (namespace !== undefined && md.namespace !== undefined && md.namespace !== namespace) return this.fail(res, kubeStatus(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request'));
    if (md.managedFields !== undefined) return this.fail(res, kubeStatus(400, 'BadRequest', 'metadata.managedFields must be nil'));
    const problem = this.namespaceProblem(namespace);
    if (problem) return this.fail(res, problem);
    const key = namespace ? `${namespace}/${name}` : name;
    const existing = this.stored(type.plural).get(key);
    const invalid = this.validate(type, name, body, existing?.object);
    if (invalid) return this.fail(res, invalid);

    const applied = appliedLeaves(body);
    const current = existing ? appliedLeaves(existing.object) : new Map<string, Leaf>();
    const owners = new Map<string, Set<string>>();
    for (const [k, v] of existing?.owners ?? []) owners.set(k, new Set(v));
    // [ssa] "Conflicts": a different value for a field another manager owns is a conflict, unless forced.
    const conflicts: { field: string; manager: string }[] = [];
    for (const [field, leaf] of applied) {
      const others = [...(owners.get(field) ?? [])].filter((o) => o !== manager);
      if (others.length > 0 && current.get(field)?.value !== leaf.value) for (const o of others) conflicts.push({ field, manager: o });
    }
    if (conflicts.length > 0 && !force) {
      const byManager = [...new Set(conflicts.map((c) => c.manager))];
      const using = apiVersionOf(type);
      const message =
        conflicts.length === 1
          ? `Apply failed with 1 conflict: conflict with "${conflicts[0].manager}" using ${using}: ${conflicts[0].field}`
          : `Apply failed with ${conflicts.length} conflicts: ${byManager.map((o) => `conflicts with "${o}" using ${using}:\n${conflicts.filter((c) => c.manager === o).map((c) => `- ${c.field}`).join('\n')}`).join('\n')}`;
      return this.fail(res, kubeStatus(409, 'Conflict', message, { causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${using}`, field: c.field })) }));
    }
    // [ssa] "Merge strategy": a field this manager applied before and leaves out now is removed,
    // unless another manager owns it too; fields nobody owns (defaults, other writers') stay.
    const merged = new Map(current);
    for (const [field, set] of owners) {
      if (applied.has(field) || !set.delete(manager)) continue;
      if (set.size === 0) {
        owners.delete(field);
        merged.delete(field);
      }
    }
    for (const [field, leaf] of applied) {
      // The same value as now: ownership is shared. A new value (forced, or with no other owner):
      // this manager alone owns it.
      const shared = current.get(field)?.value === leaf.value;
      const set = shared ? owners.get(field) ?? new Set<string>() : new Set<string>();
      set.add(manager);
      owners.set(field, set);
      merged.set(field, leaf);
    }
    const prev = existing?.object ?? {};
    const prevMeta = (prev.metadata ?? {}) as Json;
    const object: Json = { apiVersion: body.apiVersion, kind: body.kind, metadata: {} };
    // Shallow leaves first, so an empty map one manager applied does not wipe another's fields inside it.
    for (const leaf of [...merged.values()].sort((a, b) => a.segments.length - b.segments.length)) setPath(object, leaf.segments, JSON.parse(leaf.value));
    const contentChanged = canonical(withoutMeta(prev)) !== canonical(withoutMeta(object));
    if (type.plural === 'services' && object.spec && !(object.spec as Json).clusterIP) (object.spec as Json).clusterIP = `10.96.0.${(this.resourceVersion % 250) + 2}`;
    const managedFields = [...new Set([...owners.values()].flatMap((s) => [...s]))].sort().map((mgr) => ({ manager: mgr, operation: 'Apply', apiVersion: apiVersionOf(type), fieldsType: 'FieldsV1', fieldsV1: fieldsV1(mgr, owners, merged) }));
    object.metadata = {
      ...(object.metadata as Json),
      name,
      ...(namespace ? { namespace } : {}),
      uid: prevMeta.uid ?? `uid-${name}`,
      creationTimestamp: prevMeta.creationTimestamp ?? '2026-01-01T00:00:00Z',
      // [conv] "metadata.generation": rises with every change of the desired state (not of metadata or status).
      ...('spec' in object ? { generation: existing ? Number(prevMeta.generation ?? 1) + (contentChanged ? 1 : 0) : 1 } : {}),
      resourceVersion: String(prevMeta.resourceVersion ?? '0'),
      managedFields,
    };
    if (prev.status) object.status = clone(prev.status);
    else if (type.plural === 'namespaces') object.status = { phase: 'Active' };
    const unchanged = existing !== undefined && canonical(existing.object) === canonical(object);
    if (!unchanged) (object.metadata as Json).resourceVersion = String(dryRun ? this.resourceVersion + 1 : ++this.resourceVersion);
    if (dryRun) return this.send(res, existing ? 200 : 201, object);
    this.stored(type.plural).set(key, { object, owners });
    if (!unchanged) this.emit(existing ? 'MODIFIED' : 'ADDED', type.plural, object);
    if (!existing && type === GMC) this.startTimeline(namespace as string, name);
    if (type.plural === 'deployments' && (!existing || contentChanged)) this.rollOut(namespace as string, name);
    return this.send(res, existing ? 200 : 201, object);
  }

  /** The validation the real API server does for the kinds the tests apply (422 Invalid with causes). */
  private validate(type: ResourceType, name: string, body: Json, existing: Json | undefined): KubeStatus | undefined {
    const invalid = (field: string, reason: string, message: string) => invalidStatus(type.kind, type.group, name, [{ field, reason, message }]);
    const nameOk = type.plural === 'namespaces' || type.plural === 'services' ? DNS_LABEL.test(name) && name.length <= 63 : DNS_SUBDOMAIN.test(name) && name.length <= 253;
    if (!nameOk) return invalid('metadata.name', 'FieldValueInvalid', `Invalid value: "${name}": a lowercase RFC 1123 ${type.plural === 'namespaces' || type.plural === 'services' ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.'`);
    const spec = body.spec as Json | undefined;
    if (type === GMC && (spec === undefined || spec === null)) return invalid('spec', 'FieldValueRequired', 'Required value');
    if (type.plural === 'deployments') {
      const selector = ((spec?.selector as Json | undefined)?.matchLabels ?? {}) as Record<string, string>;
      const labels = (((spec?.template as Json | undefined)?.metadata as Json | undefined)?.labels ?? {}) as Record<string, string>;
      if (Object.keys(selector).length === 0) return invalid('spec.selector', 'FieldValueRequired', 'Required value');
      if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) return invalid('spec.template.metadata.labels', 'FieldValueInvalid', `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``);
      const before = ((existing?.spec as Json | undefined)?.selector as Json | undefined)?.matchLabels;
      if (before !== undefined && JSON.stringify(before) !== JSON.stringify(selector)) return invalid('spec.selector', 'FieldValueInvalid', `Invalid value: ${JSON.stringify({ matchLabels: selector })}: field is immutable`);
    }
    if (type.plural === 'services' && !Array.isArray(spec?.ports) && (spec?.type ?? 'ClusterIP') !== 'ExternalName') return invalid('spec.ports', 'FieldValueRequired', 'Required value');
    return undefined;
  }

  /** [gc] "Cascading deletion" and [ns] namespace deletion. */
  private delete(r: RecordedRequest, type: ResourceType, key: string, name: string, dryRun: boolean, res: http.ServerResponse): void {
    const policy = r.query.get('propagationPolicy') ?? (r.body ? (JSON.parse(r.body) as Json).propagationPolicy : undefined);
    if (policy !== undefined && policy !== null && !['Orphan', 'Background', 'Foreground'].includes(String(policy))) {
      return this.fail(res, kubeStatus(422, 'Invalid', `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${String(policy)}": supported values: "Foreground", "Background", "Orphan", "nil"`, { group: 'meta.k8s.io', kind: 'DeleteOptions', causes: [{ reason: 'FieldValueNotSupported', message: `Unsupported value: "${String(policy)}"`, field: 'propagationPolicy' }] }));
    }
    const stored = this.stored(type.plural).get(key);
    if (!stored) return this.fail(res, this.notFound(type, name));
    const md = stored.object.metadata as Json;
    const success = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, ...(type.group ? { group: type.group } : {}), kind: type.plural, uid: md.uid } };
    const terminating = clone(stored.object);
    (terminating.metadata as Json).deletionTimestamp = '2026-01-01T00:00:01Z';
    if (type.plural === 'namespaces') {
      // The namespace stays, phase Terminating, until the namespace controller has deleted its contents.
      terminating.status = { phase: 'Terminating' };
      if (dryRun) return this.send(res, 200, terminating);
      if ((md.deletionTimestamp as string | undefined) === undefined) {
        stored.object = terminating;
        this.bump(terminating);
        this.emit('MODIFIED', type.plural, terminating);
        this.later(this.options.namespaceTerminationMs ?? 50, () => {
          for (const t of RESOURCES) if (t.namespaced) for (const k of [...this.stored(t.plural).keys()]) if (k.startsWith(`${name}/`)) this.remove(t, k);
          this.remove(type, key);
        });
      }
      return this.send(res, 200, stored.object);
    }
    if (policy === 'Foreground') {
      // The owner stays, with the foregroundDeletion finalizer, until the garbage collector has deleted its dependents.
      (terminating.metadata as Json).finalizers = [...(((md.finalizers as string[] | undefined) ?? []).filter((f) => f !== 'foregroundDeletion')), 'foregroundDeletion'];
      if (dryRun) return this.send(res, 200, terminating);
      stored.object = terminating;
      this.bump(terminating);
      this.emit('MODIFIED', type.plural, terminating);
      this.later(20, () => this.remove(type, key));
      return this.send(res, 200, terminating);
    }
    if (!dryRun) this.remove(type, key);
    return this.send(res, 200, type.returnsDeleted ? stored.object : success);
  }

  private remove(type: ResourceType, key: string): void {
    const stored = this.stored(type.plural).get(key);
    if (!stored) return;
    this.stored(type.plural).delete(key);
    this.bump(stored.object);
    this.emit('DELETED', type.plural, stored.object);
  }

  /** The Deployment controller stand-in: the rollout's status, as `kubectl rollout status` reads it. */
  private rollOut(namespace: string, name: string): void {
    const controller = this.options.deployments;
    if (controller === false) return;
    const key = `${namespace}/${name}`;
    const stuck = (controller?.unavailable ?? []).includes(name);
    this.later(controller?.availableAfterMs ?? 100, () => {
      const stored = this.stored('deployments').get(key);
      if (!stored) return;
      const replicas = Number((stored.object.spec as Json).replicas ?? 1);
      const generation = (stored.object.metadata as Json).generation;
      this.setObjectStatus('deployments', namespace, name, {
        observedGeneration: generation,
        replicas,
        updatedReplicas: replicas,
        ...(stuck ? { unavailableReplicas: replicas } : { readyReplicas: replicas, availableReplicas: replicas }),
        conditions: [
          stuck
            ? { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }
            : { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' },
          { type: 'Progressing', status: 'True', reason: stuck ? 'ReplicaSetUpdated' : 'NewReplicaSetAvailable', message: `ReplicaSet "${name}-5d9c7b" ${stuck ? 'is progressing' : 'has successfully progressed'}.` },
        ],
      });
    });
  }

  private startTimeline(ns: string, name: string): void {
    for (const step of this.options.timeline ?? []) {
      this.later(step.afterMs, () => {
        if (this.gmconnectors.has(`${ns}/${name}`)) this.setStatus(ns, name, step.status);
      });
    }
  }

  private emit(type: WatchEvent['type'], plural: string, object: Json): void {
    const event: WatchEvent = { type, plural, object: clone(object), rv: Number((object.metadata as Json).resourceVersion) };
    this.events.push(event);
    for (const w of this.watchers) {
      if (w.plural === plural && this.matches(w.selection, object)) w.res.write(`${JSON.stringify({ type, object: event.object })}\n`);
    }
  }

  /** [concepts] "Efficient detection of changes": watch from a resourceVersion; 410 Gone when it is too old. */
  private watch(r: RecordedRequest, type: ResourceType, namespace: string | undefined, res: http.ServerResponse): void {
    const selection = this.selection(r, namespace);
    if (typeof selection === 'string') return this.fail(res, kubeStatus(400, 'BadRequest', selection));
    const since = r.query.get('resourceVersion');
    const oldest = this.events.length > 0 ? this.events[0].rv : this.resourceVersion;
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // The apiserver flushes the headers as the watch starts (serveWatch), before any event.
    if (this.options.watchHeadersDelayMs) this.later(this.options.watchHeadersDelayMs, () => res.flushHeaders());
    else res.flushHeaders();
    if (since && since !== '0' && Number(since) < oldest - 1) {
      // Too old: the real server sends an ERROR event with a 410 Status and ends the watch.
      res.end(`${JSON.stringify({ type: 'ERROR', object: kubeStatus(410, 'Expired', `too old resource version: ${since} (${oldest})`) })}\n`);
      return;
    }
    if (!since || since === '0') {
      for (const s of this.stored(type.plural).values()) if (this.matches(selection, s.object)) res.write(`${JSON.stringify({ type: 'ADDED', object: s.object })}\n`);
    } else {
      for (const e of this.events) if (e.plural === type.plural && e.rv > Number(since) && this.matches(selection, e.object)) res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    }
    const w: Watcher = { plural: type.plural, selection, res };
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

/** [ssa] "Field management": a manager's fields as metadata.managedFields[].fieldsV1 writes them ({"f:data": {"f:key": {}}}). */
function fieldsV1(manager: string, owners: Map<string, Set<string>>, leaves: Map<string, Leaf>): Json {
  const out: Json = {};
  for (const [field, set] of [...owners].sort(([a], [b]) => a.localeCompare(b))) {
    const leaf = leaves.get(field);
    if (!leaf || !set.has(manager)) continue;
    let at = out;
    for (const segment of leaf.segments) at = (at[`f:${segment}`] ??= {}) as Json;
  }
  return out;
}

/** JSON with sorted keys, so two objects compare equal whatever order their fields were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Json).sort(([a], [b]) => a.localeCompare(b))) : v));
}

function withoutMeta(object: Json): Json {
  const { metadata: _m, status: _s, ...rest } = object;
  void _m;
  void _s;
  return rest;
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
