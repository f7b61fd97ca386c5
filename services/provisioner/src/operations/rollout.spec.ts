import type { RolloutSpec } from '@flotilla/contracts';
import type { ClusterDriver } from '../drivers/cluster-driver.js';
import { fakeCluster, rolloutContext } from '../../test/support/fake-rollout.js';
import { rollOut } from './rollout.js';

describe('rollOut when the quota refuses the new revision at run time', () => {
  const run = async (driver: ClusterDriver, rollout: RolloutSpec, toReplicas = 4) => {
    const { ctx, log } = rolloutContext(driver, { deadlineMs: 1000 });
    const outcome = await rollOut(ctx, { revision: 1, version: '6.6', replicas: 4 }, { revision: 2, version: '6.7', replicas: toReplicas }, rollout);
    return { outcome, log };
  };

  it('blue/green: rolls back to the stable revision alone instead of failing with two revisions', async () => {
    const { driver, applied } = fakeCluster({ maxPods: 6 });
    const { outcome, log } = await run(driver, { strategy: 'BlueGreen' });
    expect(outcome).toEqual({ outcome: 'rolled_back', reason: expect.stringContaining('exceeded quota') });
    expect(applied.at(-1)).toEqual([{ revision: 1, version: '6.6', replicas: 4, weight: 100 }]);
    expect(log.at(-1)).toMatch(/^rollback: .*exceeded quota.*rolled back to revision 1 \(6\.6\); revision 1 \(6\.6\) ready again with 4 pod\(s\)$/);
  });

  it('canary: a refused step (the 6 new pods alone, 5 allowed) rolls back too', async () => {
    const { driver, applied } = fakeCluster({ maxPods: 5 });
    const { outcome } = await run(driver, { strategy: 'Canary' }, 6);
    expect(outcome.outcome).toBe('rolled_back');
    expect(applied.at(-1)).toEqual([{ revision: 1, version: '6.6', replicas: 4, weight: 100 }]);
  });
});
