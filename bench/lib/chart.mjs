// An SVG chart of the run: throughput of each scenario against its raw limit, and
// latency percentiles (log scale). No dependencies; plain SVG elements.

const esc = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLORS = { raw: '#b8bec6', platform: '#2f6fb0', fail: '#c0392b', bar: '#e67e22', p50: '#2f6fb0', p90: '#6a9fd4', p99: '#5b2c6f' };

/**
 * @param {object} data
 * @param {{label: string, platform: number, raw: number, unit: string, bar?: number}[]} data.throughput
 *   each pair; `bar` is the minimum ratio (0–1) when there is one
 * @param {{label: string, p50: number, p90: number, p99: number}[]} data.latency in ms
 * @param {string} data.title
 * @param {string} [data.subtitle] the machine and the run
 */
export function renderChart({ title, subtitle = '', throughput, latency }) {
  const width = 900;
  const left = 250;
  const plot = width - left - 40;
  const rowH = 34;
  const parts = [];
  let y = 56;
  parts.push(`<text x="20" y="26" font-size="16" font-weight="bold">${esc(title)}</text>`);
  parts.push(`<text x="20" y="44" font-size="11" fill="#444">${esc(subtitle)}</text>`);

  y += 10;
  parts.push(`<text x="20" y="${y}" font-size="13" font-weight="bold">Throughput against the raw limit measured in the same run (raw = 100%)</text>`);
  y += 14;
  const maxRatio = Math.max(1, ...throughput.map((t) => t.platform / t.raw).filter(Number.isFinite));
  const scaleX = (ratio) => (Math.min(ratio, maxRatio) / maxRatio) * plot;
  for (const t of throughput) {
    const ratio = t.platform / t.raw;
    const failed = t.bar !== undefined && ratio < t.bar;
    parts.push(`<text x="${left - 8}" y="${y + 14}" font-size="12" text-anchor="end">${esc(t.label)}</text>`);
    parts.push(`<rect x="${left}" y="${y + 2}" width="${scaleX(1).toFixed(1)}" height="10" fill="${COLORS.raw}"/>`);
    if (Number.isFinite(ratio)) parts.push(`<rect x="${left}" y="${y + 13}" width="${Math.max(1, scaleX(ratio)).toFixed(1)}" height="10" fill="${failed ? COLORS.fail : COLORS.platform}"/>`);
    if (t.bar !== undefined) {
      const bx = left + scaleX(t.bar);
      parts.push(`<line x1="${bx.toFixed(1)}" y1="${y}" x2="${bx.toFixed(1)}" y2="${y + 26}" stroke="${COLORS.bar}" stroke-width="2" stroke-dasharray="3,2"/>`);
    }
    const text = `${fmt(t.platform)} of ${fmt(t.raw)} ${t.unit} (${Number.isFinite(ratio) ? (ratio * 100).toFixed(1) : '—'}%)`;
    parts.push(`<text x="${left + 6}" y="${y + 36}" font-size="10" fill="#333">${esc(text)}</text>`);
    y += rowH + 8;
  }
  parts.push(legend(left, y, [['raw limit', COLORS.raw], ['platform', COLORS.platform], ['below its bar', COLORS.fail], ['bar', COLORS.bar]]));
  y += 34;

  parts.push(`<text x="20" y="${y}" font-size="13" font-weight="bold">Latency percentiles (ms, log scale)</text>`);
  y += 14;
  const values = latency.flatMap((l) => [l.p50, l.p90, l.p99]).filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...values, 1))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...values, 10))));
  const logX = (v) => left + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plot;
  const top = y;
  for (const l of latency) {
    parts.push(`<text x="${left - 8}" y="${y + 16}" font-size="12" text-anchor="end">${esc(l.label)}</text>`);
    ['p50', 'p90', 'p99'].forEach((key, i) => {
      const v = l[key];
      if (!Number.isFinite(v)) return;
      parts.push(`<rect x="${left}" y="${y + 2 + i * 8}" width="${Math.max(1, logX(v) - left).toFixed(1)}" height="7" fill="${COLORS[key]}"/>`);
    });
    parts.push(`<text x="${left + 6}" y="${y + 36}" font-size="10" fill="#333">${esc(`p50 ${fmt(l.p50)} · p90 ${fmt(l.p90)} · p99 ${fmt(l.p99)} ms`)}</text>`);
    y += rowH + 8;
  }
  for (let d = lo; d <= hi; d *= 10) {
    const x = logX(d).toFixed(1);
    parts.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${x}" y="${y + 12}" font-size="10" text-anchor="middle" fill="#666">${fmt(d)}</text>`);
  }
  y += 22;
  parts.push(legend(left, y, [['p50', COLORS.p50], ['p90', COLORS.p90], ['p99', COLORS.p99]]));
  y += 24;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}

function legend(x, y, items) {
  return items
    .map(([label, color], i) => `<rect x="${x + i * 130}" y="${y}" width="12" height="10" fill="${color}"/><text x="${x + i * 130 + 16}" y="${y + 9}" font-size="11">${esc(label)}</text>`)
    .join('');
}

function fmt(v) {
  if (!Number.isFinite(v)) return '—';
  if (v >= 100) return Math.round(v).toLocaleString('en-US');
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
