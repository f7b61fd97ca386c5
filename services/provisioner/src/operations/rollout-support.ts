import { type ClusterDriver, type ReleaseSpec, type RevisionSpec, type StoreRef } from '../drivers/cluster-driver.js';
import { RolloutAborted, UNSTEERED, type RolloutControl } from './rollout-control.js';

/** What a rollout needs to run, whatever its strategy. */
export interface RolloutContext {
  driver: ClusterDriver;
  store: StoreRef;
  release: Omit<ReleaseSpec, 'revisions'>;
  /** Appends to the store's event log. */
  log: (type: string, message: string) => Promise<void>;
  /** Aborted when the operation loses its store lock. */
  signal: AbortSignal;
  /** How long the pods of one apply get to be ready, counted from that apply (see {@link waitReady}). */
  deadlineMs: number;
  /** A canary step's pause when its rollout names none. */
  pauseMs: number;
  /** Blue/green: how long the old revision stays after the switch when the rollout names no delay. */
  scaleDownDelayMs?: number;
  pollMs?: number;
  /** Promote, pause, resume and abort from people; none when omitted. */
  control?: RolloutControl;
}

export type RolloutOutcome = { outcome: 'ready'; readyReplicas: number } | { outcome: 'rolled_back' | 'failed' | 'aborted'; reason: string };

export type Target = Omit<RevisionSpec, 'weight'>;

/** Sends all traffic back to the last good revision: the outcome `rolled_back`, with why. */
export type RollBack = (reason: string) => Promise<RolloutOutcome>;

export async function report(ctx: RolloutContext, state: Parameters<RolloutControl['report']>[0]): Promise<void> {
  await (ctx.control ?? UNSTEERED).report(state);
}

/** When each rollout's latest apply started: the deadline of the wait that follows counts from it. */
const appliedAt = new WeakMap<RolloutContext, number>();

export async function apply(ctx: RolloutContext, revisions: RevisionSpec[]): Promise<void> {
  ctx.signal.throwIfAborted();
  appliedAt.set(ctx, Date.now());
  await ctx.driver.apply(ctx.store, ctx.store.template, { ...ctx.release, revisions });
}

/**
 * Ready pods of `revision` once there are `replicas` of them; `undefined` at the deadline.
 * One deadline per apply, not two: it counts from the start of the apply this wait follows,
 * which on Kubernetes already waited for readiness itself (`helm --wait --timeout` of the
 * same length), so a revision that never gets ready is given up after one deadline.
 */
export async function waitReady(ctx: RolloutContext, revision: number, replicas: number): Promise<number | undefined> {
  const deadline = (appliedAt.get(ctx) ?? Date.now()) + ctx.deadlineMs;
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

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
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

/**
 * Holds until `until` (ms), reporting `state` with the time: a promote ends the hold at
 * once, a pause holds past it until resumed, an abort is thrown. For blue/green's window
 * after the switch, while the old revision still runs.
 */
export async function holdUntil(ctx: RolloutContext, until: number, state: { step: number; steps: number; weight: number }): Promise<void> {
  const control = ctx.control ?? UNSTEERED;
  await control.report({ ...state, waiting: 'pause', until: new Date(until).toISOString() });
  for (;;) {
    const { paused, command } = await control.read();
    if (command === 'abort') throw new RolloutAborted();
    if (command === 'promote' || command === 'promote_full') {
      await control.take(command);
      return;
    }
    if (!paused && Date.now() >= until) return;
    await sleep(Math.min(ctx.pollMs ?? 250, Math.max(1, until - Date.now())), ctx.signal);
  }
}

/**
 * All traffic back to `from` alone, then waits (one deadline) until its pods are ready
 * again, and logs whether they are: a rollback is done only once the stable revision serves.
 */
export async function returnTo(ctx: RolloutContext, from: Target, type: string, what: string): Promise<string> {
  // An abort asked for meanwhile is this very return: taken, so the wait below is not thrown out of.
  await (ctx.control ?? UNSTEERED).take('abort');
  await apply(ctx, [{ ...from, weight: 100 }]);
  const ready = await waitReady(ctx, from.revision, from.replicas);
  const serving =
    ready !== undefined
      ? `revision ${from.revision} (${from.version}) ready again with ${ready} pod(s)`
      : `revision ${from.revision} (${from.version}) not ready again within ${Math.round(ctx.deadlineMs / 1000)} s`;
  await ctx.log(type, `${what}; ${serving}`);
  return serving;
}
