/**
 * The first steps of every deploy: connect, then the namespace and the HF token Secret, created when
 * missing and marked as created by this pipeline's deploy (CREATED_FOR_ANNOTATION), so that delete
 * removes them and nothing that was there before. The HF token is never put in a message or a
 * progress text (deployRun scrubs every text that leaves).
 */
import { ClientModule, Call, contextNamespace, connect, DeployError, firstLine, guarded, loadClient, NotFound, AlreadyExists, Session, ClusterOptions } from './session';
import { CREATED_FOR_ANNOTATION, DEFAULT_FIELD_MANAGER, HF_TOKEN_SECRET, HF_TOKEN_SECRET_KEY, ownershipLabels } from './names';

export type DeployPhase = 'connect' | 'namespace' | 'secret' | 'apply' | 'waiting' | 'ready';

export interface DeployProgress {
  phase: DeployPhase;
  text: string;
  /** While waiting: how many of the pipeline's services (GMC) or Deployments are ready, of how many. */
  readiness?: { ready: number; total: number };
}

export type Progress = (phase: DeployPhase, text: string, readiness?: DeployProgress['readiness']) => void;

export interface CommonDeployOptions extends ClusterOptions {
  dryRun?: boolean; // server-side dry run of every write; nothing changes
  timeoutMs: number; // how long to wait for readiness; 0: return right after the apply
  hfToken?: string; // value for the HF token Secret when it is missing; never logged or put in errors
  fieldManager?: string; // default 'node-red-contrib-opea'
  signal?: AbortSignal; // abort: stop waiting, reject with a DeployError kind 'aborted'
  onProgress?: (p: DeployProgress) => void;
}

/** What a deploy created (in a dry run: what it would create). */
export interface Created {
  namespace: boolean;
  secret: boolean;
}

export interface Prepared {
  session: Session;
  namespace: string;
  /** False only in a dry run into a namespace that does not exist yet. */
  namespaceExists: boolean;
  created: Created;
  call: <T>(what: Call, run: () => Promise<T>) => Promise<T>;
  dry: 'All' | undefined;
  aborted: () => void;
}

/**
 * Runs a deploy with its options checked, every progress text and error scrubbed of the HF token,
 * and any unexpected failure turned into a DeployError.
 */
export async function deployRun<R>(options: CommonDeployOptions, run: (progress: Progress, k: ClientModule, fieldManager: string) => Promise<R>): Promise<R> {
  const secret = options.hfToken;
  const scrub = (text: string): string => (secret ? text.split(secret).join('***') : text);
  const progress: Progress = (phase, text, readiness) => {
    try {
      options.onProgress?.({ phase, text: scrub(text), ...(readiness ? { readiness } : {}) });
    } catch {
      // A failing progress listener must not fail the deploy.
    }
  };
  try {
    if (!(Number.isFinite(options.timeoutMs) && options.timeoutMs >= 0)) {
      throw new DeployError('config', `timeoutMs is ${String(options.timeoutMs)} — give the time to wait for readiness in milliseconds, 0 or more (0: do not wait)`);
    }
    const fieldManager = options.fieldManager ?? DEFAULT_FIELD_MANAGER;
    if (fieldManager === '' || fieldManager.length > 128 || /[^\x20-\x7e]/.test(fieldManager)) {
      throw new DeployError('config', `field manager "${fieldManager}" is not valid — the API server takes 1 to 128 printable characters`);
    }
    if (options.signal?.aborted) throw notStarted();
    return await run(progress, await loadClient(), fieldManager);
  } catch (err) {
    if (err instanceof DeployError) throw new DeployError(err.kind, scrub(err.message));
    throw new DeployError('server', scrub(`unexpected failure: ${firstLine(err)} — this is a bug of node-red-contrib-opea if it persists; please report it`));
  }
}

function notStarted(): DeployError {
  return new DeployError('aborted', 'the deploy was aborted before it finished — nothing more was sent to the cluster; run it again to complete it');
}

/** Connects, then makes sure of the namespace and the HF token Secret of `pipeline`. */
export async function prepare(k: ClientModule, options: CommonDeployOptions, fieldManager: string, pipeline: string, namespaceWanted: string | undefined, progress: Progress): Promise<Prepared> {
  const dryRun = options.dryRun === true;
  const session = connect(k, options, fieldManager);
  const namespace = namespaceWanted ?? contextNamespace(session);
  const aborted = (): void => {
    if (options.signal?.aborted) throw notStarted();
  };
  progress('connect', `cluster ${session.server} (context ${session.contextName}, from ${session.source})${dryRun ? ' — dry run: nothing will change' : ''}`);
  const dry = dryRun ? 'All' : undefined;
  const call = <T>(what: Call, run: () => Promise<T>): Promise<T> => guarded(session, options.signal, what, run);
  const marks = { labels: ownershipLabels(pipeline), annotations: { [CREATED_FOR_ANNOTATION]: pipeline } };

  // Namespace.
  aborted();
  let namespaceExists = true;
  let namespaceChecked = true;
  try {
    await call({ action: 'reading the namespace', verb: 'get', resource: 'namespaces', namespace }, () => session.core.readNamespace({ name: namespace }));
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
    progress('namespace', `not allowed to read namespace ${namespace} (no cluster-wide "get namespaces"): assuming it exists`);
  } else if (namespaceExists) {
    progress('namespace', `namespace ${namespace} exists`);
  } else {
    try {
      await call({ action: 'creating the namespace', verb: 'create', resource: 'namespaces', namespace }, () =>
        session.core.createNamespace({ body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, ...marks } }, dryRun: dry, fieldManager }),
      );
      createdNamespace = true;
      namespaceExists = !dryRun;
      progress('namespace', dryRun ? `namespace ${namespace} does not exist: it would be created (dry run)` : `created namespace ${namespace}`);
    } catch (err) {
      if (!(err instanceof AlreadyExists)) throw err;
      namespaceExists = true;
      progress('namespace', `namespace ${namespace} exists (created meanwhile by someone else)`);
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
    progress('secret', `Secret ${HF_TOKEN_SECRET} (key ${HF_TOKEN_SECRET_KEY}) would be created in the new namespace ${namespace} (dry run)`);
  } else {
    let exists = true;
    try {
      await call({ action: 'reading the HF token Secret', verb: 'get', resource: 'secrets', namespace }, () => session.core.readNamespacedSecret({ name: HF_TOKEN_SECRET, namespace }));
    } catch (err) {
      if (!(err instanceof NotFound)) throw err;
      exists = false;
    }
    if (exists) {
      progress('secret', `Secret ${HF_TOKEN_SECRET} exists in ${namespace}: left as it is (an existing Secret is never overwritten)`);
    } else {
      try {
        await call({ action: 'creating the HF token Secret', verb: 'create', resource: 'secrets', namespace }, () =>
          session.core.createNamespacedSecret({
            namespace,
            body: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: HF_TOKEN_SECRET, namespace, ...marks }, stringData: { [HF_TOKEN_SECRET_KEY]: options.hfToken as string } },
            dryRun: dry,
            fieldManager,
          }),
        );
        createdSecret = true;
        progress('secret', dryRun ? `Secret ${HF_TOKEN_SECRET} does not exist in ${namespace}: it would be created with key ${HF_TOKEN_SECRET_KEY} (dry run)` : `created Secret ${HF_TOKEN_SECRET} (key ${HF_TOKEN_SECRET_KEY}) in ${namespace}`);
      } catch (err) {
        if (!(err instanceof AlreadyExists)) throw err;
        progress('secret', `Secret ${HF_TOKEN_SECRET} exists in ${namespace} (created meanwhile): left as it is`);
      }
    }
  }
  aborted();
  return { session, namespace, namespaceExists, created: { namespace: createdNamespace, secret: createdSecret }, call, dry, aborted };
}
