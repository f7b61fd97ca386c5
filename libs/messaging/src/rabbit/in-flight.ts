/**
 * Tracks the messages a consumer is still working on, so shutdown can wait for
 * them (bounded) after it stopped taking new ones.
 */
export class InFlight {
  private readonly running = new Set<Promise<unknown>>();

  /** Messages still being worked on. */
  get size(): number {
    return this.running.size;
  }

  /** Remembers `work` until it settles; returns it unchanged. */
  track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(settled);
    void settled.then(() => this.running.delete(settled));
    return work;
  }

  /**
   * Resolves `true` once everything tracked (including work added meanwhile) has
   * settled, or `false` when `timeoutMs` passes first.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        Promise.all([...this.running]).then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), remaining);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) return this.running.size === 0;
    }
    return true;
  }
}
