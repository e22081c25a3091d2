/**
 * Deploys a GMConnector to a Kubernetes cluster with @kubernetes/client-node: kubeconfig from a file,
 * KUBECONFIG / ~/.kube/config, or the pod's service account; the namespace and the HF token Secret
 * created when missing; the CR applied server-side (application/apply-patch+yaml, a field manager,
 * force); then, unless it is a dry run or timeoutMs is 0, a watch on the CR until GMC's controller
 * reports every service ready (see gmc-status.ts for what status.status means).
 *
 * Waiting uses the Watch API (a field-selected watch on the one CR, bounded by timeoutSeconds and
 * resumed from the last resourceVersion). Every (re)connect first GETs the CR, so a cluster that
 * refuses or drops watches is still followed, by a GET every 2 s.
 *
 * Every failure is a DeployError whose message says what is wrong and how to fix it. The HF token is
 * never put in a message or a progress text.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as K8s from '@kubernetes/client-node';
import { describeGmcStatus, isGmcReady, parseGmcStatus } from './gmc-status';
import { DEFAULT_FIELD_MANAGER, GMC_API_VERSION, GMC_GROUP, GMC_KIND, GMC_PLURAL, GMC_VERSION, HF_TOKEN_SECRET, HF_TOKEN_SECRET_KEY } from './names';

export interface DeployOptions {
  connector: Record<string, unknown>; // the GMConnector object (apiVersion gmc.opea.io/v1alpha3, kind GMConnector, metadata.name/namespace)
  kubeconfig?: string; // file path; '' or undefined: KUBECONFIG/~/.kube/config, else in-cluster
  context?: string; // kubeconfig context; default: current
  dryRun?: boolean; // server-side dry run of namespace, secret and apply; nothing changes
  timeoutMs: number; // how long to wait for readiness; 0: return right after the apply
  hfToken?: string; // value for the HF token Secret when it is missing; never logged or put in errors
  fieldManager?: string; // default 'node-red-contrib-opea'
  signal?: AbortSignal; // abort: stop waiting, reject with a DeployError kind 'aborted'
  onProgress?: (p: DeployProgress) => void;
}

export interface DeployProgress {
  phase: 'connect' | 'namespace' | 'secret' | 'apply' | 'waiting' | 'ready';
  text: string;
}

export interface DeployResult {
  name: string;
  namespace: string;
  dryRun: boolean;
  ready: boolean;
  status?: string;
  accessUrl?: string;
  /** What this call created (in a dry run: what it would create). */
  created: { namespace: boolean; secret: boolean };
}

export type DeployErrorKind = 'config' | 'unreachable' | 'unauthorized' | 'forbidden' | 'conflict' | 'invalid' | 'not-installed' | 'timeout' | 'aborted' | 'server';

export class DeployError extends Error {
  constructor(
    readonly kind: DeployErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'DeployError';
  }
}

/** Longest a single API request may take before the server counts as not answering. */
const REQUEST_TIMEOUT_MS = 30_000;
/** Pause before re-reading the CR after a watch ended with an error (or was refused). */
const RETRY_MS = 2_000;
/** Longest one watch request asks the server to keep open (timeoutSeconds) before it is renewed. */
const WATCH_MAX_S = 300;
/**
 * After an apply that changed an existing CR's spec, its status is the previous reconcile's until GMC
 * writes a new one (the CR has no observedGeneration). A ready status counts once the CR has changed
 * again after our apply, or once it has stayed ready this long.
 */
const STALE_STATUS_GRACE_MS = 15_000;

/** setTimeout's limit (about 24.8 days); a longer wait is cut to it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

type ClientModule = typeof K8s;
let clientModule: Promise<ClientModule> | undefined;
/**
 * @kubernetes/client-node 1.x is an ES module only. It is loaded on first use (nothing pays for it
 * until a deploy) with a real import(): TypeScript would turn `import()` into require(), which loads an
 * ES module only from Node 20.19 on. require() remains the fallback where import() is unavailable.
 */
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<ClientModule>;
function loadClient(): Promise<ClientModule> {
  // Resolved here, so the import finds the package beside this module whatever the working directory.
  clientModule ??= importModule(pathToFileURL(require.resolve('@kubernetes/client-node')).href).catch(() => require('@kubernetes/client-node') as ClientModule);
  return clientModule;
}

interface Target {
  name: string;
  namespace: string;
}

interface Session {
  k: ClientModule;
  kc: K8s.KubeConfig;
  server: string;
  source: string;
  contextName: string;
  core: K8s.CoreV1Api;
  objects: K8s.KubernetesObjectApi;
  custom: K8s.CustomObjectsApi;
  fieldManager: string;
}

export async function deployGmConnector(options: DeployOptions): Promise<DeployResult> {
  const secret = options.hfToken;
  const scrub = (text: string): string => (secret ? text.split(secret).join('***') : text);
  const progress = (phase: DeployProgress['phase'], text: string): void => {
    try {
      options.onProgress?.({ phase, text: scrub(text) });
    } catch {
      // A failing progress listener must not fail the deploy.
    }
  };
  try {
    return await deploy(options, progress);
  } catch (err) {
    if (err instanceof DeployError) throw new DeployError(err.kind, scrub(err.message));
    throw new DeployError('server', scrub(`unexpected failure: ${firstLine(err)} — this is a bug of node-red-contrib-opea if it persists; please report it`));
  }
}

async function deploy(options: DeployOptions, progress: (phase: DeployProgress['phase'], text: string) => void): Promise<DeployResult> {
  const dryRun = options.dryRun === true;
  if (!(Number.isFinite(options.timeoutMs) && options.timeoutMs >= 0)) {
    throw new DeployError('config', `timeoutMs is ${String(options.timeoutMs)} — give the time to wait for readiness in milliseconds, 0 or more (0: do not wait)`);
  }
  const fieldManager = options.fieldManager ?? DEFAULT_FIELD_MANAGER;
  if (fieldManager === '' || fieldManager.length > 128 || /[^\x20-\x7e]/.test(fieldManager)) {
    throw new DeployError('config', `field manager "${fieldManager}" is not valid — the API server takes 1 to 128 printable characters`);
  }
  const aborted = (): void => {
    if (options.signal?.aborted) throw new DeployError('aborted', 'the deploy was aborted before it finished — nothing more was sent to the cluster; run it again to complete it');
  };
  aborted();
  const connector = checkConnector(options.connector);

  const k = await loadClient();
  const session = connect(k, options, fieldManager);
  const target: Target = { name: connector.name, namespace: connector.namespace ?? contextNamespace(session) };
  const body = { ...options.connector, metadata: { ...(options.connector.metadata as Record<string, unknown>), namespace: target.namespace } };
  progress('connect', `cluster ${session.server} (context ${session.contextName}, from ${session.source})${dryRun ? ' — dry run: nothing will change' : ''}`);

  const dry = dryRun ? 'All' : undefined;
  const call = <T>(what: Call, run: () => Promise<T>): Promise<T> => guarded(session, options.signal, what, run);

  // Namespace.
  aborted();
  let namespaceExists = true;
  let namespaceChecked = true;
  try {
    await call({ action: 'reading the namespace', verb: 'get', resource: 'namespaces', namespace: target.namespace }, () => session.core.readNamespace({ name: target.namespace }));
  } catch (err) {
    if (err instanceof DeployError && err.kind === 'forbidden') {
      // Namespace-scoped rights are enough to deploy into an existing namespace.
      namespaceChecked = false;
    } else if (err instanceof NotFound) {
      namespaceExists = false;
    } else {
      throw err;
    }
  }
  let createdNamespace = false;
  if (!namespaceChecked) {
    progress('namespace', `not allowed to read namespace ${target.namespace} (no cluster-wide "get namespaces"): assuming it exists`);
  } else if (namespaceExists) {
    progress('namespace', `namespace ${target.namespace} exists`);
  } else {
    try {
      await call({ action: 'creating the namespace', verb: 'create', resource: 'namespaces', namespace: target.namespace }, () =>
        session.core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: target.namespace } }, dryRun: dry, fieldManager }),
      );
      createdNamespace = true;
      namespaceExists = !dryRun;
      progress('namespace', dryRun ? `namespace ${target.namespace} does not exist: it would be created (dry run)` : `created namespace ${target.namespace}`);
    } catch (err) {
      if (!(err instanceof AlreadyExists)) throw err;
      namespaceExists = true;
      progress('namespace', `namespace ${target.namespace} exists (created meanwhile by someone else)`);
    }
  }

  // HF token Secret.
  aborted();
  let createdSecret = false;
  if (!options.hfToken) {
    progress('secret', `no HF token given: Secret ${HF_TOKEN_SECRET} is neither checked nor created`);
  } else if (!namespaceExists) {
    // A dry run did not create the namespace, so the server cannot dry-run anything inside it.
    createdSecret = true;
    progress('secret', `Secret ${HF_TOKEN_SECRET} (key ${HF_TOKEN_SECRET_KEY}) would be created in the new namespace ${target.namespace} (dry run)`);
  } else {
    let exists = true;
    try {
      await call({ action: 'reading the HF token Secret', verb: 'get', resource: 'secrets', namespace: target.namespace }, () =>
        session.core.readNamespacedSecret({ name: HF_TOKEN_SECRET, namespace: target.namespace }),
      );
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
      exists = false;
    }
    if (exists) {
      progress('secret', `Secret ${HF_TOKEN_SECRET} exists in ${target.namespace}: left as it is (an existing Secret is never overwritten)`);
    } else {
      try {
        await call({ action: 'creating the HF token Secret', verb: 'create', resource: 'secrets', namespace: target.namespace }, () =>
          session.core.createNamespacedSecret({
            namespace: target.namespace,
            body: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: HF_TOKEN_SECRET, namespace: target.namespace }, stringData: { [HF_TOKEN_SECRET_KEY]: options.hfToken as string } },
            dryRun: dry,
            fieldManager,
          }),
        );
        createdSecret = true;
        progress('secret', dryRun ? `Secret ${HF_TOKEN_SECRET} does not exist in ${target.namespace}: it would be created with key ${HF_TOKEN_SECRET_KEY} (dry run)` : `created Secret ${HF_TOKEN_SECRET} (key ${HF_TOKEN_SECRET_KEY}) in ${target.namespace}`);
      } catch (err) {
        if (!(err instanceof AlreadyExists)) throw err;
        progress('secret', `Secret ${HF_TOKEN_SECRET} exists in ${target.namespace} (created meanwhile): left as it is`);
      }
    }
  }

  // The GMConnector.
  aborted();
  const created = { namespace: createdNamespace, secret: createdSecret };
  const crCall = (action: string, verb: string): Call => ({ action, verb, resource: GMC_PLURAL, group: GMC_GROUP, namespace: target.namespace, name: target.name, gmc: true });
  if (!namespaceExists) {
    // Dry run into a namespace that does not exist yet: the server cannot dry-run the apply, but it
    // can say whether GMC's resource type is there.
    try {
      const list = await call(crCall('looking up the GMConnector resource type', 'get'), () => session.custom.getAPIResources({ group: GMC_GROUP, version: GMC_VERSION }));
      if (!(list.resources ?? []).some((r) => r.kind === GMC_KIND)) throw notInstalled(session);
    } catch (err) {
      if (err instanceof NotFound) throw notInstalled(session);
      throw err;
    }
    progress('apply', `GMConnector ${target.namespace}/${target.name} would be applied (dry run); the server did not check it, because namespace ${target.namespace} does not exist yet — the GMConnector resource type is installed`);
    return { name: target.name, namespace: target.namespace, dryRun, ready: false, created };
  }

  let before: KubeObject | undefined;
  try {
    before = await call(crCall('reading the GMConnector', 'get'), () => session.objects.read(header(target)) as Promise<KubeObject>);
  } catch (err) {
    if (!(err instanceof NotFound)) throw err;
  }
  const applied = (await call(crCall('applying the GMConnector', 'patch'), () =>
    session.objects.patch(body as K8s.KubernetesObject, undefined, dry, fieldManager, true, session.k.PatchStrategy.ServerSideApply),
  )) as KubeObject;
  const changed = before === undefined || before.metadata?.generation !== applied.metadata?.generation;
  const verbText = before === undefined ? (dryRun ? 'would be created' : 'created') : changed ? (dryRun ? 'would be updated' : 'updated') : 'unchanged';
  progress('apply', `GMConnector ${target.namespace}/${target.name} ${verbText} (server-side apply, field manager ${fieldManager}${dryRun ? ', dry run' : ''})`);

  const current = before !== undefined && !changed ? applied : undefined;
  const result = (obj: KubeObject | undefined, ready: boolean): DeployResult => ({
    name: target.name,
    namespace: target.namespace,
    dryRun,
    ready,
    status: statusOf(obj),
    accessUrl: accessUrlOf(obj),
    created,
  });
  if (dryRun || options.timeoutMs === 0) {
    const ready = current !== undefined && isGmcReady(statusOf(current));
    if (!dryRun) progress(ready ? 'ready' : 'apply', `not waiting: ${describeGmcStatus(statusOf(applied))}${accessUrlOf(applied) ? `, access URL ${accessUrlOf(applied)}` : ''}`);
    return result(dryRun ? before : applied, ready);
  }

  const final = await waitUntilReady(session, target, options, progress, {
    staleResourceVersion: before !== undefined && changed ? applied.metadata?.resourceVersion : undefined,
  });
  return result(final, true);
}

// ----------------------------------------------------------------------------------------- connector

function checkConnector(connector: Record<string, unknown>): { name: string; namespace?: string } {
  const fix = 'pass the GMConnector built by the GMC exporter (opea-flow export FLOW --target gmc writes one)';
  if (connector === null || typeof connector !== 'object' || Array.isArray(connector)) throw new DeployError('invalid', `the GMConnector is not an object — ${fix}`);
  if (connector.apiVersion !== GMC_API_VERSION) throw new DeployError('invalid', `the GMConnector's apiVersion is ${JSON.stringify(connector.apiVersion)}, not ${GMC_API_VERSION} — ${fix}`);
  if (connector.kind !== GMC_KIND) throw new DeployError('invalid', `the object's kind is ${JSON.stringify(connector.kind)}, not ${GMC_KIND} — ${fix}`);
  const metadata = connector.metadata as Record<string, unknown> | undefined;
  const name = metadata?.name;
  if (typeof name !== 'string' || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
    throw new DeployError('invalid', `the GMConnector's metadata.name ${JSON.stringify(name)} is not a Kubernetes name — ${fix}, or use lowercase letters, digits, '-' and '.'`);
  }
  const namespace = metadata?.namespace;
  if (namespace !== undefined && (typeof namespace !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63)) {
    throw new DeployError('invalid', `the GMConnector's metadata.namespace ${JSON.stringify(namespace)} is not a namespace name — use lowercase letters, digits and '-' (at most 63)`);
  }
  return { name, namespace: namespace as string | undefined };
}

function contextNamespace(session: Session): string {
  return session.kc.getContextObject(session.contextName)?.namespace || 'default';
}

const header = (t: Target) => ({ apiVersion: GMC_API_VERSION, kind: GMC_KIND, metadata: { name: t.name, namespace: t.namespace } });

interface KubeObject {
  metadata?: { name?: string; namespace?: string; generation?: number; resourceVersion?: string };
  status?: { status?: unknown; accessUrl?: unknown };
}

const statusOf = (o: KubeObject | undefined): string | undefined => (typeof o?.status?.status === 'string' && o.status.status !== '' ? o.status.status : undefined);
const accessUrlOf = (o: KubeObject | undefined): string | undefined => (typeof o?.status?.accessUrl === 'string' && o.status.accessUrl !== '' ? o.status.accessUrl : undefined);

// ----------------------------------------------------------------------------------------- kubeconfig

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

function connect(k: ClientModule, options: DeployOptions, fieldManager: string): Session {
  const kc = new k.KubeConfig();
  const source = loadKubeConfig(kc, options.kubeconfig);
  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      const names = kc.getContexts().map((c) => c.name);
      throw new DeployError('config', `kubeconfig ${source} has no context "${options.context}" (it has: ${names.join(', ') || 'none'}) — pick one of those (kubectl config get-contexts)`);
    }
    kc.setCurrentContext(options.context);
  }
  const contextName = kc.getCurrentContext();
  if (!contextName || !kc.getContextObject(contextName)) {
    throw new DeployError('config', `kubeconfig ${source} has no current context${contextName ? ` ("${contextName}" is not one of its contexts)` : ''} — set current-context (kubectl config use-context NAME) or pass a context`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new DeployError('config', `kubeconfig ${source}: context "${contextName}" names a cluster that is not in the file — fix the context's cluster entry`);
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    throw new DeployError('config', `kubeconfig ${source}: cluster "${cluster.name}" has server ${JSON.stringify(cluster.server)}, which is not a URL — set it to the API server's https:// address`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new DeployError('config', `kubeconfig ${source}: cluster "${cluster.name}" server ${cluster.server} is not an http(s) URL — set it to the API server's https:// address`);
  if (url.protocol === 'http:' && !cluster.skipTLSVerify) {
    throw new DeployError('config', `kubeconfig ${source}: cluster "${cluster.name}" server ${cluster.server} is plain http, which @kubernetes/client-node refuses unless the cluster entry sets insecure-skip-tls-verify: true — use the https:// address, or set that for a local test server`);
  }
  const server = cluster.server.replace(/\/+$/, '');
  const config = k.createConfiguration({ baseServer: new k.ServerConfiguration(server, {}), authMethods: { default: kc } });
  return {
    k,
    kc,
    server,
    source,
    contextName,
    core: new k.CoreV1Api(config),
    objects: new k.KubernetesObjectApi(config),
    custom: new k.CustomObjectsApi(config),
    fieldManager,
  };
}

function loadKubeConfig(kc: K8s.KubeConfig, file: string | undefined): string {
  const load = (f: string, label: string): string => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(f);
    } catch {
      throw new DeployError('config', `kubeconfig ${label} does not exist — give the path of a kubeconfig file (kubectl config view --raw --minify > FILE writes one), or none to use KUBECONFIG or ~/.kube/config`);
    }
    if (!stat.isFile()) throw new DeployError('config', `kubeconfig ${label} is not a file — give the path of a kubeconfig file`);
    try {
      kc.loadFromFile(f);
    } catch (err) {
      // Only the first line: YAML errors quote the file around the fault, and a kubeconfig holds credentials.
      throw new DeployError('config', `kubeconfig ${label} cannot be read: ${firstLine(err)} — check it is a kubeconfig (kubectl --kubeconfig ${f} config view)`);
    }
    return label;
  };
  if (file) return load(file, file);
  const env = process.env.KUBECONFIG;
  if (env) {
    const files = env.split(path.delimiter).filter(Boolean);
    const missing = files.filter((f) => !fs.existsSync(f));
    if (missing.length === files.length) throw new DeployError('config', `KUBECONFIG names ${files.join(', ')}, and none of these files exists — fix KUBECONFIG or pass a kubeconfig file`);
    try {
      kc.loadFromDefault();
    } catch (err) {
      throw new DeployError('config', `the kubeconfig files in KUBECONFIG (${files.join(', ')}) cannot be read: ${firstLine(err)} — check them with kubectl config view`);
    }
    return `KUBECONFIG (${files.join(path.delimiter)})`;
  }
  const home = path.join(os.homedir(), '.kube', 'config');
  if (fs.existsSync(home)) return load(home, home);
  if (process.env.KUBERNETES_SERVICE_HOST && fs.existsSync(SA_TOKEN)) {
    kc.loadFromCluster();
    return 'the in-cluster service account';
  }
  throw new DeployError('config', `no kubeconfig: none given, KUBECONFIG is not set, ${home} does not exist, and this is not running in a Kubernetes pod — give a kubeconfig file (or set KUBECONFIG)`);
}

// -------------------------------------------------------------------------------------------- calls

interface Call {
  /** What we were doing, for messages: "applying the GMConnector". */
  action: string;
  verb: string;
  resource: string;
  group?: string;
  namespace?: string;
  name?: string;
  /** A call on GMC's resource type: a 404 of the type (not of the object) means GMC is not installed. */
  gmc?: boolean;
}

class NotFound extends Error {}
class AlreadyExists extends Error {}

/**
 * Runs one API call with a per-request timeout and the caller's abort signal, and turns what it
 * throws into a DeployError (or NotFound / AlreadyExists, which the steps above handle).
 */
async function guarded<T>(session: Session, signal: AbortSignal | undefined, what: Call, run: () => Promise<T>): Promise<T> {
  if (signal?.aborted) throw abortedError(what);
  let onAbort: (() => void) | undefined;
  const abort = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortedError(what));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeployError('unreachable', `the Kubernetes API server at ${session.server} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s while ${what.action} — check the cluster is up and reachable from here (VPN, proxy, firewall)`)), REQUEST_TIMEOUT_MS);
  });
  try {
    return await Promise.race([run(), abort, timeout]);
  } catch (err) {
    if (err instanceof DeployError) throw err;
    throw classify(err, session, what);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

function abortedError(what: Call): DeployError {
  return new DeployError('aborted', `the deploy was aborted while ${what.action} — run it again to complete it`);
}

interface KubeStatus {
  kind?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason?: string; message?: string; field?: string }[] };
}

function statusFrom(body: unknown): KubeStatus | undefined {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return value !== null && typeof value === 'object' && (value as KubeStatus).kind === 'Status' ? (value as KubeStatus) : undefined;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|DEPTH_ZERO/;

function classify(err: unknown, session: Session, what: Call): Error {
  const e = err as { code?: unknown; body?: unknown; errno?: unknown; type?: string; message?: string; cause?: { code?: unknown } };
  const where = [what.namespace ? `namespace ${what.namespace}` : '', `at ${session.server}`].filter(Boolean).join(' ');
  if (typeof e?.code === 'number') {
    const code = e.code;
    const status = statusFrom(e.body);
    const text = status?.message ?? (typeof e.body === 'string' ? e.body.trim().split('\n')[0].slice(0, 200) : '');
    if (code === 404) {
      if (what.gmc && !(status?.reason === 'NotFound' && status.details?.kind === GMC_PLURAL)) {
        if (status?.details?.kind === 'namespaces') {
          return new DeployError('server', `namespace ${what.namespace} disappeared while ${what.action} (${text}) — something deleted it; run the deploy again`);
        }
        return notInstalled(session);
      }
      return new NotFound(text);
    }
    if (code === 409 && status?.reason === 'AlreadyExists') return new AlreadyExists(text);
    if (code === 401) {
      return new DeployError('unauthorized', `the API server at ${session.server} refused the credentials of kubeconfig ${session.source}, context ${session.contextName} (401 Unauthorized) while ${what.action} — the token or client certificate is missing, wrong or expired: log in again or refresh the kubeconfig`);
    }
    if (code === 403) {
      if (/admission webhook/i.test(text)) {
        return new DeployError('invalid', `GMC's admission webhook refused the GMConnector: ${text} — fix what it names in the flow (opea-flow validate FLOW --target gmc checks the same rules) and deploy again`);
      }
      const m = /cannot (\S+) resource "([^"]+)" in API group "([^"]*)"(?: in the namespace "([^"]+)")?/.exec(text);
      const verb = m?.[1] ?? what.verb;
      const resource = m?.[2] ? `${m[2]}${m[3] ? `.${m[3]}` : ''}` : `${what.resource}${what.group ? `.${what.group}` : ''}`;
      const ns = m?.[4] ?? what.namespace;
      return new DeployError('forbidden', `not allowed to ${verb} ${resource}${ns ? ` in namespace ${ns}` : ''} (403 Forbidden: ${text || 'no message'}) while ${what.action} — ask a cluster admin for a Role (or ClusterRole) granting "${verb}" on ${resource}${ns ? ` in ${ns}` : ''} to the user of context ${session.contextName}, or use a context that has it`);
    }
    if (code === 409) {
      const causes = (status?.details?.causes ?? []).map((c) => `${c.field ?? '?'}: ${c.message ?? c.reason ?? ''}`);
      return new DeployError('conflict', `the API server answered 409 Conflict while ${what.action}: ${text || 'no message'}${causes.length ? ` [${causes.join('; ')}]` : ''} — another writer changed or owns these fields of ${what.namespace}/${what.name ?? what.resource}; run the deploy again (it applies with force, taking over fields), or if another tool keeps reclaiming them, stop it from managing this GMConnector`);
    }
    if (code === 422 || code === 400) {
      const causes = (status?.details?.causes ?? []).map((c) => `${c.field ?? '(object)'}: ${c.message ?? c.reason ?? ''}`);
      return new DeployError('invalid', `the API server refused ${what.action.replace(/^\w+ing /, '')} as invalid (${code}${status?.reason ? ` ${status.reason}` : ''}): ${text || 'no message'}${causes.length ? `; causes: ${causes.join('; ')}` : ''} — fix the fields named (opea-flow validate FLOW --target gmc checks the GMConnector against GMC's CRD), and check the cluster's GMC release serves ${GMC_API_VERSION}`);
    }
    if (code === 415) {
      return new DeployError('server', `the API server at ${session.server} refused the request's content type (415) while ${what.action}: ${text} — a proxy between here and the cluster may rewrite Content-Type; connect to the API server directly`);
    }
    return new DeployError('server', `the API server at ${session.server} answered ${code}${status?.reason ? ` ${status.reason}` : ''} while ${what.action}: ${text || 'no message'} — ${code >= 500 || code === 429 ? 'the cluster is overloaded or unwell: try again later, and check the API server' : 'check the cluster and the kubeconfig'}`);
  }
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : typeof e?.errno === 'string' ? e.errno : '';
  const message = firstLine(err);
  if (NETWORK_CODES.has(code) || e?.type === 'system') {
    return new DeployError('unreachable', `cannot reach the Kubernetes API server at ${session.server} (${code || message}) while ${what.action} — check the cluster is running and the server address in kubeconfig ${session.source} (context ${session.contextName}), and any VPN or proxy`);
  }
  if (TLS_CODES.test(code) || /certificate|self.signed|SSL|TLS/i.test(message)) {
    return new DeployError('unreachable', `the TLS connection to ${session.server} failed (${code || message}) while ${what.action} — the kubeconfig's certificate-authority does not match the server's certificate: fix certificate-authority(-data) in ${session.source}`);
  }
  if (/HTTP protocol is not allowed/.test(message)) {
    return new DeployError('config', `kubeconfig ${session.source}: server ${session.server} is plain http — set insecure-skip-tls-verify: true on its cluster entry, or use https`);
  }
  if (/Failed to fetch resource metadata|Unrecognized API version and kind/.test(message)) return notInstalled(session);
  return new DeployError('server', `${what.action} failed ${where}: ${message} — check the cluster and the kubeconfig`);
}

function notInstalled(session: Session): DeployError {
  return new DeployError('not-installed', `GMC is not installed in the cluster: the ${GMC_GROUP} ${GMC_KIND} CRD is missing — install GMC first (GenAIInfra microservices-connector: its CRD, RBAC and manager; see its README), then deploy again. Cluster: ${session.server}`);
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0].slice(0, 300);
}

// ------------------------------------------------------------------------------------------- waiting

interface WaitState {
  staleResourceVersion?: string;
}

function waitUntilReady(
  session: Session,
  target: Target,
  options: DeployOptions,
  progress: (phase: DeployProgress['phase'], text: string) => void,
  state: WaitState,
): Promise<KubeObject> {
  const id = `${target.namespace}/${target.name}`;
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const watchPath = `/apis/${GMC_GROUP}/${GMC_VERSION}/namespaces/${encodeURIComponent(target.namespace)}/${GMC_PLURAL}`;
  const watcher = new session.k.Watch(session.kc);
  let last: KubeObject | undefined;
  let lastReported: string | undefined;
  let readySince: number | undefined;
  let freshAfterApply = state.staleResourceVersion === undefined;
  let watchRefusals = 0;

  return new Promise<KubeObject>((resolve, reject) => {
    let finished = false;
    let watchController: AbortController | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    let graceTimer: NodeJS.Timeout | undefined;
    const lastSeen = () => describeGmcStatus(statusOf(last));
    const finish = (err: Error | undefined, value?: KubeObject) => {
      if (finished) return;
      finished = true;
      clearTimeout(deadlineTimer);
      clearTimeout(retryTimer);
      clearTimeout(graceTimer);
      watchController?.abort();
      options.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(value as KubeObject);
    };
    const onAbort = () =>
      finish(new DeployError('aborted', `stopped waiting for GMConnector ${id}: aborted; last seen ${lastSeen()} — it stays applied and GMC keeps deploying it (kubectl get gmc ${target.name} -n ${target.namespace} follows it; kubectl delete gmc ${target.name} -n ${target.namespace} removes it)`));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) return onAbort();
    const deadlineTimer = setTimeout(() => {
      finish(
        new DeployError(
          'timeout',
          `GMConnector ${id} was not ready within ${Math.round(options.timeoutMs / 1000)} s; last seen ${lastSeen()}${accessUrlOf(last) ? `, access URL ${accessUrlOf(last)}` : ''} — GMC keeps deploying it: see which Deployment is not available with kubectl get gmc ${target.name} -n ${target.namespace} -o jsonpath='{.status.annotations}' and kubectl get pods -n ${target.namespace} (model downloads can take many minutes: wait longer)`,
        ),
      );
    }, Math.min(options.timeoutMs, MAX_TIMER_MS));

    const see = (obj: KubeObject) => {
      if (finished) return;
      last = obj;
      const rv = obj.metadata?.resourceVersion;
      if (!freshAfterApply && rv !== undefined && rv !== state.staleResourceVersion) freshAfterApply = true;
      const status = statusOf(obj);
      const text = `GMConnector ${id}: ${describeGmcStatus(status)}`;
      if (text !== lastReported) {
        lastReported = text;
        progress('waiting', text);
      }
      if (!isGmcReady(status)) {
        readySince = undefined;
        return;
      }
      readySince ??= Date.now();
      const settled = freshAfterApply || Date.now() - readySince >= STALE_STATUS_GRACE_MS;
      if (!settled) {
        if (!graceTimer) {
          graceTimer = setTimeout(() => {
            graceTimer = undefined;
            if (last) see(last);
          }, STALE_STATUS_GRACE_MS - (Date.now() - readySince) + 5);
        }
        return;
      }
      const counts = parseGmcStatus(status);
      progress('ready', `GMConnector ${id} is ready: ${counts?.ready} of ${counts?.total} services${accessUrlOf(obj) ? `; it answers at ${accessUrlOf(obj)}` : ''}`);
      finish(undefined, obj);
    };

    const retry = (ms: number) => {
      if (finished) return;
      clearTimeout(retryTimer);
      retryTimer = setTimeout(() => void cycle(), Math.max(0, Math.min(ms, deadline - Date.now())));
    };

    const cycle = async (): Promise<void> => {
      if (finished) return;
      let resourceVersion: string | undefined;
      try {
        const obj = (await guarded(session, options.signal, { action: 'reading the GMConnector', verb: 'get', resource: GMC_PLURAL, group: GMC_GROUP, namespace: target.namespace, name: target.name, gmc: true }, () =>
          session.objects.read(header(target)) as Promise<KubeObject>,
        )) as KubeObject;
        see(obj);
        resourceVersion = obj.metadata?.resourceVersion;
      } catch (err) {
        if (finished) return;
        if (err instanceof NotFound) return finish(new DeployError('conflict', `GMConnector ${id} was deleted while waiting for it to become ready — something else removed it; deploy again`));
        if (err instanceof DeployError && (err.kind === 'unreachable' || err.kind === 'server')) {
          progress('waiting', `GMConnector ${id}: cannot read it right now (${err.message.split(' — ')[0]}); retrying`);
          return retry(RETRY_MS);
        }
        return finish(err as Error);
      }
      if (finished) return;
      const remainingS = Math.ceil((deadline - Date.now()) / 1000);
      const timeoutSeconds = Math.max(1, Math.min(WATCH_MAX_S, remainingS));
      let sawEvent = false;
      try {
        const controller = await watcher.watch(
          watchPath,
          { fieldSelector: `metadata.name=${target.name}`, resourceVersion, timeoutSeconds, allowWatchBookmarks: true },
          (type: string, obj: unknown) => {
            if (finished) return;
            sawEvent = true;
            if (type === 'ADDED' || type === 'MODIFIED') see(obj as KubeObject);
            else if (type === 'DELETED') finish(new DeployError('conflict', `GMConnector ${id} was deleted while waiting for it to become ready — something else removed it; deploy again`));
            // ERROR (410 Gone: the resourceVersion is too old) and BOOKMARK: the next cycle re-reads.
          },
          (err: unknown) => {
            watchController = undefined;
            if (finished) return;
            if (err && !sawEvent) {
              watchRefusals += 1;
              if (watchRefusals === 1) progress('waiting', `GMConnector ${id}: the watch failed (${firstLine(err)}); reading it every ${RETRY_MS / 1000} s instead`);
            }
            retry(err ? RETRY_MS : 200);
          },
        );
        if (finished) controller.abort();
        else watchController = controller;
      } catch {
        retry(RETRY_MS);
      }
    };
    void cycle();
  });
}
