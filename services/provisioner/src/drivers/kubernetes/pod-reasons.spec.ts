import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { replicaFailures, toStorePod } from './store-objects.js';

const pod = (status: V1Pod['status']): V1Pod => ({ metadata: { name: 'shop-r1-abc', labels: { 'flotilla.io/revision': '1' } }, status });

describe('what the API says about a pod that is not ready', () => {
  it('names an unschedulable pod with the scheduler message', () => {
    const p = toStorePod(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' }] }));
    expect(p).toEqual(expect.objectContaining({ phase: 'Pending', ready: false, reason: 'Unschedulable: 0/3 nodes are available: 3 Insufficient cpu.' }));
  });

  it('names a crash loop and an image pull back-off by their waiting reasons', () => {
    const crashing = toStorePod(pod({ phase: 'Running', containerStatuses: [{ name: 'app', image: 'x', imageID: '', ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff' } } }] }));
    expect(crashing).toEqual(expect.objectContaining({ restarts: 5, reason: 'CrashLoopBackOff' }));
    const pulling = toStorePod(pod({ phase: 'Pending', containerStatuses: [{ name: 'app', image: 'x', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'ImagePullBackOff' } } }] }));
    expect(pulling?.reason).toBe('ImagePullBackOff');
  });

  it('gives a ready pod no reason', () => {
    expect(toStorePod(pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }))).not.toHaveProperty('reason');
  });

  it("reads a Deployment's ReplicaFailure condition (the quota refusing pods)", () => {
    const deployment: V1Deployment = {
      status: { conditions: [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'pods "shop-r1-x" is forbidden: exceeded quota: store-quota' }] },
    };
    expect(replicaFailures([deployment, {}])).toEqual(['pods "shop-r1-x" is forbidden: exceeded quota: store-quota']);
  });
});
