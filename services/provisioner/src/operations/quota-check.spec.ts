import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DEFAULT_NAMESPACE_LIMITS } from '../drivers/cluster-driver.js';
import { findUp, moduleDir } from '../drivers/kubernetes/helm.js';
import { parseCpu, parseMemory } from '../drivers/simulated/quantity.js';
import { peakAppPods, quotaProblem, STORE_FOOTPRINTS, type PodFootprint } from './quota-check.js';

type Resources = { requests: { cpu: string | number; memory: string }; limits: { cpu: string | number; memory: string } };

/** Every `resources` block with requests and limits in a chart's values, wherever it sits. */
function resourceBlocks(node: unknown, found: PodFootprint[] = []): PodFootprint[] {
  if (node === null || typeof node !== 'object') return found;
  for (const [key, value] of Object.entries(node)) {
    const r = value as Partial<Resources> | null;
    if (key === 'resources' && r?.requests && r.limits) {
      found.push({
        requestsCpu: parseCpu(String(r.requests.cpu)),
        requestsMemory: parseMemory(r.requests.memory),
        limitsCpu: parseCpu(String(r.limits.cpu)),
        limitsMemory: parseMemory(r.limits.memory),
      });
    } else resourceBlocks(value, found);
  }
  return found;
}

const ordered = (pods: PodFootprint[]): string[] => pods.map((p) => JSON.stringify(p)).sort();

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

  it.each(Object.keys(STORE_FOOTPRINTS) as (keyof typeof STORE_FOOTPRINTS)[])('counts the pods the %s chart asks for: its footprints match the chart\'s values', (template) => {
    const chartsDir = findUp(join('deploy', 'store-charts'), moduleDir()) as string;
    const values = parse(readFileSync(join(chartsDir, template, 'values.yaml'), 'utf8')) as unknown;
    const footprint = STORE_FOOTPRINTS[template];
    expect(ordered([footprint.app, ...footprint.fixed.map((f) => f.pod), footprint.install])).toEqual(ordered(resourceBlocks(values)));
  });
});
