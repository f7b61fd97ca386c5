import type { StoreEnvVar, StorePod, StoreProbe, StoreTemplate } from '@flotilla/contracts';
import type { RevisionMetrics } from './revision-metrics.js';

/**
 * Which store a driver call is about. `namespace` is the one recorded on the store's row:
 * `{prefix}-{name}` with the installation's prefix (`store-{name}` for stores from before
 * prefixes), checked before any call.
 */
export interface StoreRef {
  storeId: string;
  name: string;
  namespace: string;
  teamId: string;
  template: StoreTemplate;
}

/** One revision of a store's release: its version, how many pods, and its share of traffic. */
export interface RevisionSpec {
  revision: number;
  version: string;
  replicas: number;
  /** Percent of the store's traffic this revision receives (0–100); the weights of a release add up to 100. */
  weight: number;
}

/**
 * What the store should run right now. During a rollout two revisions run side by
 * side (blue/green: the new one at weight 0 until it is ready; canary: weighted steps);
 * otherwise one.
 */
export interface ReleaseSpec {
  /** `{name}.{BASE_DOMAIN}`, served by the store's ingress. */
  host: string;
  /** Generated passwords (database, admin); passed to the cluster without touching disk. */
  secrets: Record<string, string>;
  revisions: RevisionSpec[];
  /** What the store's spec sets in the app container (plain env, probes); absent: the chart's own. */
  app?: AppSettings;
}

/** The store spec's env and probes (docs/STORE-SPEC.md), as the charts render them. */
export interface AppSettings {
  env: StoreEnvVar[];
  readinessProbe?: StoreProbe;
  livenessProbe?: StoreProbe;
}

/** A store namespace of this installation, as the orphan sweep sees it. */
export interface StoreNamespace {
  name: string;
  /** Its `flotilla.io/installation` label: the installation that created it. */
  installation: string;
  /** Its `flotilla.io/store-id` label, when it has one. */
  storeId?: string;
  /** Its `flotilla.io/store` label (the store's name, which is its release's), when it has one. */
  storeName?: string;
  createdAt: Date;
  terminating: boolean;
}

export interface ObservedStore {
  namespaceExists: boolean;
  /** The revisions the cluster runs, as the driver last applied them (empty when nothing is installed). */
  revisions: RevisionSpec[];
  pods: StorePod[];
  /** What the cluster refused for the store (a ReplicaSet failing to create pods: the quota exceeded), when the driver knows. */
  problems?: string[];
}

/** Resource guardrails of a store's namespace (the seed's numbers as defaults). */
export interface NamespaceLimits {
  pods: number;
  requestsCpu: string;
  requestsMemory: string;
  limitsCpu: string;
  limitsMemory: string;
  persistentVolumeClaims: number;
  requestsStorage: string;
  /** LimitRange: container defaults. */
  defaultCpu: string;
  defaultMemory: string;
  defaultRequestCpu: string;
  defaultRequestMemory: string;
}

export const DEFAULT_NAMESPACE_LIMITS: NamespaceLimits = {
  pods: 20,
  requestsCpu: '2',
  requestsMemory: '4Gi',
  limitsCpu: '4',
  limitsMemory: '8Gi',
  persistentVolumeClaims: 5,
  requestsStorage: '20Gi',
  defaultCpu: '500m',
  defaultMemory: '512Mi',
  defaultRequestCpu: '100m',
  defaultRequestMemory: '128Mi',
};

/** A failure the driver knows to be the caller's fault or final (quota exceeded, bad chart): retrying will not help. */
export class PermanentDriverError extends Error {
  override readonly name = 'PermanentDriverError';
}

/**
 * A cluster that runs stores. Every method is idempotent: the provisioner calls them
 * again after a crash or a retry, and the reconcile loop calls them to repair drift.
 * Implementations: `simulated` (in process) and `kubernetes` (Kubernetes API + Helm).
 */
export interface ClusterDriver {
  readonly kind: 'simulated' | 'kubernetes';

  /**
   * The store's namespace with its labels (the installation's id among them),
   * ResourceQuota, LimitRange, a default-deny NetworkPolicy and the store's own
   * allowances. Rejects with a plain (retryable) error while a namespace of that name is
   * terminating, and with {@link PermanentDriverError} when it belongs to another store or installation.
   */
  ensureNamespace(store: StoreRef, limits: NamespaceLimits): Promise<void>;

  /**
   * Makes the store run exactly `release` (installs or upgrades; revisions not listed
   * are removed). Resolves once the cluster has accepted it — not once pods are ready:
   * readiness is watched with {@link observe}. Rejects when the cluster refuses it.
   */
  apply(store: StoreRef, template: StoreTemplate, release: ReleaseSpec): Promise<void>;

  /** The namespace, the applied revisions and every pod with its phase, readiness, restarts and revision. */
  observe(store: StoreRef): Promise<ObservedStore>;

  /** Removes the release, then the namespace; resolves once both are gone. Idempotent. */
  remove(store: StoreRef): Promise<void>;

  /** Chaos: deletes up to `count` of the store's pods at random; returns their names. */
  killPods(store: StoreRef, count: number): Promise<string[]>;

  /** Chaos, where the driver can: keeps the store's pods from being scheduled (`true`) or lets them be again. */
  holdPods?(store: StoreRef, hold: boolean): Promise<void>;

  /** The revisions' error rate and latency, for canary analysis; absent when the driver has no source configured. */
  readonly metrics?: RevisionMetrics;

  /**
   * The store namespaces labelled with this driver's installation id (for finding
   * orphans); namespaces of other installations, or without the label, are never listed.
   */
  listStoreNamespaces(): Promise<StoreNamespace[]>;

  /** Readiness of the driver itself (the API server answers, or the simulation runs). */
  check(): Promise<void>;

  /** Stops timers and connections. */
  close(): Promise<void>;
}
