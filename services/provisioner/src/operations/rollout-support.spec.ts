import type { ClusterDriver, RevisionSpec } from '../drivers/cluster-driver.js';
import { rollOut, type RolloutContext } from './rollout.js';
import type { RolloutCommand, RolloutControl } from './rollout-control.js';

/**
 * A cluster whose `apply` takes `applyMs` (as `helm upgrade --wait` does), whose pods of
 * `never` never get ready, and whose pods of other revisions are ready once observed
 * `readyAfter` times since their apply.
 */
function cluster(options: { applyMs?: number; never?: number; readyAfter?: number } = {}) {
  const applied: RevisionSpec[][] = [];
  let running: RevisionSpec[] = [];
  let observedSinceApply = 0;
  const counts = { observe: 0 };
  const driver = {
    apply: async (_store: unknown, _template: unknown, release: { revisions: RevisionSpec[] }) => {
      await new Promise((resolve) => setTimeout(resolve, options.applyMs ?? 0));
      applied.push(release.revisions);
      running = release.revisions;
      observedSinceApply = 0;
    },
    observe: async () => {
      counts.observe++;
      observedSinceApply++;
      return {
        namespaceExists: true,
        revisions: running,
        pods: running.flatMap((r) =>
          Array.from({ length: r.replicas }, (_, i) => ({
            name: `p${r.revision}-${i}`,
            phase: 'Running',
            ready: r.revision !== options.never && observedSinceApply > (options.readyAfter ?? 0),
            restarts: 0,
            revision: r.revision,
          })),
        ),
      };
    },
  } as unknown as ClusterDriver;
  return { driver, applied, counts };
}

function context(driver: ClusterDriver, extra: Partial<RolloutContext> = {}): { ctx: RolloutContext; log: string[] } {
  const log: string[] = [];
  const ctx: RolloutContext = {
    driver,
    store: { storeId: 's', name: 'shop', namespace: 'store-shop', teamId: 't', template: 'wordpress' },
    release: { host: 'shop.test', secrets: {} },
    log: async (type, message) => void log.push(`${type}: ${message}`),
    signal: new AbortController().signal,
    deadlineMs: 200,
    pauseMs: 0,
    pollMs: 5,
    ...extra,
  };
  return { ctx, log };
}

const FROM = { revision: 1, version: '6.6', replicas: 2 };
const TO = { revision: 2, version: '6.7', replicas: 2 };

describe('one deadline per apply', () => {
  it('gives a revision that never gets ready up after the apply that already waited the deadline, not after a second one', async () => {
    // The apply waits the whole deadline, as `helm --wait --timeout` does on Kubernetes.
    const { driver, counts } = cluster({ applyMs: 200, never: 2 });
    const { ctx } = context(driver);
    const outcome = await rollOut(ctx, FROM, TO, { strategy: 'BlueGreen' });
    expect(outcome.outcome).toBe('rolled_back');
    // One look after the new revision's apply (the deadline had passed), then the rollback's own wait.
    expect(counts.observe).toBeLessThanOrEqual(3);
  });
});

describe('a rollback', () => {
  it('waits until the stable revision is ready again, and says so', async () => {
    const { driver, applied } = cluster({ never: 2, readyAfter: 3 });
    const { ctx, log } = context(driver);
    const outcome = await rollOut(ctx, FROM, TO, { strategy: 'Canary', steps: [50, 100] });
    expect(outcome.outcome).toBe('rolled_back');
    expect(applied.at(-1)).toEqual([{ ...FROM, weight: 100 }]);
    expect(log.at(-1)).toMatch(/rolled back to revision 1 \(6\.6\); revision 1 \(6\.6\) ready again with 2 pod\(s\)$/);
  });

  it('says so when the stable revision does not get ready again within the deadline', async () => {
    const { driver } = cluster({ never: 2, readyAfter: 1_000_000 });
    const { ctx, log } = context(driver);
    await rollOut(ctx, FROM, TO, { strategy: 'BlueGreen' });
    expect(log.at(-1)).toMatch(/revision 1 \(6\.6\) not ready again within 0 s$/);
  });
});

/** A control a test steers. */
class Steering implements RolloutControl {
  command: RolloutCommand | null = null;
  readonly reports: Parameters<RolloutControl['report']>[0][] = [];
  read = async () => ({ paused: false, command: this.command });
  take = async (command: RolloutCommand) => {
    if (this.command === command) this.command = null;
  };
  report = async (state: Parameters<RolloutControl['report']>[0]) => void this.reports.push(state);
  async reached(check: (s: Parameters<RolloutControl['report']>[0]) => boolean): Promise<void> {
    while (!this.reports.some(check)) await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('blue/green with a scale-down delay', () => {
  it('keeps the old revision scaled after the switch, so an abort in that window returns traffic to pods that still run', async () => {
    const { driver, applied } = cluster();
    const control = new Steering();
    const { ctx } = context(driver, { control });
    const outcome = rollOut(ctx, FROM, TO, { strategy: 'BlueGreen', scaleDownDelaySeconds: 60 });
    await control.reached((s) => s.weight === 100 && s.waiting === 'pause');
    control.command = 'abort';
    expect((await outcome).outcome).toBe('aborted');
    // Beside, switched (the old one still scaled), back: the old revision was never removed.
    expect(applied).toEqual([
      [{ ...FROM, weight: 100 }, { ...TO, weight: 0 }],
      [{ ...FROM, weight: 0 }, { ...TO, weight: 100 }],
      [{ ...FROM, weight: 100 }],
    ]);
  });

  it('scales the old revision down after the delay, or at once when promoted', async () => {
    const { driver, applied } = cluster();
    const control = new Steering();
    const { ctx, log } = context(driver, { control });
    const outcome = rollOut(ctx, FROM, TO, { strategy: 'BlueGreen', scaleDownDelaySeconds: 3600 });
    await control.reached((s) => s.waiting === 'pause');
    control.command = 'promote';
    expect(await outcome).toEqual({ outcome: 'ready', readyReplicas: 2 });
    expect(applied.at(-1)).toEqual([{ ...TO, weight: 100 }]);
    expect(log).toContain('rollout: blue/green: revision 1 scaled down');
  });
});
