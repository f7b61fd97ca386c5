/**
 * Up/down history drawn from state changes: a service instance's over the last hour, a
 * store's since its first change. The bar is for the eye; the SVG's description
 * says the same in words, and each span's title names its state and times, so colour is
 * never the only carrier.
 */
import { useId } from 'react';
import { formatClock, formatTime } from '../format';

export const HOUR_MS = 60 * 60_000;
/** The width (in the drawing's units) a span needs for its state to be written on it. */
const LABEL_MIN_WIDTH = 64;

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

/** The span a timeline draws: from `start` to now, with the words for its left edge and for summaries. */
export interface TimelineWindow {
  start: number;
  /** Under the left edge: `−1 h`, or a time. */
  label: string;
  /** `the last hour`, `since 2026-12-07 15:08:30`. */
  words: string;
}

export const lastHour = (now: number): TimelineWindow => ({ start: now - HOUR_MS, label: '−1 h', words: 'the last hour' });

/**
 * From the first change on: before it nothing is known, so a thing watched for seconds
 * gets the whole bar for those seconds, and one watched for weeks its whole history.
 */
export function sinceFirst(changes: readonly StateChange[], now: number): TimelineWindow {
  const times = changes.map((c) => new Date(c.at).getTime()).filter((t) => !Number.isNaN(t));
  if (times.length === 0) return lastHour(now);
  // At least a second, so a change made this instant still has a bar to draw on.
  const start = Math.min(now - 1000, ...times);
  const label = now - start > 24 * HOUR_MS ? formatTime(start) : formatClock(start);
  return { start, label, words: `since ${formatTime(start)}` };
}

interface HealthTimelineProps {
  changes: readonly StateChange[];
  /** The state now, as the summary says it. */
  status: string;
  now: number;
  /** The last hour unless given. */
  range?: TimelineWindow;
  /** The drawing's own width: a wider one keeps its labels small when shown wide. */
  width?: number;
  className?: string;
}

export function HealthTimeline({ changes, status, now, range = lastHour(now), width = 300, className = 'timeline' }: HealthTimelineProps) {
  const id = useId();
  const span = Math.max(1, now - range.start);
  const spans = segments(changes, now, span);
  const x = (at: number) => ((at - range.start) / span) * width;
  const count = changes.filter((c) => new Date(c.at).getTime() >= range.start).length;
  const clock = span > 24 * HOUR_MS ? formatTime : formatClock;
  const summary = `${capitalise(status)} now; ${count} change${count === 1 ? '' : 's'} ${range.words.startsWith('since') ? '' : 'in '}${range.words}.`;
  return (
    <svg viewBox={`0 0 ${width} 34`} role="img" aria-labelledby={`${id}-desc`} className={className}>
      <desc id={`${id}-desc`}>{summary}</desc>
      {spans.map((s) => {
        const w = Math.max(1, x(s.to) - x(s.from));
        return (
          <g key={s.from}>
            <rect x={x(s.from)} y={2} width={w} height={16} className={`timeline-${s.status}`}>
              <title>{`${s.status} ${clock(s.from)}–${clock(s.to)}`}</title>
            </rect>
            {/* The state written on the bar where it fits, so the colours are not all it says (the pale "nothing known yet" stays blank). */}
            {w >= LABEL_MIN_WIDTH && s.status !== 'unknown' && (
              <text x={x(s.from) + 4} y={14} className={`timeline-text timeline-text-${s.status}`} aria-hidden="true">
                {s.status}
              </text>
            )}
          </g>
        );
      })}
      <text x={0} y={31} className="axis-label">
        {range.label}
      </text>
      <text x={width} y={31} textAnchor="end" className="axis-label">
        now
      </text>
    </svg>
  );
}

const capitalise = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
