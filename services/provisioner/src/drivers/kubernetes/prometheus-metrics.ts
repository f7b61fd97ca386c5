import type { StoreRef } from '../cluster-driver.js';
import type { NoData, RevisionMeasurement, RevisionMetrics } from '../revision-metrics.js';

/**
 * The store's ingress metrics (ingress-nginx, as scraped by Prometheus) of one revision:
 * its requests go to the Service `{release}-r{revision}` in the store's namespace.
 * `{{window}}` is the measurement's interval (`30s`).
 */
export const DEFAULT_ERROR_RATE_QUERY =
  'sum(rate(nginx_ingress_controller_requests{exported_namespace="{{namespace}}",exported_service=~".+-r{{revision}}",status=~"5.."}[{{window}}]))' +
  ' / sum(rate(nginx_ingress_controller_requests{exported_namespace="{{namespace}}",exported_service=~".+-r{{revision}}"}[{{window}}]))';
export const DEFAULT_P95_QUERY =
  'histogram_quantile(0.95, sum by (le) (rate(nginx_ingress_controller_request_duration_seconds_bucket{exported_namespace="{{namespace}}",exported_service=~".+-r{{revision}}"}[{{window}}]))) * 1000';

export interface PrometheusMetricsOptions {
  /** Prometheus's base URL (`http://prometheus.monitoring:9090`); its `/api/v1/query` is asked. */
  url: string;
  /** PromQL giving the share of failed requests (0 to 1); placeholders `{{namespace}}`, `{{revision}}`, `{{window}}`. */
  errorRateQuery?: string;
  /** PromQL giving the 95th percentile latency in milliseconds; the same placeholders. */
  p95Query?: string;
  /** How long one query may take. */
  timeoutMs?: number;
}

interface QueryAnswer {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: { value?: [number, string] }[] | [number, string] };
}

/** `{{name}}` → its value; the values are a DNS label and a number, so nothing needs escaping in PromQL. */
function render(query: string, values: Record<string, string>): string {
  return query.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => values[name] ?? whole);
}

/**
 * Canary analysis on Kubernetes: two instant PromQL queries (error rate, p95 latency) over
 * the store's ingress metrics. An empty answer, or NaN (no requests: 0/0), is no data;
 * Prometheus answering an error, or not at all, throws.
 */
export class PrometheusMetrics implements RevisionMetrics {
  private readonly errorRateQuery: string;
  private readonly p95Query: string;

  constructor(private readonly options: PrometheusMetricsOptions) {
    new URL(options.url); // refuses a malformed URL at start rather than at the first measurement
    this.errorRateQuery = options.errorRateQuery || DEFAULT_ERROR_RATE_QUERY;
    this.p95Query = options.p95Query || DEFAULT_P95_QUERY;
  }

  private queries(store: StoreRef, revision: number, windowMs: number): { errorRate: string; p95Ms: string } {
    const values = { namespace: store.namespace, revision: String(revision), window: `${Math.max(1, Math.round(windowMs / 1000))}s` };
    return { errorRate: render(this.errorRateQuery, values), p95Ms: render(this.p95Query, values) };
  }

  describe(store: StoreRef, revision: number, windowMs: number): string {
    const { errorRate, p95Ms } = this.queries(store, revision, windowMs);
    return `Prometheus: errorRate = ${errorRate}; p95Ms = ${p95Ms}`;
  }

  async measure(store: StoreRef, revision: number, windowMs: number, signal: AbortSignal): Promise<RevisionMeasurement | NoData> {
    const queries = this.queries(store, revision, windowMs);
    const [errorRate, p95Ms] = await Promise.all([this.query(queries.errorRate, signal), this.query(queries.p95Ms, signal)]);
    if (errorRate === undefined || p95Ms === undefined) {
      return { noData: true, why: `Prometheus has no ${errorRate === undefined ? 'error rate' : 'latency'} for revision ${revision}` };
    }
    return { errorRate, p95Ms };
  }

  /** The query's single value; `undefined` when it has none (no series, or NaN). */
  private async query(query: string, signal: AbortSignal): Promise<number | undefined> {
    const url = new URL('api/v1/query', this.options.url.endsWith('/') ? this.options.url : `${this.options.url}/`);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query }),
      signal: AbortSignal.any([signal, AbortSignal.timeout(this.options.timeoutMs ?? 10_000)]),
    });
    const text = await response.text();
    let answer: QueryAnswer;
    try {
      answer = JSON.parse(text) as QueryAnswer;
    } catch {
      throw new Error(`Prometheus answered ${response.status} without JSON: ${text.slice(0, 200)}`);
    }
    if (!response.ok || answer.status !== 'success' || !answer.data) throw new Error(`Prometheus answered ${response.status}: ${answer.error ?? text.slice(0, 200)}`);
    const { resultType, result } = answer.data;
    let raw: string | undefined;
    if (resultType === 'scalar') raw = (result as [number, string])[1];
    else if (resultType === 'vector') {
      const series = result as { value?: [number, string] }[];
      if (series.length > 1) throw new Error(`the query gives ${series.length} series, not one: aggregate it (sum, histogram_quantile)`);
      raw = series[0]?.value?.[1];
    } else throw new Error(`the query gives a ${resultType}, not a single value`);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    return Number.isNaN(value) ? undefined : value;
  }
}
