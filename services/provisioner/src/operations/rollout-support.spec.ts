import { fakeCluster, rolloutContext, TestControl } from '../../test/support/fake-rollout.js';
import { rollOut } from './rollout.js';

const FROM = { revision: 1, version: '6.6', replicas: 2 };
const TO = { revision: 2, version: '6.7', replicas: 2 };

describe('one deadline per apply', () => {
  it('gives a revision that never gets ready up after the apply that already waited the deadline, not after a second one', async () => {
    // The apply waits the whole deadline, as `helm --wait --timeout` does on Kubernetes.
    const { driver, counts } = fakeCluster({ applyMs: 200, never: 2 });
    const { ctx } = rolloutContext(driver, { deadlineMs: 200 });
    const outcome = await rollOut(ctx, FROM, TO, { strategy: 'BlueGreen' });
    expect(outcome.outcome).toBe('rolled_back');
    // One look after the new revision's apply (the deadline had passed), then the rollback's own wait.
    expect(counts.observe).toBeLessThanOrEqual(3);
  });
});

describe('a rollback', () => {
  it('waits until the stable revision is ready again, and says so', async () => {
    const { driver, applied } = fakeCluster({ never: 2, readyAfter: 3 });
    const { ctx, log } = rolloutContext(driver, { deadlineMs: 200 });
    const outcome = await rollOut(ctx, FROM, TO, { strategy: 'Canary', steps: [50, 100] });
    expect(outcome.outcome).toBe('rolled_back');
    expect(applied.at(-1)).toEqual([{ ...FROM, weight: 100 }]);
    expect(log.at(-1)).toMatch(/rolled back to revision 1 \(6\.6\); revision 1 \(6\.6\) ready again with 2 pod\(s\)$/);
  });

  it('says so when the stable revision does not get ready again within the deadline', async () => {
    const { driver } = fakeCluster({ never: 2, readyAfter: 1_000_000 });
    const { ctx, log } = rolloutContext(driver, { deadlineMs: 200 });
    await rollOut(ctx, FROM, TO, { strategy: 'BlueGreen' });
    expect(log.at(-1)).toMatch(/revision 1 \(6\.6\) not ready again within 0 s$/);
  });
});

describe('blue/green with a scale-down delay', () => {
  it('keeps the old revision scaled after the switch, so an abort in that window returns traffic to pods that still run', async () => {
    const { driver, applied } = fakeCluster();
    const control = new TestControl();
    const { ctx } = rolloutContext(driver, { deadlineMs: 200, control });
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
    const { driver, applied } = fakeCluster();
    const control = new TestControl();
    const { ctx, log } = rolloutContext(driver, { deadlineMs: 200, control });
    const outcome = rollOut(ctx, FROM, TO, { strategy: 'BlueGreen', scaleDownDelaySeconds: 3600 });
    await control.reached((s) => s.waiting === 'pause');
    control.command = 'promote';
    expect(await outcome).toEqual({ outcome: 'ready', readyReplicas: 2 });
    expect(applied.at(-1)).toEqual([{ ...TO, weight: 100 }]);
    expect(log).toContain('rollout: blue/green: revision 1 scaled down');
  });
});
