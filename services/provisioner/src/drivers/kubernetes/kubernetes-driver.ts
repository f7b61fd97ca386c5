import { randomInt } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { StorePod, StoreTemplate } from '@flotilla/contracts';
import {
  PermanentDriverError,
  type ClusterDriver,
  type NamespaceLimits,
  type ObservedStore,
  type ReleaseSpec,
  type RevisionSpec,
  type StoreNamespace,
  type StoreRef,
} from '../cluster-driver.js';
import { checkOwnership, DEFAULT_OWNERSHIP, type Ownership } from '../ownership.js';
import { apiError } from './api-errors.js';
import { ExecHelmRunner, type HelmRunner } from './helm.js';
import { loadKubernetesApis, statusCode, type KubernetesApis } from './kube-apis.js';
import type { StoreAccess } from './namespace-objects.js';
import { StoreNamespaces } from './namespaces.js';
import { StoreReleases } from './releases.js';
import { appSelector, replicaFailures, toRevision, toStorePod } from './store-objects.js';
import { checkTemplate, storeNamespace } from './store-release.js';
import type { RevisionMetrics } from '../revision-metrics.js';

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
  /** Bound in each store namespace before anything else is done there (deploy/README.md, RBAC); no binding when unset. */
  storeAccess?: StoreAccess;
  /** Operator values per chart (images, sizes, resources) under the ones each release sets. */
  chartValues?: Partial<Record<StoreTemplate, Record<string, unknown>>>;
  /** How long `remove` waits for the namespace to be gone (default 5 minutes). */
  namespaceDeleteTimeoutMs?: number;
  /** How often `remove` looks (default 1 s). */
  namespaceDeletePollMs?: number;
  /** The label `flotilla.io/installation` of every namespace this driver creates, and the only ones it lists (default `flotilla`). */
  installationId?: string;
  /** New store namespaces are `{namespacePrefix}-{name}` (default `store`). */
  namespacePrefix?: string;
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

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The `kubernetes` cluster driver: namespaces, quotas, limit ranges, network policies and
 * pod status through the Kubernetes API ({@link StoreNamespaces}); store releases through
 * the Helm CLI and the charts in `chartsDir` ({@link StoreReleases}). Each store is one
 * Helm release named after the store in the namespace its row records
 * (`{namespacePrefix}-{name}`, or `store-{name}` for stores from before prefixes); every
 * namespace carries the installation's id.
 *
 * Every method first checks the store's name and namespace and throws
 * {@link PermanentDriverError} before any API call or Helm run when either is refused.
 * Other failures worth retrying reject with plain errors.
 */
export class KubernetesDriver implements ClusterDriver {
  readonly kind = 'kubernetes' as const;
  private apisPromise: Promise<KubernetesApis> | undefined;
  private readonly randomInt: (max: number) => number;
  private readonly ownership: Ownership;
  private readonly namespaces: StoreNamespaces;
  private readonly releases: StoreReleases;
  private closed = false;
  /** Canary analysis's source (Prometheus), when one is configured. */
  metrics?: RevisionMetrics;

  constructor(
    private readonly options: KubernetesDriverOptions,
    deps: KubernetesDriverDeps = {},
  ) {
    if (!Number.isInteger(options.helmTimeoutSeconds) || options.helmTimeoutSeconds < 1) {
      throw new Error(`helmTimeoutSeconds must be a whole number of seconds, not ${options.helmTimeoutSeconds}`);
    }
    if (!options.ingressClassName) throw new Error('ingressClassName is required');
    const ingressNamespace = options.ingressNamespace ?? 'ingress-nginx';
    if (!DNS_LABEL.test(ingressNamespace)) throw new Error(`ingressNamespace ${JSON.stringify(ingressNamespace)} is not a namespace name`);
    this.ownership = checkOwnership({
      installationId: options.installationId ?? DEFAULT_OWNERSHIP.installationId,
      namespacePrefix: options.namespacePrefix ?? DEFAULT_OWNERSHIP.namespacePrefix,
    });
    this.apisPromise = deps.apis === undefined ? undefined : Promise.resolve(deps.apis);
    const now = deps.now ?? Date.now;
    const apis = (): Promise<KubernetesApis> => this.apis();
    this.randomInt = deps.randomInt ?? ((max) => randomInt(max));
    this.namespaces = new StoreNamespaces({
      ownership: this.ownership,
      ingressNamespace,
      access: options.storeAccess,
      deleteTimeoutMs: options.namespaceDeleteTimeoutMs ?? 300_000,
      deletePollMs: options.namespaceDeletePollMs ?? 1_000,
      apis,
      sleep: deps.sleep ?? ((ms) => delay(ms)),
      now,
    });
    this.releases = new StoreReleases({
      helm: deps.helm ?? new ExecHelmRunner(options.helmPath),
      chartsDir: options.chartsDir,
      helmTimeoutSeconds: options.helmTimeoutSeconds,
      kubeconfigPath: options.kubeconfigPath,
      values: { ...options, ingressNamespace, installation: this.ownership.installationId },
      apis,
      now,
    });
  }

  /**
   * Creates the store's namespace (labels `app.kubernetes.io/managed-by=flotilla`,
   * `flotilla.io/installation`, `flotilla.io/store`, `flotilla.io/store-id`,
   * `flotilla.io/team`, `flotilla.io/template`) with its ResourceQuota, LimitRange and
   * NetworkPolicies; objects that exist are replaced with these. Rejects with a plain
   * error while the namespace is terminating and with {@link PermanentDriverError} when it
   * belongs to something else (another store, another installation, not flotilla).
   */
  async ensureNamespace(store: StoreRef, limits: NamespaceLimits): Promise<void> {
    this.namespaceOf(store);
    await this.namespaces.ensure(store, limits);
  }

  /**
   * Installs or upgrades the store's Helm release; see {@link StoreReleases.apply}.
   * Rejects with {@link PermanentDriverError} for a refused release, a quota the store
   * exceeds or a forbidden object, with a plain error otherwise (a namespace being
   * terminated included).
   */
  async apply(store: StoreRef, template: StoreTemplate, release: ReleaseSpec): Promise<void> {
    const namespace = this.namespaceOf(store);
    const chart = checkTemplate(template);
    if (store.template !== chart) throw new PermanentDriverError(`store ${store.name} runs ${JSON.stringify(store.template)}, not ${chart}`);
    await this.releases.apply(store, namespace, chart, release);
  }

  /**
   * The namespace, the revisions of the app's Deployments (label `flotilla.io/revision`,
   * annotations `flotilla.io/version` and `flotilla.io/weight`) and the app's pods. No
   * secret is read back.
   */
  async observe(store: StoreRef): Promise<ObservedStore> {
    const namespace = this.namespaceOf(store);
    const { core, apps } = await this.apis();
    if (!(await this.namespaces.exists(namespace))) return { namespaceExists: false, revisions: [], pods: [] };
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
    const problems = replicaFailures(deployments.items);
    return { namespaceExists: true, revisions, pods: storePods, ...(problems.length ? { problems } : {}) };
  }

  /**
   * `helm uninstall {name} --wait` (a release that is not there is fine), then deletes the
   * namespace and polls until it is gone. Rejects with a plain error when it is still
   * there after `namespaceDeleteTimeoutMs`; calling again carries on.
   */
  async remove(store: StoreRef): Promise<void> {
    const namespace = this.namespaceOf(store);
    await this.releases.uninstall(store, namespace);
    await this.namespaces.delete(namespace);
  }

  /** Deletes up to `count` of the app's running pods, chosen at random; returns the names deleted. */
  async killPods(store: StoreRef, count: number): Promise<string[]> {
    const namespace = this.namespaceOf(store);
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

  /** The namespaces of this installation (label `flotilla.io/installation`), terminating ones too. */
  async listStoreNamespaces(): Promise<StoreNamespace[]> {
    this.assertOpen();
    return this.namespaces.list();
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

  /** The store's namespace, once the driver is open and the name and namespace are right for this installation. */
  private namespaceOf(store: StoreRef): string {
    this.assertOpen();
    return storeNamespace(store, this.ownership.namespacePrefix);
  }
}
