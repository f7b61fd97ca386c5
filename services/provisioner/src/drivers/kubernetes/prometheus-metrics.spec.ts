import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createKubernetesDriver } from './create-kubernetes-driver.js';
import { DEFAULT_ERROR_RATE_QUERY, PrometheusMetrics } from './prometheus-metrics.js';
import { FakeKubernetes } from './testing/fakes.js';

/** A stand-in for Prometheus's `/api/v1/query`: answers by the query, records what it was asked. */
class FakePrometheus {
  readonly queries: string[] = [];
  answer: (query: string) => { status: number; body: unknown } = () => ({ status: 200, body: { status: 'success', data: { resultType: 'vector', result: [] } } });
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (req.url !== '/prom/api/v1/query' || req.method !== 'POST') {
          res.writeHead(404).end();
          return;
        }
        const query = new URLSearchParams(body).get('query') ?? '';
        this.queries.push(query);
        const { status, body: answer } = this.answer(query);
        res.writeHead(status, { 'content-type': 'application/json' }).end(typeof answer === 'string' ? answer : JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/prom`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const vector = (value: string) => ({ status: 200, body: { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1700000000, value] }] } } });
const store = { storeId: 's', name: 'shop', namespace: 'store-shop', teamId: 't', template: 'wordpress' as const };
const signal = new AbortController().signal;

describe('canary analysis from Prometheus', () => {
  const prometheus = new FakePrometheus();
  beforeAll(() => prometheus.start());
  afterAll(() => prometheus.stop());
  beforeEach(() => prometheus.queries.splice(0));

  const metrics = () => new PrometheusMetrics({ url: prometheus.url, errorRateQuery: 'errors{ns="{{namespace}}",rev="{{revision}}"}[{{window}}]', p95Query: 'p95{ns="{{namespace}}",rev="{{revision}}"}' });

  it('asks both queries with the placeholders filled and reads their values', async () => {
    prometheus.answer = (query) => (query.startsWith('errors') ? vector('0.05') : vector('320.5'));
    expect(await metrics().measure(store, 3, 30_000, signal)).toEqual({ errorRate: 0.05, p95Ms: 320.5 });
    expect(prometheus.queries.sort()).toEqual(['errors{ns="store-shop",rev="3"}[30s]', 'p95{ns="store-shop",rev="3"}']);
    expect(metrics().describe(store, 3, 30_000)).toBe('Prometheus: errorRate = errors{ns="store-shop",rev="3"}[30s]; p95Ms = p95{ns="store-shop",rev="3"}');
  });

  it('has no data for an empty answer or NaN (no requests: 0/0)', async () => {
    prometheus.answer = (query) => (query.startsWith('errors') ? vector('NaN') : vector('100'));
    expect(await metrics().measure(store, 3, 30_000, signal)).toEqual({ noData: true, why: 'Prometheus has no error rate for revision 3' });
    prometheus.answer = (query) => (query.startsWith('errors') ? vector('0') : { status: 200, body: { status: 'success', data: { resultType: 'vector', result: [] } } });
    expect(await metrics().measure(store, 3, 30_000, signal)).toEqual({ noData: true, why: 'Prometheus has no latency for revision 3' });
  });

  it('throws when Prometheus answers an error, no JSON, or more than one series', async () => {
    prometheus.answer = () => ({ status: 400, body: { status: 'error', errorType: 'bad_data', error: 'parse error at char 3' } });
    await expect(metrics().measure(store, 3, 30_000, signal)).rejects.toThrow('Prometheus answered 400: parse error at char 3');
    prometheus.answer = () => ({ status: 502, body: '<html>bad gateway</html>' });
    await expect(metrics().measure(store, 3, 30_000, signal)).rejects.toThrow('Prometheus answered 502 without JSON');
    prometheus.answer = () => ({ status: 200, body: { status: 'success', data: { resultType: 'vector', result: [{ value: [1, '1'] }, { value: [1, '2'] }] } } });
    await expect(metrics().measure(store, 3, 30_000, signal)).rejects.toThrow('2 series, not one');
  });

  it('throws when Prometheus cannot be reached', async () => {
    const away = new PrometheusMetrics({ url: 'http://127.0.0.1:9/', timeoutMs: 2000 });
    await expect(away.measure(store, 3, 30_000, signal)).rejects.toThrow();
  });

  it('queries the store\'s ingress-nginx metrics by default', async () => {
    prometheus.answer = () => vector('0');
    await new PrometheusMetrics({ url: prometheus.url }).measure(store, 7, 10_000, signal);
    const errors = prometheus.queries.find((q) => q.includes('status=~"5.."'));
    expect(errors).toBe(DEFAULT_ERROR_RATE_QUERY.replaceAll('{{namespace}}', 'store-shop').replaceAll('{{revision}}', '7').replaceAll('{{window}}', '10s'));
    expect(errors).toContain('exported_service=~".+-r7"');
  });

  it('is the kubernetes driver\'s source when ANALYSIS_PROMETHEUS_URL is set, with the queries from the environment', async () => {
    const env = { KUBECONFIG: '', INGRESS_CLASS_NAME: 'nginx', ROLLOUT_DEADLINE_SECONDS: 5 };
    const deps = { apis: new FakeKubernetes().apis() };
    expect(createKubernetesDriver(env, deps).metrics).toBeUndefined();
    const driver = createKubernetesDriver({ ...env, ANALYSIS_PROMETHEUS_URL: prometheus.url, ANALYSIS_ERROR_RATE_QUERY: 'mine_errors{revision="{{revision}}"}', ANALYSIS_P95_QUERY: '' }, deps);
    prometheus.answer = () => vector('0.5');
    expect(await driver.metrics?.measure(store, 4, 10_000, signal)).toEqual({ errorRate: 0.5, p95Ms: 0.5 });
    expect(prometheus.queries).toContain('mine_errors{revision="4"}');
    expect(prometheus.queries.some((q) => q.startsWith('histogram_quantile(0.95'))).toBe(true);
  });
});
