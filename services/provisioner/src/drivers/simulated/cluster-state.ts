import type { StoreTemplate } from '@flotilla/contracts';
import type { Resources } from './quota.js';
import type { AutoscalingSpec, ClusterEvent, ContainerState, DeploymentSpec, NamespaceObjects } from './cluster-shapes.js';

// ---------------------------------------------------------------------------
// The whole simulated cluster as plain data: no closures, no Maps, no timers of the
// runtime. A state can be kept in memory or written to Redis as JSON, and another
// process that reads it back continues the simulation exactly where it stopped.
// ---------------------------------------------------------------------------

/** Something the simulation does at `at` (epoch ms); `seq` orders timers due at the same moment. */
export type TimerAction =
  | { kind: 'probe' }
  | { kind: 'controller' }
  | { kind: 'terminate'; namespace: string }
  | { kind: 'start'; namespace: string; pod: string }
  | { kind: 'restart'; namespace: string; pod: string };

export interface TimerRecord {
  id: number;
  at: number;
  action: TimerAction;
}

export interface PodState {
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
  /** The id of the pod's pending start or restart timer. */
  timer: number | null;
}

export interface DeploymentState {
  spec: DeploymentSpec;
  replicas: number;
  /** Autoscaling recommendations within the stabilisation window. */
  recommendations: Array<{ at: number; replicas: number }>;
  replicaFailure: string | null;
}

export interface NamespaceState {
  name: string;
  /** Unique per creation: a namespace deleted and made again under the same name has a new uid. */
  uid: string;
  phase: 'Active' | 'Terminating';
  createdAt: number;
  objects: NamespaceObjects;
  /** In the order they were created (a Map's order; revisions are not sorted here). */
  deployments: DeploymentState[];
  /** By name, in the order they were created. */
  pods: Record<string, PodState>;
  autoscaling: AutoscalingSpec | null;
  /** The template installed (set by the first deployment): its database pods count against the quota from then on. */
  template: StoreTemplate | null;
  /** CPU demand in percent of one pod's request (90 % on each of two pods is 180). */
  cpuDemand: number;
  events: ClusterEvent[];
  /** Host and secret names (never their values) of the last applied release. */
  release: { host: string; secretNames: string[] } | null;
}

export interface ClusterState {
  /** Last timer id handed out. */
  seq: number;
  timers: TimerRecord[];
  /** By name, in the order they were created. */
  namespaces: Record<string, NamespaceState>;
  /** Versions whose pods fail their readiness probe, in every namespace. */
  failingVersions: string[];
  /** Chaos: namespaces whose pods are kept from starting, with the scheduler's message. */
  holds: Record<string, string>;
  probeTimer: number | null;
  controllerTimer: number | null;
}

export function emptyClusterState(failingVersions: string[] = []): ClusterState {
  return { seq: 0, timers: [], namespaces: {}, failingVersions: [...failingVersions], holds: {}, probeTimer: null, controllerTimer: null };
}

/** A namespace just created: Active, with `objects` and nothing running yet. */
export function newNamespace(name: string, uid: string, createdAt: number, objects: NamespaceObjects): NamespaceState {
  return { name, uid, phase: 'Active', createdAt, objects, deployments: [], pods: {}, autoscaling: null, template: null, cpuDemand: 0, events: [], release: null };
}
