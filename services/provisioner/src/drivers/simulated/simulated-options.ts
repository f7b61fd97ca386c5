import type { StoreTemplate } from '@flotilla/contracts';
import { realScheduler, type SimulationScheduler } from './scheduler.js';
import type { SimulatedMetricsOptions } from './simulated-metrics.js';

/** What each simulated pod of a template asks for. Limits left out come from the namespace's LimitRange defaults. */
export interface PodResources {
  requestsCpu: string;
  requestsMemory: string;
  limitsCpu?: string;
  limitsMemory?: string;
}

/**
 * How the simulated cluster behaves. Every duration is multiplied by `timeScale`
 * (0.1 runs the whole simulation ten times faster); the start and ready delays also
 * vary by ±`jitter` of themselves, drawn from `random`.
 */
export interface SimulatedDriverOptions {
  /** Pending → Running: scheduling, image pull, container start. */
  podStartMs: number;
  /** Running → first passing readiness probe (each restart waits for it again). */
  podReadyMs: number;
  /** How often readiness and liveness probes run on every running pod. */
  probeIntervalMs: number;
  /** How long the controller sleeps between two reconcile runs (replica counts, autoscaling). */
  controllerIntervalMs: number;
  /** Versions whose pods never pass readiness (they run, but never become ready). */
  failingVersions: string[];
  /** Random source for pod names, jitter and chaos victims; pass `seededRandom(n)` to replay a run. */
  random?: () => number;
  /** Multiplies every duration of the simulation. */
  timeScale?: number;
  /** Relative spread of the start and ready delays: 0.2 → each delay is 80 % to 120 % of its value. */
  jitter?: number;
  /** How long a deleted namespace stays Terminating before it is gone. */
  namespaceTerminationMs?: number;
  /** First CrashLoopBackOff delay after a liveness failure; each further failure doubles it. */
  backoffBaseMs?: number;
  /** Ceiling of the CrashLoopBackOff delay. */
  backoffMaxMs?: number;
  /** Autoscaling scales down only to the highest replica count recommended within this window. */
  autoscaleStabilizationMs?: number;
  /** Autoscaling leaves the replica count alone while usage is within this fraction of the target. */
  autoscaleTolerance?: number;
  /** Requests (and optionally limits) of one pod, per template. */
  podResources?: Partial<Record<StoreTemplate, PodResources>>;
  /** The pods a store runs once besides its app pods (its database; Medusa's Redis), per template, as the store charts request them. */
  databaseResources?: Partial<Record<StoreTemplate, PodResources[]>>;
  /** Clock and timers; a test passes a {@link ManualScheduler} or installs Jest's fake timers. */
  scheduler?: SimulationScheduler;
  /** What the pods report to canary analysis, by version. */
  metrics?: SimulatedMetricsOptions;
}

export const DEFAULT_POD_RESOURCES: Record<StoreTemplate, PodResources> = {
  wordpress: { requestsCpu: '250m', requestsMemory: '256Mi' },
  medusa: { requestsCpu: '250m', requestsMemory: '256Mi' },
};

/** deploy/store-charts/{template}/values.yaml: database (and redis) requests and limits. */
export const DEFAULT_DATABASE_RESOURCES: Record<StoreTemplate, PodResources[]> = {
  wordpress: [{ requestsCpu: '250m', requestsMemory: '256Mi', limitsCpu: '1', limitsMemory: '1Gi' }],
  medusa: [
    { requestsCpu: '250m', requestsMemory: '256Mi', limitsCpu: '500m', limitsMemory: '1Gi' },
    { requestsCpu: '50m', requestsMemory: '64Mi', limitsCpu: '250m', limitsMemory: '256Mi' },
  ],
};

/** A demo's pace: a pod runs after 0.4–0.6 s and is ready 1–2 s after it was created. */
export const DEFAULT_SIMULATED_DRIVER_OPTIONS: Readonly<Required<SimulatedDriverOptions>> = {
  podStartMs: 500,
  podReadyMs: 700,
  probeIntervalMs: 500,
  controllerIntervalMs: 1000,
  failingVersions: [],
  random: Math.random,
  timeScale: 1,
  jitter: 0.2,
  namespaceTerminationMs: 1500,
  backoffBaseMs: 1000,
  backoffMaxMs: 30_000,
  autoscaleStabilizationMs: 15_000,
  autoscaleTolerance: 0.1,
  podResources: DEFAULT_POD_RESOURCES,
  databaseResources: DEFAULT_DATABASE_RESOURCES,
  scheduler: realScheduler,
  metrics: {},
};

export type ResolvedSimulatedOptions = Required<SimulatedDriverOptions> & {
  podResources: Record<StoreTemplate, PodResources>;
  databaseResources: Record<StoreTemplate, PodResources[]>;
};

/** Fills in the defaults and refuses values the simulation cannot run with. */
export function resolveSimulatedOptions(options: Partial<SimulatedDriverOptions> = {}): ResolvedSimulatedOptions {
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const resolved = {
    ...DEFAULT_SIMULATED_DRIVER_OPTIONS,
    ...defined,
    failingVersions: [...(options.failingVersions ?? [])],
    podResources: { ...DEFAULT_POD_RESOURCES, ...options.podResources },
    databaseResources: { ...DEFAULT_DATABASE_RESOURCES, ...options.databaseResources },
  } as ResolvedSimulatedOptions;
  const durations = [
    'podStartMs',
    'podReadyMs',
    'namespaceTerminationMs',
    'backoffBaseMs',
    'backoffMaxMs',
    'autoscaleStabilizationMs',
  ] as const;
  for (const key of durations) {
    if (!Number.isFinite(resolved[key]) || resolved[key] < 0) throw new RangeError(`${key} must be a duration of 0 ms or more`);
  }
  for (const key of ['probeIntervalMs', 'controllerIntervalMs', 'timeScale'] as const) {
    if (!Number.isFinite(resolved[key]) || resolved[key] <= 0) throw new RangeError(`${key} must be more than 0`);
  }
  if (!(resolved.jitter >= 0 && resolved.jitter < 1)) throw new RangeError('jitter must be at least 0 and less than 1');
  if (!(resolved.autoscaleTolerance >= 0)) throw new RangeError('autoscaleTolerance must be 0 or more');
  return resolved;
}
