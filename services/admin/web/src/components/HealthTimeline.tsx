/** An instance's up/down/stopped history over the last hour, drawn from its transitions. */
import { useId } from 'react';
import { formatClock } from '../format';
import type { ServiceInstance } from '../types';

export const TIMELINE_MS = 60 * 60_000;

const STATUS_TEXT: Record<ServiceInstance['status'], string> = { up: 'Up', down: 'Down', stopped: 'Stopped' };

interface Segment {
  from: number;
  to: number;
  status: ServiceInstance['status'] | 'unknown';
}

/** The window split into spans of one status; before the first transition nothing is known. */
export function segments(transitions: ServiceInstance['transitions'], now: number, windowMs = TIMELINE_MS): Segment[] {
  const start = now - windowMs;
  const sorted = [...transitions].map((t) => ({ at: new Date(t.at).getTime(), status: t.status })).sort((a, b) => a.at - b.at);
  const result: Segment[] = [];
  let cursor = start;
  let status: Segment['status'] = 'unknown';
  for (const t of sorted) {
    if (t.at > cursor) {
      result.push({ from: cursor, to: Math.min(t.at, now), status });
      cursor = Math.min(t.at, now);
    }
    status = t.status;
  }
  if (cursor < now) result.push({ from: cursor, to: now, status });
  return result.filter((s) => s.to > s.from);
}

export function HealthTimeline({ instance, now }: { instance: ServiceInstance; now: number }) {
  const id = useId();
  const width = 300;
  const start = now - TIMELINE_MS;
  const spans = segments(instance.transitions, now);
  const x = (at: number) => ((at - start) / TIMELINE_MS) * width;
  const changes = instance.transitions.filter((t) => new Date(t.at).getTime() >= start).length;
  const summary = `${STATUS_TEXT[instance.status]} now; ${changes} change${changes === 1 ? '' : 's'} in the last hour.`;
  return (
    <svg viewBox={`0 0 ${width} 34`} role="img" aria-labelledby={`${id}-desc`} className="timeline">
      <desc id={`${id}-desc`}>{summary}</desc>
      {spans.map((s) => (
        <rect key={s.from} x={x(s.from)} y={2} width={Math.max(1, x(s.to) - x(s.from))} height={16} className={`timeline-${s.status}`}>
          <title>{`${s.status} ${formatClock(s.from)}–${formatClock(s.to)}`}</title>
        </rect>
      ))}
      <text x={0} y={31} className="axis-label">
        −60 min
      </text>
      <text x={width} y={31} textAnchor="end" className="axis-label">
        now
      </text>
    </svg>
  );
}
