import type { ClusterDriver, RevisionSpec } from '../drivers/cluster-driver.js';
import { rollOut, type RolloutContext } from './rollout.js';
import type { RolloutCommand, RolloutControl } from './rollout-control.js';
import { parsePause, stepsProblem } from './rollout-steps.js';

/** A cluster where every applied pod is ready at once; it keeps each release applied. */
function readyCluster(): { driver: ClusterDriver; applied: RevisionSpec[][] } {
  const applied: RevisionSpec[][] = [];
  let running: RevisionSpec[] = [];
  const driver = {
    apply: async (_store: unknown, _template: unknown, release: { revisions: RevisionSpec[] }) => {
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

/** A control a test steers, recording what the rollout reported. */
class TestControl implements RolloutControl {
  paused = false;
  command: RolloutCommand | null = null;
  readonly reports: Parameters<RolloutControl['report']>[0][] = [];
  read = async () => ({ paused: this.paused, command: this.command });
  take = async (command: RolloutCommand) => {
    if (this.command === command) this.command = null;
  };
  report = async (state: Parameters<RolloutControl['report']>[0]) => void this.reports.push(state);
  /** Resolves once the rollout reported a state matching `check`. */
  async reached(check: (s: Parameters<RolloutControl['report']>[0]) => boolean): Promise<void> {
    while (!this.reports.some(check)) await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

function start(control: TestControl, steps: { weight: number; pause?: string }[]) {
  const { driver, applied } = readyCluster();
  const ctx: RolloutContext = {
    driver,
    store: { storeId: 's', name: 'shop', namespace: 'store-shop', teamId: 't', template: 'wordpress' },
    release: { host: 'shop.test', secrets: {} },
    log: async () => undefined,
    signal: new AbortController().signal,
    deadlineMs: 1000,
    pauseMs: 0,
    pollMs: 2,
    control,
  };
  const outcome = rollOut(ctx, { revision: 1, version: '6.6', replicas: 4 }, { revision: 2, version: '6.7', replicas: 4 }, { strategy: 'Canary', steps });
  return { outcome, applied };
}

describe('a rollout steered while it runs', () => {
  it('waits at an indefinite step until promoted, then goes on', async () => {
    const control = new TestControl();
    const { outcome, applied } = start(control, [{ weight: 50, pause: 'indefinite' }, { weight: 100 }]);
    await control.reached((s) => s.waiting === 'promote');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(applied.at(-1)?.map((r) => r.weight)).toEqual([50, 50]);
    control.command = 'promote';
    expect(await outcome).toEqual({ outcome: 'ready', readyReplicas: 4 });
    expect(control.command).toBeNull();
    expect(applied.at(-1)).toEqual([{ revision: 2, version: '6.7', replicas: 4, weight: 100 }]);
  });

  it('holds a paused step past its own pause, until resumed', async () => {
    const control = new TestControl();
    control.paused = true;
    const { outcome, applied } = start(control, [{ weight: 10, pause: '1ms' }, { weight: 100 }]);
    await control.reached((s) => s.waiting === 'pause');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(applied).toHaveLength(1);
    control.paused = false;
    expect((await outcome).outcome).toBe('ready');
  });

  it('promoted in full at the first step: straight to 100%, no step between', async () => {
    const control = new TestControl();
    const { outcome, applied } = start(control, [{ weight: 10, pause: 'indefinite' }, { weight: 50, pause: 'indefinite' }, { weight: 100 }]);
    await control.reached((s) => s.weight === 10 && s.waiting === 'promote');
    control.command = 'promote_full';
    expect((await outcome).outcome).toBe('ready');
    expect(applied.map((release) => release.map((r) => r.weight))).toEqual([[90, 10], [100]]);
  });

  it('aborted while waiting: all traffic back to the stable revision alone', async () => {
    const control = new TestControl();
    const { outcome, applied } = start(control, [{ weight: 50, pause: 'indefinite' }, { weight: 100 }]);
    await control.reached((s) => s.waiting === 'promote');
    control.command = 'abort';
    expect(await outcome).toEqual({ outcome: 'aborted', reason: 'rollout of revision 2 (6.7) aborted; serving revision 1 (6.6)' });
    expect(applied.at(-1)).toEqual([{ revision: 1, version: '6.6', replicas: 4, weight: 100 }]);
  });
});

describe('canary step pauses', () => {
  it('reads durations and indefinite, and refuses what is neither', () => {
    expect([parsePause('500ms'), parsePause('30s'), parsePause('2m'), parsePause('1h'), parsePause('indefinite')]).toEqual([500, 30_000, 120_000, 3_600_000, 'indefinite']);
    expect([parsePause('forever'), parsePause('25h'), parsePause('-1s'), parsePause('1.5s'), parsePause('')]).toEqual([undefined, undefined, undefined, undefined, undefined]);
  });

  it('names the step whose pause is wrong, and the rule of the weights', () => {
    expect(stepsProblem([{ weight: 50, pause: 'soon' }, { weight: 100 }])).toMatch(/^step 1: pause must be/);
    expect(stepsProblem([50, 40, 100])).toMatch(/increasing/);
    expect(stepsProblem([10, { weight: 50, pause: 'indefinite' }, 100])).toBeUndefined();
  });
});
