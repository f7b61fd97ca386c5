import type { StorePod } from '@flotilla/contracts';
import { blockingReason, failuresInARow, nextHealth } from './store-health.js';

const pod = (p: Partial<StorePod>): StorePod => ({ name: 'p', phase: 'Running', ready: true, restarts: 0, revision: 1, startedAt: null, ...p });

describe('blockingReason', () => {
  it('is undefined while a pod of the revision is ready', () => {
    expect(blockingReason({ pods: [pod({}), pod({ ready: false })], revision: 1 })).toBeUndefined();
  });

  it('names pending pods and why', () => {
    const reason = blockingReason({ pods: [pod({ phase: 'Pending', ready: false, reason: 'Unschedulable: 0/3 nodes available' })], revision: 1 });
    expect(reason).toBe('0 ready pods: 1 pending (Unschedulable: 0/3 nodes available)');
  });

  it('names crash loops and failing readiness probes', () => {
    const reason = blockingReason({
      pods: [pod({ ready: false, restarts: 4, reason: 'CrashLoopBackOff' }), pod({ ready: false })],
      revision: 1,
    });
    expect(reason).toBe('0 ready pods: 1 crash-looping (CrashLoopBackOff, 4 restarts); 1 running, readiness probe failing');
  });

  it('names a quota refusal when no pod exists', () => {
    expect(blockingReason({ pods: [], revision: 1, problems: ['exceeded quota: store-quota'] })).toBe('0 ready pods: no pods (exceeded quota: store-quota)');
    expect(blockingReason({ pods: [], revision: 1 })).toBe('0 ready pods: no pods');
  });

  it('ignores ready pods of another revision', () => {
    expect(blockingReason({ pods: [pod({ revision: 2 })], revision: 1 })).toBe('0 ready pods: no pods');
  });
});

describe('nextHealth', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  it('goes down only on the second failing check in a row', () => {
    const first = nextHealth({ state: 'up', failures: 0 }, 'no pods');
    expect(first).toEqual({ state: 'up', failures: 1, changed: false });
    const second = nextHealth({ state: 'up', failures: 1 }, 'no pods');
    expect(second).toEqual({ state: 'down', failures: 2, changed: true });
  });
  it('comes up on the first good check, and a never-checked store comes up without an outage', () => {
    expect(nextHealth({ state: 'down', failures: 3 }, undefined)).toEqual({ state: 'up', failures: 0, changed: true });
    expect(nextHealth({ state: 'unknown', failures: 0 }, undefined)).toEqual({ state: 'up', failures: 0, changed: true });
    expect(nextHealth({ state: 'up', failures: 1 }, undefined)).toEqual({ state: 'up', failures: 0, changed: false });
    void t0;
  });
});

describe('failuresInARow', () => {
  it('forgets failing checks older than two periods (the store was being updated, or passes were skipped)', () => {
    const now = Date.parse('2026-01-01T00:01:00Z');
    expect(failuresInARow(1, new Date(now - 1500), now, 1000)).toBe(1);
    expect(failuresInARow(1, new Date(now - 2500), now, 1000)).toBe(0);
    expect(failuresInARow(3, null, now, 1000)).toBe(0);
  });
});
