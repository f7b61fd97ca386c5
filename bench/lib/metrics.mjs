// The services' own Prometheus histograms, read before and after a scenario: where the
// time of a request goes (the gateway's view of each RPC, each handler's own time).

/** `{series: {sum, count}}` of every `<name>_sum` / `<name>_count` pair in a /metrics text. */
export function parseHistograms(text, name) {
  const series = {};
  for (const line of text.split('\n')) {
    const match = new RegExp(`^${name}_(sum|count)(\\{[^}]*\\})? ([0-9.eE+-]+)$`).exec(line);
    if (!match) continue;
    const key = match[2] ?? '{}';
    series[key] ??= { sum: 0, count: 0 };
    series[key][match[1]] = Number(match[3]);
  }
  return series;
}

/** Reads `name` from each service's /metrics: `{service: series}`. */
export async function scrape(platform, wanted) {
  const out = {};
  for (const [service, name] of wanted) {
    const text = await fetch(`${platform.service(service).url}/metrics`).then((r) => r.text());
    out[`${service} ${name}`] = parseHistograms(text, name);
  }
  return out;
}

/** Mean (ms) and count of every series that changed between two scrapes, whose labels contain `filter`. */
export function meansBetween(before, after, filter = '') {
  const result = {};
  for (const [metric, series] of Object.entries(after)) {
    for (const [labels, { sum, count }] of Object.entries(series)) {
      if (!labels.includes(filter)) continue;
      const prior = before[metric]?.[labels] ?? { sum: 0, count: 0 };
      const n = count - prior.count;
      if (n > 0) result[`${metric}${labels}`] = { count: n, meanMs: ((sum - prior.sum) / n) * 1000 };
    }
  }
  return result;
}
