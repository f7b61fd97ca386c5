/**
 * The clock and timers of the simulated cluster. Everything that happens in the
 * simulation (a pod starting, a probe, a controller run) is a timer on this scheduler,
 * so a test that brings its own scheduler decides when time moves.
 */
export interface SimulationScheduler {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Wall-clock time and the global timers. The globals are looked up at each call, so
 * Jest's fake timers apply when a test installs them after this module is loaded.
 */
export const realScheduler: SimulationScheduler = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface ManualTimer {
  at: number;
  seq: number;
  callback: () => void;
}

/**
 * A clock that moves only when told to: {@link advance} runs the timers that fall due,
 * in time order (ties in the order they were set), each at its own moment. For tests
 * and step-by-step demos; runs no real timer.
 */
export class ManualScheduler implements SimulationScheduler {
  private time: number;
  private seq = 0;
  private readonly timers = new Map<number, ManualTimer>();

  constructor(start: number = Date.UTC(2030, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + Math.max(0, ms), seq: id, callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Timers set and not yet run or cleared. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves the clock forward by `ms`, running every timer due by then (including those set while advancing). */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      let next: [number, ManualTimer] | undefined;
      for (const entry of this.timers) {
        const [, timer] = entry;
        if (timer.at > until) continue;
        if (!next || timer.at < next[1].at || (timer.at === next[1].at && timer.seq < next[1].seq)) next = entry;
      }
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].callback();
    }
    this.time = until;
  }
}
