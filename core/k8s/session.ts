/**
 * One connection to a Kubernetes API server for deploy, status and delete: the kubeconfig (a file,
 * KUBECONFIG / ~/.kube/config, or the pod's service account), the API clients of
 * @kubernetes/client-node, and `guarded`, which runs one call with a timeout and the caller's abort
 * signal and turns what the client throws into a DeployError that says what is wrong and how to fix it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as K8s from '@kubernetes/client-node';
import { GMC_API_VERSION, GMC_GROUP, GMC_KIND, GMC_PLURAL } from './names';

export type DeployErrorKind = 'config' | 'unreachable' | 'unauthorized' | 'forbidden' | 'conflict' | 'invalid' | 'not-installed' | 'not-found' | 'timeout' | 'aborted' | 'server';

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

export type ClientModule = typeof K8s;
let clientModule: Promise<ClientModule> | undefined;
/**
 * @kubernetes/client-node 1.x is an ES module only. It is loaded on first use (nothing pays for it
 * until a deploy) with a real import(): TypeScript would turn `import()` into require(), which loads an
 * ES module only from Node 20.19 on. require() remains the fallback where import() is unavailable.
 */
const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<ClientModule>;
export function loadClient(): Promise<ClientModule> {
  // Resolved here, so the import finds the package beside this module whatever the working directory.
  clientModule ??= importModule(pathToFileURL(require.resolve('@kubernetes/client-node')).href).catch(() => require('@kubernetes/client-node') as ClientModule);
  return clientModule;
}

export interface Session {
  k: ClientModule;
  kc: K8s.KubeConfig;
  server: string;
  source: string;
  contextName: string;
  core: K8s.CoreV1Api;
  objects: K8s.KubernetesObjectApi;
  custom: K8s.CustomObjectsApi;
  apps: K8s.AppsV1Api;
  fieldManager: string;
  /** What is running, for messages: "deploy", "status", "delete". */
  operation: string;
}

export function contextNamespace(session: Session): string {
  return session.kc.getContextObject(session.contextName)?.namespace || 'default';
}

// ----------------------------------------------------------------------------------------- kubeconfig

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Where the cluster is: a kubeconfig file (default: KUBECONFIG, ~/.kube/config, else in-cluster) and a context (default: current). */
export interface ClusterOptions {
  kubeconfig?: string;
  context?: string;
}

export function connect(k: ClientModule, options: ClusterOptions, fieldManager: string, operation = 'deploy'): Session {
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
    apps: new k.AppsV1Api(config),
    fieldManager,
    operation,
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

export interface Call {
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

export class NotFound extends Error {}
export class AlreadyExists extends Error {}

/**
 * Runs one API call with a per-request timeout and the caller's abort signal, and turns what it
 * throws into a DeployError (or NotFound / AlreadyExists, which the steps above handle).
 */
export async function guarded<T>(session: Session, signal: AbortSignal | undefined, what: Call, run: () => Promise<T>): Promise<T> {
  if (signal?.aborted) throw abortedError(session, what);
  let onAbort: (() => void) | undefined;
  const abort = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortedError(session, what));
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

function abortedError(session: Session, what: Call): DeployError {
  return new DeployError('aborted', `the ${session.operation} was aborted while ${what.action} — run it again to complete it`);
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
          return new DeployError('server', `namespace ${what.namespace} disappeared while ${what.action} (${text}) — something deleted it; run the ${session.operation} again`);
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
      return new DeployError('conflict', `the API server answered 409 Conflict while ${what.action}: ${text || 'no message'}${causes.length ? ` [${causes.join('; ')}]` : ''} — another writer changed or owns these fields of ${what.namespace}/${what.name ?? what.resource}; run the deploy again (it applies with force, taking over fields), or if another tool keeps reclaiming them, stop it from managing ${what.gmc ? 'this GMConnector' : 'these objects'}`);
    }
    if (code === 422 || code === 400) {
      const causes = (status?.details?.causes ?? []).map((c) => `${c.field ?? '(object)'}: ${c.message ?? c.reason ?? ''}`);
      return new DeployError('invalid', `the API server refused ${what.action.replace(/^\w+ing /, '')} as invalid (${code}${status?.reason ? ` ${status.reason}` : ''}): ${text || 'no message'}${causes.length ? `; causes: ${causes.join('; ')}` : ''} — ${what.gmc ? `fix the fields named (opea-flow validate FLOW --target gmc checks the GMConnector against GMC's CRD), and check the cluster's GMC release serves ${GMC_API_VERSION}` : `fix the fields named in ${what.resource} ${what.name ?? ''} of the export (opea-flow export FLOW --target helm writes them)`}`);
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

export function notInstalled(session: Session): DeployError {
  return new DeployError('not-installed', `GMC is not installed in the cluster: the ${GMC_GROUP} ${GMC_KIND} CRD is missing — install GMC first (GenAIInfra microservices-connector: its CRD, RBAC and manager; see its README), then deploy again. Cluster: ${session.server}`);
}

export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0].slice(0, 300);
}
