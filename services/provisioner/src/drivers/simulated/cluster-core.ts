import type { StoreTemplate } from '@flotilla/contracts';
import { podResources, sumUsage, type Resources, type Usage } from './quota.js';
import type { ResolvedSimulatedOptions } from './simulated-options.js';
import type { ClusterEvent, DeploymentSpec } from './cluster-shapes.js';
import type { ClusterState, NamespaceState, PodState, TimerAction, TimerRecord } from './cluster-state.js';

const MAX_EVENTS_PER_NAMESPACE = 200;

export function deploymentName(spec: Pick<DeploymentSpec, 'template' | 'revision'>): string {
  return `${spec.template}-r${spec.revision}`;
}

export function formatDelay(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))}s` : `${Math.round(ms)}ms`;
}

/**
 * What every part of the simulation shares: the state, the options, the clock, and the
 * timers kept as data in the state. While due timers run, the clock reads each
 * timer's own moment, so a simulation that catches up (after a restart, or a
 * replica taking over) sees the same times as one that ran live.
 */
export class ClusterCore {
  /** Set while a due timer runs: the moment it was due. */
  private runningAt: number | null = null;

  constructor(
    public state: ClusterState,
    readonly options: ResolvedSimulatedOptions,
    private readonly clock: () => number,
    /** Told whenever the set of timers changes, so a live cluster can wake up at the next one. */
    private readonly timersChanged: () => void = () => undefined,
  ) {}

  now(): number {
    return this.runningAt ?? this.clock();
  }

  scaled(ms: number): number {
    return ms * this.options.timeScale;
  }

  jittered(ms: number): number {
    const spread = this.options.jitter * (2 * this.options.random() - 1);
    return Math.max(0, this.scaled(ms) * (1 + spread));
  }

  // -------------------------------------------------------------------------
  // Timers as data
  // -------------------------------------------------------------------------

  later(ms: number, action: TimerAction): number {
    const id = ++this.state.seq;
    this.state.timers.push({ id, at: this.now() + Math.max(0, ms), action });
    this.timersChanged();
    return id;
  }

  cancel(id: number | null): void {
    if (id === null) return;
    const index = this.state.timers.findIndex((timer) => timer.id === id);
    if (index < 0) return;
    this.state.timers.splice(index, 1);
    this.timersChanged();
  }

  /** The moment the next timer falls due; undefined when none is set. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const timer of this.state.timers) if (next === undefined || timer.at < next) next = timer.at;
    return next;
  }

  /**
   * Runs every timer due by `until` (those set meanwhile included), in time order, ties
   * in the order they were set, each with the clock at its own moment.
   */
  runDue(until: number, run: (action: TimerAction, at: number) => void): void {
    for (;;) {
      let next: TimerRecord | undefined;
      for (const timer of this.state.timers) {
        if (timer.at > until) continue;
        if (!next || timer.at < next.at || (timer.at === next.at && timer.id < next.id)) next = timer;
      }
      if (!next) break;
      this.state.timers.splice(this.state.timers.indexOf(next), 1);
      this.runningAt = next.at;
      try {
        run(next.action, next.at);
      } finally {
        this.runningAt = null;
      }
    }
    this.timersChanged();
  }

  clearTimers(): void {
    this.state.timers = [];
    this.state.probeTimer = null;
    this.state.controllerTimer = null;
    this.timersChanged();
  }

  // -------------------------------------------------------------------------
  // Lookups
  // -------------------------------------------------------------------------

  namespace(name: string): NamespaceState | undefined {
    return Object.hasOwn(this.state.namespaces, name) ? this.state.namespaces[name] : undefined;
  }

  activeNamespace(name: string): NamespaceState {
    const ns = this.namespace(name);
    if (!ns) throw new Error(`namespaces "${name}" not found`);
    if (ns.phase === 'Terminating') throw new Error(`namespace "${name}" is being terminated`);
    return ns;
  }

  podsOf(ns: NamespaceState, revision: number): PodState[] {
    return Object.values(ns.pods).filter((pod) => pod.revision === revision);
  }

  event(ns: NamespaceState, type: ClusterEvent['type'], reason: string, object: string, message: string): void {
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

  // -------------------------------------------------------------------------
  // Quota
  // -------------------------------------------------------------------------

  podResources(ns: NamespaceState, template: StoreTemplate): Resources {
    const defaults = ns.objects.limitRange.limits.find((limit) => limit.type === 'Container');
    return podResources(this.options.podResources[template], defaults?.default);
  }

  databaseResources(ns: NamespaceState, template: StoreTemplate): Resources[] {
    const defaults = ns.objects.limitRange.limits.find((limit) => limit.type === 'Container');
    return this.options.databaseResources[template].map((configured) => podResources(configured, defaults?.default));
  }

  /** The namespace's app pods and, once a store is installed, its database pods: everything the quota counts. */
  usage(ns: NamespaceState): Usage {
    const databases = ns.template ? this.databaseResources(ns, ns.template) : [];
    return sumUsage([...Object.values(ns.pods).map((pod) => pod.resources), ...databases]);
  }
}
