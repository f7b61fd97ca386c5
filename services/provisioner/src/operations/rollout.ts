import type { RolloutSpec } from '@flotilla/contracts';
import { PermanentDriverError, type ClusterDriver, type ReleaseSpec, type RevisionSpec, type StoreRef } from '../drivers/cluster-driver.js';
import { RolloutAborted, UNSTEERED, type RolloutControl } from './rollout-control.js';
import { canarySteps, type CanaryStep } from './rollout-steps.js';

export { DEFAULT_CANARY_STEPS } from './rollout-steps.js';

export interface RolloutContext {
  driver: ClusterDriver;
  store: StoreRef;
  release: Omit<ReleaseSpec, 'revisions'>;
  /** Appends to the store's event log. */
  log: (type: string, message: string) => Promise<void>;
  /** Aborted when the operation loses its store lock. */
  signal: AbortSignal;
  deadlineMs: number;
  /** A canary step's pause when its rollout names none. */
  pauseMs: number;
  pollMs?: number;
  /** Promote, pause, resume and abort from people; none when omitted. */
  control?: RolloutControl;
}

export type RolloutOutcome = { outcome: 'ready'; readyReplicas: number } | { outcome: 'rolled_back' | 'failed' | 'aborted'; reason: string };

type Target = Omit<RevisionSpec, 'weight'>;

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
    await apply(ctx, [{ ...from, weight: 100 }]);
    await ctx.log('rollback', `${reason}; rolled back to revision ${from.revision} (${from.version})`);
    return { outcome: 'rolled_back', reason };
  };
  try {
    return await rollFrom(ctx, from, to, rollout, back, notReady);
  } catch (error) {
    if (error instanceof RolloutAborted) {
      await apply(ctx, [{ ...from, weight: 100 }]);
      await ctx.log('rollout', `aborted: all traffic back to revision ${from.revision} (${from.version}); revision ${to.revision} removed`);
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
  back: (reason: string) => Promise<RolloutOutcome>,
  notReady: (replicas: number) => string,
): Promise<RolloutOutcome> {
  if (from.revision === to.revision) {
    await ctx.log('scale', `scaling revision ${to.revision} from ${from.replicas} to ${to.replicas} replica(s)`);
    await apply(ctx, [{ ...to, weight: 100 }]);
    const ready = await waitReady(ctx, to.revision, to.replicas);
    return ready !== undefined ? { outcome: 'ready', readyReplicas: ready } : back(notReady(to.replicas));
  }
  if (rollout.strategy === 'BlueGreen') {
    await ctx.log('rollout', `blue/green: revision ${to.revision} (${to.version}) starting beside revision ${from.revision}, without traffic`);
    await apply(ctx, [{ ...from, weight: 100 }, { ...to, weight: 0 }]);
    await report(ctx, { step: 1, steps: 1, weight: 0, waiting: 'ready', until: null });
    if ((await waitReady(ctx, to.revision, to.replicas)) === undefined) return back(notReady(to.replicas));
    await ctx.log('rollout', `blue/green: revision ${to.revision} ready; all traffic switched to it`);
    await apply(ctx, [{ ...to, weight: 100 }]);
    return { outcome: 'ready', readyReplicas: to.replicas };
  }
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
    await ctx.log('rollout', `${label}: ${weight}% of traffic to revision ${to.revision} (${canary} of ${to.replicas} pod(s)); ${pauseMs === 'indefinite' ? 'waiting to be promoted' : `pausing ${Math.round(pauseMs / 100) / 10} s`}`);
    if ((await hold(ctx, { step: i + 1, steps: steps.length, weight }, pauseMs)) === 'full') {
      await ctx.log('rollout', `${label}: promoted in full; skipping to 100%`);
      break;
    }
  }
  // The last step (100%), or a full promote.
  await apply(ctx, [{ ...to, weight: 100 }]);
  await report(ctx, { step: steps.length, steps: steps.length, weight: 100, waiting: 'ready', until: null });
  if ((await waitReady(ctx, to.revision, to.replicas)) === undefined) return back(notReady(to.replicas));
  await ctx.log('rollout', `100% of traffic to revision ${to.revision}; rollout complete`);
  return { outcome: 'ready', readyReplicas: to.replicas };
}

/**
 * Holds a step once its pods are ready: until its pause ends (never, for `indefinite`),
 * unless promoted sooner; while paused, also past its pause. An abort is thrown.
 */
async function hold(ctx: RolloutContext, at: { step: number; steps: number; weight: number }, pauseMs: CanaryStep['pauseMs']): Promise<'next' | 'full'> {
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
    if (!paused && until !== null && Date.now() >= until) return 'next';
    await sleep(Math.min(ctx.pollMs ?? 250, until === null ? Infinity : Math.max(1, until - Date.now())), ctx.signal);
  }
}

async function report(ctx: RolloutContext, state: Parameters<RolloutControl['report']>[0]): Promise<void> {
  await (ctx.control ?? UNSTEERED).report(state);
}

async function apply(ctx: RolloutContext, revisions: RevisionSpec[]): Promise<void> {
  ctx.signal.throwIfAborted();
  await ctx.driver.apply(ctx.store, ctx.store.template, { ...ctx.release, revisions });
}

/** Ready pods of `revision` once there are `replicas` of them; `undefined` at the deadline. */
export async function waitReady(ctx: RolloutContext, revision: number, replicas: number): Promise<number | undefined> {
  const deadline = Date.now() + ctx.deadlineMs;
  for (;;) {
    ctx.signal.throwIfAborted();
    if ((await (ctx.control ?? UNSTEERED).read()).command === 'abort') throw new RolloutAborted();
    const observed = await ctx.driver.observe(ctx.store);
    const ready = observed.pods.filter((p) => p.revision === revision && p.ready).length;
    if (ready >= replicas) return ready;
    if (Date.now() >= deadline) return undefined;
    await sleep(ctx.pollMs ?? 250, ctx.signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
