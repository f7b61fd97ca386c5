/**
 * Small SVG charts. They scale with their container (viewBox); colours come from the
 * stylesheet. Each is an image with a text alternative that states what it shows.
 */
import { useId } from 'react';

/** viewBox width: about the width charts get on a laptop screen, so text keeps its size. */
const WIDTH = 480;

export interface Point {
  at: number;
  value: number;
}

/** A round upper bound for the y axis: 1, 2 or 5 times a power of ten. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((m) => m * power >= value) ?? 10;
  return step * power;
}

/** A time span for an axis label: seconds up to two minutes, then minutes. */
function span(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

interface LineChartProps {
  title: string;
  points: Point[];
  /** The time span shown, ending at `now`. */
  windowMs: number;
  now: number;
  format: (value: number) => string;
  /** The y axis reaches at least this high (so a flat zero line sits at the bottom). */
  minTop?: number;
}

export function LineChart({ title, points, windowMs, now, format, minTop = 1 }: LineChartProps) {
  const id = useId();
  const height = 170;
  const left = 64;
  const right = 12;
  const top = 12;
  const bottom = 28;
  const plotW = WIDTH - left - right;
  const plotH = height - top - bottom;
  const start = now - windowMs;
  const visible = points.filter((p) => p.at >= start);
  const max = niceMax(Math.max(minTop, ...visible.map((p) => p.value)));
  const x = (at: number) => left + ((at - start) / windowMs) * plotW;
  const y = (value: number) => top + plotH - (value / max) * plotH;
  const line = visible.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.at).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
  const first = visible[0];
  const last = visible[visible.length - 1];
  const area = first && last ? `${line} L${x(last.at).toFixed(1)},${y(0)} L${x(first.at).toFixed(1)},${y(0)} Z` : '';
  const summary = last
    ? `${title} over the last ${span(windowMs)}: now ${format(last.value)}, highest ${format(Math.max(...visible.map((p) => p.value)))}.`
    : `${title}: no figures yet.`;

  return (
    <figure className="chart">
      <figcaption id={`${id}-title`}>{title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-labelledby={`${id}-title ${id}-desc`} className="chart-svg">
        <desc id={`${id}-desc`}>{summary}</desc>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={left} x2={WIDTH - right} y1={y(max * f)} y2={y(max * f)} className="grid" />
            <text x={left - 8} y={y(max * f) + 4} textAnchor="end" className="axis-label">
              {format(max * f)}
            </text>
          </g>
        ))}
        {[0, 0.5, 1].map((f) => (
          <text key={f} x={left + plotW * f} y={height - 8} textAnchor={f === 0 ? 'start' : f === 1 ? 'end' : 'middle'} className="axis-label">
            {f === 1 ? 'now' : `−${span(windowMs * (1 - f))}`}
          </text>
        ))}
        {visible.length > 1 ? (
          <>
            <path d={area} className="line-area" />
            <path d={line} className="line" />
          </>
        ) : (
          <text x={left + plotW / 2} y={top + plotH / 2} textAnchor="middle" className="axis-label">
            {visible.length === 1 ? format(visible[0]!.value) : 'Waiting for figures…'}
          </text>
        )}
        {last && <circle cx={x(last.at)} cy={y(last.value)} r={3.5} className="line-dot" />}
      </svg>
    </figure>
  );
}

export interface Bar {
  label: string;
  value: number;
  /** Shown after the value, e.g. a percentage. */
  note?: string;
}

interface BarChartProps {
  title: string;
  bars: Bar[];
  format?: (value: number) => string;
  /** The full-length value (e.g. 100 for percentages); the largest bar by default. */
  max?: number;
  /** What the chart says when there are no bars. */
  empty?: string;
}

/** Horizontal bars, one row per label, with the figures written beside them. */
export function BarChart({ title, bars, format = String, max, empty = 'Nothing to show.' }: BarChartProps) {
  const id = useId();
  const row = 28;
  const labelW = 120;
  const valueW = 120;
  const plotW = WIDTH - labelW - valueW;
  const height = Math.max(1, bars.length) * row + 8;
  const full = max ?? niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const summary = bars.length ? bars.map((b) => `${b.label}: ${format(b.value)}${b.note ? ` ${b.note}` : ''}`).join(', ') : empty;

  return (
    <figure className="chart">
      <figcaption id={`${id}-title`}>{title}</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${height}`} role="img" aria-labelledby={`${id}-title ${id}-desc`} className="chart-svg">
        <desc id={`${id}-desc`}>{summary}</desc>
        {bars.length === 0 && (
          <text x={WIDTH / 2} y={row / 2 + 6} textAnchor="middle" className="axis-label">
            {empty}
          </text>
        )}
        {bars.map((bar, i) => {
          const y = 4 + i * row;
          const w = full > 0 ? Math.max(bar.value > 0 ? 2 : 0, (bar.value / full) * plotW) : 0;
          return (
            <g key={bar.label}>
              <text x={labelW - 10} y={y + row / 2 + 4} textAnchor="end" className="bar-label">
                {bar.label.length > 16 ? `${bar.label.slice(0, 15)}…` : bar.label}
              </text>
              <rect x={labelW} y={y + 5} width={plotW} height={row - 10} className="bar-track" rx={3} />
              <rect x={labelW} y={y + 5} width={w} height={row - 10} className={`bar bar-${i % 6}`} rx={3} />
              <text x={labelW + plotW + 10} y={y + row / 2 + 4} className="bar-value">
                {format(bar.value)}
                {bar.note ? ` ${bar.note}` : ''}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
