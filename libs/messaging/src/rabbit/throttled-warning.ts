import type { Logger } from '@nestjs/common';

/**
 * A warning written at most once per `intervalMs` per key, saying how many like it were
 * held back: a flood of refused messages (someone publishing junk on the broker) must not
 * flood the logs as well.
 */
export class ThrottledWarning {
  private readonly last = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly logger: Pick<Logger, 'warn'>,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(key: string, message: string): void {
    const now = this.now();
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.intervalMs) {
      entry.held += 1;
      return;
    }
    const held = entry?.held ?? 0;
    // Keys are a handful of fixed reasons; the map stays that small.
    this.last.set(key, { at: now, held: 0 });
    this.logger.warn(held > 0 ? `${message} (${held} more like it in the last ${Math.round(this.intervalMs / 1000)} s)` : message);
  }
}
