import type { RolloutSpec } from '@flotilla/contracts';
import { PermanentDriverError } from '../drivers/cluster-driver.js';
import { rollBlueGreen } from './blue-green-rollout.js';
import { rollCanary } from './canary-rollout.js';
import { RolloutAborted } from './rollout-control.js';
import { apply, returnTo, waitReady, type RollBack, type RolloutContext, type RolloutOutcome, type Target } from './rollout-support.js';

export { DEFAULT_CANARY_STEPS } from './rollout-steps.js';
export { waitReady, type RolloutContext, type RolloutOutcome } from './rollout-support.js';

/**
 * Takes a store from revision `from` (the last good one; none on first install) to
 * `to`, by `rollout`'s strategy:
 * - first install: the revision at full weight, then wait until all its pods are ready;
 * - same revision (a replica change): scale in place;
 * - `BlueGreen`: the new revision beside the old one at weight 0; once all its pods are
 *   ready, all traffic moves and the old one goes;
 * - `Canary`: weighted steps (default 25, 50, 100), each waiting for the new pods to be
 *   ready, then its pause (a duration, or `indefinite`: until promoted).
 * While it runs, a rollout can be paused (it holds where it is, traffic as it is, until
 * resumed), promoted (the current pause ends; `full`: straight to 100%) and aborted (all
 * traffic back to `from` at once and the new revision removed: outcome `aborted`).
 * A revision not ready within the deadline, or refused by the cluster for good
 * ({@link PermanentDriverError}, a full quota), is rolled back to `from` (outcome
 * `rolled_back`), or the store has failed when there is nothing to go back to.
 * Other driver errors are thrown: the operation is retried.
 */
export async function rollOut(ctx: RolloutContext, from: Target | undefined, to: Target, rollout: RolloutSpec): Promise<RolloutOutcome> {
  const notReady = (replicas: number): string =>
    `revision ${to.revision} (${to.version}) did not get ${replicas} ready pod(s) within ${Math.round(ctx.deadlineMs / 1000)} s`;
  if (!from) {
    await apply(ctx, [{ ...to, weight: 100 }]);
    const ready = await waitReady(ctx, to.revision, to.replicas);
    return ready !== undefined ? { outcome: 'ready', readyReplicas: ready } : { outcome: 'failed', reason: notReady(to.replicas) };
  }
  const back = async (reason: string): Promise<RolloutOutcome> => {
    await returnTo(ctx, from, 'rollback', `${reason}; rolled back to revision ${from.revision} (${from.version})`);
    return { outcome: 'rolled_back', reason };
  };
  try {
    return await rollFrom(ctx, from, to, rollout, back, notReady);
  } catch (error) {
    if (error instanceof RolloutAborted) {
      await returnTo(ctx, from, 'rollout', `aborted: all traffic back to revision ${from.revision} (${from.version}); revision ${to.revision} removed`);
      return { outcome: 'aborted', reason: `rollout of revision ${to.revision} (${to.version}) aborted; serving revision ${from.revision} (${from.version})` };
    }
    // The cluster refused the new revision for good (its quota, say): what ran before
    // goes back alone rather than leaving both revisions deployed and the store failed.
    if (error instanceof PermanentDriverError) return back(`revision ${to.revision} (${to.version}) refused: ${error.message}`);
    throw error;
  }
}

async function rollFrom(
  ctx: RolloutContext,
  from: Target,
  to: Target,
  rollout: RolloutSpec,
  back: RollBack,
  notReady: (replicas: number) => string,
): Promise<RolloutOutcome> {
  if (from.revision === to.revision) {
    await ctx.log('scale', `scaling revision ${to.revision} from ${from.replicas} to ${to.replicas} replica(s)`);
    await apply(ctx, [{ ...to, weight: 100 }]);
    const ready = await waitReady(ctx, to.revision, to.replicas);
    return ready !== undefined ? { outcome: 'ready', readyReplicas: ready } : back(notReady(to.replicas));
  }
  if (rollout.strategy === 'BlueGreen') return rollBlueGreen(ctx, from, to, rollout, back, notReady);
  return rollCanary(ctx, from, to, rollout, back, notReady);
}
