import { fakeCluster, rolloutContext, TestControl } from '../../test/support/fake-rollout.js';
import { rollOut } from './rollout.js';
import { parsePause, stepsProblem } from './rollout-steps.js';

function start(control: TestControl, steps: { weight: number; pause?: string }[]) {
  const { driver, applied } = fakeCluster();
  const { ctx } = rolloutContext(driver, { pollMs: 2, control });
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
