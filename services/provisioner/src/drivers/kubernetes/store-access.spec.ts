import { beforeEach, describe, expect, it } from '@jest/globals';
import { DEFAULT_NAMESPACE_LIMITS, PermanentDriverError, type StoreRef } from '../cluster-driver.js';
import { createKubernetesDriver } from './create-kubernetes-driver.js';
import { KubernetesDriver } from './kubernetes-driver.js';
import { namespaceObjects, POD_SECURITY_LABELS, ROLE_BINDING_NAME, type StoreAccess } from './namespace-objects.js';
import { bindStoreOperator } from './store-access.js';
import { apiFailure, FakeHelm, FakeKubernetes } from './testing/fakes.js';

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

  describe('through the driver', () => {
    const driver = (): KubernetesDriver =>
      new KubernetesDriver(
        { chartsDir: '/srv/charts', helmPath: '/usr/local/bin/helm', helmTimeoutSeconds: 300, ingressClassName: 'nginx', storeAccess: ACCESS },
        { apis: kube.apis(), helm: new FakeHelm() },
      );

    it('creates the RoleBinding in each store namespace right after the namespace, before the quota and anything else there', async () => {
      const names = ['shop-one', 'shop-two', 'shop-three', 'shop-four', 'shop-five'];
      await Promise.all(names.map((name) => driver().ensureNamespace(store(name), DEFAULT_NAMESPACE_LIMITS)));
      for (const name of names) {
        const namespace = `store-${name}`;
        expect(kube.objects.get(`RoleBinding/${namespace}/${ROLE_BINDING_NAME}`)).toMatchObject({
          roleRef: { kind: 'ClusterRole', name: ACCESS.clusterRoleName },
          subjects: [{ kind: 'ServiceAccount', name: ACCESS.serviceAccountName, namespace: ACCESS.serviceAccountNamespace }],
        });
        const inNamespace = kube.calls
          .filter((c) => c.param.namespace === namespace || (c.method === 'createNamespace' && (c.param.body as { metadata: { name: string } }).metadata.name === namespace))
          .map((c) => c.method);
        expect(inNamespace.slice(0, 3)).toEqual(['createNamespace', 'createRoleBinding', 'createResourceQuota']);
        expect(kube.namespaces.get(namespace)?.metadata?.labels).toMatchObject(POD_SECURITY_LABELS);
      }
    });

    it('takes the ServiceAccount and role from the provisioner settings', async () => {
      const fromEnv = createKubernetesDriver(
        {
          KUBECONFIG: '',
          INGRESS_CLASS_NAME: 'nginx',
          ROLLOUT_DEADLINE_SECONDS: 300,
          PROVISIONER_SERVICE_ACCOUNT: 'flotilla-provisioner',
          PROVISIONER_NAMESPACE: 'flotilla-dev',
          STORE_OPERATOR_CLUSTER_ROLE: 'flotilla-dev-flotilla-provisioner-store-operator',
        },
        { apis: kube.apis(), helm: new FakeHelm() },
      );
      await fromEnv.ensureNamespace(store(), DEFAULT_NAMESPACE_LIMITS);
      expect(kube.objects.get(`RoleBinding/store-shop-one/${ROLE_BINDING_NAME}`)).toMatchObject({
        roleRef: { name: 'flotilla-dev-flotilla-provisioner-store-operator' },
        subjects: [{ kind: 'ServiceAccount', name: 'flotilla-provisioner', namespace: 'flotilla-dev' }],
      });
    });

    it('binds again in a namespace it adopts, and stops when the binding is refused', async () => {
      await driver().ensureNamespace(store(), DEFAULT_NAMESPACE_LIMITS);
      kube.objects.delete(`RoleBinding/store-shop-one/${ROLE_BINDING_NAME}`);
      await driver().ensureNamespace(store(), DEFAULT_NAMESPACE_LIMITS);
      expect(kube.objects.has(`RoleBinding/store-shop-one/${ROLE_BINDING_NAME}`)).toBe(true);

      kube.failNext('createRoleBinding', apiFailure(403, 'rolebindings is forbidden'));
      const quotaCalls = kube.calls.filter((c) => c.method === 'createResourceQuota').length;
      await expect(driver().ensureNamespace(store('shop-two'), DEFAULT_NAMESPACE_LIMITS)).rejects.toBeInstanceOf(PermanentDriverError);
      expect(kube.calls.filter((c) => c.method === 'createResourceQuota').length).toBe(quotaCalls);
    });
  });
});
