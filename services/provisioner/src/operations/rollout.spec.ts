import type { RolloutSpec } from '@flotilla/contracts';
import { PermanentDriverError, type ClusterDriver, type RevisionSpec } from '../drivers/cluster-driver.js';
import { rollOut, type RolloutContext } from './rollout.js';

/** A cluster whose quota holds `maxPods` app pods: a bigger release is refused as Kubernetes' quota admission would. */
function quotaCluster(maxPods: number): { driver: ClusterDriver; applied: RevisionSpec[][] } {
  const applied: RevisionSpec[][] = [];
  let running: RevisionSpec[] = [];
  const driver = {
    apply: async (_store: unknown, _template: unknown, release: { revisions: RevisionSpec[] }) => {
      const pods = release.revisions.reduce((sum, r) => sum + r.replicas, 0);
      if (pods > maxPods) throw new PermanentDriverError(`pods "shop-r2-x" is forbidden: exceeded quota: store-quota (${pods} pods, ${maxPods} allowed)`);
      applied.push(release.revisions);
      running = release.revisions;
    },
    observe: async () => ({
      namespaceExists: true,
      revisions: running,
      pods: running.flatMap((r) => Array.from({ length: r.replicas }, (_, i) => ({ name: `p${r.revision}-${i}`, phase: 'Running', ready: true, restarts: 0, revision: r.revision }))),
    }),
  } as unknown as ClusterDriver;
  return { driver, applied };
}

describe('rollOut when the quota refuses the new revision at run time', () => {
  const run = async (driver: ClusterDriver, rollout: RolloutSpec, toReplicas = 4) => {
    const log: string[] = [];
    const ctx: RolloutContext = {
      driver,
      store: { storeId: 's', name: 'shop', namespace: 'store-shop', teamId: 't', template: 'wordpress' },
      release: { host: 'shop.test', secrets: {} },
      log: async (type, message) => void log.push(`${type}: ${message}`),
      signal: new AbortController().signal,
      deadlineMs: 1000,
      pauseMs: 0,
      pollMs: 5,
    };
    const outcome = await rollOut(ctx, { revision: 1, version: '6.6', replicas: 4 }, { revision: 2, version: '6.7', replicas: toReplicas }, rollout);
    return { outcome, log };
  };

  it('blue/green: rolls back to the stable revision alone instead of failing with two revisions', async () => {
    const { driver, applied } = quotaCluster(6);
    const { outcome, log } = await run(driver, { strategy: 'BlueGreen' });
    expect(outcome).toEqual({ outcome: 'rolled_back', reason: expect.stringContaining('exceeded quota') });
    expect(applied.at(-1)).toEqual([{ revision: 1, version: '6.6', replicas: 4, weight: 100 }]);
    expect(log.at(-1)).toMatch(/^rollback: .*exceeded quota.*rolled back to revision 1 \(6\.6\); revision 1 \(6\.6\) ready again with 4 pod\(s\)$/);
  });

  it('canary: a refused step (the 6 new pods alone, 5 allowed) rolls back too', async () => {
    const { driver, applied } = quotaCluster(5);
    const { outcome } = await run(driver, { strategy: 'Canary' }, 6);
    expect(outcome.outcome).toBe('rolled_back');
    expect(applied.at(-1)).toEqual([{ revision: 1, version: '6.6', replicas: 4, weight: 100 }]);
  });
});
