const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

/** 75 → "1m 15s"; undefined or not finite → "--". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Bytes per second over the last few seconds, and the time left at that rate. */
export class RateMeter {
  private readonly samples: { at: number; value: number }[] = [];

  constructor(
    private readonly windowMs = 5000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records that `value` (a running total) was reached now. */
  sample(value: number): void {
    const at = this.now();
    this.samples.push({ at, value });
    while (this.samples.length > 2 && at - this.samples[0]!.at > this.windowMs) this.samples.shift();
  }

  /** Per second over the window; undefined until there is a span to measure. */
  rate(): number | undefined {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at - first.at < 200) return undefined;
    return Math.max(0, ((last.value - first.value) * 1000) / (last.at - first.at));
  }

  /** Seconds to reach `total` at the current rate. */
  eta(total: number): number | undefined {
    const last = this.samples[this.samples.length - 1];
    if (last && last.value >= total) return 0;
    const rate = this.rate();
    if (rate === undefined || !last) return undefined;
    return rate > 0 ? (total - last.value) / rate : undefined;
  }
}
