/**
 * Stores: the RPC patterns of `provisioner`, the `store.*` events and the shapes of
 * API.md's Stores section.
 */

export const ProvisionerRpc = {
  Create: 'provisioner.create',
  List: 'provisioner.list',
  Get: 'provisioner.get',
  Update: 'provisioner.update',
  Delete: 'provisioner.delete',
  Pods: 'provisioner.pods',
  Events: 'provisioner.events',
  Chaos: 'provisioner.chaos',
  Health: 'provisioner.health',
  /** Admin only, simulated driver only: `{storeId, cpuPercent}` → `{storeId, cpuPercent}`. */
  Load: 'provisioner.load',
  /** `{storeId, action: RolloutAction, full?}` → `Store`: steers the rollout in progress. */
  Rollout: 'provisioner.rollout',
  /** `{storeId}` → `StoreSpecDocument`: the desired state as a `kind: Store` document. */
  GetSpec: 'provisioner.spec.get',
  /** `{storeId, document, dryRun?}` → `{diff}` on a dry run, else `Store`: applied as PATCH is. */
  PutSpec: 'provisioner.spec.put',
} as const;

/** The CPU load an administrator may set on a simulated store, in percent of each pod's CPU request. */
export const STORE_LOAD_MAX_CPU_PERCENT = 1000;

export const StoreTemplates = ['wordpress', 'medusa'] as const;
export type StoreTemplate = (typeof StoreTemplates)[number];

export const RolloutStrategies = ['BlueGreen', 'Canary'] as const;
export type RolloutStrategy = (typeof RolloutStrategies)[number];

/** API.md: `^[a-z0-9][a-z0-9-]*[a-z0-9]$`, 2–40 characters. */
export const STORE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]*[a-z0-9]$/;
export const STORE_NAME_MAX = 40;

/** Why a store name is refused, or `undefined` when it is acceptable. */
export function storeNameProblem(name: string): string | undefined {
  if (name.length < 2 || name.length > STORE_NAME_MAX) return `must be 2 to ${STORE_NAME_MAX} characters`;
  if (!STORE_NAME_PATTERN.test(name)) return 'must be lower-case letters, digits and hyphens, starting and ending with a letter or digit';
  if (name.includes('--')) return 'must not contain "--"';
  return undefined;
}

export type StoreStatus = 'provisioning' | 'ready' | 'updating' | 'degraded' | 'failed' | 'deleting';

/**
 * A canary step: the new revision's share of traffic in percent, and how long the rollout
 * holds there once the step's pods are ready — a duration (`30s`, `2m`, `500ms`, `1h`) or
 * `indefinite` (until promoted). A bare number is a step with the default pause.
 */
export type RolloutStep = number | { weight: number; pause?: string };

/** What an analysis does when a measurement has no data or errors (it never counts as a pass). */
export const AnalysisOnNoData = ['pause', 'fail'] as const;

/**
 * Canary analysis: every `interval` (`10s`) of a step's hold, the new revision's error rate
 * and latency over that interval, judged by `successCondition` (`errorRate < 0.01 && p95Ms < 500`:
 * `errorRate`, `p95Ms`, numbers, `<`, `<=`, `>`, `>=`, `&&`, `||`, parentheses).
 * `failureLimit` failing measurements in a step (at least one) roll the rollout back.
 */
export interface RolloutAnalysis {
  interval: string;
  successCondition: string;
  failureLimit: number;
  onNoData: (typeof AnalysisOnNoData)[number];
}

export interface RolloutSpec {
  strategy: RolloutStrategy;
  /** Canary: judge each step by the new revision's measurements. */
  analysis?: RolloutAnalysis;
  /** Canary: the steps, increasing, ending at 100. */
  steps?: RolloutStep[];
  /** BlueGreen: how long the old revision stays scaled after the switch, so an abort then is instant (0 to 3600; the provisioner's default when absent). */
  scaleDownDelaySeconds?: number;
}

/** What `POST /stores/{id}/rollout/{action}` asks of the rollout in progress. */
export const RolloutActions = ['promote', 'pause', 'resume', 'abort'] as const;
export type RolloutAction = (typeof RolloutActions)[number];

/** Where a rollout in progress stands (`Store.rollout`, absent when none runs). */
export interface RolloutState {
  /** 1-based index of the current step, of `steps`. */
  step: number;
  steps: number;
  /** The new revision's share of traffic now, in percent. */
  weight: number;
  /** Held by `pause` until `resume` (or promote, or abort). */
  paused: boolean;
  /** What the step waits for: its pods to be ready, its pause to end (`until`), or a promote. */
  waiting: 'ready' | 'pause' | 'promote' | null;
  /** When a timed pause ends. */
  until: string | null;
}

export interface StoreDesired {
  version: string;
  replicas: number;
  rollout: RolloutSpec;
}

export interface Store {
  id: string;
  name: string;
  template: StoreTemplate;
  status: StoreStatus;
  error?: string;
  namespace: string;
  url: string;
  revision: number;
  desired: StoreDesired;
  observed: { readyReplicas: number; revision: number | null };
  /** Observed health; a `down` store is `degraded` with the reason as its error. The transitions are at `GET /stores/{id}/health`. */
  health: { status: StoreHealthState; reason: string | null; since: string | null };
  /** The rollout in progress, while the store is `updating` with a canary or blue/green rollout. */
  rollout?: RolloutState;
  createdAt: string;
  readyAt?: string;
}

export interface StoreList {
  items: Store[];
}

export interface StorePod {
  name: string;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  ready: boolean;
  restarts: number;
  revision: number;
  startedAt: string | null;
  /** Why the pod is not ready, when the cluster says (a waiting reason such as `CrashLoopBackOff`, or `Unschedulable: …`). */
  reason?: string;
}

export interface StoreEvent {
  at: string;
  type: string;
  message: string;
}

export interface CreateStoreRequest {
  name: string;
  template: StoreTemplate;
  version?: string;
  replicas?: number;
  rollout?: RolloutSpec;
}

export interface UpdateStoreRequest {
  version?: string;
  replicas?: number;
  rollout?: RolloutSpec;
}

export const StoreEventTypes = {
  Provisioning: 'store.provisioning',
  Ready: 'store.ready',
  Updating: 'store.updating',
  Degraded: 'store.degraded',
  Failed: 'store.failed',
  Deleting: 'store.deleting',
  Deleted: 'store.deleted',
  Repaired: 'store.repaired',
  Chaos: 'store.chaos',
  Health: 'store.health',
  /** A rollout rolled back to the stable revision (the store is degraded); its message says why. */
  Rollback: 'store.rollback',
  /** Someone steered a rollout (promote, pause, resume, abort); the message says who and what. */
  RolloutControl: 'store.rollout',
} as const;

/**
 * Observed health: `down` when no pod of the store's revision was ready for two reconcile periods (the store is then `degraded`).
 * `unknown` until the reconcile loop first checked a ready store.
 */
export type StoreHealthState = 'up' | 'down' | 'unknown';

export interface StoreHealthTransition {
  at: string;
  /** `unknown` for the first transition of a store. */
  from: StoreHealthState;
  to: 'up' | 'down';
  /** What blocked the store, on a transition to `down`; null on one to `up`. */
  reason: string | null;
}

/** `GET /stores/{id}/health` (API.md): `{status, since, transitions}`, plus `reason` and `checkedAt`. */
export interface StoreHealth {
  status: StoreHealthState;
  /** The last transition; null while `unknown`. */
  since: string | null;
  /** Transitions, oldest first (the last 100). */
  transitions: StoreHealthTransition[];
  /** What blocks the store when `down`, otherwise null. */
  reason: string | null;
  /** The last check; null before the first. */
  checkedAt: string | null;
}

/** Data of a `store.health` event. */
export interface StoreHealthEventData extends StoreEventData {
  health: 'up' | 'down';
  /** The state before: `unknown` on a store's first check (a new store coming up is no recovery). */
  previous?: StoreHealthState;
  reason: string | null;
}

export interface StoreEventData {
  storeId: string;
  name: string;
  teamId: string;
  status: StoreStatus;
  revision: number;
  message: string;
  actor?: string;
}
