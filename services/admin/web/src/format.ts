/** How figures, times and sizes are written across the console. */

const pad = (n: number): string => String(n).padStart(2, '0');

/** `2026-11-23 13:06:26`, in the browser's time zone; '—' when missing. */
export function formatTime(value: string | number | Date | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `13:06:26`. */
export function formatClock(value: string | number | Date): string {
  const d = new Date(value);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

export function formatNumber(value: number | null | undefined): string {
  return value === null || value === undefined || Number.isNaN(value) ? '—' : numberFormat.format(value);
}

/** A fraction (0.0123) as a percentage (`1.23 %`). */
export function formatRate(fraction: number | null | undefined): string {
  return fraction === null || fraction === undefined ? '—' : `${(fraction * 100).toFixed(2)} %`;
}

export function formatPercent(percent: number): string {
  return `${percent.toFixed(1)} %`;
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** `3 d 4 h`, `5 h 12 min`, `42 s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** `12 s ago`, from now. */
export function formatAgo(value: string | number, now = Date.now()): string {
  const seconds = (now - new Date(value).getTime()) / 1000;
  return Number.isNaN(seconds) ? '—' : `${formatDuration(seconds)} ago`;
}

/** The first characters of a long id, for tables (the full id is in the title). */
export function shortId(id: string | null | undefined): string {
  return id ? (id.length > 8 ? id.slice(0, 8) : id) : '—';
}

/** A `datetime-local` input's value as an ISO instant ('' stays ''). */
export function localToIso(value: string): string {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}
