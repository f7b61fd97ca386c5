import type { RolloutSpec, StoreTemplate } from '@flotilla/contracts';
import type { NamespaceLimits } from '../drivers/cluster-driver.js';
import { formatMemory, parseCpu, parseMemory } from '../drivers/simulated/quantity.js';
import { canaryWeights } from './rollout-steps.js';

/** Requests and limits of one pod: millicores and bytes. */
export interface PodFootprint {
  requestsCpu: number;
  requestsMemory: number;
  limitsCpu: number;
  limitsMemory: number;
}

const millicores = (n: number): string => `${n}m`;

const pod = (requestsCpu: string, requestsMemory: string, limitsCpu: string, limitsMemory: string): PodFootprint => ({
  requestsCpu: parseCpu(requestsCpu),
  requestsMemory: parseMemory(requestsMemory),
  limitsCpu: parseCpu(limitsCpu),
  limitsMemory: parseMemory(limitsMemory),
});

/**
 * What the store charts (deploy/store-charts/{template}/values.yaml) request per pod: one
 * app pod per replica, the pods every store runs once (its database, Medusa's Redis) and
 * the install Job of a first install. quota-check.spec.ts fails when these differ from the charts' values.
 */
export const STORE_FOOTPRINTS: Record<StoreTemplate, { app: PodFootprint; fixed: { name: string; pod: PodFootprint }[]; install: PodFootprint }> = {
  wordpress: {
    app: pod('100m', '256Mi', '500m', '512Mi'),
    fixed: [{ name: 'database', pod: pod('250m', '256Mi', '1', '1Gi') }],
    install: pod('50m', '128Mi', '500m', '256Mi'),
  },
  medusa: {
    app: pod('200m', '512Mi', '1', '1Gi'),
    fixed: [
      { name: 'database', pod: pod('250m', '256Mi', '500m', '1Gi') },
      { name: 'redis', pod: pod('50m', '64Mi', '250m', '256Mi') },
    ],
    install: pod('100m', '256Mi', '500m', '512Mi'),
  },
};

/** The change a create or update asks for: `from` is the revision serving now (none on a create). */
export interface QuotaPlan {
  template: StoreTemplate;
  from?: { revision: number; replicas: number };
  to: { revision: number; replicas: number };
  rollout: RolloutSpec;
}

/** The most app pods the rollout runs at once, and of how many revisions. */
export function peakAppPods(plan: QuotaPlan): { pods: number; revisions: number } {
  const { from, to, rollout } = plan;
  if (!from || from.revision === to.revision) return { pods: to.replicas, revisions: 1 };
  if (rollout.strategy === 'BlueGreen') return { pods: from.replicas + to.replicas, revisions: 2 };
  // Canary: the same split as rollOut's steps; a step of 100 runs the new revision alone.
  let peak = { pods: to.replicas, revisions: 1 };
  for (const weight of canaryWeights(rollout)) {
    if (weight >= 100) continue;
    const pods = Math.max(1, Math.round((from.replicas * (100 - weight)) / 100)) + Math.max(1, Math.ceil((to.replicas * weight) / 100));
    if (pods > peak.pods) peak = { pods, revisions: 2 };
  }
  return peak;
}

function describe(plan: QuotaPlan): string {
  const { from, to, rollout } = plan;
  if (!from) return `a store of ${to.replicas} replica(s)`;
  if (from.revision === to.revision) return `scaling to ${to.replicas} replica(s)`;
  return `${rollout.strategy === 'BlueGreen' ? 'blue/green' : 'canary'} to ${to.replicas} replica(s)`;
}

/**
 * Whether the rollout fits the namespace quota at its peak: app pods of every revision
 * running at once plus the database (and Redis) pods, and the install Job on a create.
 * A message naming the first exceeded resource and both numbers if not.
 */
export function quotaProblem(plan: QuotaPlan, limits: NamespaceLimits): string | undefined {
  const footprint = STORE_FOOTPRINTS[plan.template];
  const peak = peakAppPods(plan);
  const extra = [...footprint.fixed.map((f) => f.pod), ...(plan.from ? [] : [footprint.install])];
  const sum = (field: keyof PodFootprint): number => footprint.app[field] * peak.pods + extra.reduce((total, p) => total + p[field], 0);
  const checks: { key: string; need: number; allowed: number; format: (n: number) => string }[] = [
    { key: 'pods', need: peak.pods + extra.length, allowed: limits.pods, format: String },
    { key: 'requests.cpu', need: sum('requestsCpu'), allowed: parseCpu(limits.requestsCpu), format: millicores },
    { key: 'requests.memory', need: sum('requestsMemory'), allowed: parseMemory(limits.requestsMemory), format: formatMemory },
    { key: 'limits.cpu', need: sum('limitsCpu'), allowed: parseCpu(limits.limitsCpu), format: millicores },
    { key: 'limits.memory', need: sum('limitsMemory'), allowed: parseMemory(limits.limitsMemory), format: formatMemory },
  ];
  const exceeded = checks.find((check) => check.need > check.allowed);
  if (!exceeded) return undefined;
  const at = peak.revisions > 1 ? ` at its peak (${peak.revisions} revisions, ${peak.pods} app pod(s) plus ${extra.length} other)` : ` (${peak.pods} app pod(s) plus ${extra.length} other)`;
  return `${describe(plan)} needs ${exceeded.key} ${exceeded.format(exceeded.need)}${at}, the quota allows ${exceeded.format(exceeded.allowed)}`;
}
