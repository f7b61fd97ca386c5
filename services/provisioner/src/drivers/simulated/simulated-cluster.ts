import type { StoreTemplate } from '@flotilla/contracts';
import { exceededQuota, firstExceeded, podResources, sumUsage, usedQuantities, type Resources, type Usage } from './quota.js';
import { nameSuffix } from './random.js';
import { podReason, SchedulingHolds } from './scheduling-holds.js';
import { resolveSimulatedOptions, type ResolvedSimulatedOptions, type SimulatedDriverOptions } from './simulated-options.js';
import type {
  AutoscalingSpec,
  ClusterEvent,
  ContainerState,
  DeploymentCondition,
  DeploymentSnapshot,
  DeploymentSpec,
  NamespaceObjects,
  NamespaceSnapshot,
  PodSnapshot,
} from './cluster-shapes.js';

// ---------------------------------------------------------------------------
// Internal state.
// ---------------------------------------------------------------------------

interface Timer {
  handle: unknown;
}

interface Pod {
  name: string;
  revision: number;
  version: string;
  template: StoreTemplate;
  resources: Resources;
  createdAt: number;
  phase: 'Pending' | 'Running';
  container: ContainerState;
  ready: boolean;
  restarts: number;
  startedAt: number | null;
  readyAt: number | null;
  livenessFailing: boolean;
  /** Liveness failures since the container last passed its liveness probe: the backoff exponent. */
  crashes: number;
  nextRestartAt: number | null;
  timer: Timer | null;
}

interface Deployment {
  spec: DeploymentSpec;
  replicas: number;
  /** Autoscaling recommendations within the stabilisation window. */
  recommendations: Array<{ at: number; replicas: number }>;
  replicaFailure: string | null;
}

interface Namespace {
  name: string;
  phase: 'Active' | 'Terminating';
  createdAt: number;
  objects: NamespaceObjects;
  deployments: Map<number, Deployment>;
  pods: Map<string, Pod>;
  autoscaling: AutoscalingSpec | null;
  /** The template installed (set by the first deployment): its database pods count against the quota from then on. */
  template: StoreTemplate | null;
  /** CPU demand in percent of one pod's request (90 % on each of two pods is 180). */
  cpuDemand: number;
  events: ClusterEvent[];
  /** Set while the namespace is Terminating: the wait callers share, and how close() ends it. */
  termination: { promise: Promise<void>; reject: (error: Error) => void } | null;
}

const MAX_EVENTS_PER_NAMESPACE = 200;

function deploymentName(spec: Pick<DeploymentSpec, 'template' | 'revision'>): string {
  return `${spec.template}-r${spec.revision}`;
}

function formatDelay(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))}s` : `${Math.round(ms)}ms`;
}

/**
 * An in-process, Kubernetes-like cluster: namespaces with a ResourceQuota, deployments
 * per revision, pods going Pending → Running → Ready, readiness and liveness probes,
 * CrashLoopBackOff restarts, a ReplicaSet-like controller, HPA-like autoscaling and
 * chaos kills. Runs on timers only (no I/O); with a seeded `random` and a manual
 * scheduler, a run is exactly repeatable.
 *
 * Timers run while at least one namespace exists; {@link close} clears them all.
 */
export class SimulatedCluster {
  readonly options: ResolvedSimulatedOptions;
  private readonly namespaces = new Map<string, Namespace>();
  private readonly failingVersions: Set<string>;
  private readonly timers = new Set<Timer>();
  private probeTimer: Timer | null = null;
  private controllerTimer: Timer | null = null;
  private closed = false;
  /** Chaos: namespaces whose pods are kept from starting. */
  readonly holds = new SchedulingHolds();

  constructor(options: Partial<SimulatedDriverOptions> = {}) {
    this.options = resolveSimulatedOptions(options);
    this.failingVersions = new Set(this.options.failingVersions);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Timers the simulation has set and not yet run or cleared. */
  get activeTimers(): number {
    return this.timers.size;
  }

  // -------------------------------------------------------------------------
  // Namespaces
  // -------------------------------------------------------------------------

  /**
   * Creates the namespace with its objects, or replaces the objects of an existing one
   * (pods already running stay, even above a lowered quota, as in Kubernetes). Throws a
   * plain `Error` while the namespace is still terminating.
   */
  ensureNamespace(name: string, objects: NamespaceObjects): void {
    this.assertOpen();
    const existing = this.namespaces.get(name);
    if (existing?.phase === 'Terminating') {
      throw new Error(`namespace "${name}" is being terminated; it can be created again once it is gone`);
    }
    if (existing) {
      existing.objects = structuredClone(objects);
      return;
    }
    this.namespaces.set(name, {
      name,
      phase: 'Active',
      createdAt: this.now(),
      objects: structuredClone(objects),
      deployments: new Map(),
      pods: new Map(),
      autoscaling: null,
      template: null,
      cpuDemand: 0,
      events: [],
      termination: null,
    });
    this.startLoops();
  }

  namespace(name: string): NamespaceSnapshot | undefined {
    const ns = this.namespaces.get(name);
    if (!ns) return undefined;
    return {
      name: ns.name,
      phase: ns.phase,
      labels: { ...ns.objects.labels },
      createdAt: new Date(ns.createdAt).toISOString(),
      resourceQuota: { ...structuredClone(ns.objects.resourceQuota), used: usedQuantities(ns.objects.resourceQuota, this.usage(ns)) },
      limitRange: structuredClone(ns.objects.limitRange),
      networkPolicies: structuredClone(ns.objects.networkPolicies),
      autoscaling: ns.autoscaling && { ...ns.autoscaling },
    };
  }

  /** Names of every namespace, Terminating ones included, sorted. */
  namespaceNames(): string[] {
    return [...this.namespaces.keys()].sort();
  }

  /**
   * Deletes the namespace: its deployments and pods at once, the namespace itself after
   * the termination delay. Resolves when it is gone (at once if it never existed);
   * calling again while it terminates returns the same wait.
   */
  deleteNamespace(name: string): Promise<void> {
    this.assertOpen();
    const ns = this.namespaces.get(name);
    if (!ns) return Promise.resolve();
    if (ns.termination) return ns.termination.promise;
    ns.phase = 'Terminating';
    for (const revision of [...ns.deployments.keys()]) this.deleteDeployment(name, revision);
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // The caller holds the promise; this keeps a close() during termination from becoming an unhandled rejection when it does not.
    promise.catch(() => undefined);
    this.later(this.scaled(this.options.namespaceTerminationMs), () => {
      this.namespaces.delete(name);
      resolve();
    });
    ns.termination = { promise, reject };
    return promise;
  }

  // -------------------------------------------------------------------------
  // Deployments
  // -------------------------------------------------------------------------

  /**
   * Creates or updates the deployment of `spec.revision` and reconciles its pods at
   * once (as the Kubernetes controllers react to a change); drift afterwards is repaired
   * by the controller loop. A changed version replaces all the revision's pods. While
   * autoscaling is on, an existing deployment keeps the autoscaler's replica count.
   */
  setDeployment(namespace: string, spec: DeploymentSpec): void {
    const ns = this.activeNamespace(namespace);
    ns.template ??= spec.template;
    const existing = ns.deployments.get(spec.revision);
    if (!existing) {
      const replicas = ns.autoscaling ? this.clamp(spec.replicas, ns.autoscaling) : spec.replicas;
      ns.deployments.set(spec.revision, { spec: { ...spec }, replicas, recommendations: [], replicaFailure: null });
      this.event(ns, 'Normal', 'ScalingReplicaSet', `deployment/${deploymentName(spec)}`, `Scaled up replica set ${deploymentName(spec)} to ${replicas}`);
    } else {
      if (existing.spec.version !== spec.version || existing.spec.template !== spec.template) {
        for (const pod of this.podsOf(ns, spec.revision)) this.removePod(ns, pod, `Stopping container: version ${existing.spec.version} replaced by ${spec.version}`);
      }
      existing.spec = { ...spec };
      if (!ns.autoscaling) this.scaleTo(ns, existing, spec.replicas);
    }
    this.reconcile(ns, ns.deployments.get(spec.revision)!);
  }

  /** Deletes the deployment of `revision` and its pods; does nothing when there is none. */
  deleteDeployment(namespace: string, revision: number): void {
    this.assertOpen();
    const ns = this.namespaces.get(namespace);
    const deployment = ns?.deployments.get(revision);
    if (!ns || !deployment) return;
    ns.deployments.delete(revision);
    for (const pod of this.podsOf(ns, revision)) this.removePod(ns, pod, 'Stopping container: deployment deleted');
    this.event(ns, 'Normal', 'DeploymentDeleted', `deployment/${deploymentName(deployment.spec)}`, `Deleted deployment ${deploymentName(deployment.spec)}`);
  }

  /** Deployments of the namespace by revision (empty when it does not exist). */
  deployments(namespace: string): DeploymentSnapshot[] {
    const ns = this.namespaces.get(namespace);
    if (!ns) return [];
    return [...ns.deployments.values()]
      .sort((a, b) => a.spec.revision - b.spec.revision)
      .map((deployment) => {
        const pods = this.podsOf(ns, deployment.spec.revision);
        const readyReplicas = pods.filter((pod) => pod.ready).length;
        const conditions: DeploymentCondition[] = [
          readyReplicas >= deployment.replicas
            ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
            : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' },
        ];
        if (deployment.replicaFailure) {
          conditions.push({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: deployment.replicaFailure });
        }
        const utilisation = this.utilisation(ns, deployment);
        return {
          name: deploymentName(deployment.spec),
          ...deployment.spec,
          specReplicas: deployment.spec.replicas,
          replicas: deployment.replicas,
          currentReplicas: pods.length,
          readyReplicas,
          cpuPercent: utilisation === null ? null : Math.round(utilisation),
          conditions,
        };
      });
  }

  /**
   * Whether `pods` app pods of `template`, with the database pods its chart runs, would
   * fit the namespace's quota on their own (the pods it runs now not counted); a message
   * naming the first exceeded resource if not.
   */
  quotaProblem(namespace: string, template: StoreTemplate, pods: number): string | undefined {
    const ns = this.activeNamespace(namespace);
    const databases = this.databaseResources(ns, template);
    const total = sumUsage([...Array.from({ length: pods }, () => this.podResources(ns, template)), ...databases]);
    const exceeded = firstExceeded(ns.objects.resourceQuota, total);
    if (!exceeded) return undefined;
    return `${pods} app pod(s) and ${databases.length} database pod(s) of ${template} need ${exceeded.key}=${exceeded.need}, but the quota ${ns.objects.resourceQuota.name} allows ${exceeded.key}=${exceeded.hard}`;
  }

  // -------------------------------------------------------------------------
  // Pods
  // -------------------------------------------------------------------------

  /** Pods of the namespace, by revision then age (empty when it does not exist). */
  pods(namespace: string): PodSnapshot[] {
    const ns = this.namespaces.get(namespace);
    if (!ns) return [];
    return [...ns.pods.values()]
      .sort((a, b) => a.revision - b.revision || a.createdAt - b.createdAt || a.name.localeCompare(b.name))
      .map((pod) => ({
        name: pod.name,
        namespace,
        phase: pod.phase,
        ready: pod.ready,
        restarts: pod.restarts,
        revision: pod.revision,
        startedAt: pod.startedAt === null ? null : new Date(pod.startedAt).toISOString(),
        version: pod.version,
        template: pod.template,
        containerState: pod.container,
        livenessFailing: pod.livenessFailing,
        nextRestartAt: pod.nextRestartAt === null ? null : new Date(pod.nextRestartAt).toISOString(),
        reason: podReason(pod, this.holds.reason(namespace)),
      }));
  }

  /** Deletes one pod (its deployment's controller replaces it on its next run); false when there is no such pod. */
  deletePod(namespace: string, podName: string): boolean {
    this.assertOpen();
    const ns = this.namespaces.get(namespace);
    const pod = ns?.pods.get(podName);
    if (!ns || !pod) return false;
    this.removePod(ns, pod, 'Stopping container: pod deleted');
    return true;
  }

  /** Chaos: deletes up to `count` pods of the namespace, chosen at random; returns their names. */
  killPods(namespace: string, count: number): string[] {
    this.assertOpen();
    const ns = this.namespaces.get(namespace);
    if (!ns) return [];
    const candidates = [...ns.pods.values()].sort((a, b) => a.name.localeCompare(b.name));
    const victims: Pod[] = [];
    while (victims.length < count && candidates.length > 0) {
      const index = Math.min(candidates.length - 1, Math.floor(this.options.random() * candidates.length));
      victims.push(...candidates.splice(index, 1));
    }
    for (const pod of victims) this.removePod(ns, pod, 'Stopping container: killed by chaos');
    return victims.map((pod) => pod.name);
  }

  /** Makes the pod's liveness probe fail (or pass again); the container then restarts with growing backoff. */
  setLivenessFailing(namespace: string, podName: string, failing: boolean): void {
    this.assertOpen();
    const pod = this.namespaces.get(namespace)?.pods.get(podName);
    if (!pod) throw new Error(`pods "${podName}" not found in namespace "${namespace}"`);
    pod.livenessFailing = failing;
  }

  /** Makes the pods of `version` fail (or pass again) their readiness probe, in every namespace. */
  setVersionFailing(version: string, failing: boolean): void {
    if (failing) this.failingVersions.add(version);
    else this.failingVersions.delete(version);
  }

  // -------------------------------------------------------------------------
  // Load and autoscaling
  // -------------------------------------------------------------------------

  /**
   * Sets the namespace's CPU load: its pods average `cpuPercent` of their request at the
   * replica count they are meant to have now. The work behind it stays the same, so
   * more pods each use less, and each revision gets the share of its traffic weight.
   */
  setLoad(namespace: string, cpuPercent: number): void {
    const ns = this.activeNamespace(namespace);
    if (!Number.isFinite(cpuPercent) || cpuPercent < 0) throw new RangeError('cpuPercent must be 0 or more');
    const replicas = [...ns.deployments.values()].reduce((sum, deployment) => sum + deployment.replicas, 0);
    ns.cpuDemand = cpuPercent * Math.max(1, replicas);
  }

  /**
   * Turns autoscaling of the namespace's deployments on (each between `min` and `max`,
   * evaluated on each controller run) or off with `null` (back to the applied replicas).
   */
  setAutoscaling(namespace: string, spec: AutoscalingSpec | null): void {
    const ns = this.activeNamespace(namespace);
    if (spec) {
      const { min, max, targetCpuPercent } = spec;
      if (!Number.isInteger(min) || min < 1 || !Number.isInteger(max) || max < min) {
        throw new RangeError('autoscaling needs whole numbers with 1 <= min <= max');
      }
      if (!(targetCpuPercent > 0)) throw new RangeError('targetCpuPercent must be more than 0');
    }
    ns.autoscaling = spec && { ...spec };
    for (const deployment of ns.deployments.values()) {
      deployment.recommendations = [];
      if (!spec) {
        this.scaleTo(ns, deployment, deployment.spec.replicas);
        this.reconcile(ns, deployment);
      }
    }
  }

  /** Events of the namespace, oldest first (the last 200). */
  events(namespace: string): ClusterEvent[] {
    return (this.namespaces.get(namespace)?.events ?? []).map((event) => ({ ...event }));
  }

  /** Stops the simulation: clears every timer; a namespace still terminating rejects its wait. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) this.options.scheduler.clearTimeout(timer.handle);
    this.timers.clear();
    this.probeTimer = null;
    this.controllerTimer = null;
    for (const ns of this.namespaces.values()) {
      ns.termination?.reject(new Error(`the simulated cluster was closed before namespace "${ns.name}" was gone`));
    }
  }

  // -------------------------------------------------------------------------
  // Loops
  // -------------------------------------------------------------------------

  private startLoops(): void {
    if (this.closed) return;
    this.probeTimer ??= this.later(this.scaled(this.options.probeIntervalMs), () => this.probeRun());
    this.controllerTimer ??= this.later(this.scaled(this.options.controllerIntervalMs), () => this.controllerRun());
  }

  /** One round of probes over every running container, then sleep until the next. */
  private probeRun(): void {
    this.probeTimer = null;
    for (const ns of this.namespaces.values()) {
      for (const pod of [...ns.pods.values()]) this.probe(ns, pod);
    }
    if (this.namespaces.size > 0) this.probeTimer = this.later(this.scaled(this.options.probeIntervalMs), () => this.probeRun());
  }

  /** One reconcile of every deployment (autoscaling first, then the pod count), then sleep until the next. */
  private controllerRun(): void {
    this.controllerTimer = null;
    for (const ns of this.namespaces.values()) {
      if (ns.phase !== 'Active') continue;
      for (const deployment of ns.deployments.values()) {
        if (ns.autoscaling) this.autoscale(ns, deployment, ns.autoscaling);
        this.reconcile(ns, deployment);
      }
    }
    if (this.namespaces.size > 0) {
      this.controllerTimer = this.later(this.scaled(this.options.controllerIntervalMs), () => this.controllerRun());
    }
  }

  private probe(ns: Namespace, pod: Pod): void {
    if (pod.phase !== 'Running' || pod.container !== 'Running') return;
    if (pod.livenessFailing) {
      this.crash(ns, pod);
      return;
    }
    pod.crashes = 0;
    const ready = this.now() >= (pod.readyAt ?? Infinity) && !this.failingVersions.has(pod.version);
    if (!ready && this.now() >= (pod.readyAt ?? Infinity)) {
      this.event(ns, 'Warning', 'Unhealthy', `pod/${pod.name}`, 'Readiness probe failed: HTTP probe failed with statuscode: 503');
    }
    pod.ready = ready;
  }

  /** A failed liveness probe: the container is killed and restarted after 1 s, 2 s, 4 s … (capped), scaled. */
  private crash(ns: Namespace, pod: Pod): void {
    const delay = this.scaled(Math.min(this.options.backoffBaseMs * 2 ** pod.crashes, this.options.backoffMaxMs));
    pod.crashes += 1;
    pod.ready = false;
    pod.container = 'CrashLoopBackOff';
    pod.nextRestartAt = this.now() + delay;
    this.event(ns, 'Warning', 'Unhealthy', `pod/${pod.name}`, 'Liveness probe failed: HTTP probe failed with statuscode: 500');
    this.event(ns, 'Warning', 'BackOff', `pod/${pod.name}`, `Back-off ${formatDelay(delay)} restarting failed container`);
    pod.timer = this.later(delay, () => {
      pod.restarts += 1;
      this.startContainer(ns, pod);
    });
  }

  private startContainer(ns: Namespace, pod: Pod): void {
    if (pod.phase === 'Pending' && this.holds.reason(ns.name) !== undefined) {
      // Held by chaos: the scheduler tries again later, as it would once a node frees up.
      pod.timer = this.later(this.jittered(this.options.podStartMs), () => this.startContainer(ns, pod));
      return;
    }
    const now = this.now();
    pod.timer = null;
    pod.nextRestartAt = null;
    pod.phase = 'Running';
    pod.container = 'Running';
    pod.startedAt ??= now;
    pod.readyAt = now + this.jittered(this.options.podReadyMs);
    this.event(ns, 'Normal', 'Started', `pod/${pod.name}`, 'Started container');
  }

  // -------------------------------------------------------------------------
  // Controller: replica count and autoscaling
  // -------------------------------------------------------------------------

  /** ReplicaSet-like: creates the missing pods (as far as the quota allows) and deletes the surplus. */
  private reconcile(ns: Namespace, deployment: Deployment): void {
    const pods = this.podsOf(ns, deployment.spec.revision);
    if (pods.length < deployment.replicas) {
      for (let i = pods.length; i < deployment.replicas; i++) {
        if (!this.createPod(ns, deployment)) return;
      }
    } else if (pods.length > deployment.replicas) {
      // Kubernetes' order: pending before running, not ready before ready, more restarts first, newest first.
      const surplus = [...pods]
        .sort(
          (a, b) =>
            Number(a.phase === 'Running') - Number(b.phase === 'Running') ||
            Number(a.ready) - Number(b.ready) ||
            b.restarts - a.restarts ||
            b.createdAt - a.createdAt,
        )
        .slice(0, pods.length - deployment.replicas);
      for (const pod of surplus) this.removePod(ns, pod, 'Stopping container: scaled down');
    }
    deployment.replicaFailure = null;
  }

  private createPod(ns: Namespace, deployment: Deployment): Pod | undefined {
    const { spec } = deployment;
    let name: string;
    do name = `${deploymentName(spec)}-${nameSuffix(this.options.random)}`;
    while (ns.pods.has(name));
    const resources = this.podResources(ns, spec.template);
    const exceeded = exceededQuota(ns.objects.resourceQuota, this.usage(ns), resources);
    if (exceeded) {
      deployment.replicaFailure = `pods "${name}" is forbidden: exceeded quota: ${exceeded}`;
      this.event(ns, 'Warning', 'FailedCreate', `replicaset/${deploymentName(spec)}`, `Error creating: ${deployment.replicaFailure}`);
      return undefined;
    }
    const pod: Pod = {
      name,
      revision: spec.revision,
      version: spec.version,
      template: spec.template,
      resources,
      createdAt: this.now(),
      phase: 'Pending',
      container: 'ContainerCreating',
      ready: false,
      restarts: 0,
      startedAt: null,
      readyAt: null,
      livenessFailing: false,
      crashes: 0,
      nextRestartAt: null,
      timer: null,
    };
    pod.timer = this.later(this.jittered(this.options.podStartMs), () => this.startContainer(ns, pod));
    ns.pods.set(name, pod);
    this.event(ns, 'Normal', 'SuccessfulCreate', `replicaset/${deploymentName(spec)}`, `Created pod: ${name}`);
    return pod;
  }

  private removePod(ns: Namespace, pod: Pod, message: string): void {
    this.cancel(pod.timer);
    pod.timer = null;
    ns.pods.delete(pod.name);
    this.event(ns, 'Normal', 'Killing', `pod/${pod.name}`, message);
  }

  /**
   * HPA-like: desired = ceil(running × usage / target), left alone within the tolerance,
   * clamped to [min, max]. Up at once; down only to the highest recommendation of the
   * stabilisation window, so a short dip does not remove pods.
   */
  private autoscale(ns: Namespace, deployment: Deployment, spec: AutoscalingSpec): void {
    const now = this.now();
    const running = this.podsOf(ns, deployment.spec.revision).filter((pod) => pod.container === 'Running').length;
    const utilisation = this.utilisation(ns, deployment);
    let recommended = deployment.replicas;
    if (utilisation !== null) {
      const ratio = utilisation / spec.targetCpuPercent;
      // The epsilon keeps floating-point noise (4 × 0.75000000001) from adding a pod.
      if (Math.abs(ratio - 1) > this.options.autoscaleTolerance) recommended = Math.ceil(running * ratio - 1e-9);
    }
    recommended = this.clamp(recommended, spec);
    const windowStart = now - this.scaled(this.options.autoscaleStabilizationMs);
    deployment.recommendations = deployment.recommendations.filter((entry) => entry.at > windowStart);
    deployment.recommendations.push({ at: now, replicas: recommended });
    const stabilised = Math.max(...deployment.recommendations.map((entry) => entry.replicas));
    const next = recommended > deployment.replicas ? recommended : Math.min(deployment.replicas, stabilised);
    if (next !== deployment.replicas) {
      const why = utilisation === null ? 'no pod running' : `cpu ${Math.round(utilisation)}% of request, target ${spec.targetCpuPercent}%`;
      this.event(ns, 'Normal', 'SuccessfulRescale', `horizontalpodautoscaler/${deploymentName(deployment.spec)}`, `New size: ${next}; reason: ${why}`);
      this.scaleTo(ns, deployment, next);
    }
  }

  private scaleTo(ns: Namespace, deployment: Deployment, replicas: number): void {
    if (replicas === deployment.replicas) return;
    const name = deploymentName(deployment.spec);
    const direction = replicas > deployment.replicas ? 'up' : 'down';
    this.event(ns, 'Normal', 'ScalingReplicaSet', `deployment/${name}`, `Scaled ${direction} replica set ${name} from ${deployment.replicas} to ${replicas}`);
    deployment.replicas = replicas;
  }

  /** Average CPU of the deployment's running pods in percent of their request; null while none runs. */
  private utilisation(ns: Namespace, deployment: Deployment): number | null {
    const running = this.podsOf(ns, deployment.spec.revision).filter((pod) => pod.container === 'Running').length;
    if (running === 0) return null;
    return (ns.cpuDemand * deployment.spec.weight) / 100 / running;
  }

  private clamp(replicas: number, spec: AutoscalingSpec): number {
    return Math.min(spec.max, Math.max(spec.min, replicas));
  }

  // -------------------------------------------------------------------------
  // Quota
  // -------------------------------------------------------------------------

  private podResources(ns: Namespace, template: StoreTemplate): Resources {
    const defaults = ns.objects.limitRange.limits.find((limit) => limit.type === 'Container');
    return podResources(this.options.podResources[template], defaults?.default);
  }

  private databaseResources(ns: Namespace, template: StoreTemplate): Resources[] {
    const defaults = ns.objects.limitRange.limits.find((limit) => limit.type === 'Container');
    return this.options.databaseResources[template].map((configured) => podResources(configured, defaults?.default));
  }

  /** The namespace's app pods and, once a store is installed, its database pods: everything the quota counts. */
  private usage(ns: Namespace): Usage {
    const databases = ns.template ? this.databaseResources(ns, ns.template) : [];
    return sumUsage([...[...ns.pods.values()].map((pod) => pod.resources), ...databases]);
  }

  // -------------------------------------------------------------------------
  // Helpers
  // -------------------------------------------------------------------------

  private podsOf(ns: Namespace, revision: number): Pod[] {
    return [...ns.pods.values()].filter((pod) => pod.revision === revision);
  }

  private activeNamespace(name: string): Namespace {
    this.assertOpen();
    const ns = this.namespaces.get(name);
    if (!ns) throw new Error(`namespaces "${name}" not found`);
    if (ns.phase === 'Terminating') throw new Error(`namespace "${name}" is being terminated`);
    return ns;
  }

  private event(ns: Namespace, type: ClusterEvent['type'], reason: string, object: string, message: string): void {
    const at = new Date(this.now()).toISOString();
    const same = ns.events.find((e) => e.type === type && e.reason === reason && e.object === object && e.message === message);
    if (same) {
      same.count += 1;
      same.lastAt = at;
      return;
    }
    ns.events.push({ at, lastAt: at, count: 1, type, reason, object, message });
    if (ns.events.length > MAX_EVENTS_PER_NAMESPACE) ns.events.splice(0, ns.events.length - MAX_EVENTS_PER_NAMESPACE);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the simulated cluster is closed');
  }

  private now(): number {
    return this.options.scheduler.now();
  }

  private scaled(ms: number): number {
    return ms * this.options.timeScale;
  }

  private jittered(ms: number): number {
    const spread = this.options.jitter * (2 * this.options.random() - 1);
    return Math.max(0, this.scaled(ms) * (1 + spread));
  }

  private later(ms: number, callback: () => void): Timer {
    const timer: Timer = { handle: undefined };
    timer.handle = this.options.scheduler.setTimeout(() => {
      this.timers.delete(timer);
      callback();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private cancel(timer: Timer | null): void {
    if (!timer) return;
    this.options.scheduler.clearTimeout(timer.handle);
    this.timers.delete(timer);
  }
}
