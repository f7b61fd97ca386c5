import { DEFAULT_NAMESPACE_LIMITS } from '../drivers/cluster-driver.js';
import { peakAppPods, quotaProblem } from './quota-check.js';

describe('quota before Helm', () => {
  const limits = DEFAULT_NAMESPACE_LIMITS;

  it('refuses a blue/green update to 6 replicas under the default quota, naming the numbers at its peak', () => {
    const problem = quotaProblem({ template: 'wordpress', from: { revision: 1, replicas: 1 }, to: { revision: 2, replicas: 6 }, rollout: { strategy: 'BlueGreen' } }, limits);
    // 7 app pods × 500m + the database's 1000m of limits.cpu, against 4 cpus.
    expect(problem).toBe('blue/green to 6 replica(s) needs limits.cpu 4500m at its peak (2 revisions, 7 app pod(s) plus 1 other), the quota allows 4000m');
  });

  it('counts the database pods: 6 replicas alone fit, 7 with the database do not', () => {
    const scale = (replicas: number): string | undefined =>
      quotaProblem({ template: 'wordpress', from: { revision: 1, replicas: 1 }, to: { revision: 1, replicas }, rollout: { strategy: 'BlueGreen' } }, limits);
    expect(scale(6)).toBeUndefined(); // 6 × 500m + 1000m = 4000m
    expect(scale(7)).toBe('scaling to 7 replica(s) needs limits.cpu 4500m (7 app pod(s) plus 1 other), the quota allows 4000m');
  });

  it('counts Medusa\'s database and Redis, and the install Job on a create', () => {
    expect(quotaProblem({ template: 'medusa', to: { revision: 1, replicas: 3 }, rollout: { strategy: 'BlueGreen' } }, limits)).toBe(
      // 3 × 1000m + 500m + 250m + 500m
      'a store of 3 replica(s) needs limits.cpu 4250m (3 app pod(s) plus 3 other), the quota allows 4000m',
    );
    expect(quotaProblem({ template: 'medusa', to: { revision: 1, replicas: 2 }, rollout: { strategy: 'BlueGreen' } }, limits)).toBeUndefined();
  });

  it('takes the peak of the canary steps, and blue/green runs both revisions at once', () => {
    // 25 %: 5 old + 1 new pods; 50 %: 3 + 2; then the 4 new alone.
    expect(peakAppPods({ template: 'wordpress', from: { revision: 1, replicas: 6 }, to: { revision: 2, replicas: 4 }, rollout: { strategy: 'Canary' } })).toEqual({ pods: 6, revisions: 2 });
    expect(peakAppPods({ template: 'wordpress', from: { revision: 1, replicas: 4 }, to: { revision: 2, replicas: 4 }, rollout: { strategy: 'BlueGreen' } })).toEqual({ pods: 8, revisions: 2 });
    expect(peakAppPods({ template: 'wordpress', from: { revision: 1, replicas: 2 }, to: { revision: 2, replicas: 6 }, rollout: { strategy: 'Canary', steps: [100] } })).toEqual({ pods: 6, revisions: 1 });
    // The same update fits as a canary (peak 4 app pods) but not as blue/green (8).
    const plan = { template: 'wordpress' as const, from: { revision: 1, replicas: 4 }, to: { revision: 2, replicas: 4 } };
    expect(quotaProblem({ ...plan, rollout: { strategy: 'Canary' } }, limits)).toBeUndefined();
    expect(quotaProblem({ ...plan, rollout: { strategy: 'BlueGreen' } }, limits)).toMatch(/needs limits.cpu 5000m at its peak/);
  });

  it('reads the configured quota', () => {
    expect(quotaProblem({ template: 'wordpress', to: { revision: 1, replicas: 2 }, rollout: { strategy: 'BlueGreen' } }, { ...limits, requestsCpu: '300m' })).toBe(
      'a store of 2 replica(s) needs requests.cpu 500m (2 app pod(s) plus 2 other), the quota allows 300m',
    );
  });
});
