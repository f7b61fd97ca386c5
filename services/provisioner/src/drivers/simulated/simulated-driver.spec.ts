import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { DEFAULT_NAMESPACE_LIMITS, PermanentDriverError, type ReleaseSpec, type RevisionSpec, type StoreRef } from '../cluster-driver.js';
import { seededRandom } from './random.js';
import { ManualScheduler } from './scheduler.js';
import type { PodSnapshot } from './cluster-shapes.js';
import { SimulatedDriver } from './simulated-driver.js';
import { DEFAULT_SIMULATED_DRIVER_OPTIONS, type SimulatedDriverOptions } from './simulated-options.js';

const POD_NAME = /^wordpress-r1-[bcdfghjklmnpqrstvwxz2456789]{5}$/;

function storeRef(name = 'shop'): StoreRef {
  return { storeId: `id-${name}`, name, namespace: `store-${name}`, teamId: 'team-1', template: 'wordpress' };
}

function release(...revisions: RevisionSpec[]): ReleaseSpec {
  return { host: 'shop.stores.test', secrets: { databasePassword: 'pw-1', adminPassword: 'pw-2' }, revisions };
}

function revision(revision: number, version: string, replicas: number, weight = 100): RevisionSpec {
  return { revision, version, replicas, weight };
}

const drivers: SimulatedDriver[] = [];

/** A driver on a manual clock with a seeded random source: every run of a test is the same run. */
function simulation(options: Partial<SimulatedDriverOptions> = {}) {
  const scheduler = new ManualScheduler();
  const driver = new SimulatedDriver({ scheduler, random: seededRandom(7), ...options });
  drivers.push(driver);
  const store = storeRef();
  const pods = (): PodSnapshot[] => driver.cluster.pods(store.namespace);
  /** Advances the clock in small steps until `done` holds; how long that took, in simulated ms. */
  const until = (done: () => boolean, maxMs = 120_000, stepMs = 50): number => {
    let elapsed = 0;
    while (!done()) {
      if (elapsed >= maxMs) throw new Error(`still not done after ${maxMs} simulated ms`);
      scheduler.advance(stepMs);
      elapsed += stepMs;
    }
    return elapsed;
  };
  const allReady = (count: number) => () => pods().length === count && pods().every((pod) => pod.ready);
  return { scheduler, driver, store, pods, until, allReady };
}

afterEach(async () => {
  for (const driver of drivers.splice(0)) await driver.close();
});

describe('SimulatedDriver: pods', () => {
  it('takes pods from Pending through Running to Ready, named like Kubernetes pods', async () => {
    const { scheduler, driver, store, pods, until, allReady } = simulation();
    const createdAt = scheduler.now();
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    await driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 3)));

    expect(pods()).toHaveLength(3);
    for (const pod of pods()) {
      expect(pod).toMatchObject({ phase: 'Pending', ready: false, restarts: 0, revision: 1, startedAt: null });
      expect(pod.name).toMatch(POD_NAME);
    }

    // Every pod starts within podStartMs + 20 % jitter, and none can be ready yet: readiness takes another 560 ms or more.
    scheduler.advance(DEFAULT_SIMULATED_DRIVER_OPTIONS.podStartMs * 1.2);
    for (const pod of pods()) {
      expect(pod).toMatchObject({ phase: 'Running', ready: false });
      const started = Date.parse(pod.startedAt!);
      expect(started).toBeGreaterThan(createdAt);
      expect(started).toBeLessThanOrEqual(scheduler.now());
    }

    until(allReady(3));
    const observed = await driver.observe(store);
    expect(observed.namespaceExists).toBe(true);
    expect(observed.revisions).toEqual([revision(1, '6.5.0', 3)]);
    expect(observed.pods.every((pod) => pod.phase === 'Running' && pod.ready && pod.restarts === 0)).toBe(true);
  });

  it('never makes the pods of a failing version ready, while they keep running', async () => {
    const { scheduler, driver, store, pods, until, allReady } = simulation({ failingVersions: ['7.0.0-broken'] });
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    await driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 2, 100), revision(2, '7.0.0-broken', 2, 0)));

    until(() => pods().filter((pod) => pod.revision === 1 && pod.ready).length === 2);
    scheduler.advance(60_000);

    const broken = pods().filter((pod) => pod.revision === 2);
    expect(broken).toHaveLength(2);
    for (const pod of broken) expect(pod).toMatchObject({ phase: 'Running', ready: false, restarts: 0 });
    const unhealthy = driver.describe(store)!.events.filter((event) => event.reason === 'Unhealthy');
    expect(unhealthy.length).toBeGreaterThan(0);
    expect(unhealthy.every((event) => event.message.startsWith('Readiness probe failed'))).toBe(true);

    // Once the version is fixed, the same pods pass their next probe.
    driver.setVersionFailing('7.0.0-broken', false);
    until(allReady(4));
  });

  it('restarts a pod whose liveness fails, waiting 1 s, 2 s, 4 s, 8 s … in between', async () => {
    const { scheduler, driver, store, pods, until, allReady } = simulation();
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    await driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 1)));
    until(allReady(1));
    const name = pods()[0]!.name;

    driver.failLiveness(store, name);
    const restartTimes: number[] = [];
    let restarts = 0;
    until(
      () => {
        const pod = pods()[0]!;
        expect(pod.name).toBe(name);
        if (pod.restarts > restarts) {
          restarts = pod.restarts;
          restartTimes.push(scheduler.now());
        }
        return restarts >= 4;
      },
      60_000,
      10,
    );

    const gaps = restartTimes.slice(1).map((time, i) => time - restartTimes[i]!);
    // Each wait doubles; the probe that notices the failure comes at most one probe interval later.
    expect(gaps).toHaveLength(3);
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(2000 * 2 ** i - 10);
      expect(gap).toBeLessThanOrEqual(2000 * 2 ** i + DEFAULT_SIMULATED_DRIVER_OPTIONS.probeIntervalMs + 10);
    });
    const backOffs = driver
      .describe(store)!
      .events.filter((event) => event.reason === 'BackOff')
      .map((event) => event.message);
    expect(backOffs.slice(0, 4)).toEqual([
      'Back-off 1s restarting failed container',
      'Back-off 2s restarting failed container',
      'Back-off 4s restarting failed container',
      'Back-off 8s restarting failed container',
    ]);

    // Healthy again: the next restart stays up and becomes ready.
    driver.failLiveness(store, name, false);
    until(allReady(1));
    expect(pods()[0]!.restarts).toBeGreaterThanOrEqual(4);
  });

  it('caps the backoff and scales it with timeScale', async () => {
    const { driver, store, pods, until, allReady } = simulation({ timeScale: 0.5, backoffMaxMs: 4000 });
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    await driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 1)));
    until(allReady(1));
    driver.failLiveness(store, pods()[0]!.name);
    until(() => pods()[0]!.restarts >= 5);

    const backOffs = driver
      .describe(store)!
      .events.filter((event) => event.reason === 'BackOff')
      .map((event) => [event.message, event.count]);
    expect(backOffs).toEqual([
      ['Back-off 500ms restarting failed container', 1],
      ['Back-off 1s restarting failed container', 1],
      ['Back-off 2s restarting failed container', expect.any(Number)],
    ]);
  });

  it('restores the replica count after a chaos kill of half the pods', async () => {
    const { driver, store, pods, until, allReady } = simulation();
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    await driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 4)));
    until(allReady(4));
    const before = pods().map((pod) => pod.name);

    const killed = await driver.killPods(store, 2);

    expect(killed).toHaveLength(2);
    expect(before).toEqual(expect.arrayContaining(killed));
    expect(pods()).toHaveLength(2);
    until(() => pods().length === 4);
    const after = pods().map((pod) => pod.name);
    for (const name of killed) expect(after).not.toContain(name);
    until(allReady(4));
    expect(await driver.killPods(store, 10)).toHaveLength(4);
    expect(await driver.killPods(store, 0)).toEqual([]);
  });

  it('kills nothing in a store that has no namespace, and refuses a count that is not a whole number', async () => {
    const { driver, store } = simulation();
    expect(await driver.killPods(store, 3)).toEqual([]);
    await expect(driver.killPods(store, 1.5)).rejects.toThrow(PermanentDriverError);
    await expect(driver.killPods(store, -1)).rejects.toThrow(PermanentDriverError);
  });

  it('replays the same pod names and timeline from the same seed', async () => {
    const timeline = async () => {
      const { driver, store, pods, until, allReady } = simulation();
      await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
      await driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 3)));
      const took = until(allReady(3), 10_000, 10);
      const killed = await driver.killPods(store, 1);
      return { took, killed, pods: pods() };
    };
    expect(await timeline()).toEqual(await timeline());
  });
});

describe('SimulatedDriver: quota', () => {
  it('refuses a release that needs more than the quota, permanently, and creates nothing', async () => {
    const { driver, store } = simulation();
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);

    // 9 pods × 250m and the database's 250m are more than the 2 CPUs the default quota allows.
    const refused = driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 9)));

    await expect(refused).rejects.toThrow(PermanentDriverError);
    await expect(refused).rejects.toThrow(/requests\.cpu=2500m.*requests\.cpu=2/);
    expect(await driver.observe(store)).toEqual({ namespaceExists: true, revisions: [], pods: [] });
    // 6 × 500m of limits.cpu (the LimitRange's default) and the database's 1 CPU fill the 4 CPUs exactly.
    await expect(driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 6)))).resolves.toBeUndefined();
  });

  it('counts the database pod of a store against the quota, as the store chart runs one', async () => {
    const { driver, store } = simulation();
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    // 7 app pods × 250m + the database's 250m = 2000m fits the 2 CPUs; 8 app pods (2250m) do not.
    const refused = driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 8)));
    await expect(refused).rejects.toThrow(PermanentDriverError);
    await expect(refused).rejects.toThrow(/8 app pod\(s\) and 1 database pod\(s\) of wordpress need requests\.cpu=2250m/);
    await driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 1)));
    expect(driver.describe(store)!.namespace.resourceQuota.used).toMatchObject({ pods: '2', 'requests.cpu': '500m', 'limits.cpu': '1500m' });
  });

  it('counts every revision of a release against the quota', async () => {
    const { driver, store } = simulation();
    await driver.ensureNamespace(store, { ...DEFAULT_NAMESPACE_LIMITS, pods: 5 });
    await expect(driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 3, 50), revision(2, '6.6.0', 3, 50)))).rejects.toThrow(
      /pods=7.*pods=5/,
    );
  });

  it('does not create a pod beyond the quota and reports FailedCreate on the deployment', async () => {
    const { driver, store, pods, until } = simulation();
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    await driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 2)));
    until(() => pods().every((pod) => pod.phase === 'Running'));

    // The autoscaler wants 12 pods; beside the database's 1 CPU, the quota's 4 CPUs of limits hold 6 × 500m.
    driver.setAutoscaling(store, { min: 1, max: 12, targetCpuPercent: 50 });
    driver.setLoad(store, 300);
    until(() => driver.describe(store)!.deployments[0]!.replicas === 12);
    until(() => pods().length === 6);

    const deployment = driver.describe(store)!.deployments[0]!;
    expect(deployment.conditions).toContainEqual(
      expect.objectContaining({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: expect.stringContaining('exceeded quota: store-quota') }),
    );
    const failed = driver.describe(store)!.events.find((event) => event.reason === 'FailedCreate');
    expect(failed).toMatchObject({ type: 'Warning', object: 'replicaset/wordpress-r1' });
    expect(driver.describe(store)!.namespace.resourceQuota.used).toMatchObject({ pods: '7', 'requests.cpu': '1750m', 'requests.memory': '1792Mi', 'limits.cpu': '4' });
  });

  it('rejects a release for a namespace that does not exist with an error worth retrying', async () => {
    const { driver, store } = simulation();
    const missing = driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 1)));
    await expect(missing).rejects.toThrow('namespaces "store-shop" not found');
    await expect(missing).rejects.not.toBeInstanceOf(PermanentDriverError);
  });

  it('refuses a malformed release permanently', async () => {
    const { driver, store } = simulation();
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    const apply = (spec: ReleaseSpec) => driver.apply(store, 'wordpress', spec);
    await expect(apply(release(revision(1, '6.5.0', 1, 60), revision(2, '6.6.0', 1, 30)))).rejects.toThrow(/weights add up to 90/);
    await expect(apply(release(revision(1, '6.5.0', 1, 50), revision(1, '6.6.0', 1, 50)))).rejects.toThrow(/listed twice/);
    await expect(apply(release(revision(1, '6.5.0', -1)))).rejects.toThrow(PermanentDriverError);
    await expect(apply(release(revision(0, '6.5.0', 1)))).rejects.toThrow(PermanentDriverError);
    await expect(apply(release(revision(1, '', 1)))).rejects.toThrow(PermanentDriverError);
    await expect(driver.ensureNamespace({ ...store, namespace: 'default' }, DEFAULT_NAMESPACE_LIMITS)).rejects.toThrow(PermanentDriverError);
  });
});

describe('SimulatedDriver: autoscaling', () => {
  it('scales up under load at once and back down after the stabilisation window', async () => {
    const { scheduler, driver, store, pods, until, allReady } = simulation();
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    await driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 2)));
    until(allReady(2));
    driver.setAutoscaling(store, { min: 1, max: 6, targetCpuPercent: 50 });

    // 90 % on two pods is 180 % of one pod's request: four pods at 45 % each.
    driver.setLoad(store, 90);
    until(() => driver.describe(store)!.deployments[0]!.replicas === 4, DEFAULT_SIMULATED_DRIVER_OPTIONS.controllerIntervalMs + 50);
    until(allReady(4));
    scheduler.advance(30_000);
    expect(pods()).toHaveLength(4);
    expect(driver.describe(store)!.deployments[0]!.cpuPercent).toBe(45);

    driver.setLoad(store, 10);
    const scaledDownAfter = until(() => pods().length === 1);
    // The last recommendation of 4 came from the controller run before the load dropped, up to one interval earlier.
    const { autoscaleStabilizationMs, controllerIntervalMs } = DEFAULT_SIMULATED_DRIVER_OPTIONS;
    expect(scaledDownAfter).toBeGreaterThanOrEqual(autoscaleStabilizationMs - controllerIntervalMs);
    const rescales = driver
      .describe(store)!
      .events.filter((event) => event.reason === 'SuccessfulRescale')
      .map((event) => event.message.split(';')[0]);
    expect(rescales).toEqual(['New size: 4', 'New size: 1']);
    // Applied replicas are still reported as applied; the autoscaler owns the count.
    expect((await driver.observe(store)).revisions).toEqual([revision(1, '6.5.0', 2)]);

    driver.setAutoscaling(store, null);
    expect(pods()).toHaveLength(2);
  });

  it('refuses autoscaling bounds that make no sense', async () => {
    const { driver, store } = simulation();
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    expect(() => driver.setAutoscaling(store, { min: 3, max: 2, targetCpuPercent: 50 })).toThrow(RangeError);
    expect(() => driver.setAutoscaling(store, { min: 1, max: 2, targetCpuPercent: 0 })).toThrow(RangeError);
  });
});

describe('SimulatedDriver: namespaces and idempotency', () => {
  it('records the quota, limit range, network policies and labels of the namespace', async () => {
    const { driver, store } = simulation();
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);

    const { namespace } = driver.describe(store)!;
    expect(namespace.labels).toEqual({
      'app.kubernetes.io/managed-by': 'flotilla',
      'flotilla.io/installation': 'flotilla',
      'flotilla.io/store-id': 'id-shop',
      'flotilla.io/store': 'shop',
      'flotilla.io/team': 'team-1',
      'flotilla.io/template': 'wordpress',
    });
    expect(namespace.resourceQuota.hard).toEqual({
      pods: '20',
      'requests.cpu': '2',
      'requests.memory': '4Gi',
      'limits.cpu': '4',
      'limits.memory': '8Gi',
      persistentvolumeclaims: '5',
      'requests.storage': '20Gi',
    });
    expect(namespace.limitRange.limits).toEqual([
      { type: 'Container', default: { cpu: '500m', memory: '512Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } },
    ]);
    expect(namespace.networkPolicies.map((policy) => policy.name)).toEqual(['default-deny', 'allow-store']);
    expect(namespace.networkPolicies[0]).toMatchObject({ policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] });
    expect((await driver.listStoreNamespaces()).map((ns) => ns.name)).toEqual(['store-shop']);
  });

  it('refuses limits that are not quantities, permanently', async () => {
    const { driver, store } = simulation();
    await expect(driver.ensureNamespace(store, { ...DEFAULT_NAMESPACE_LIMITS, requestsCpu: 'lots' })).rejects.toThrow(PermanentDriverError);
    expect((await driver.listStoreNamespaces()).map((ns) => ns.name)).toEqual([]);
  });

  it('ensureNamespace twice keeps one namespace and takes the newer limits', async () => {
    const { driver, store } = simulation();
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    await driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 2)));
    const pods = (await driver.observe(store)).pods;

    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    await driver.ensureNamespace(store, { ...DEFAULT_NAMESPACE_LIMITS, pods: 10 });

    expect((await driver.listStoreNamespaces()).map((ns) => ns.name)).toEqual(['store-shop']);
    expect(driver.describe(store)!.namespace.resourceQuota.hard.pods).toBe('10');
    expect((await driver.observe(store)).pods).toEqual(pods);
  });

  it('apply twice changes nothing; a new release replaces only what changed', async () => {
    const { driver, store, pods, until, allReady } = simulation();
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    const blue = release(revision(1, '6.5.0', 2));
    await driver.apply(store, 'wordpress', blue);
    until(allReady(2));
    const before = pods();

    await driver.apply(store, 'wordpress', blue);
    expect(pods()).toEqual(before);

    // Blue/green: the new revision starts beside the old one, at weight 0.
    await driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 2, 100), revision(2, '6.6.0', 2, 0)));
    expect(pods().filter((pod) => pod.revision === 1)).toEqual(before);
    expect(pods().filter((pod) => pod.revision === 2)).toHaveLength(2);
    until(allReady(4));

    // Switch, then drop the old revision.
    await driver.apply(store, 'wordpress', release(revision(2, '6.6.0', 2, 100)));
    const observed = await driver.observe(store);
    expect(observed.revisions).toEqual([revision(2, '6.6.0', 2, 100)]);
    expect(observed.pods.map((pod) => pod.revision)).toEqual([2, 2]);
    expect(driver.describe(store)!.release).toEqual({ host: 'shop.stores.test', secretNames: ['adminPassword', 'databasePassword'] });
  });

  it('deletes the namespace with everything inside, resolving once it is gone', async () => {
    const { scheduler, driver, store, pods, until, allReady } = simulation();
    const other = storeRef('other');
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    await driver.ensureNamespace(other, DEFAULT_NAMESPACE_LIMITS);
    await driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 3)));
    await driver.apply(other, 'wordpress', release(revision(1, '6.5.0', 1)));
    until(allReady(3));

    let gone = false;
    const removal = driver.remove(store).then(() => {
      gone = true;
    });

    // Terminating: the pods are gone at once, the namespace itself takes a moment.
    expect(pods()).toEqual([]);
    expect(driver.describe(store)!.namespace.phase).toBe('Terminating');
    await expect(driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS)).rejects.not.toBeInstanceOf(PermanentDriverError);
    await expect(driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 1)))).rejects.toThrow(/being terminated/);
    const again = driver.remove(store);
    await Promise.resolve();
    expect(gone).toBe(false);

    scheduler.advance(DEFAULT_SIMULATED_DRIVER_OPTIONS.namespaceTerminationMs);
    await removal;
    await again;
    expect(await driver.observe(store)).toEqual({ namespaceExists: false, revisions: [], pods: [] });
    expect((await driver.listStoreNamespaces()).map((ns) => ns.name)).toEqual(['store-other']);
    expect((await driver.observe(other)).pods).toHaveLength(1);

    // Removing what is gone is fine, and the name can be used again.
    await driver.remove(store);
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    expect(await driver.observe(store)).toEqual({ namespaceExists: true, revisions: [], pods: [] });
  });

  it('stops its timers once the last namespace is gone', async () => {
    const { scheduler, driver, store } = simulation();
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    await driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 2)));
    expect(scheduler.pending).toBeGreaterThan(0);

    const removal = driver.remove(store);
    scheduler.advance(10_000);
    await removal;

    expect(scheduler.pending).toBe(0);
    expect(driver.cluster.activeTimers).toBe(0);
  });
});

describe('SimulatedDriver: close', () => {
  it('clears every timer it set, and refuses calls afterwards', async () => {
    const { scheduler, driver, store, pods, until } = simulation();
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    await driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 3)));
    until(() => pods().every((pod) => pod.phase === 'Running'));
    driver.failLiveness(store, pods()[0]!.name);
    until(() => pods()[0]!.containerState === 'CrashLoopBackOff');
    await driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 5)));
    const removal = driver.remove(storeRef('shop'));
    await driver.ensureNamespace(storeRef('other'), DEFAULT_NAMESPACE_LIMITS);
    expect(scheduler.pending).toBeGreaterThan(0);

    await driver.close();

    expect(scheduler.pending).toBe(0);
    await expect(removal).rejects.toThrow(/closed/);
    await expect(driver.check()).rejects.toThrow(/closed/);
    await expect(driver.observe(store)).rejects.toThrow(/closed/);
    await driver.close();
  });

  it('leaves no real timer behind, with Jest’s fake timers', async () => {
    jest.useFakeTimers();
    try {
      const driver = new SimulatedDriver({ random: seededRandom(1) });
      const store = storeRef();
      await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
      await driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 2)));
      await jest.advanceTimersByTimeAsync(3000);
      expect((await driver.observe(store)).pods.every((pod) => pod.ready)).toBe(true);
      expect(jest.getTimerCount()).toBeGreaterThan(0);

      await driver.close();

      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('leaves no real timer behind, with the real clock', async () => {
    const timeouts = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
    const before = timeouts();
    const driver = new SimulatedDriver();
    const store = storeRef();
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);
    await driver.apply(store, 'wordpress', release(revision(1, '6.5.0', 2)));
    expect(timeouts()).toBeGreaterThan(before);

    await driver.close();

    expect(timeouts()).toBe(before);
    await expect(driver.check()).rejects.toThrow(/closed/);
  });

  it('answers check while open', async () => {
    const { driver } = simulation();
    await expect(driver.check()).resolves.toBeUndefined();
    expect(driver.kind).toBe('simulated');
  });
});

describe('SimulatedDriver: installations sharing one simulated cluster', () => {
  it("labels its namespaces with its id, lists only those, and refuses another installation's", async () => {
    const dev = new SimulatedDriver({ podStartMs: 10, podReadyMs: 10 }, { installationId: 'dev', namespacePrefix: 'store' });
    const prod = new SimulatedDriver({}, { cluster: dev.cluster, installationId: 'prod', namespacePrefix: 'store' });
    const shop: StoreRef = { storeId: 'id-shop', name: 'shop', namespace: 'store-shop', teamId: 'team', template: 'wordpress' };
    const blog: StoreRef = { ...shop, storeId: 'id-blog', name: 'blog', namespace: 'store-blog' };
    try {
      await dev.ensureNamespace(shop, DEFAULT_NAMESPACE_LIMITS);
      await prod.ensureNamespace(blog, DEFAULT_NAMESPACE_LIMITS);
      expect(dev.cluster.namespace('store-shop')?.labels['flotilla.io/installation']).toBe('dev');
      expect((await dev.listStoreNamespaces()).map((ns) => ns.name)).toEqual(['store-shop']);
      expect((await prod.listStoreNamespaces()).map((ns) => ns.name)).toEqual(['store-blog']);
      await expect(prod.ensureNamespace(shop, DEFAULT_NAMESPACE_LIMITS)).rejects.toThrow(PermanentDriverError);
      expect(dev.cluster.namespace('store-shop')?.labels['flotilla.io/installation']).toBe('dev');
      // Closing a driver that was given the cluster leaves the cluster running for the others.
      await prod.close();
      await dev.check();
    } finally {
      await dev.close();
    }
  });
});

