/**
 * Waits on objects of a cluster with client-node's ListWatch informer: a list, then a watch resumed
 * from the list's resourceVersion (and from each event's), renewed when the server ends it, a fresh
 * list after 410 Gone. After an error (a refused or broken watch, a failed list) it starts over with a
 * fresh informer every RETRY_MS, so a cluster that refuses watches is still followed, by a list each
 * time. `judge` sees every object of the selection after each change and ends the wait.
 */
import type * as K8s from '@kubernetes/client-node';
import { GMC_GROUP, GMC_PLURAL, GMC_VERSION } from './names';
import { DeployError, firstLine, guarded, Session } from './session';

/** Pause before starting over after an error. */
export const RETRY_MS = 2_000;
/** setTimeout's limit (about 24.8 days); a longer wait is cut to it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface FollowSpec<T extends K8s.KubernetesObject, R> {
  /** For messages: "GMConnector chatqa/chatqa". */
  what: string;
  /** The collection's path, as the watch requests it. */
  path: string;
  /** Lists the selection (a guarded call: it throws DeployErrors). */
  list: () => Promise<K8s.KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  /** When to stop waiting (Date.now() milliseconds). */
  deadline: number;
  signal?: AbortSignal;
  /**
   * Every object of the selection, after the list and after each change: a result ends the wait,
   * a thrown error fails it, undefined waits on. `recheckIn` asks for another look after ms.
   */
  judge: (objects: readonly T[], recheckIn: (ms: number) => void) => R | undefined;
  timeoutError: () => DeployError;
  abortError: () => DeployError;
  progress: (text: string) => void;
}

export function follow<T extends K8s.KubernetesObject, R>(session: Session, spec: FollowSpec<T, R>): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let finished = false;
    let informer: K8s.ListWatch<T> | undefined;
    let retryTimer: NodeJS.Timeout | undefined;
    let recheckTimer: NodeJS.Timeout | undefined;
    let judging: NodeJS.Immediate | undefined;
    let watchFailures = 0;

    const finish = (err: Error | undefined, value?: R): void => {
      if (finished) return;
      finished = true;
      clearTimeout(deadlineTimer);
      clearTimeout(retryTimer);
      clearTimeout(recheckTimer);
      if (judging) clearImmediate(judging);
      spec.signal?.removeEventListener('abort', onAbort);
      void informer?.stop();
      if (err) reject(err);
      else resolve(value as R);
    };
    const onAbort = (): void => finish(spec.abortError());
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    const deadlineTimer = setTimeout(() => finish(spec.timeoutError()), Math.min(Math.max(0, spec.deadline - Date.now()), MAX_TIMER_MS));
    if (spec.signal?.aborted) return onAbort();

    const judge = (): void => {
      judging = undefined;
      if (finished || !informer) return;
      try {
        const result = spec.judge(informer.list(), (ms) => {
          clearTimeout(recheckTimer);
          recheckTimer = setTimeout(judge, ms);
        });
        if (result !== undefined) finish(undefined, result);
      } catch (err) {
        finish(err as Error);
      }
    };
    // The informer calls back once per object while it applies a list: judge once it is done.
    const judgeSoon = (): void => {
      if (!finished && !judging) judging = setImmediate(judge);
    };

    const onError = (err: unknown): void => {
      if (finished) return;
      if (err instanceof DeployError) {
        // The list failed: a cluster that is briefly away is waited for, anything else ends the wait.
        if (err.kind !== 'unreachable' && err.kind !== 'server') return finish(err);
        spec.progress(`${spec.what}: cannot read it right now (${err.message.split(' — ')[0]}); retrying`);
      } else if (++watchFailures === 1) {
        spec.progress(`${spec.what}: the watch failed (${firstLine(err)}); reading it every ${RETRY_MS / 1000} s instead`);
      }
      void informer?.stop();
      informer = undefined;
      clearTimeout(retryTimer);
      retryTimer = setTimeout(start, Math.max(0, Math.min(RETRY_MS, spec.deadline - Date.now())));
    };

    const start = (): void => {
      if (finished) return;
      const list = async (): Promise<K8s.KubernetesListObject<T>> => {
        const result = await spec.list();
        judgeSoon();
        return result;
      };
      const current = new session.k.ListWatch<T>(spec.path, new session.k.Watch(session.kc), list, false, spec.labelSelector, spec.fieldSelector);
      informer = current;
      for (const verb of ['add', 'update', 'delete'] as const) current.on(verb, judgeSoon);
      current.on('error', (err: unknown) => {
        if (informer === current) onError(err);
      });
      current.start().then(
        () => {
          // The informer keeps its watch only once the server has answered: stopped before that, it must be stopped again.
          if (finished || informer !== current) void current.stop();
        },
        (err: unknown) => {
          if (informer === current) onError(err);
        },
      );
    };
    start();
  });
}

/** What to follow: the collection's path, its selection and how to list it. */
export type Source = Pick<FollowSpec<K8s.KubernetesObject, unknown>, 'path' | 'list' | 'labelSelector' | 'fieldSelector'>;

/** The one GMConnector `name` in `namespace` (a field-selected list and watch). */
export function gmConnectorSource(session: Session, signal: AbortSignal | undefined, namespace: string, name: string): Source {
  const fieldSelector = `metadata.name=${name}`;
  return {
    path: `/apis/${GMC_GROUP}/${GMC_VERSION}/namespaces/${encodeURIComponent(namespace)}/${GMC_PLURAL}`,
    fieldSelector,
    list: () =>
      guarded(session, signal, { action: 'reading the GMConnector', verb: 'list', resource: GMC_PLURAL, group: GMC_GROUP, namespace, name, gmc: true }, () =>
        session.custom.listNamespacedCustomObject({ group: GMC_GROUP, version: GMC_VERSION, namespace, plural: GMC_PLURAL, fieldSelector }) as Promise<K8s.KubernetesListObject<K8s.KubernetesObject>>,
      ),
  };
}

/** The Deployments of `namespace` that carry the labels of `labelSelector`. */
export function deploymentSource(session: Session, signal: AbortSignal | undefined, namespace: string, labelSelector: string): Source {
  return {
    path: `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments`,
    labelSelector,
    list: () =>
      guarded(session, signal, { action: 'listing the Deployments', verb: 'list', resource: 'deployments', group: 'apps', namespace }, () =>
        session.apps.listNamespacedDeployment({ namespace, labelSelector }) as Promise<K8s.KubernetesListObject<K8s.KubernetesObject>>,
      ),
  };
}
