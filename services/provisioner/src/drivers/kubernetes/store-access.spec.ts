import { beforeEach, describe, expect, it } from '@jest/globals';
import { DEFAULT_NAMESPACE_LIMITS, PermanentDriverError, type StoreRef } from '../cluster-driver.js';
import { namespaceObjects, POD_SECURITY_LABELS, ROLE_BINDING_NAME, type StoreAccess } from './namespace-objects.js';
import { bindStoreOperator } from './store-access.js';
import { apiFailure, FakeKubernetes } from './testing/fakes.js';

const ACCESS: StoreAccess = { serviceAccountName: 'flotilla-provisioner', serviceAccountNamespace: 'flotilla-prod', clusterRoleName: 'flotilla-prod-flotilla-provisioner-store-operator' };

const store = (name = 'shop-one'): StoreRef => ({
  storeId: '7d0e5a0c-4a8b-4c55-9a51-2d6f0b1c9e11',
  name,
  namespace: `store-${name}`,
  teamId: '3b8f7f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
  template: 'wordpress',
});

describe('store namespace access', () => {
  let kube: FakeKubernetes;
  beforeEach(() => {
    kube = new FakeKubernetes();
  });

  const create = async (name: string): Promise<void> => {
    const objects = namespaceObjects(store(name), DEFAULT_NAMESPACE_LIMITS, 'ingress-nginx', ACCESS);
    await kube.apis().core.createNamespace({ body: objects.namespace });
    await bindStoreOperator(kube.apis().rbac, objects.roleBinding!);
  };

  it('labels every store namespace Pod Security restricted, enforced, warned and audited', () => {
    const labels = namespaceObjects(store(), DEFAULT_NAMESPACE_LIMITS, 'ingress-nginx').namespace.metadata?.labels;
    expect(labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/audit': 'restricted',
    });
    expect(labels).toMatchObject(POD_SECURITY_LABELS);
  });

  it('binds the provisioner ServiceAccount to the store-operator ClusterRole in each store namespace, and in no other', async () => {
    await Promise.all(['shop-one', 'shop-two', 'shop-three'].map(create));
    for (const name of ['shop-one', 'shop-two', 'shop-three']) {
      expect(kube.objects.get(`RoleBinding/store-${name}/${ROLE_BINDING_NAME}`)).toMatchObject({
        kind: 'RoleBinding',
        metadata: { name: ROLE_BINDING_NAME, namespace: `store-${name}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: ACCESS.clusterRoleName },
        subjects: [{ kind: 'ServiceAccount', name: 'flotilla-provisioner', namespace: 'flotilla-prod' }],
      });
    }
    const bound = [...kube.objects.keys()].filter((key) => key.startsWith('RoleBinding/')).map((key) => key.split('/')[1]);
    expect(bound.sort()).toEqual(['store-shop-one', 'store-shop-three', 'store-shop-two']);
  });

  it('leaves an identical binding alone and replaces one with other subjects', async () => {
    await create('shop-one');
    await bindStoreOperator(kube.apis().rbac, namespaceObjects(store(), DEFAULT_NAMESPACE_LIMITS, 'ingress-nginx', ACCESS).roleBinding!);
    expect(kube.calls.filter((c) => c.method === 'replaceRoleBinding')).toHaveLength(0);

    const moved = namespaceObjects(store(), DEFAULT_NAMESPACE_LIMITS, 'ingress-nginx', { ...ACCESS, serviceAccountNamespace: 'flotilla-dev' }).roleBinding!;
    await bindStoreOperator(kube.apis().rbac, moved);
    expect(kube.objects.get(`RoleBinding/store-shop-one/${ROLE_BINDING_NAME}`)).toMatchObject({ subjects: [{ namespace: 'flotilla-dev' }] });
  });

  it('treats a refused binding as final and a missing namespace as worth retrying', async () => {
    const objects = namespaceObjects(store(), DEFAULT_NAMESPACE_LIMITS, 'ingress-nginx', ACCESS);
    const missing = await bindStoreOperator(kube.apis().rbac, objects.roleBinding!).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Error);
    expect(missing).not.toBeInstanceOf(PermanentDriverError);

    await kube.apis().core.createNamespace({ body: objects.namespace });
    kube.failNext('createRoleBinding', apiFailure(403, 'user cannot bind clusterrole'));
    const refused = await bindStoreOperator(kube.apis().rbac, objects.roleBinding!).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PermanentDriverError);
    expect(String(refused)).toContain('cannot bind clusterrole');
  });

  it('renders no binding without access settings', () => {
    expect(namespaceObjects(store(), DEFAULT_NAMESPACE_LIMITS, 'ingress-nginx').roleBinding).toBeUndefined();
  });
});
