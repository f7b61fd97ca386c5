import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { StorePod, StoreTemplate } from '@flotilla/contracts';
import {
  PermanentDriverError,
  type ClusterDriver,
  type NamespaceLimits,
  type ObservedStore,
  type ReleaseSpec,
  type RevisionSpec,
  type StoreRef,
} from '../cluster-driver.js';
import { ExecHelmRunner, isHelmWaitTimeout, isReleaseLocked, isReleaseNotFound, type HelmRunner } from './helm.js';
import { apiMessage, loadKubernetesApis, statusCode, type KubernetesApis } from './kube-apis.js';
import { MANAGED_BY, NAMESPACE_LABELS, namespaceObjects } from './namespace-objects.js';
import { appSelector, toRevision, toStorePod } from './store-objects.js';
import { checkTemplate, storeNamespace, storeValues } from './store-release.js';

export interface KubernetesDriverOptions {
  /** Kubeconfig of the cluster; without it, `$KUBECONFIG`, `~/.kube/config` or the in-cluster service account. */
  kubeconfigPath?: string;
  /** Directory holding the store charts (`wordpress/`, `medusa/`). */
  chartsDir: string;
  /** The Helm binary (see `helmPath()`); used when no `helm` runner is injected. */
  helmPath: string;
  /** `helm --timeout` of install, upgrade and uninstall. */
  helmTimeoutSeconds: number;
  ingressClassName: string;
  /** StorageClass of the stores' volumes; the cluster's default when unset. */
  storageClassName?: string;
  /** Namespace of the ingress controller, the only source of traffic to a store (default `ingress-nginx`). */
  ingressNamespace?: string;
  /** Operator values per chart (images, sizes, resources) under the ones each release sets. */
  chartValues?: Partial<Record<StoreTemplate, Record<string, unknown>>>;
  /** How long `remove` waits for the namespace to be gone (default 5 minutes). */
  namespaceDeleteTimeoutMs?: number;
  /** How often `remove` looks (default 1 s). */
  namespaceDeletePollMs?: number;
}

/** What tests (or a caller with its own clients) inject instead of the real ones; each has a real default. */
export interface KubernetesDriverDeps {
  /** Default: {@link ExecHelmRunner} of `options.helmPath`. */
  helm?: HelmRunner;
  apis?: KubernetesApis | Promise<KubernetesApis>;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** A whole number in [0, max) — chooses the pods `killPods` deletes. */
  randomInt?: (max: number) => number;
}

/** Time Helm gets beyond its own `--timeout` before it is killed. */
const HELM_KILL_MARGIN_SECONDS = 30;
/** Timeout of Helm's quick reads (`history`). */
const HELM_QUERY_TIMEOUT_MS = 60_000;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The `kubernetes` cluster driver: namespaces, quotas, limit ranges, network policies and
 * pod status through the Kubernetes API; store releases through the Helm CLI and the
 * charts in `chartsDir`. Each store is one Helm release named after the store in
 * namespace `store-{name}`.
 *
 * Every method first checks the store's name and namespace and throws
 * {@link PermanentDriverError} before any API call or Helm run when either is refused.
 * Other failures worth retrying reject with plain errors.
 */
export class KubernetesDriver implements ClusterDriver {
  readonly kind = 'kubernetes' as const;
  private readonly helm: HelmRunner;
  private apisPromise: Promise<KubernetesApis> | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly randomInt: (max: number) => number;
  private readonly ingressNamespace: string;
  private closed = false;

  constructor(
    private readonly options: KubernetesDriverOptions,
    deps: KubernetesDriverDeps = {},
  ) {
    if (!Number.isInteger(options.helmTimeoutSeconds) || options.helmTimeoutSeconds < 1) {
      throw new Error(`helmTimeoutSeconds must be a whole number of seconds, not ${options.helmTimeoutSeconds}`);
    }
    if (!options.ingressClassName) throw new Error('ingressClassName is required');
    this.ingressNamespace = options.ingressNamespace ?? 'ingress-nginx';
    if (!DNS_LABEL.test(this.ingressNamespace)) throw new Error(`ingressNamespace ${JSON.stringify(this.ingressNamespace)} is not a namespace name`);
    this.helm = deps.helm ?? new ExecHelmRunner(options.helmPath);
    this.apisPromise = deps.apis === undefined ? undefined : Promise.resolve(deps.apis);
    this.sleep = deps.sleep ?? ((ms) => delay(ms));
    this.now = deps.now ?? Date.now;
    this.randomInt = deps.randomInt ?? ((max) => randomInt(max));
  }

  /**
   * Creates `store-{name}` (labels `app.kubernetes.io/managed-by=flotilla`,
   * `flotilla.io/store`, `flotilla.io/store-id`, `flotilla.io/team`, `flotilla.io/template`)
   * with its ResourceQuota, LimitRange and NetworkPolicies; objects that exist are
   * replaced with these. Rejects with a plain error while the namespace is terminating
   * and with {@link PermanentDriverError} when it belongs to something else.
   */
  async ensureNamespace(store: StoreRef, limits: NamespaceLimits): Promise<void> {
    this.assertOpen();
    const objects = namespaceObjects(store, limits, this.ingressNamespace);
    const namespace = store.namespace;
    const { core, networking } = await this.apis();

    try {
      await core.createNamespace({ body: objects.namespace });
    } catch (error) {
      if (statusCode(error) !== 409) throw apiError(`create namespace ${namespace}`, error);
      await this.adoptNamespace(store, objects.namespace.metadata?.labels ?? {});
    }

    await createOrReplace(`ResourceQuota ${namespace}/${objects.resourceQuota.metadata?.name}`, objects.resourceQuota, {
      create: (body) => core.createNamespacedResourceQuota({ namespace, body }),
      read: (name) => core.readNamespacedResourceQuota({ name, namespace }),
      replace: (name, body) => core.replaceNamespacedResourceQuota({ name, namespace, body }),
    });
    await createOrReplace(`LimitRange ${namespace}/${objects.limitRange.metadata?.name}`, objects.limitRange, {
      create: (body) => core.createNamespacedLimitRange({ namespace, body }),
      read: (name) => core.readNamespacedLimitRange({ name, namespace }),
      replace: (name, body) => core.replaceNamespacedLimitRange({ name, namespace, body }),
    });
    for (const policy of objects.networkPolicies) {
      await createOrReplace(`NetworkPolicy ${namespace}/${policy.metadata?.name}`, policy, {
        create: (body) => networking.createNamespacedNetworkPolicy({ namespace, body }),
        read: (name) => networking.readNamespacedNetworkPolicy({ name, namespace }),
        replace: (name, body) => networking.replaceNamespacedNetworkPolicy({ name, namespace, body }),
      });
    }
  }

  /**
   * `helm upgrade --install {name} {chartsDir}/{template} --namespace store-{name} --wait`,
   * the values (secrets included) on Helm's standard input, never in its arguments or
   * on disk. Resolves when Helm reports the release deployed (its resources ready);
   * rejects with {@link PermanentDriverError} for a refused release, a quota the store
   * exceeds or a forbidden object, with a plain error otherwise. A release left locked
   * by a Helm process that died (`pending-*` for longer than Helm's timeout) is rolled
   * back, or uninstalled if it never installed, and the upgrade tried once more.
   */
  async apply(store: StoreRef, template: StoreTemplate, release: ReleaseSpec): Promise<void> {
    this.assertOpen();
    const namespace = storeNamespace(store);
    const chart = checkTemplate(template);
    if (store.template !== chart) throw new PermanentDriverError(`store ${store.name} runs ${JSON.stringify(store.template)}, not ${chart}`);
    const values = storeValues(chart, release, { ...this.options, ingressNamespace: this.ingressNamespace });
    const secrets = Object.values(values.secrets as Record<string, string>);
    const timeout = this.options.helmTimeoutSeconds;
    const args = [
      'upgrade',
      '--install',
      store.name,
      join(this.options.chartsDir, chart),
      '--namespace',
      namespace,
      '--wait',
      '--timeout',
      `${timeout}s`,
      '--atomic=false',
      '--values',
      '-',
      ...this.kubeconfigArgs(),
    ];
    const run = (): Promise<unknown> =>
      this.helm.run(args, { stdin: JSON.stringify(values), timeoutMs: (timeout + HELM_KILL_MARGIN_SECONDS) * 1000, redact: secrets });

    try {
      await run();
    } catch (error) {
      if (!isReleaseLocked(error) || !(await this.unlockStaleRelease(store.name, namespace))) return this.settle(store, error);
      try {
        await run();
      } catch (retryError) {
        return this.settle(store, retryError);
      }
    }
  }

  /**
   * A failed upgrade: the release was applied but `--wait` ran out is not an error of
   * `apply` — readiness is the caller's to judge through `observe`, and a revision that
   * never gets ready is rolled back by the rollout. A quota problem is final; anything
   * else is thrown to be retried.
   */
  private async settle(store: StoreRef, error: unknown): Promise<void> {
    const explained = await this.explain(store, error);
    if (isHelmWaitTimeout(error) && !(explained instanceof PermanentDriverError)) return;
    throw explained;
  }

  /**
   * The namespace, the revisions of the app's Deployments (label `flotilla.io/revision`,
   * annotations `flotilla.io/version` and `flotilla.io/weight`) and the app's pods. No
   * secret is read back.
   */
  async observe(store: StoreRef): Promise<ObservedStore> {
    this.assertOpen();
    const namespace = storeNamespace(store);
    const { core, apps } = await this.apis();
    try {
      await core.readNamespace({ name: namespace });
    } catch (error) {
      if (statusCode(error) === 404) return { namespaceExists: false, revisions: [], pods: [] };
      throw apiError(`read namespace ${namespace}`, error);
    }
    const labelSelector = appSelector(store.name);
    const [deployments, pods] = await Promise.all([
      apps.listNamespacedDeployment({ namespace, labelSelector }).catch((error: unknown) => {
        throw apiError(`list deployments of ${namespace}`, error);
      }),
      core.listNamespacedPod({ namespace, labelSelector }).catch((error: unknown) => {
        throw apiError(`list pods of ${namespace}`, error);
      }),
    ]);
    const revisions = deployments.items
      .map(toRevision)
      .filter((revision): revision is RevisionSpec => revision !== undefined)
      .sort((a, b) => a.revision - b.revision);
    const storePods = pods.items
      .map(toStorePod)
      .filter((pod): pod is StorePod => pod !== undefined)
      .sort((a, b) => a.revision - b.revision || a.name.localeCompare(b.name));
    return { namespaceExists: true, revisions, pods: storePods };
  }

  /**
   * `helm uninstall {name} --wait` (a release that is not there is fine), then deletes the
   * namespace and polls until it is gone. Rejects with a plain error when it is still
   * there after `namespaceDeleteTimeoutMs`; calling again carries on.
   */
  async remove(store: StoreRef): Promise<void> {
    this.assertOpen();
    const namespace = storeNamespace(store);
    const { core } = await this.apis();
    const timeout = this.options.helmTimeoutSeconds;
    try {
      await this.helm.run(['uninstall', store.name, '--namespace', namespace, '--wait', '--timeout', `${timeout}s`, ...this.kubeconfigArgs()], {
        timeoutMs: (timeout + HELM_KILL_MARGIN_SECONDS) * 1000,
      });
    } catch (error) {
      if (!isReleaseNotFound(error)) throw error;
    }

    try {
      await core.deleteNamespace({ name: namespace, propagationPolicy: 'Foreground' });
    } catch (error) {
      // 404: already gone; 409: already terminating.
      const code = statusCode(error);
      if (code !== 404 && code !== 409) throw apiError(`delete namespace ${namespace}`, error);
    }

    const deadline = this.now() + (this.options.namespaceDeleteTimeoutMs ?? 300_000);
    const poll = this.options.namespaceDeletePollMs ?? 1_000;
    for (;;) {
      try {
        await core.readNamespace({ name: namespace });
      } catch (error) {
        if (statusCode(error) === 404) return;
        throw apiError(`read namespace ${namespace}`, error);
      }
      if (this.now() >= deadline) throw new Error(`namespace ${namespace} is still terminating after ${this.options.namespaceDeleteTimeoutMs ?? 300_000} ms`);
      await this.sleep(poll);
    }
  }

  /** Deletes up to `count` of the app's running pods, chosen at random; returns the names deleted. */
  async killPods(store: StoreRef, count: number): Promise<string[]> {
    this.assertOpen();
    const namespace = storeNamespace(store);
    if (!Number.isInteger(count) || count < 0) throw new PermanentDriverError(`cannot kill ${count} pods: a whole number of 0 or more is needed`);
    if (count === 0) return [];
    const { core } = await this.apis();
    const pods = await core.listNamespacedPod({ namespace, labelSelector: appSelector(store.name) }).catch((error: unknown) => {
      throw apiError(`list pods of ${namespace}`, error);
    });
    const candidates = pods.items.filter((pod) => pod.metadata?.name && !pod.metadata.deletionTimestamp).map((pod) => pod.metadata?.name as string);
    // Fisher-Yates, then the first `count`.
    for (let i = candidates.length - 1; i > 0; i--) {
      const j = this.randomInt(i + 1);
      [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
    }
    const killed: string[] = [];
    for (const name of candidates.slice(0, count)) {
      try {
        await core.deleteNamespacedPod({ name, namespace });
        killed.push(name);
      } catch (error) {
        if (statusCode(error) !== 404) throw apiError(`delete pod ${namespace}/${name}`, error);
      }
    }
    return killed;
  }

  /** Names of the namespaces labelled `app.kubernetes.io/managed-by=flotilla` (terminating ones too), page by page. */
  async listStoreNamespaces(): Promise<string[]> {
    this.assertOpen();
    const { core } = await this.apis();
    const names: string[] = [];
    let page: string | undefined;
    do {
      const list = await core
        .listNamespace({ labelSelector: `${NAMESPACE_LABELS.managedBy}=${MANAGED_BY}`, limit: 500, _continue: page })
        .catch((error: unknown) => {
          throw apiError('list store namespaces', error);
        });
      for (const namespace of list.items) {
        const name = namespace.metadata?.name;
        if (name?.startsWith('store-')) names.push(name);
      }
      page = list.metadata?._continue || undefined;
    } while (page);
    return names.sort();
  }

  /** The API server answers (`/version`) and lets the driver list namespaces. */
  async check(): Promise<void> {
    this.assertOpen();
    const { core, version } = await this.apis();
    await version.getCode().catch((error: unknown) => {
      throw apiError('reach the Kubernetes API', error);
    });
    await core.listNamespace({ limit: 1 }).catch((error: unknown) => {
      throw apiError('list namespaces', error);
    });
  }

  /**
   * Refuses further calls. Helm processes already running are left to finish: killing
   * one mid-upgrade would leave its release locked.
   */
  async close(): Promise<void> {
    this.closed = true;
  }

  private apis(): Promise<KubernetesApis> {
    this.apisPromise ??= loadKubernetesApis(this.options.kubeconfigPath);
    return this.apisPromise;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the kubernetes driver is closed');
  }

  private kubeconfigArgs(): string[] {
    return this.options.kubeconfigPath ? ['--kubeconfig', this.options.kubeconfigPath] : [];
  }

  /** An existing `store-{name}`: refused unless it is this store's; its labels set to ours (others kept). */
  private async adoptNamespace(store: StoreRef, labels: Record<string, string>): Promise<void> {
    const { core } = await this.apis();
    for (let attempt = 1; ; attempt++) {
      const existing = await core.readNamespace({ name: store.namespace }).catch((error: unknown) => {
        throw apiError(`read namespace ${store.namespace}`, error);
      });
      if (existing.metadata?.deletionTimestamp || existing.status?.phase === 'Terminating') {
        throw new Error(`namespace ${store.namespace} is still terminating; try again once it is gone`);
      }
      const current = existing.metadata?.labels ?? {};
      if (current[NAMESPACE_LABELS.managedBy] !== MANAGED_BY) {
        throw new PermanentDriverError(`namespace ${store.namespace} exists and is not managed by flotilla`);
      }
      const owner = current[NAMESPACE_LABELS.storeId];
      if (owner !== undefined && owner !== store.storeId) {
        throw new PermanentDriverError(`namespace ${store.namespace} belongs to another store (${owner}); remove it first`);
      }
      if (Object.entries(labels).every(([key, value]) => current[key] === value)) return;
      try {
        await core.replaceNamespace({
          name: store.namespace,
          body: { ...existing, metadata: { ...existing.metadata, labels: { ...current, ...labels } } },
        });
        return;
      } catch (error) {
        if (statusCode(error) !== 409 || attempt >= 3) throw apiError(`update namespace ${store.namespace}`, error);
      }
    }
  }

  /**
   * A release locked in `pending-install`, `pending-upgrade` or `pending-rollback` for
   * longer than Helm's timeout (so no live Helm holds it) is unlocked: rolled back to
   * its last release, or uninstalled if it never installed. True when it was.
   */
  private async unlockStaleRelease(release: string, namespace: string): Promise<boolean> {
    const { stdout } = await this.helm.run(['history', release, '--namespace', namespace, '--max', '1', '--output', 'json', ...this.kubeconfigArgs()], {
      timeoutMs: HELM_QUERY_TIMEOUT_MS,
    });
    let last: { status?: string; updated?: string } | undefined;
    try {
      [last] = JSON.parse(stdout) as Array<{ status?: string; updated?: string }>;
    } catch {
      return false;
    }
    if (!last?.status?.startsWith('pending-')) return false;
    const age = this.now() - Date.parse(last.updated ?? '');
    if (!(age > (this.options.helmTimeoutSeconds + HELM_KILL_MARGIN_SECONDS) * 1000)) return false;
    const timeout = this.options.helmTimeoutSeconds;
    const command =
      last.status === 'pending-install'
        ? ['uninstall', release, '--namespace', namespace, '--wait', '--timeout', `${timeout}s`]
        : ['rollback', release, '--namespace', namespace, '--wait', '--timeout', `${timeout}s`];
    await this.helm.run([...command, ...this.kubeconfigArgs()], { timeoutMs: (timeout + HELM_KILL_MARGIN_SECONDS) * 1000 });
    return true;
  }

  /**
   * When Helm gave up waiting, the reason is often a Deployment that cannot create its
   * pods (the quota is full): that is final, so say so with the API's message.
   */
  private async explain(store: StoreRef, error: unknown): Promise<unknown> {
    if (!isHelmWaitTimeout(error)) return error;
    try {
      const { apps } = await this.apis();
      const deployments = await apps.listNamespacedDeployment({ namespace: store.namespace, labelSelector: appSelector(store.name) });
      for (const deployment of deployments.items) {
        const failure = deployment.status?.conditions?.find((condition) => condition.type === 'ReplicaFailure' && condition.status === 'True');
        if (failure?.message && /exceeded quota|forbidden/i.test(failure.message)) {
          return new PermanentDriverError(`store ${store.name}: ${deployment.metadata?.name} cannot create its pods: ${failure.message}`);
        }
      }
    } catch {
      // The timeout stands as the reason.
    }
    return error;
  }
}

/** An API failure with the operation and the server's message; 403 and 422 are final. */
function apiError(operation: string, error: unknown): Error {
  const code = statusCode(error);
  const message = `${operation} failed${code ? ` (HTTP ${code})` : ''}: ${apiMessage(error)}`;
  if (code === 403 || code === 422) return new PermanentDriverError(message, { cause: error });
  return new Error(message, { cause: error });
}

interface ObjectApi<T> {
  create(body: T): Promise<unknown>;
  read(name: string): Promise<T>;
  replace(name: string, body: T): Promise<unknown>;
}

/** Creates `body`; when it exists (409), replaces it with `body` at the current resourceVersion, retrying a lost race. */
async function createOrReplace<T extends { metadata?: { name?: string; resourceVersion?: string } }>(what: string, body: T, api: ObjectApi<T>): Promise<void> {
  const name = body.metadata?.name as string;
  try {
    await api.create(body);
    return;
  } catch (error) {
    if (statusCode(error) !== 409) throw apiError(`create ${what}`, error);
  }
  for (let attempt = 1; ; attempt++) {
    const existing = await api.read(name).catch((error: unknown) => {
      throw apiError(`read ${what}`, error);
    });
    try {
      await api.replace(name, { ...body, metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion } });
      return;
    } catch (error) {
      if (statusCode(error) !== 409 || attempt >= 3) throw apiError(`replace ${what}`, error);
    }
  }
}
