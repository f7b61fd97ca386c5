import type { SimulationScheduler } from './scheduler.js';

// ---------------------------------------------------------------------------
// What a cluster kept in this process needs beyond its state: a wake-up on the
// scheduler for its next timer, and the waits of namespaces being deleted.
// ---------------------------------------------------------------------------

/** One scheduler timeout at a time, at the moment the simulation's next timer falls due. */
export class WakeUp {
  private wake: { handle: unknown; at: number } | null = null;

  constructor(
    private readonly scheduler: SimulationScheduler,
    private readonly runDue: (now: number) => void,
  ) {}

  /** Wakes at `next` (nothing set when undefined); an earlier or later wake-up is replaced. */
  set(next: number | undefined): void {
    if (this.wake && this.wake.at === next) return;
    this.clear();
    if (next === undefined) return;
    this.wake = {
      at: next,
      handle: this.scheduler.setTimeout(() => {
        this.wake = null;
        this.runDue(this.scheduler.now());
      }, Math.max(0, next - this.scheduler.now())),
    };
  }

  clear(): void {
    if (this.wake) this.scheduler.clearTimeout(this.wake.handle);
    this.wake = null;
  }
}

/** Who waits for which namespace to be gone: one shared promise per namespace. */
export class TerminationWaits {
  private readonly waits = new Map<string, { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void }>();

  /** The wait for `name`, the same one for every caller while it terminates. */
  wait(name: string): Promise<void> {
    const waiting = this.waits.get(name);
    if (waiting) return waiting.promise;
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // The caller holds the promise; this keeps a close() during termination from becoming an unhandled rejection when it does not.
    promise.catch(() => undefined);
    this.waits.set(name, { promise, resolve, reject });
    return promise;
  }

  gone(name: string): void {
    this.waits.get(name)?.resolve();
    this.waits.delete(name);
  }

  rejectAll(reason: (name: string) => Error): void {
    for (const [name, waiting] of this.waits) waiting.reject(reason(name));
    this.waits.clear();
  }
}
