/**
 * Runs `fn` on every item, at most `limit` at a time, in the items' order of start.
 * The first failure stops it: no further item starts, `signal` passed to the running
 * ones is aborted (so their downloads end instead of holding connections), and once
 * every started call has settled that first error is thrown. An abort of `parent`
 * reaches the running calls the same way, and makes it throw (`parent.reason`) when
 * items were left unstarted.
 */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number, signal: AbortSignal) => Promise<void>,
  parent?: AbortSignal,
): Promise<void> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
  const stop = new AbortController();
  const signal = parent ? AbortSignal.any([parent, stop.signal]) : stop.signal;
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && !signal.aborted && next < items.length) {
      const index = next++;
      try {
        await fn(items[index]!, index, signal);
      } catch (error) {
        if (!failed) {
          failed = true;
          firstError = error;
          stop.abort(error);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw firstError;
  // Stopped by `parent` between two items: the work is not done, so say so.
  if (next < items.length) throw parent?.reason ?? new Error('stopped before every item was processed');
}
