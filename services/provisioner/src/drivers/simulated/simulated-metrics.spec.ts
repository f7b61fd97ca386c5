import type { ObservedStore } from '../cluster-driver.js';
import { BAD_FIGURES, HEALTHY_FIGURES, SimulatedMetrics } from './simulated-metrics.js';

const store = { storeId: 's', name: 'shop', namespace: 'store-shop', teamId: 't', template: 'wordpress' as const };

function cluster(version: string, weight: number, ready: boolean): ObservedStore {
  return {
    namespaceExists: true,
    revisions: [
      { revision: 1, version: '6.6', replicas: 1, weight: 100 - weight },
      { revision: 2, version, replicas: 1, weight },
    ],
    pods: [
      { name: 'a', phase: 'Running', ready: true, restarts: 0, revision: 1 },
      { name: 'b', phase: 'Running', ready, restarts: 0, revision: 2 },
    ] as ObservedStore['pods'],
  };
}

describe('the simulated pods\' request figures', () => {
  const options = { badVersions: ['bad'], errorVersions: ['blind'], noDataVersions: ['quiet'] };
  const measure = (observed: ObservedStore) => new SimulatedMetrics(async () => observed, options).measure(store, 2, 2000);

  it('are healthy for most versions and bad for the bad ones, with requests by weight', async () => {
    expect(await measure(cluster('6.7', 50, true))).toEqual({ ...HEALTHY_FIGURES, requests: 100 });
    expect(await measure(cluster('bad', 10, true))).toEqual({ ...BAD_FIGURES, requests: 20 });
  });

  it('have no data without ready pods, without traffic, or for the quiet versions; throw for the blind ones', async () => {
    expect(await measure(cluster('6.7', 50, false))).toEqual({ noData: true, why: 'revision 2 has no ready pods' });
    expect(await measure(cluster('6.7', 0, true))).toEqual({ noData: true, why: 'no requests reached revision 2' });
    expect(await measure(cluster('quiet', 50, true))).toMatchObject({ noData: true });
    await expect(measure(cluster('blind', 50, true))).rejects.toThrow('the metrics of version blind cannot be read');
  });
});
