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
  deadlineMs: number;
  /** A canary step's pause when its rollout names none. */
  pauseMs: number;
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

export async function apply(ctx: RolloutContext, revisions: RevisionSpec[]): Promise<void> {
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
