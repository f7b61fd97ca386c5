import type { RolloutSpec } from '@flotilla/contracts';
import { PermanentDriverError, type ClusterDriver, type ReleaseSpec, type RevisionSpec, type StoreRef } from '../drivers/cluster-driver.js';

export const DEFAULT_CANARY_STEPS = [25, 50, 100];

export interface RolloutContext {
  driver: ClusterDriver;
  store: StoreRef;
  release: Omit<ReleaseSpec, 'revisions'>;
  /** Appends to the store's event log. */
  log: (type: string, message: string) => Promise<void>;
  /** Aborted when the operation loses its store lock. */
  signal: AbortSignal;
  deadlineMs: number;
  pauseMs: number;
  pollMs?: number;
}

export type RolloutOutcome = { outcome: 'ready'; readyReplicas: number } | { outcome: 'rolled_back' | 'failed'; reason: string };

type Target = Omit<RevisionSpec, 'weight'>;

/**
 * Takes a store from revision `from` (the last good one; none on first install) to
 * `to`, by `rollout`'s strategy:
 * - first install: the revision at full weight, then wait until all its pods are ready;
 * - same revision (a replica change): scale in place;
 * - `BlueGreen`: the new revision beside the old one at weight 0; once all its pods are
 *   ready, all traffic moves and the old one goes;
 * - `Canary`: weighted steps (default 25, 50, 100), each waiting for the new pods to be
 *   ready, then a pause.
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
    if ((await waitReady(ctx, to.revision, to.replicas)) === undefined) return back(notReady(to.replicas));
    await ctx.log('rollout', `blue/green: revision ${to.revision} ready; all traffic switched to it`);
    await apply(ctx, [{ ...to, weight: 100 }]);
    return { outcome: 'ready', readyReplicas: to.replicas };
  }
  const steps = rollout.steps?.length ? rollout.steps : DEFAULT_CANARY_STEPS;
  for (const [i, weight] of steps.entries()) {
    const label = `canary step ${i + 1}/${steps.length}`;
    if (weight >= 100) {
      await apply(ctx, [{ ...to, weight: 100 }]);
      if ((await waitReady(ctx, to.revision, to.replicas)) === undefined) return back(notReady(to.replicas));
      await ctx.log('rollout', `${label}: 100% of traffic to revision ${to.revision}; rollout complete`);
      return { outcome: 'ready', readyReplicas: to.replicas };
    }
    const canary = Math.max(1, Math.ceil((to.replicas * weight) / 100));
    const stable = Math.max(1, Math.round((from.replicas * (100 - weight)) / 100));
    await apply(ctx, [
      { ...from, replicas: stable, weight: 100 - weight },
      { ...to, replicas: canary, weight },
    ]);
    if ((await waitReady(ctx, to.revision, canary)) === undefined) return back(notReady(canary));
    await ctx.log('rollout', `${label}: ${weight}% of traffic to revision ${to.revision} (${canary} of ${to.replicas} pod(s)); pausing ${Math.round(ctx.pauseMs / 100) / 10} s`);
    await sleep(ctx.pauseMs, ctx.signal);
  }
  // Steps that never reach 100 still end with the new revision taking all traffic.
  await apply(ctx, [{ ...to, weight: 100 }]);
  if ((await waitReady(ctx, to.revision, to.replicas)) === undefined) return back(notReady(to.replicas));
  await ctx.log('rollout', `revision ${to.revision} takes all traffic; rollout complete`);
  return { outcome: 'ready', readyReplicas: to.replicas };
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
