import type { StoreHealthState, StorePod } from '@flotilla/contracts';

export interface HealthObservation {
  pods: StorePod[];
  /** The revision the store should serve; only its pods count. */
  revision: number;
  /** What the cluster refused for the store (a quota exceeded, a failed ReplicaSet), when the driver knows. */
  problems?: string[];
}

/**
 * Why a store serves nothing, or `undefined` when at least one pod of its revision is
 * ready (the minimum for serving traffic). The reason names what blocks: pending pods and
 * why, crash loops, running pods whose readiness probe fails, or no pods at all.
 */
export function blockingReason(observation: HealthObservation): string | undefined {
  const pods = observation.pods.filter((p) => p.revision === observation.revision);
  if (pods.some((p) => p.ready)) return undefined;
  const parts: string[] = [];
  const pending = pods.filter((p) => p.phase === 'Pending');
  if (pending.length) parts.push(`${pending.length} pending${why(pending.map((p) => p.reason))}`);
  const crashing = pods.filter((p) => p.phase !== 'Pending' && p.reason === 'CrashLoopBackOff');
  if (crashing.length) parts.push(`${crashing.length} crash-looping (CrashLoopBackOff, ${Math.max(...crashing.map((p) => p.restarts))} restarts)`);
  const probing = pods.filter((p) => p.phase === 'Running' && p.reason !== 'CrashLoopBackOff');
  if (probing.length) parts.push(`${probing.length} running, readiness probe failing${why(probing.map((p) => p.reason))}`);
  const other = pods.filter((p) => p.phase !== 'Pending' && p.phase !== 'Running');
  if (other.length) parts.push(`${other.length} ${other.map((p) => p.phase.toLowerCase()).filter(unique).join('/')}`);
  if (!pods.length) parts.push(`no pods${why(observation.problems ?? [])}`);
  else if (observation.problems?.length) parts.push(observation.problems.join('; '));
  return `0 ready pods: ${parts.join('; ')}`;
}

export interface HealthMemory {
  state: StoreHealthState;
  /** Failing checks in a row. */
  failures: number;
}

/** Failing checks in a row before a store is `down`: two reconcile periods of grace for a pod that is restarting. */
export const DOWN_AFTER_FAILURES = 2;

/** The state after one check: `down` on the second failing check in a row, `up` on the first good one. */
export function nextHealth(current: HealthMemory, reason: string | undefined): HealthMemory & { changed: boolean } {
  if (reason === undefined) return { state: 'up', failures: 0, changed: current.state !== 'up' };
  const failures = current.failures + 1;
  const state = failures >= DOWN_AFTER_FAILURES ? 'down' : current.state;
  return { state, failures, changed: state !== current.state };
}

function why(reasons: Array<string | undefined>): string {
  const known = reasons.filter((r): r is string => Boolean(r)).filter(unique);
  return known.length ? ` (${known.join('; ')})` : '';
}

function unique<T>(value: T, index: number, all: T[]): boolean {
  return all.indexOf(value) === index;
}

/**
 * The failing checks that still count: only those of the last two periods, so a failure
 * seen before an update (when health is not checked), or before passes were skipped,
 * does not shorten the grace of a later one.
 */
export function failuresInARow(failures: number, lastCheckedAt: Date | null, now: number, periodMs: number): number {
  if (!lastCheckedAt || now - lastCheckedAt.getTime() > 2 * periodMs) return 0;
  return failures;
}
