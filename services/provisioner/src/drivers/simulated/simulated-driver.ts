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
import { InProcessAccess, type ClusterAccess } from './cluster-access.js';
import type { SharedSimulatedCluster } from './shared-cluster.js';
import { SimulatedCluster } from './simulated-cluster.js';
import { MANAGED_BY, namespaceObjects, STORE_NAMESPACE_LABELS, validateRelease } from './simulated-objects.js';
import type { SimulatedDriverOptions } from './simulated-options.js';
import { SimulatedMetrics } from './simulated-metrics.js';

export { STORE_NAMESPACE_LABELS } from './simulated-objects.js';

/**
 * Whose namespaces a simulated driver makes and sweeps, and, to share one simulated
 * cluster between several drivers, that cluster: one in this process, or the shared
 * one in Redis that every replica and installation pointed at it sees.
 */
export interface SimulatedOwnership extends Partial<Ownership> {
  cluster?: SimulatedCluster;
  shared?: SharedSimulatedCluster;
  /** Autoscaling every store's deployments get when first installed (the simulation's stand-in for an HPA in the chart). */
  autoscaling?: AutoscalingSpec | null;
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
 * The `simulated` cluster driver: a {@link SimulatedCluster} standing in for Kubernetes
 * and Helm, the default where no kubeconfig is set — kept in this process, or shared in
 * Redis ({@link SharedSimulatedCluster}, what the provisioner service uses, so replicas
 * and restarts see one cluster). Each revision of a store is one deployment named
 * `{template}-r{revision}`; its pods are named `{template}-r{revision}-{5 random characters}`.
 *
 * Besides the {@link ClusterDriver} methods it can set a store's CPU load, turn on
 * autoscaling and make pods fail their probes, so the provisioner's rollouts, repairs
 * and rollbacks can be watched (and tested) without a cluster.
 */
export class SimulatedDriver implements ClusterDriver {
  readonly kind = 'simulated' as const;
  private readonly access: ClusterAccess;
  private readonly inProcess: SimulatedCluster | undefined;
  private readonly ownership: Ownership;
  private readonly autoscaling: AutoscalingSpec | null;
  /** Whether this driver made the cluster (and so closes it); a given one is closed by whoever made it. */
  private readonly ownsCluster: boolean;
  /** What the pods report to canary analysis. */
  readonly metrics: SimulatedMetrics;

  constructor(options: Partial<SimulatedDriverOptions> = {}, ownership: SimulatedOwnership = {}) {
    if (ownership.shared) {
      this.access = ownership.shared;
      this.ownsCluster = false;
    } else {
      this.inProcess = ownership.cluster ?? new SimulatedCluster(options);
      this.access = new InProcessAccess(this.inProcess);
      this.ownsCluster = ownership.cluster === undefined;
    }
    this.autoscaling = ownership.autoscaling ?? null;
    this.metrics = new SimulatedMetrics((store) => this.observe(store), options.metrics);
    this.ownership = checkOwnership({
      installationId: ownership.installationId ?? DEFAULT_OWNERSHIP.installationId,
      namespacePrefix: ownership.namespacePrefix ?? DEFAULT_OWNERSHIP.namespacePrefix,
    });
  }

  /** The simulation itself when it runs in this process, for inspection beyond what `observe` reports. */
  get cluster(): SimulatedCluster {
    if (!this.inProcess) throw new Error('the simulated cluster is shared in Redis: read it with read()');
    return this.inProcess;
  }

  /** Whether the cluster is the shared one in Redis. */
  get shared(): boolean {
    return this.inProcess === undefined;
  }

  /** `inspect` over the cluster as it is now (the shared one: as last written). */
  read<T>(inspect: (cluster: SimulatedCluster) => T): Promise<T> {
    this.assertOpen();
    return this.access.read(inspect);
  }

  /**
   * Creates the store's namespace with its labels (the installation id among them), ResourceQuota, LimitRange, a default-deny
   * NetworkPolicy and one allowing the store's own traffic; on an existing namespace,
   * replaces them with these. Rejects with a plain `Error` while the namespace is still
   * terminating, with {@link PermanentDriverError} for limits that are not quantities.
   */
  async ensureNamespace(store: StoreRef, limits: NamespaceLimits): Promise<void> {
    const namespace = this.namespaceOf(store);
    const objects = namespaceObjects(store, limits, this.ownership.installationId);
    await this.access.write((cluster) => {
      const existing = cluster.namespace(namespace);
      const owner = existing?.labels[STORE_NAMESPACE_LABELS.installation];
      if (existing && existing.phase !== 'Terminating' && owner !== undefined && owner !== this.ownership.installationId) {
        throw new PermanentDriverError(`namespace ${namespace} belongs to installation ${owner}; choose another namespace prefix`);
      }
      cluster.ensureNamespace(namespace, objects);
    });
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
    await this.access.write((cluster) => {
      // Throws a plain Error when the namespace is missing or terminating.
      const problem = cluster.quotaProblem(namespace, template, pods);
      if (problem) throw new PermanentDriverError(`release of ${store.name} refused: ${problem}`);
      if (this.autoscaling && cluster.deployments(namespace).length === 0 && !cluster.namespace(namespace)?.autoscaling) {
        cluster.setAutoscaling(namespace, this.autoscaling);
      }
      const listed = new Set(release.revisions.map((revision) => revision.revision));
      for (const deployment of cluster.deployments(namespace)) {
        if (!listed.has(deployment.revision)) cluster.deleteDeployment(namespace, deployment.revision);
      }
      for (const revision of release.revisions) {
        cluster.setDeployment(namespace, { ...revision, template });
      }
      cluster.setRelease(namespace, { host: release.host, secretNames: Object.keys(release.secrets) });
    });
  }

  async observe(store: StoreRef): Promise<ObservedStore> {
    const namespace = this.namespaceOf(store);
    return this.access.read((cluster) => {
      const exists = cluster.namespace(namespace) !== undefined;
      const deployments = cluster.deployments(namespace);
      const revisions: RevisionSpec[] = deployments.map((deployment) => ({
        revision: deployment.revision,
        version: deployment.version,
        replicas: deployment.specReplicas,
        weight: deployment.weight,
      }));
      const pods = cluster.pods(namespace).map(({ name, phase, ready, restarts, revision, startedAt, reason }) => ({
        name,
        phase,
        ready,
        restarts,
        revision,
        startedAt,
        ...(reason ? { reason } : {}),
      }));
      // What the cluster refused: a ReplicaSet that cannot create pods (the quota exceeded).
      const problems = deployments.flatMap((deployment) =>
        deployment.conditions.filter((c) => c.type === 'ReplicaFailure' && c.status === 'True').map((c) => c.message),
      );
      return { namespaceExists: exists, revisions, pods, ...(problems.length ? { problems } : {}) };
    });
  }

  /** Deletes the release and the namespace; resolves once the namespace is gone (after its termination delay). */
  async remove(store: StoreRef): Promise<void> {
    const namespace = this.namespaceOf(store);
    await this.access.deleteNamespace(namespace);
  }

  async killPods(store: StoreRef, count: number): Promise<string[]> {
    const namespace = this.namespaceOf(store);
    if (!Number.isInteger(count) || count < 0) throw new PermanentDriverError(`cannot kill ${count} pods: a whole number of 0 or more is needed`);
    return this.access.write((cluster) => cluster.killPods(namespace, count));
  }

  async holdPods(store: StoreRef, hold: boolean): Promise<void> {
    const namespace = this.namespaceOf(store);
    await this.access.write((cluster) => (hold ? cluster.holds.hold(namespace) : cluster.holds.release(namespace)));
  }

  /** The namespaces labelled with this driver's installation id, terminating ones too. */
  async listStoreNamespaces(): Promise<StoreNamespace[]> {
    this.assertOpen();
    return this.access.read((cluster) => {
      const found: StoreNamespace[] = [];
      for (const name of cluster.namespaceNames()) {
        const snapshot = cluster.namespace(name);
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
    });
  }

  async check(): Promise<void> {
    this.assertOpen();
    // The shared cluster answers only when Redis does.
    await this.access.read(() => undefined);
  }

  /** Clears every timer of the simulation (unless it was given, shared); a `remove` still waiting rejects. Later calls reject. */
  async close(): Promise<void> {
    if (this.ownsCluster) await this.access.close();
  }

  // -------------------------------------------------------------------------
  // Beyond the ClusterDriver interface: load, autoscaling, failures, inspection.
  // -------------------------------------------------------------------------

  /** The store's pods average `cpuPercent` of their CPU request from now on (either cluster); more pods then each use less. */
  async applyLoad(store: StoreRef, cpuPercent: number): Promise<void> {
    const namespace = this.namespaceOf(store);
    await this.access.write((cluster) => cluster.setLoad(namespace, cpuPercent));
  }

  /** As {@link applyLoad}, at once, on a cluster in this process. */
  setLoad(store: StoreRef, cpuPercent: number): void {
    this.cluster.setLoad(this.namespaceOf(store), cpuPercent);
  }

  /** Autoscales each deployment of the store between `min` and `max` towards `targetCpuPercent`; `null` turns it off. */
  async applyAutoscaling(store: StoreRef, spec: AutoscalingSpec | null): Promise<void> {
    const namespace = this.namespaceOf(store);
    await this.access.write((cluster) => cluster.setAutoscaling(namespace, spec));
  }

  /** As {@link applyAutoscaling}, at once, on a cluster in this process. */
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
    return describeStore(this.cluster, this.namespaceOf(store));
  }

  /** As {@link describe}, on either cluster. */
  async inspect(store: StoreRef): Promise<SimulatedStoreDescription | undefined> {
    const namespace = this.namespaceOf(store);
    return this.access.read((cluster) => describeStore(cluster, namespace));
  }

  private assertOpen(): void {
    if (this.access.isClosed) throw new Error('the simulated cluster is closed');
  }

  /** The store's namespace, once the driver is known to be open and the name to be right. */
  private namespaceOf(store: StoreRef): string {
    this.assertOpen();
    return checkStoreNamespace(store.namespace, store.name, this.ownership.namespacePrefix);
  }
}

function describeStore(cluster: SimulatedCluster, namespace: string): SimulatedStoreDescription | undefined {
  const snapshot = cluster.namespace(namespace);
  if (!snapshot) return undefined;
  return { namespace: snapshot, deployments: cluster.deployments(namespace), release: cluster.release(namespace), events: cluster.events(namespace) };
}
