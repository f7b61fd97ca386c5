import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@flotilla/testing';
import { ruleGroups } from '../deploy/test/support/promtool.js';
import { Platform } from './support/platform.js';
import { LocalPrometheus } from './support/prometheus.js';

/**
 * The alert rules against the running platform: a real Prometheus scrapes the services'
 * /metrics and evaluates k8s/monitoring/prometheus-rules.yaml as it is. A service that
 * hangs (SIGSTOP: its port still accepts connections, nothing answers) must turn
 * FlotillaServiceDown pending; once it answers again, the alert must go.
 */
describe('alert rules on a real Prometheus scraping the platform', () => {
  const platform = new Platform({}, ['vote-consumer', 'gateway']);
  let prometheus: LocalPrometheus;
  let stopped: number | undefined;

  const serviceDown = () => prometheus.query('ALERTS{alertname="FlotillaServiceDown"}');

  beforeAll(async () => {
    await platform.start();
    prometheus = await new LocalPrometheus(
      platform.services.map((s) => ({ job: s.name, url: s.url })),
      { namespace: platform.namespace },
    ).start();
  });

  afterAll(async () => {
    if (stopped) process.kill(stopped, 'SIGCONT');
    await prometheus?.stop();
    await platform.stop();
  });

  it('scrapes every service and evaluates every rule without an error', async () => {
    const up = await waitFor(
      async () => {
        const samples = await prometheus.query('up');
        return samples.length === platform.services.length && samples.every((s) => s.value[1] === '1') ? samples : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: `every service scraped (${prometheus.logs()})` },
    );
    expect(up.map((s) => s.metric.job).sort()).toEqual(['gateway', 'vote-consumer']);
    // What the services expose is what the rules read: the recorded series have values.
    expect((await prometheus.query('http_requests_total')).length).toBeGreaterThan(0);

    const count = ruleGroups().flatMap((g) => g.rules).length;
    const rules = await waitFor(
      async () => {
        const all = await prometheus.rules();
        return all.length === count && all.every((r) => r.health !== 'unknown') ? all : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'every rule evaluated once' },
    );
    expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
    expect(await serviceDown()).toEqual([]);
  });

  it('sees FlotillaServiceDown pending for a hung service, and no more once it answers again', async () => {
    const hung = platform.service('vote-consumer');
    const instance = new URL(hung.url).host;
    stopped = hung.pid!;
    process.kill(stopped, 'SIGSTOP');
    let pending;
    try {
      pending = await waitFor(
        async () => {
          const alerts = await serviceDown();
          return alerts.find((a) => a.metric.alertstate === 'pending' && a.metric.job === 'vote-consumer');
        },
        { timeoutMs: 30_000, intervalMs: 500, what: 'FlotillaServiceDown pending for vote-consumer' },
      );
      // Only the hung one: the gateway still answers.
      expect((await serviceDown()).map((a) => a.metric.job)).toEqual(['vote-consumer']);
    } finally {
      process.kill(stopped, 'SIGCONT');
      stopped = undefined;
    }
    expect(pending.metric).toEqual({
      __name__: 'ALERTS',
      alertname: 'FlotillaServiceDown',
      alertstate: 'pending',
      job: 'vote-consumer',
      instance,
      namespace: platform.namespace,
      severity: 'critical',
    });

    await waitFor(async () => (await serviceDown()).length === 0, { timeoutMs: 30_000, intervalMs: 500, what: 'FlotillaServiceDown to clear' });
    expect((await prometheus.query('up{job="vote-consumer"}'))[0]?.value[1]).toBe('1');
  });
});
