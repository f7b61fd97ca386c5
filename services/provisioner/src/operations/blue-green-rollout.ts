import type { RolloutSpec } from '@flotilla/contracts';
import { apply, holdUntil, report, waitReady, type RollBack, type RolloutContext, type RolloutOutcome, type Target } from './rollout-support.js';

/**
 * Blue/green: the new revision beside the old one at weight 0; once all its pods are
 * ready, all traffic moves to it, and the old one stays scaled for the scale-down delay
 * (`rollout.scaleDownDelaySeconds`, or the provisioner's default): an abort in that
 * window sends the traffic back to pods that still run. Then the old revision goes.
 */
export async function rollBlueGreen(ctx: RolloutContext, from: Target, to: Target, rollout: RolloutSpec, back: RollBack, notReady: (replicas: number) => string): Promise<RolloutOutcome> {
  await ctx.log('rollout', `blue/green: revision ${to.revision} (${to.version}) starting beside revision ${from.revision}, without traffic`);
  await apply(ctx, [{ ...from, weight: 100 }, { ...to, weight: 0 }]);
  await report(ctx, { step: 1, steps: 1, weight: 0, waiting: 'ready', until: null });
  if ((await waitReady(ctx, to.revision, to.replicas)) === undefined) return back(notReady(to.replicas));
  const delayMs = rollout.scaleDownDelaySeconds !== undefined ? rollout.scaleDownDelaySeconds * 1000 : (ctx.scaleDownDelayMs ?? 0);
  if (delayMs > 0) {
    await apply(ctx, [{ ...from, weight: 0 }, { ...to, weight: 100 }]);
    await ctx.log('rollout', `blue/green: revision ${to.revision} ready; all traffic switched to it; revision ${from.revision} stays scaled for ${Math.round(delayMs / 1000)} s`);
    await holdUntil(ctx, Date.now() + delayMs, { step: 1, steps: 1, weight: 100 });
    await ctx.log('rollout', `blue/green: revision ${from.revision} scaled down`);
  } else {
    await ctx.log('rollout', `blue/green: revision ${to.revision} ready; all traffic switched to it`);
  }
  await apply(ctx, [{ ...to, weight: 100 }]);
  return { outcome: 'ready', readyReplicas: to.replicas };
}
