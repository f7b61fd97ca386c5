import type { RolloutSpec } from '@flotilla/contracts';
import { UNSTEERED, RolloutAborted } from './rollout-control.js';
import { StepAnalysis } from './rollout-analysis.js';
import { apply, report, sleep, waitReady, type RollBack, type RolloutContext, type RolloutOutcome, type Target } from './rollout-support.js';
import { canarySteps, type CanaryStep } from './rollout-steps.js';

/**
 * Canary: weighted steps (default 25, 50, 100), each waiting for the new pods to be ready,
 * then its pause (a duration, or `indefinite`: until promoted); a full promote skips to 100%.
 * With `analysis`, each step is also measured while it holds and goes on only after a
 * passing measurement; failing ones roll back (see {@link StepAnalysis}).
 */
export async function rollCanary(ctx: RolloutContext, from: Target, to: Target, rollout: RolloutSpec, back: RollBack, notReady: (replicas: number) => string): Promise<RolloutOutcome> {
  const steps = canarySteps(rollout, ctx.pauseMs);
  for (const [i, { weight, pauseMs }] of steps.entries()) {
    if (weight >= 100) break;
    const label = `canary step ${i + 1}/${steps.length}`;
    const canary = Math.max(1, Math.ceil((to.replicas * weight) / 100));
    const stable = Math.max(1, Math.round((from.replicas * (100 - weight)) / 100));
    await apply(ctx, [
      { ...from, replicas: stable, weight: 100 - weight },
      { ...to, replicas: canary, weight },
    ]);
    await report(ctx, { step: i + 1, steps: steps.length, weight, waiting: 'ready', until: null });
    if ((await waitReady(ctx, to.revision, canary)) === undefined) return back(notReady(canary));
    const analysis = rollout.analysis && new StepAnalysis(rollout.analysis, analysisDeps(ctx), to.revision, label);
    await ctx.log(
      'rollout',
      `${label}: ${weight}% of traffic to revision ${to.revision} (${canary} of ${to.replicas} pod(s)); ${pauseMs === 'indefinite' ? 'waiting to be promoted' : `pausing ${Math.round(pauseMs / 100) / 10} s`}${analysis ? `; analysing every ${rollout.analysis!.interval}` : ''}`,
    );
    const held = await hold(ctx, { step: i + 1, steps: steps.length, weight }, pauseMs, analysis);
    if (typeof held === 'object') return back(held.rollBack);
    if (held === 'full') {
      await ctx.log('rollout', `${label}: promoted in full; skipping to 100%`);
      break;
    }
  }
  // The last step (100%), or a full promote.
  await apply(ctx, [{ ...to, weight: 100 }]);
  await report(ctx, { step: steps.length, steps: steps.length, weight: 100, waiting: 'ready', until: null });
  if ((await waitReady(ctx, to.revision, to.replicas)) === undefined) return back(notReady(to.replicas));
  await ctx.log('rollout', `canary step ${steps.length}/${steps.length}: 100% of traffic to revision ${to.revision}; rollout complete`);
  return { outcome: 'ready', readyReplicas: to.replicas };
}

function analysisDeps(ctx: RolloutContext): ConstructorParameters<typeof StepAnalysis>[1] {
  const control = ctx.control ?? UNSTEERED;
  return { metrics: ctx.driver.metrics, store: ctx.store, log: ctx.log, pause: async () => control.pause?.(), signal: ctx.signal };
}

/**
 * Holds a step once its pods are ready: until its pause ends (never, for `indefinite`)
 * and, with analysis, a measurement passed — unless promoted sooner; while paused, also
 * past that. Measurements go on every interval meanwhile (paused too: a revision failing
 * them is rolled back whoever holds it). An abort is thrown.
 */
async function hold(
  ctx: RolloutContext,
  at: { step: number; steps: number; weight: number },
  pauseMs: CanaryStep['pauseMs'],
  analysis: StepAnalysis | undefined,
): Promise<'next' | 'full' | { rollBack: string }> {
  const until = pauseMs === 'indefinite' ? null : Date.now() + pauseMs;
  await report(ctx, { ...at, waiting: until === null ? 'promote' : 'pause', until: until === null ? null : new Date(until).toISOString() });
  const control = ctx.control ?? UNSTEERED;
  for (;;) {
    const { paused, command } = await control.read();
    if (command === 'abort') throw new RolloutAborted();
    if (command === 'promote' || command === 'promote_full') {
      await control.take(command);
      return command === 'promote_full' ? 'full' : 'next';
    }
    if (analysis && analysis.dueIn() === 0) {
      const { rollBack } = await analysis.measure(paused);
      if (rollBack) return { rollBack };
      continue; // read the control again: the measurement may have paused the rollout
    }
    if (!paused && until !== null && Date.now() >= until && (!analysis || analysis.passed)) return 'next';
    const waits = [ctx.pollMs ?? 250, until === null || Date.now() >= until ? Infinity : until - Date.now(), analysis ? analysis.dueIn() : Infinity];
    await sleep(Math.max(1, Math.min(...waits)), ctx.signal);
  }
}
