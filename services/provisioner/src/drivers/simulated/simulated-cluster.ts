import { randomUUID } from 'node:crypto';
import type { StoreTemplate } from '@flotilla/contracts';
import { SchedulingHolds } from './scheduling-holds.js';
import { resolveSimulatedOptions, type ResolvedSimulatedOptions, type SimulatedDriverOptions } from './simulated-options.js';
import { ClusterCore } from './cluster-core.js';
import { emptyClusterState, newNamespace, type ClusterState } from './cluster-state.js';
import { runTimer, startLoops } from './cluster-loops.js';
import { TerminationWaits, WakeUp } from './live-clock.js';
import { deleteDeployment, quotaProblem, setAutoscaling, setDeployment, setLoad } from './deployments.js';
import { killRandomPods, podNamed, removePod } from './pods.js';
import { deploymentSnapshots, eventSnapshots, namespaceSnapshot, podSnapshots } from './snapshots.js';
import type { AutoscalingSpec, ClusterEvent, DeploymentSnapshot, DeploymentSpec, NamespaceObjects, NamespaceSnapshot, PodSnapshot } from './cluster-shapes.js';

/**
 * A Kubernetes-like cluster: namespaces with a ResourceQuota, deployments per revision,
 * pods going Pending → Running → Ready, readiness and liveness probes, CrashLoopBackOff
 * restarts, a ReplicaSet-like controller, HPA-like autoscaling and chaos kills.
 *
 * Its whole state is plain data ({@link ClusterState}), timers included, so it can run
 * two ways:
 * - **live** (`new SimulatedCluster(options)`): the state in memory, the clock and
 *   wake-ups from `options.scheduler`; with a seeded `random` and a manual scheduler a
 *   run is exactly repeatable. Timers run while at least one namespace exists;
 *   {@link close} clears them all.
 * - **view** ({@link SimulatedCluster.view}): over a state read from elsewhere (the
 *   shared cluster in Redis) at a given moment; {@link advanceTo} runs what fell due
 *   since, then a change is applied and the state written back.
 */
export class SimulatedCluster {
  readonly options: ResolvedSimulatedOptions;
  /** Chaos: namespaces whose pods are kept from starting. */
  readonly holds: SchedulingHolds;
  private readonly core: ClusterCore;
  private readonly live: boolean;
  private readonly terminations = new TerminationWaits();
  private readonly wakeUp: WakeUp;
  private advancing = false;
  private closed = false;

  constructor(options: Partial<SimulatedDriverOptions> | ResolvedSimulatedOptions = {}, view?: { state: ClusterState; now: number }) {
    this.options = resolveSimulatedOptions(options);
    this.live = view === undefined;
    const state = view?.state ?? emptyClusterState(this.options.failingVersions);
    const clock = view ? () => view.now : () => this.options.scheduler.now();
    this.core = new ClusterCore(state, this.options, clock, () => this.arm());
    this.wakeUp = new WakeUp(this.options.scheduler, (now) => this.advanceTo(now));
    this.holds = new SchedulingHolds(() => this.core.state.holds);
  }

  /** A cluster over `state` (changed in place) at the moment `now`, with no timers of its own. */
  static view(state: ClusterState, options: ResolvedSimulatedOptions, now: number): SimulatedCluster {
    return new SimulatedCluster(options, { state, now });
  }

  /** The state itself (not a copy): what a shared cluster writes back. */
  get state(): ClusterState {
    return this.core.state;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Timers the simulation has set and not yet run or cleared. */
  get activeTimers(): number {
    return this.core.state.timers.length;
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
    const existing = this.core.namespace(name);
    if (existing?.phase === 'Terminating') {
      throw new Error(`namespace "${name}" is being terminated; it can be created again once it is gone`);
    }
    if (existing) {
      existing.objects = structuredClone(objects);
      return;
    }
    this.core.state.namespaces[name] = newNamespace(name, randomUUID(), this.core.now(), structuredClone(objects));
    if (!this.closed) startLoops(this.core);
  }

  namespace(name: string): NamespaceSnapshot | undefined {
    return namespaceSnapshot(this.core, name);
  }

  /** Names of every namespace, Terminating ones included, sorted. */
  namespaceNames(): string[] {
    return Object.keys(this.core.state.namespaces).sort();
  }

  /**
   * Deletes the namespace: its deployments and pods at once, the namespace itself after
   * the termination delay. Resolves when it is gone (at once if it never existed);
   * calling again while it terminates returns the same wait. Live clusters only: a
   * view's caller uses {@link beginNamespaceDeletion} and watches the state.
   */
  deleteNamespace(name: string): Promise<void> {
    if (!this.live) throw new Error('a view of the cluster cannot wait for a namespace; use beginNamespaceDeletion');
    if (!this.beginNamespaceDeletion(name)) return Promise.resolve();
    return this.terminations.wait(name);
  }

  /** Marks the namespace Terminating (its deployments and pods go at once); false when it does not exist. */
  beginNamespaceDeletion(name: string): boolean {
    this.assertOpen();
    const ns = this.core.namespace(name);
    if (!ns) return false;
    if (ns.phase === 'Terminating') return true;
    ns.phase = 'Terminating';
    for (const deployment of [...ns.deployments]) this.deleteDeployment(name, deployment.spec.revision);
    this.core.later(this.core.scaled(this.options.namespaceTerminationMs), { kind: 'terminate', namespace: name });
    return true;
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
    setDeployment(this.core, this.activeNamespace(namespace), spec);
  }

  /** Deletes the deployment of `revision` and its pods; does nothing when there is none. */
  deleteDeployment(namespace: string, revision: number): void {
    this.assertOpen();
    const ns = this.core.namespace(namespace);
    if (ns) deleteDeployment(this.core, ns, revision);
  }

  /** Deployments of the namespace by revision (empty when it does not exist). */
  deployments(namespace: string): DeploymentSnapshot[] {
    return deploymentSnapshots(this.core, namespace);
  }

  /** Records the host and secret names (never their values) of the release last applied. */
  setRelease(namespace: string, release: { host: string; secretNames: string[] } | null): void {
    this.activeNamespace(namespace).release = release && { host: release.host, secretNames: [...release.secretNames].sort() };
  }

  release(namespace: string): { host: string; secretNames: string[] } | null {
    const release = this.core.namespace(namespace)?.release;
    return release ? { host: release.host, secretNames: [...release.secretNames] } : null;
  }

  /**
   * Whether `pods` app pods of `template`, with the database pods its chart runs, would
   * fit the namespace's quota on their own (the pods it runs now not counted); a message
   * naming the first exceeded resource if not.
   */
  quotaProblem(namespace: string, template: StoreTemplate, pods: number): string | undefined {
    return quotaProblem(this.core, this.activeNamespace(namespace), template, pods);
  }

  // -------------------------------------------------------------------------
  // Pods
  // -------------------------------------------------------------------------

  /** Pods of the namespace, by revision then age (empty when it does not exist). */
  pods(namespace: string): PodSnapshot[] {
    return podSnapshots(this.core, namespace);
  }

  /** Deletes one pod (its deployment's controller replaces it on its next run); false when there is no such pod. */
  deletePod(namespace: string, podName: string): boolean {
    this.assertOpen();
    const ns = this.core.namespace(namespace);
    const pod = podNamed(ns, podName);
    if (!ns || !pod) return false;
    removePod(this.core, ns, pod, 'Stopping container: pod deleted');
    return true;
  }

  /** Chaos: deletes up to `count` pods of the namespace, chosen at random; returns their names. */
  killPods(namespace: string, count: number): string[] {
    this.assertOpen();
    const ns = this.core.namespace(namespace);
    return ns ? killRandomPods(this.core, ns, count).map((pod) => pod.name) : [];
  }

  /** Makes the pod's liveness probe fail (or pass again); the container then restarts with growing backoff. */
  setLivenessFailing(namespace: string, podName: string, failing: boolean): void {
    this.assertOpen();
    const pod = podNamed(this.core.namespace(namespace), podName);
    if (!pod) throw new Error(`pods "${podName}" not found in namespace "${namespace}"`);
    pod.livenessFailing = failing;
  }

  /** Makes the pods of `version` fail (or pass again) their readiness probe, in every namespace. */
  setVersionFailing(version: string, failing: boolean): void {
    const versions = this.core.state.failingVersions.filter((v) => v !== version);
    this.core.state.failingVersions = failing ? [...versions, version] : versions;
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
    setLoad(this.activeNamespace(namespace), cpuPercent);
  }

  /**
   * Turns autoscaling of the namespace's deployments on (each between `min` and `max`,
   * evaluated on each controller run) or off with `null` (back to the applied replicas).
   */
  setAutoscaling(namespace: string, spec: AutoscalingSpec | null): void {
    setAutoscaling(this.core, this.activeNamespace(namespace), spec);
  }

  /** Events of the namespace, oldest first (the last 200). */
  events(namespace: string): ClusterEvent[] {
    return eventSnapshots(this.core, namespace);
  }

  /** Stops the simulation: clears every timer; a namespace still terminating rejects its wait. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wakeUp.clear();
    this.core.clearTimers();
    this.terminations.rejectAll((name) => new Error(`the simulated cluster was closed before namespace "${name}" was gone`));
  }

  // -------------------------------------------------------------------------
  // The clock and the loops
  // -------------------------------------------------------------------------

  /** Runs everything due by `until`, each at its own moment; loop runs long past are skipped (one run catches up). */
  advanceTo(until: number): void {
    if (this.closed) return;
    this.advancing = true;
    try {
      this.core.runDue(until, (action) => runTimer(this.core, action, until, (name) => this.terminations.gone(name)));
    } finally {
      this.advancing = false;
    }
    this.arm();
  }

  /** Live: one wake-up on the scheduler, at the next timer's moment. */
  private arm(): void {
    if (this.live && !this.closed && !this.advancing) this.wakeUp.set(this.core.nextDue());
  }

  private activeNamespace(name: string) {
    this.assertOpen();
    return this.core.activeNamespace(name);
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the simulated cluster is closed');
  }
}
