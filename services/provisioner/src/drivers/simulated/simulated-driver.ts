import type { StoreTemplate } from '@flotilla/contracts';
import {
  PermanentDriverError,
  type ClusterDriver,
  type NamespaceLimits,
  type ObservedStore,
  type ReleaseSpec,
  type RevisionSpec,
  type StoreRef,
} from '../cluster-driver.js';
import { parseCpu, parseMemory } from './quantity.js';
import {
  SimulatedCluster,
  type AutoscalingSpec,
  type ClusterEvent,
  type DeploymentSnapshot,
  type NamespaceObjects,
  type NamespaceSnapshot,
} from './simulated-cluster.js';
import type { SimulatedDriverOptions } from './simulated-options.js';

/** Labels every store namespace carries; `listStoreNamespaces` finds them by the first. */
export const STORE_NAMESPACE_LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  storeId: 'flotilla.io/store-id',
  store: 'flotilla.io/store',
  teamId: 'flotilla.io/team',
  template: 'flotilla.io/template',
} as const;

const MANAGED_BY = 'flotilla';
/** Where the simulated store allowances let traffic in from. */
const INGRESS_NAMESPACE = 'ingress-nginx';

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

  constructor(options: Partial<SimulatedDriverOptions> = {}) {
    this.cluster = new SimulatedCluster(options);
  }

  /**
   * Creates `store-{name}` with its labels, ResourceQuota, LimitRange, a default-deny
   * NetworkPolicy and one allowing the store's own traffic; on an existing namespace,
   * replaces them with these. Rejects with a plain `Error` while the namespace is still
   * terminating, with {@link PermanentDriverError} for limits that are not quantities.
   */
  async ensureNamespace(store: StoreRef, limits: NamespaceLimits): Promise<void> {
    const namespace = this.namespaceOf(store);
    this.cluster.ensureNamespace(namespace, namespaceObjects(store, limits));
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
    const pods = this.cluster.pods(namespace).map(({ name, phase, ready, restarts, revision, startedAt }) => ({
      name,
      phase,
      ready,
      restarts,
      revision,
      startedAt,
    }));
    return { namespaceExists: exists, revisions, pods };
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

  async listStoreNamespaces(): Promise<string[]> {
    this.assertOpen();
    return this.cluster
      .namespaceNames()
      .filter((name) => name.startsWith('store-') && this.cluster.namespace(name)?.labels[STORE_NAMESPACE_LABELS.managedBy] === MANAGED_BY);
  }

  async check(): Promise<void> {
    this.assertOpen();
  }

  /** Clears every timer of the simulation; a `remove` still waiting rejects. Later calls reject. */
  async close(): Promise<void> {
    this.cluster.close();
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
    if (store.namespace !== `store-${store.name}`) {
      throw new PermanentDriverError(`namespace "${store.namespace}" is not store-${store.name}`);
    }
    return store.namespace;
  }
}

/** The namespace's labels, quota, limit range and network policies for `limits`. */
function namespaceObjects(store: StoreRef, limits: NamespaceLimits): NamespaceObjects {
  if (!Number.isInteger(limits.pods) || limits.pods < 0) throw new PermanentDriverError(`pods limit ${limits.pods} is not a whole number`);
  if (!Number.isInteger(limits.persistentVolumeClaims) || limits.persistentVolumeClaims < 0) {
    throw new PermanentDriverError(`persistentVolumeClaims limit ${limits.persistentVolumeClaims} is not a whole number`);
  }
  // Refuse what the cluster could not parse before anything is recorded.
  for (const cpu of [limits.requestsCpu, limits.limitsCpu, limits.defaultCpu, limits.defaultRequestCpu]) parseCpu(cpu);
  for (const memory of [limits.requestsMemory, limits.limitsMemory, limits.requestsStorage, limits.defaultMemory, limits.defaultRequestMemory]) {
    parseMemory(memory);
  }
  const storeTraffic = { matchLabels: {} };
  return {
    labels: {
      [STORE_NAMESPACE_LABELS.managedBy]: MANAGED_BY,
      [STORE_NAMESPACE_LABELS.storeId]: store.storeId,
      [STORE_NAMESPACE_LABELS.store]: store.name,
      [STORE_NAMESPACE_LABELS.teamId]: store.teamId,
      [STORE_NAMESPACE_LABELS.template]: store.template,
    },
    resourceQuota: {
      name: 'store-quota',
      hard: {
        pods: String(limits.pods),
        'requests.cpu': limits.requestsCpu,
        'requests.memory': limits.requestsMemory,
        'limits.cpu': limits.limitsCpu,
        'limits.memory': limits.limitsMemory,
        persistentvolumeclaims: String(limits.persistentVolumeClaims),
        'requests.storage': limits.requestsStorage,
      },
    },
    limitRange: {
      name: 'store-limits',
      limits: [
        {
          type: 'Container',
          default: { cpu: limits.defaultCpu, memory: limits.defaultMemory },
          defaultRequest: { cpu: limits.defaultRequestCpu, memory: limits.defaultRequestMemory },
        },
      ],
    },
    networkPolicies: [
      { name: 'default-deny', podSelector: { matchLabels: {} }, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] },
      {
        name: 'allow-store',
        podSelector: { matchLabels: {} },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          { from: [{ podSelector: storeTraffic }] },
          { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': INGRESS_NAMESPACE } } }] },
        ],
        egress: [
          { to: [{ podSelector: storeTraffic }] },
          {
            to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } } }],
            ports: [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 53 },
            ],
          },
        ],
      },
    ],
  };
}

/** Refuses a release the cluster could never run as given. */
function validateRelease(release: ReleaseSpec): void {
  const refuse = (why: string): never => {
    throw new PermanentDriverError(`release refused: ${why}`);
  };
  if (typeof release.host !== 'string' || release.host.length === 0) refuse('the host is empty');
  const seen = new Set<number>();
  for (const revision of release.revisions) {
    if (!Number.isInteger(revision.revision) || revision.revision < 1) refuse(`revision ${revision.revision} is not a whole number of 1 or more`);
    if (seen.has(revision.revision)) refuse(`revision ${revision.revision} is listed twice`);
    seen.add(revision.revision);
    if (typeof revision.version !== 'string' || revision.version.length === 0) refuse(`revision ${revision.revision} has no version`);
    if (!Number.isInteger(revision.replicas) || revision.replicas < 0) refuse(`revision ${revision.revision} asks for ${revision.replicas} replicas`);
    if (!Number.isFinite(revision.weight) || revision.weight < 0 || revision.weight > 100) {
      refuse(`revision ${revision.revision} has weight ${revision.weight}, not 0 to 100`);
    }
  }
  const total = release.revisions.reduce((sum, revision) => sum + revision.weight, 0);
  if (release.revisions.length > 0 && Math.abs(total - 100) > 1e-6) refuse(`the weights add up to ${total}, not 100`);
}
