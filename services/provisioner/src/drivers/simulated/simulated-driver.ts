import type { StoreTemplate } from '@flotilla/contracts';
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
import { checkOwnership, checkStoreNamespace, DEFAULT_OWNERSHIP, type Ownership } from '../ownership.js';
import type { AutoscalingSpec, ClusterEvent, DeploymentSnapshot, NamespaceSnapshot } from './cluster-shapes.js';
import { SimulatedCluster } from './simulated-cluster.js';
import { MANAGED_BY, namespaceObjects, STORE_NAMESPACE_LABELS, validateRelease } from './simulated-objects.js';
import type { SimulatedDriverOptions } from './simulated-options.js';

export { STORE_NAMESPACE_LABELS } from './simulated-objects.js';

/** Whose namespaces a simulated driver makes and sweeps, and, to share one simulated cluster between several drivers, that cluster. */
export interface SimulatedOwnership extends Partial<Ownership> {
  cluster?: SimulatedCluster;
}

/** Everything the simulated cluster holds for one store, for tests and demos to inspect. */
export interface SimulatedStoreDescription {
  namespace: NamespaceSnapshot;
  deployments: DeploymentSnapshot[];
  /** The host and the names (never the values) of the secrets of the last applied release. */
  release: { host: string; secretNames: string[] } | null;
  events: ClusterEvent[];
}

/**
 * The `simulated` cluster driver: one in-process {@link SimulatedCluster} standing in for
 * Kubernetes and Helm, the default where no kubeconfig is set. Each revision of a store
 * is one deployment named `{template}-r{revision}`; its pods are named
 * `{template}-r{revision}-{5 random characters}`.
 *
 * Besides the {@link ClusterDriver} methods it can set a store's CPU load, turn on
 * autoscaling and make pods fail their probes, so the provisioner's rollouts, repairs
 * and rollbacks can be watched (and tested) without a cluster.
 */
export class SimulatedDriver implements ClusterDriver {
  readonly kind = 'simulated' as const;
  /** The simulation itself, for inspection beyond what `observe` reports. */
  readonly cluster: SimulatedCluster;
  /** Host and secrets of each namespace's last release (the secret values stay in memory only). */
  private readonly releases = new Map<string, { host: string; secrets: Record<string, string> }>();

  private readonly ownership: Ownership;
  /** Whether this driver made the cluster (and so closes it); a shared one is closed by whoever made it. */
  private readonly ownsCluster: boolean;

  constructor(options: Partial<SimulatedDriverOptions> = {}, ownership: SimulatedOwnership = {}) {
    this.ownsCluster = ownership.cluster === undefined;
    this.cluster = ownership.cluster ?? new SimulatedCluster(options);
    this.ownership = checkOwnership({
      installationId: ownership.installationId ?? DEFAULT_OWNERSHIP.installationId,
      namespacePrefix: ownership.namespacePrefix ?? DEFAULT_OWNERSHIP.namespacePrefix,
    });
  }

  /**
   * Creates the store's namespace with its labels (the installation id among them), ResourceQuota, LimitRange, a default-deny
   * NetworkPolicy and one allowing the store's own traffic; on an existing namespace,
   * replaces them with these. Rejects with a plain `Error` while the namespace is still
   * terminating, with {@link PermanentDriverError} for limits that are not quantities.
   */
  async ensureNamespace(store: StoreRef, limits: NamespaceLimits): Promise<void> {
    const namespace = this.namespaceOf(store);
    const existing = this.cluster.namespace(namespace);
    const owner = existing?.labels[STORE_NAMESPACE_LABELS.installation];
    if (existing && existing.phase !== 'Terminating' && owner !== undefined && owner !== this.ownership.installationId) {
      throw new PermanentDriverError(`namespace ${namespace} belongs to installation ${owner}; choose another namespace prefix`);
    }
    this.cluster.ensureNamespace(namespace, namespaceObjects(store, limits, this.ownership.installationId));
  }

  /**
   * Sets the store's deployments to `release`: creates or updates one per revision and
   * deletes those of revisions not listed. Resolves once accepted (pods are then
   * starting). Rejects with a plain `Error` (worth retrying) when the namespace does
   * not exist or is terminating, and with {@link PermanentDriverError} for a release
   * that is malformed or needs more than the namespace's quota.
   */
  async apply(store: StoreRef, template: StoreTemplate, release: ReleaseSpec): Promise<void> {
    const namespace = this.namespaceOf(store);
    validateRelease(release);
    const pods = release.revisions.reduce((sum, revision) => sum + revision.replicas, 0);
    // Throws a plain Error when the namespace is missing or terminating.
    const problem = this.cluster.quotaProblem(namespace, template, pods);
    if (problem) throw new PermanentDriverError(`release of ${store.name} refused: ${problem}`);
    const listed = new Set(release.revisions.map((revision) => revision.revision));
    for (const deployment of this.cluster.deployments(namespace)) {
      if (!listed.has(deployment.revision)) this.cluster.deleteDeployment(namespace, deployment.revision);
    }
    for (const revision of release.revisions) {
      this.cluster.setDeployment(namespace, { ...revision, template });
    }
    this.releases.set(namespace, { host: release.host, secrets: { ...release.secrets } });
  }

  async observe(store: StoreRef): Promise<ObservedStore> {
    const namespace = this.namespaceOf(store);
    const exists = this.cluster.namespace(namespace) !== undefined;
    const revisions: RevisionSpec[] = this.cluster.deployments(namespace).map((deployment) => ({
      revision: deployment.revision,
      version: deployment.version,
      replicas: deployment.specReplicas,
      weight: deployment.weight,
    }));
    const pods = this.cluster.pods(namespace).map(({ name, phase, ready, restarts, revision, startedAt, reason }) => ({
      name,
      phase,
      ready,
      restarts,
      revision,
      startedAt,
      ...(reason ? { reason } : {}),
    }));
    // What the cluster refused: a ReplicaSet that cannot create pods (the quota exceeded).
    const problems = this.cluster
      .deployments(namespace)
      .flatMap((deployment) => deployment.conditions.filter((c) => c.type === 'ReplicaFailure' && c.status === 'True').map((c) => c.message));
    return { namespaceExists: exists, revisions, pods, ...(problems.length ? { problems } : {}) };
  }

  /** Deletes the release and the namespace; resolves once the namespace is gone (after its termination delay). */
  async remove(store: StoreRef): Promise<void> {
    const namespace = this.namespaceOf(store);
    this.releases.delete(namespace);
    await this.cluster.deleteNamespace(namespace);
  }

  async killPods(store: StoreRef, count: number): Promise<string[]> {
    const namespace = this.namespaceOf(store);
    if (!Number.isInteger(count) || count < 0) throw new PermanentDriverError(`cannot kill ${count} pods: a whole number of 0 or more is needed`);
    return this.cluster.killPods(namespace, count);
  }

  async holdPods(store: StoreRef, hold: boolean): Promise<void> {
    const namespace = this.namespaceOf(store);
    if (hold) this.cluster.holds.hold(namespace);
    else this.cluster.holds.release(namespace);
  }

  /** The namespaces labelled with this driver's installation id, terminating ones too. */
  async listStoreNamespaces(): Promise<StoreNamespace[]> {
    this.assertOpen();
    const found: StoreNamespace[] = [];
    for (const name of this.cluster.namespaceNames()) {
      const snapshot = this.cluster.namespace(name);
      const labels = snapshot?.labels ?? {};
      if (!snapshot || labels[STORE_NAMESPACE_LABELS.managedBy] !== MANAGED_BY || labels[STORE_NAMESPACE_LABELS.installation] !== this.ownership.installationId) continue;
      const storeId = labels[STORE_NAMESPACE_LABELS.storeId];
      found.push({
        name,
        installation: this.ownership.installationId,
        ...(storeId ? { storeId } : {}),
        ...(labels[STORE_NAMESPACE_LABELS.store] ? { storeName: labels[STORE_NAMESPACE_LABELS.store] } : {}),
        createdAt: new Date(snapshot.createdAt),
        terminating: snapshot.phase === 'Terminating',
      });
    }
    return found;
  }

  async check(): Promise<void> {
    this.assertOpen();
  }

  /** Clears every timer of the simulation (unless it was given, shared); a `remove` still waiting rejects. Later calls reject. */
  async close(): Promise<void> {
    if (this.ownsCluster) this.cluster.close();
    this.releases.clear();
  }

  // -------------------------------------------------------------------------
  // Beyond the ClusterDriver interface: load, autoscaling, failures, inspection.
  // -------------------------------------------------------------------------

  /** The store's pods average `cpuPercent` of their CPU request now; more pods then each use less. */
  setLoad(store: StoreRef, cpuPercent: number): void {
    this.cluster.setLoad(this.namespaceOf(store), cpuPercent);
  }

  /** Autoscales each deployment of the store between `min` and `max` towards `targetCpuPercent`; `null` turns it off. */
  setAutoscaling(store: StoreRef, spec: AutoscalingSpec | null): void {
    this.cluster.setAutoscaling(this.namespaceOf(store), spec);
  }

  /** Makes one pod fail its liveness probe (or pass again with `failing = false`): it restarts with growing backoff. */
  failLiveness(store: StoreRef, podName: string, failing = true): void {
    this.cluster.setLivenessFailing(this.namespaceOf(store), podName, failing);
  }

  /** Makes every pod of `version` fail its readiness probe (or pass again), like the `failingVersions` option. */
  setVersionFailing(version: string, failing = true): void {
    this.cluster.setVersionFailing(version, failing);
  }

  /** The store's namespace, deployments, release and events; undefined when the namespace does not exist. */
  describe(store: StoreRef): SimulatedStoreDescription | undefined {
    const namespace = this.namespaceOf(store);
    const snapshot = this.cluster.namespace(namespace);
    if (!snapshot) return undefined;
    const release = this.releases.get(namespace);
    return {
      namespace: snapshot,
      deployments: this.cluster.deployments(namespace),
      release: release ? { host: release.host, secretNames: Object.keys(release.secrets).sort() } : null,
      events: this.cluster.events(namespace),
    };
  }

  private assertOpen(): void {
    if (this.cluster.isClosed) throw new Error('the simulated cluster is closed');
  }

  /** The store's namespace, once the driver is known to be open and the name to be right. */
  private namespaceOf(store: StoreRef): string {
    this.assertOpen();
    return checkStoreNamespace(store.namespace, store.name, this.ownership.namespacePrefix);
  }
}
