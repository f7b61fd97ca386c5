import { apply, report, waitReady, type RollBack, type RolloutContext, type RolloutOutcome, type Target } from './rollout-support.js';

/**
 * Blue/green: the new revision beside the old one at weight 0; once all its pods are
 * ready, all traffic moves and the old one goes.
 */
export async function rollBlueGreen(ctx: RolloutContext, from: Target, to: Target, back: RollBack, notReady: (replicas: number) => string): Promise<RolloutOutcome> {
  await ctx.log('rollout', `blue/green: revision ${to.revision} (${to.version}) starting beside revision ${from.revision}, without traffic`);
  await apply(ctx, [{ ...from, weight: 100 }, { ...to, weight: 0 }]);
  await report(ctx, { step: 1, steps: 1, weight: 0, waiting: 'ready', until: null });
  if ((await waitReady(ctx, to.revision, to.replicas)) === undefined) return back(notReady(to.replicas));
  await ctx.log('rollout', `blue/green: revision ${to.revision} ready; all traffic switched to it`);
  await apply(ctx, [{ ...to, weight: 100 }]);
  return { outcome: 'ready', readyReplicas: to.replicas };
}
