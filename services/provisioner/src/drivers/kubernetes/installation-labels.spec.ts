import { beforeEach, describe, expect, it } from '@jest/globals';
import { DEFAULT_NAMESPACE_LIMITS, type StoreRef } from '../cluster-driver.js';
import { INSTALLATION_LABEL } from '../ownership.js';
import { KubernetesDriver } from './kubernetes-driver.js';
import { FakeHelm, FakeKubernetes } from './testing/fakes.js';

/*
 * Everything the driver creates carries its installation's id: the namespace, the objects
 * it puts there itself, and (through the chart value `installation`) every object Helm
 * renders, so two installations on one cluster can tell their objects apart.
 */

const store: StoreRef = {
  storeId: '7d0e5a0c-4a8b-4c55-9a51-2d6f0b1c9e11',
  name: 'shop-one',
  namespace: 'store-shop-one',
  teamId: '3b8f7f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
  template: 'wordpress',
};

const SECRETS = {
  databaseRootPassword: 'root-Zq8tVb3LkP0sW2xY',
  databasePassword: 'user-Hc5nR1mJ7dQ9fA4e',
  adminPassword: 'admin-Tg6uY2iO8pL3kJ1h',
  authSalt: 'salt-Mn4bV7cX1zA9sD6f',
};

const ACCESS = { serviceAccountName: 'flotilla-provisioner', serviceAccountNamespace: 'flotilla', clusterRoleName: 'flotilla-store-operator' };

describe('the installation id on what the kubernetes driver creates', () => {
  let kube: FakeKubernetes;
  let helm: FakeHelm;
  let driver: KubernetesDriver;

  beforeEach(() => {
    kube = new FakeKubernetes();
    helm = new FakeHelm();
    driver = new KubernetesDriver(
      { chartsDir: '/srv/charts', helmPath: '/usr/local/bin/helm', helmTimeoutSeconds: 300, ingressClassName: 'nginx', installationId: 'dev-a', storeAccess: ACCESS },
      { helm, apis: kube.apis(), now: () => 0, sleep: async () => undefined, randomInt: () => 0 },
    );
  });

  it('labels the namespace and every object the driver puts in it', async () => {
    await driver.ensureNamespace(store, DEFAULT_NAMESPACE_LIMITS);

    expect(kube.namespaces.get('store-shop-one')?.metadata?.labels?.[INSTALLATION_LABEL]).toBe('dev-a');
    const created = [...kube.objects.entries()].filter(([key]) => key.split('/')[1] === 'store-shop-one');
    expect(created.map(([key]) => key.split('/')[0]).sort()).toEqual(['LimitRange', 'NetworkPolicy', 'NetworkPolicy', 'NetworkPolicy', 'ResourceQuota', 'RoleBinding']);
    const unlabelled = created.filter(([, object]) => (object as { metadata?: { labels?: Record<string, string> } }).metadata?.labels?.[INSTALLATION_LABEL] !== 'dev-a');
    expect(unlabelled.map(([key]) => key)).toEqual([]);
  });

  it('passes the installation id to Helm as the chart value `installation`', async () => {
    await driver.apply(store, 'wordpress', {
      host: 'shop-one.stores.example.com',
      secrets: SECRETS,
      revisions: [{ revision: 1, version: '6.6', replicas: 1, weight: 100 }],
    });

    const upgrade = helm.calls.find((call) => call.args[0] === 'upgrade');
    expect(upgrade).toBeDefined();
    expect(JSON.parse(upgrade?.options.stdin ?? '{}')).toMatchObject({ installation: 'dev-a' });
  });

  it("labels Helm's release Secrets and the volume claims after a run, and nothing of another release", async () => {
    const object = (name: string, labels: Record<string, string>) => ({ metadata: { name, namespace: 'store-shop-one', labels } });
    kube.secrets = [
      object('sh.helm.release.v1.shop-one.v1', { owner: 'helm', name: 'shop-one', status: 'superseded', version: '1' }),
      object('sh.helm.release.v1.shop-one.v2', { owner: 'helm', name: 'shop-one', status: 'deployed', version: '2' }),
      object('sh.helm.release.v1.other.v1', { owner: 'helm', name: 'other', status: 'deployed', version: '1' }),
    ];
    kube.claims = [object('data-shop-one-mariadb-0', { 'app.kubernetes.io/instance': 'shop-one', 'app.kubernetes.io/component': 'database' })];

    await driver.apply(store, 'wordpress', {
      host: 'shop-one.stores.example.com',
      secrets: SECRETS,
      revisions: [{ revision: 1, version: '6.6', replicas: 1, weight: 100 }],
    });

    const installation = (items: Array<{ metadata?: { name?: string; labels?: Record<string, string> } }>) => items.map((o) => [o.metadata?.name, o.metadata?.labels?.[INSTALLATION_LABEL]]);
    expect(installation(kube.secrets)).toEqual([
      ['sh.helm.release.v1.shop-one.v1', 'dev-a'],
      ['sh.helm.release.v1.shop-one.v2', 'dev-a'],
      ['sh.helm.release.v1.other.v1', undefined],
    ]);
    expect(installation(kube.claims)).toEqual([['data-shop-one-mariadb-0', 'dev-a']]);
    expect(kube.secrets[1].metadata?.labels).toMatchObject({ owner: 'helm', status: 'deployed' });
  });

  it('patches nothing that already carries the label', async () => {
    kube.secrets = [{ metadata: { name: 'sh.helm.release.v1.shop-one.v1', namespace: 'store-shop-one', labels: { owner: 'helm', name: 'shop-one', [INSTALLATION_LABEL]: 'dev-a' } } }];
    await driver.apply(store, 'wordpress', {
      host: 'shop-one.stores.example.com',
      secrets: SECRETS,
      revisions: [{ revision: 1, version: '6.6', replicas: 1, weight: 100 }],
    });
    expect(kube.calls.filter((call) => call.method.startsWith('patch'))).toEqual([]);
  });

  it('sets the installation over an operator chart value of the same name', async () => {
    const overridden = new KubernetesDriver(
      {
        chartsDir: '/srv/charts',
        helmPath: '/usr/local/bin/helm',
        helmTimeoutSeconds: 300,
        ingressClassName: 'nginx',
        installationId: 'dev-a',
        chartValues: { wordpress: { installation: 'prod' } },
      },
      { helm, apis: kube.apis(), now: () => 0, sleep: async () => undefined, randomInt: () => 0 },
    );
    await overridden.apply(store, 'wordpress', {
      host: 'shop-one.stores.example.com',
      secrets: SECRETS,
      revisions: [{ revision: 1, version: '6.6', replicas: 1, weight: 100 }],
    });
    expect(JSON.parse(helm.calls.find((call) => call.args[0] === 'upgrade')?.options.stdin ?? '{}')).toMatchObject({ installation: 'dev-a' });
  });
});
