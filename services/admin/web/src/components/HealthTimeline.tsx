/**
 * Up/down history drawn from state changes: a service instance's over the last hour, a
 * store's over the last hour, day or week. The bar is for the eye; the SVG's description
 * says the same in words, and each span's title names its state and times, so colour is
 * never the only carrier.
 */
import { useId } from 'react';
import { formatClock, formatTime } from '../format';

export const HOUR_MS = 60 * 60_000;

/** From `at` on, the watched thing was `status` (`up`, `down`, `stopped`…). */
export interface StateChange {
  at: string;
  status: string;
}

export interface Segment {
  from: number;
  to: number;
  status: string;
}

/** The window split into spans of one status; before the first change nothing is known (`unknown`). */
export function segments(changes: readonly StateChange[], now: number, windowMs = HOUR_MS): Segment[] {
  const start = now - windowMs;
  const sorted = changes.map((c) => ({ at: new Date(c.at).getTime(), status: c.status })).sort((a, b) => a.at - b.at);
  const result: Segment[] = [];
  let cursor = start;
  let status = 'unknown';
  for (const c of sorted) {
    if (c.at > cursor) {
      result.push({ from: cursor, to: Math.min(c.at, now), status });
      cursor = Math.min(c.at, now);
    }
    status = c.status;
  }
  if (cursor < now) result.push({ from: cursor, to: now, status });
  return result.filter((s) => s.to > s.from);
}

const WINDOWS = [
  { ms: HOUR_MS, label: '1 h', words: 'the last hour' },
  { ms: 24 * HOUR_MS, label: '24 h', words: 'the last 24 hours' },
  { ms: 7 * 24 * HOUR_MS, label: '7 d', words: 'the last 7 days' },
] as const;

export type TimelineWindow = (typeof WINDOWS)[number];

/** The shortest window (1 h, 24 h, 7 d) that shows every change, or the longest. */
export function windowFor(changes: readonly StateChange[], now: number): TimelineWindow {
  const oldest = Math.min(now, ...changes.map((c) => new Date(c.at).getTime()).filter((t) => !Number.isNaN(t)));
  return WINDOWS.find((w) => now - oldest <= w.ms) ?? WINDOWS[WINDOWS.length - 1]!;
}

interface HealthTimelineProps {
  changes: readonly StateChange[];
  /** The state now, as the summary says it. */
  status: string;
  now: number;
  /** Defaults to the last hour. */
  window?: TimelineWindow;
  className?: string;
}

export function HealthTimeline({ changes, status, now, window = WINDOWS[0], className = 'timeline' }: HealthTimelineProps) {
  const id = useId();
  const width = 300;
  const start = now - window.ms;
  const spans = segments(changes, now, window.ms);
  const x = (at: number) => ((at - start) / window.ms) * width;
  const count = changes.filter((c) => new Date(c.at).getTime() >= start).length;
  const clock = window.ms > HOUR_MS ? formatTime : formatClock;
  const summary = `${capitalise(status)} now; ${count} change${count === 1 ? '' : 's'} in ${window.words}.`;
  return (
    <svg viewBox={`0 0 ${width} 34`} role="img" aria-labelledby={`${id}-desc`} className={className}>
      <desc id={`${id}-desc`}>{summary}</desc>
      {spans.map((s) => (
        <rect key={s.from} x={x(s.from)} y={2} width={Math.max(1, x(s.to) - x(s.from))} height={16} className={`timeline-${s.status}`}>
          <title>{`${s.status} ${clock(s.from)}–${clock(s.to)}`}</title>
        </rect>
      ))}
      <text x={0} y={31} className="axis-label">
        −{window.label}
      </text>
      <text x={width} y={31} textAnchor="end" className="axis-label">
        now
      </text>
    </svg>
  );
}

const capitalise = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
