import { beforeEach, describe, expect, it } from '@jest/globals';
import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { DEFAULT_NAMESPACE_LIMITS, PermanentDriverError, type ReleaseSpec, type StoreRef } from '../cluster-driver.js';
import { HelmCommandError } from './helm.js';
import { KubernetesDriver, type KubernetesDriverOptions } from './kubernetes-driver.js';
import { apiFailure, FakeHelm, FakeKubernetes } from './testing/fakes.js';

const OPTIONS: KubernetesDriverOptions = {
  chartsDir: '/srv/charts',
  helmPath: '/usr/local/bin/helm',
  helmTimeoutSeconds: 300,
  ingressClassName: 'nginx',
};

const SECRETS = {
  databaseRootPassword: 'root-Zq8tVb3LkP0sW2xY',
  databasePassword: 'user-Hc5nR1mJ7dQ9fA4e',
  adminPassword: 'admin-Tg6uY2iO8pL3kJ1h',
  authSalt: 'salt-Mn4bV7cX1zA9sD6f',
};

const store = (name = 'shop-one', overrides: Partial<StoreRef> = {}): StoreRef => ({
  storeId: '7d0e5a0c-4a8b-4c55-9a51-2d6f0b1c9e11',
  name,
  namespace: `store-${name}`,
  teamId: '3b8f7f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
  template: 'wordpress',
  ...overrides,
});

const release = (overrides: Partial<ReleaseSpec> = {}): ReleaseSpec => ({
  host: 'shop-one.stores.example.com',
  secrets: { ...SECRETS },
  revisions: [{ revision: 1, version: '6.6', replicas: 2, weight: 100 }],
  ...overrides,
});

const HOSTILE_NAMES = [
  '../x',
  'store-../x',
  'a'.repeat(63),
  'a'.repeat(41),
  'Shop',
  'a;rm -rf /',
  '$(id)',
  '`id`',
  'shop one',
  '--set',
  'a--b',
  '-shop',
  'shop\nx',
  '',
];

describe('KubernetesDriver', () => {
  let kube: FakeKubernetes;
  let helm: FakeHelm;
  let driver: KubernetesDriver;
  let clock: number;
  let slept: number[];

  beforeEach(() => {
    kube = new FakeKubernetes();
    helm = new FakeHelm();
    clock = Date.parse('2030-01-01T00:00:00Z');
    slept = [];
    driver = new KubernetesDriver(
      { ...OPTIONS, namespaceDeleteTimeoutMs: 10_000, namespaceDeletePollMs: 1_000 },
      {
        helm,
        apis: kube.apis(),
        now: () => clock,
        sleep: async (ms) => {
          slept.push(ms);
          clock += ms;
        },
        randomInt: () => 0,
      },
    );
  });

  describe('hostile names never reach Helm or the API', () => {
    const calls = (): number => kube.calls.length + helm.calls.length;

    it.each(HOSTILE_NAMES)('refuses %j in every method', async (name) => {
      const hostile = store(name);
      await expect(driver.ensureNamespace(hostile, DEFAULT_NAMESPACE_LIMITS)).rejects.toBeInstanceOf(PermanentDriverError);
      await expect(driver.apply(hostile, 'wordpress', release())).rejects.toBeInstanceOf(PermanentDriverError);
      await expect(driver.observe(hostile)).rejects.toBeInstanceOf(PermanentDriverError);
      await expect(driver.remove(hostile)).rejects.toBeInstanceOf(PermanentDriverError);
      await expect(driver.killPods(hostile, 1)).rejects.toBeInstanceOf(PermanentDriverError);
      expect(calls()).toBe(0);
    });

    it.each([
      ['a namespace that is not store-{name}', store('shop-one', { namespace: 'kube-system' })],
      ['a namespace with a path in it', store('shop-one', { namespace: 'store-../shop-one' })],
      ['a namespace of another store', store('shop-one', { namespace: 'store-shop-two' })],
    ])('refuses %s', async (_, ref) => {
      await expect(driver.ensureNamespace(ref, DEFAULT_NAMESPACE_LIMITS)).rejects.toThrow(/namespace .* refused/);
      await expect(driver.apply(ref, 'wordpress', release())).rejects.toThrow(/namespace .* refused/);
      await expect(driver.observe(ref)).rejects.toThrow(/namespace .* refused/);
      await expect(driver.remove(ref)).rejects.toThrow(/namespace .* refused/);
      expect(calls()).toBe(0);
    });

    it.each([
      ['a team id with a space', { teamId: 'team one' }],
      ['a store id with a slash', { storeId: 'a/b' }],
      ['an unknown template', { template: 'joomla' as never }],
    ])('refuses %s as a namespace label', async (_, overrides) => {
      await expect(driver.ensureNamespace(store('shop-one', overrides), DEFAULT_NAMESPACE_LIMITS)).rejects.toBeInstanceOf(PermanentDriverError);
      expect(calls()).toBe(0);
    });

    it.each([
      ['a template outside the list', () => driver.apply(store(), '../../etc' as never, release())],
      ['a template other than the store\'s', () => driver.apply(store(), 'medusa', release())],
      ['a host with a flag in it', () => driver.apply(store(), 'wordpress', release({ host: '--set=x' }))],
      ['a host with upper case', () => driver.apply(store(), 'wordpress', release({ host: 'Shop.example.com' }))],
      ['a version with a shell expansion', () => driver.apply(store(), 'wordpress', release({ revisions: [{ revision: 1, version: '$(id)', replicas: 1, weight: 100 }] }))],
      ['a version with a colon', () => driver.apply(store(), 'wordpress', release({ revisions: [{ revision: 1, version: '6.6:latest', replicas: 1, weight: 100 }] }))],
      ['weights not adding up to 100', () => driver.apply(store(), 'wordpress', release({ revisions: [{ revision: 1, version: '6.6', replicas: 1, weight: 90 }] }))],
      ['three revisions', () => driver.apply(store(), 'wordpress', release({ revisions: [1, 2, 3].map((revision) => ({ revision, version: '6.6', replicas: 1, weight: revision === 1 ? 100 : 0 })) }))],
      ['a revision listed twice', () => driver.apply(store(), 'wordpress', release({ revisions: [1, 1].map((revision) => ({ revision, version: '6.6', replicas: 1, weight: 50 })) }))],
      ['fractional replicas', () => driver.apply(store(), 'wordpress', release({ revisions: [{ revision: 1, version: '6.6', replicas: 1.5, weight: 100 }] }))],
      ['too many replicas', () => driver.apply(store(), 'wordpress', release({ revisions: [{ revision: 1, version: '6.6', replicas: 21, weight: 100 }] }))],
      ['a missing secret', () => driver.apply(store(), 'wordpress', release({ secrets: { ...SECRETS, authSalt: '' } }))],
      ['a secret with a quote', () => driver.apply(store(), 'wordpress', release({ secrets: { ...SECRETS, adminPassword: "abc'defghijklmnopq" } }))],
      ['a short secret', () => driver.apply(store(), 'wordpress', release({ secrets: { ...SECRETS, adminPassword: 'short' } }))],
    ])('apply refuses %s before Helm runs', async (_, call) => {
      await expect(call()).rejects.toBeInstanceOf(PermanentDriverError);
      expect(calls()).toBe(0);
    });

    it('says which secret is malformed without quoting it', async () => {
      const error = await driver.apply(store(), 'wordpress', release({ secrets: { ...SECRETS, adminPassword: 'bad password with spaces' } })).catch((e: unknown) => e);
      expect(String(error)).toContain('adminPassword');
      expect(String(error)).not.toContain('bad password');
    });
  });

  describe('ensureNamespace', () => {
    it('creates the labelled namespace, its quota, limit range and network policies', async () => {
      await driver.ensureNamespace(store(), DEFAULT_NAMESPACE_LIMITS);

      const namespace = kube.namespaces.get('store-shop-one');
      expect(namespace?.metadata?.labels).toEqual({
        'app.kubernetes.io/managed-by': 'flotilla',
        'flotilla.io/installation': 'flotilla',
        'flotilla.io/store': 'shop-one',
        'flotilla.io/store-id': '7d0e5a0c-4a8b-4c55-9a51-2d6f0b1c9e11',
        'flotilla.io/team': '3b8f7f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
        'flotilla.io/template': 'wordpress',
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/warn-version': 'latest',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/audit-version': 'latest',
      });
      expect(kube.objects.get('ResourceQuota/store-shop-one/store-quota')).toMatchObject({
        spec: {
          hard: {
            pods: '20',
            'requests.cpu': '2',
            'requests.memory': '4Gi',
            'limits.cpu': '4',
            'limits.memory': '8Gi',
            persistentvolumeclaims: '5',
            'requests.storage': '20Gi',
          },
        },
      });
      expect(kube.objects.get('LimitRange/store-shop-one/store-limits')).toMatchObject({
        spec: { limits: [{ type: 'Container', _default: { cpu: '500m', memory: '512Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } }] },
      });
      expect(kube.objects.get('NetworkPolicy/store-shop-one/default-deny')).toMatchObject({
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      });
      expect((kube.objects.get('NetworkPolicy/store-shop-one/default-deny') as { spec: object }).spec).not.toHaveProperty('ingress');
      expect(kube.objects.get('NetworkPolicy/store-shop-one/allow-ingress-controller')).toMatchObject({
        spec: {
          podSelector: { matchLabels: { 'app.kubernetes.io/component': 'app' } },
          ingress: [{ _from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }] }],
        },
      });
      expect(kube.objects.get('NetworkPolicy/store-shop-one/allow-dns')).toMatchObject({
        spec: { policyTypes: ['Egress'], egress: [{ ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }] }] },
      });
    });

    it('is idempotent: on 409 it reads and replaces at the current resourceVersion', async () => {
      await driver.ensureNamespace(store(), DEFAULT_NAMESPACE_LIMITS);
      kube.calls.length = 0;

      await driver.ensureNamespace(store(), { ...DEFAULT_NAMESPACE_LIMITS, pods: 30 });

      expect(kube.calls.map((call) => call.method)).toEqual([
        'createNamespace',
        'readNamespace',
        'createResourceQuota',
        'readResourceQuota',
        'replaceResourceQuota',
        'createLimitRange',
        'readLimitRange',
        'replaceLimitRange',
        ...['default-deny', 'allow-ingress-controller', 'allow-dns'].flatMap(() => ['createNetworkPolicy', 'readNetworkPolicy', 'replaceNetworkPolicy']),
      ]);
      expect(kube.objects.get('ResourceQuota/store-shop-one/store-quota')).toMatchObject({ spec: { hard: { pods: '30' } } });
      expect(kube.namespaces.size).toBe(1);
    });

    it('puts its labels back on an existing namespace of the store, keeping others', async () => {
      kube.namespaces.set('store-shop-one', {
        metadata: { name: 'store-shop-one', resourceVersion: '90', labels: { 'app.kubernetes.io/managed-by': 'flotilla', 'kubernetes.io/metadata.name': 'store-shop-one' } },
        status: { phase: 'Active' },
      });

      await driver.ensureNamespace(store(), DEFAULT_NAMESPACE_LIMITS);

      expect(kube.namespaces.get('store-shop-one')?.metadata?.labels).toMatchObject({
        'kubernetes.io/metadata.name': 'store-shop-one',
        'flotilla.io/store': 'shop-one',
        'flotilla.io/team': '3b8f7f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
      });
    });

    it('retries a replace that lost a race (409 on the update)', async () => {
      await driver.ensureNamespace(store(), DEFAULT_NAMESPACE_LIMITS);
      kube.failNext('replaceResourceQuota', apiFailure(409, 'the object has been modified'));

      await driver.ensureNamespace(store(), { ...DEFAULT_NAMESPACE_LIMITS, pods: 25 });

      expect(kube.calls.filter((call) => call.method === 'replaceResourceQuota')).toHaveLength(2);
      expect(kube.objects.get('ResourceQuota/store-shop-one/store-quota')).toMatchObject({ spec: { hard: { pods: '25' } } });
    });

    it('refuses a namespace of that name that flotilla does not manage', async () => {
      kube.namespaces.set('store-shop-one', { metadata: { name: 'store-shop-one', labels: {} } });
      await expect(driver.ensureNamespace(store(), DEFAULT_NAMESPACE_LIMITS)).rejects.toThrow(/not managed by flotilla/);
      expect(kube.calls.map((call) => call.method)).toEqual(['createNamespace', 'readNamespace']);
    });

    it("refuses another store's leftover namespace (its volumes would leak into this store)", async () => {
      kube.namespaces.set('store-shop-one', {
        metadata: { name: 'store-shop-one', labels: { 'app.kubernetes.io/managed-by': 'flotilla', 'flotilla.io/store-id': 'old-store' } },
      });
      const error = await driver.ensureNamespace(store(), DEFAULT_NAMESPACE_LIMITS).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PermanentDriverError);
      expect(String(error)).toMatch(/belongs to another store/);
    });

    it("refuses another installation's namespace of that name, and changes nothing in it", async () => {
      kube.namespaces.set('store-shop-one', {
        metadata: { name: 'store-shop-one', labels: { 'app.kubernetes.io/managed-by': 'flotilla', 'flotilla.io/installation': 'prod' } },
      });
      const error = await driver.ensureNamespace(store(), DEFAULT_NAMESPACE_LIMITS).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PermanentDriverError);
      expect(String(error)).toMatch(/belongs to installation prod/);
      expect(kube.calls.map((call) => call.method)).toEqual(['createNamespace', 'readNamespace']);
    });

    it('rejects (to be retried) while the namespace is still terminating', async () => {
      kube.namespaces.set('store-shop-one', {
        metadata: { name: 'store-shop-one', deletionTimestamp: new Date(), labels: { 'app.kubernetes.io/managed-by': 'flotilla' } },
        status: { phase: 'Terminating' },
      });
      const error = await driver.ensureNamespace(store(), DEFAULT_NAMESPACE_LIMITS).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(PermanentDriverError);
      expect(String(error)).toMatch(/terminating/);
    });

    it('refuses limits that are not quantities', async () => {
      await expect(driver.ensureNamespace(store(), { ...DEFAULT_NAMESPACE_LIMITS, requestsCpu: '2 cores' })).rejects.toThrow(/requestsCpu/);
      await expect(driver.ensureNamespace(store(), { ...DEFAULT_NAMESPACE_LIMITS, pods: -1 })).rejects.toThrow(/pods/);
      expect(kube.calls).toHaveLength(0);
    });

    it('maps 403 to PermanentDriverError and 500 to a plain error with the server message', async () => {
      kube.failNext('createNamespace', apiFailure(403, 'namespaces is forbidden: User "system:serviceaccount:flotilla:provisioner" cannot create resource'));
      const forbidden = await driver.ensureNamespace(store(), DEFAULT_NAMESPACE_LIMITS).catch((e: unknown) => e);
      expect(forbidden).toBeInstanceOf(PermanentDriverError);
      expect(String(forbidden)).toContain('create namespace store-shop-one failed (HTTP 403): namespaces is forbidden');

      kube.failNext('createNamespace', apiFailure(500, 'etcdserver: request timed out'));
      const flaky = await driver.ensureNamespace(store(), DEFAULT_NAMESPACE_LIMITS).catch((e: unknown) => e);
      expect(flaky).not.toBeInstanceOf(PermanentDriverError);
      expect(String(flaky)).toContain('(HTTP 500): etcdserver: request timed out');
    });
  });

  describe('apply', () => {
    it('runs helm upgrade --install with exactly these arguments', async () => {
      await driver.apply(store(), 'wordpress', release());

      expect(helm.calls).toHaveLength(1);
      expect(helm.calls[0].args).toEqual([
        'upgrade',
        '--install',
        'shop-one',
        '/srv/charts/wordpress',
        '--namespace',
        'store-shop-one',
        '--wait',
        '--timeout',
        '300s',
        '--atomic=false',
        '--values',
        '-',
      ]);
      expect(helm.calls[0].options.timeoutMs).toBe(330_000);
    });

    it('passes the kubeconfig to Helm when the driver has one', async () => {
      const withConfig = new KubernetesDriver({ ...OPTIONS, kubeconfigPath: '/etc/flotilla/kubeconfig' }, { helm, apis: kube.apis() });
      await withConfig.apply(store(), 'wordpress', release());
      expect(helm.calls[0].args.slice(-2)).toEqual(['--kubeconfig', '/etc/flotilla/kubeconfig']);
    });

    it('sends the values, secrets included, on stdin and never in the arguments', async () => {
      await driver.apply(
        store(),
        'wordpress',
        release({
          secrets: { ...SECRETS, unrelated: 'not-for-this-chart-0000' },
          revisions: [
            { revision: 2, version: '6.6.1', replicas: 1, weight: 10 },
            { revision: 1, version: '6.6', replicas: 2, weight: 90 },
          ],
        }),
      );
      const [{ args, options }] = helm.calls;
      const values = JSON.parse(options.stdin ?? '');
      expect(values).toEqual({
        installation: 'flotilla',
        host: 'shop-one.stores.example.com',
        ingress: { className: 'nginx' },
        secrets: SECRETS,
        revisions: [
          { revision: 1, version: '6.6', replicas: 2, weight: 90 },
          { revision: 2, version: '6.6.1', replicas: 1, weight: 10 },
        ],
        networkPolicy: { ingressNamespace: 'ingress-nginx' },
      });
      for (const secret of Object.values(SECRETS)) {
        expect(args.join(' ')).not.toContain(secret);
        expect(options.redact).toContain(secret);
      }
      expect(args).not.toContain('--set');
    });

    it('puts operator chart values under the release and the storage class beside it', async () => {
      const custom = new KubernetesDriver(
        {
          ...OPTIONS,
          storageClassName: 'fast-ssd',
          ingressNamespace: 'traefik',
          chartValues: { wordpress: { database: { persistence: { size: '4Gi' } }, host: 'ignored.example.com' } },
        },
        { helm, apis: kube.apis() },
      );
      await custom.apply(store(), 'wordpress', release());
      const values = JSON.parse(helm.calls[0].options.stdin ?? '');
      expect(values).toMatchObject({
        host: 'shop-one.stores.example.com',
        storageClassName: 'fast-ssd',
        database: { persistence: { size: '4Gi' } },
        networkPolicy: { ingressNamespace: 'traefik' },
      });
    });

    it('passes Helm refusals through as PermanentDriverError', async () => {
      helm.respond = () => {
        throw new PermanentDriverError('helm upgrade failed (exit 1): Error: UPGRADE FAILED: persistentvolumeclaims "data" is forbidden: exceeded quota: store-quota');
      };
      await expect(driver.apply(store(), 'wordpress', release())).rejects.toBeInstanceOf(PermanentDriverError);
    });

    it('explains a wait timeout caused by a full quota as PermanentDriverError', async () => {
      helm.respond = () => {
        throw new HelmCommandError('helm upgrade failed (exit 1): Error: UPGRADE FAILED: timed out waiting for the condition', 'upgrade', 1, 'Error: UPGRADE FAILED: timed out waiting for the condition');
      };
      kube.deployments = [
        deployment(2, '6.7', 3, 100, {
          conditions: [
            {
              type: 'ReplicaFailure',
              status: 'True',
              reason: 'FailedCreate',
              message: 'pods "shop-one-r2-7c9d-x" is forbidden: exceeded quota: store-quota, requested: limits.cpu=500m, used: limits.cpu=4, limited: limits.cpu=4',
            },
          ],
        }),
      ];
      const error = await driver.apply(store(), 'wordpress', release()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PermanentDriverError);
      expect(String(error)).toContain('shop-one-r2 cannot create its pods: pods "shop-one-r2-7c9d-x" is forbidden: exceeded quota');
    });

    it('resolves on a plain wait timeout: the release is applied, and readiness is judged through observe', async () => {
      helm.respond = () => {
        throw new HelmCommandError('helm upgrade failed (exit 1)', 'upgrade', 1, 'Error: UPGRADE FAILED: timed out waiting for the condition');
      };
      kube.deployments = [deployment(1, '6.6', 2, 100)];
      await expect(driver.apply(store(), 'wordpress', release())).resolves.toBeUndefined();
    });

    it('throws other Helm failures to be retried', async () => {
      helm.respond = () => {
        throw new HelmCommandError('helm upgrade failed (exit 1)', 'upgrade', 1, 'Error: Kubernetes cluster unreachable: connection refused');
      };
      const error = await driver.apply(store(), 'wordpress', release()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HelmCommandError);
    });

    it('unlocks a release a dead Helm left pending, then upgrades', async () => {
      let upgrades = 0;
      helm.respond = (args) => {
        if (args[0] === 'upgrade' && ++upgrades === 1) {
          throw new HelmCommandError('locked', 'upgrade', 1, 'Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress');
        }
        if (args[0] === 'history') {
          return { stdout: JSON.stringify([{ revision: 4, updated: new Date(clock - 600_000).toISOString(), status: 'pending-upgrade' }]), stderr: '' };
        }
        return { stdout: '', stderr: '' };
      };
      await driver.apply(store(), 'wordpress', release());
      expect(helm.calls.map((call) => call.args.slice(0, 2))).toEqual([
        ['upgrade', '--install'],
        ['history', 'shop-one'],
        ['rollback', 'shop-one'],
        ['upgrade', '--install'],
      ]);
    });

    it('uninstalls a release that never finished installing before trying again', async () => {
      let upgrades = 0;
      helm.respond = (args) => {
        if (args[0] === 'upgrade' && ++upgrades === 1) throw new HelmCommandError('locked', 'upgrade', 1, 'Error: another operation (install/upgrade/rollback) is in progress');
        if (args[0] === 'history') return { stdout: JSON.stringify([{ revision: 1, updated: new Date(clock - 3_600_000).toISOString(), status: 'pending-install' }]), stderr: '' };
        return { stdout: '', stderr: '' };
      };
      await driver.apply(store(), 'wordpress', release());
      expect(helm.calls.map((call) => call.args[0])).toEqual(['upgrade', 'history', 'uninstall', 'upgrade']);
    });

    it('leaves a release locked by a Helm that may still be running', async () => {
      helm.respond = (args) => {
        if (args[0] === 'upgrade') throw new HelmCommandError('locked', 'upgrade', 1, 'Error: another operation (install/upgrade/rollback) is in progress');
        return { stdout: JSON.stringify([{ revision: 4, updated: new Date(clock - 10_000).toISOString(), status: 'pending-upgrade' }]), stderr: '' };
      };
      await expect(driver.apply(store(), 'wordpress', release())).rejects.toBeInstanceOf(HelmCommandError);
      expect(helm.calls.map((call) => call.args[0])).toEqual(['upgrade', 'history']);
    });
  });

  describe('observe', () => {
    it('reports a missing namespace without listing anything', async () => {
      expect(await driver.observe(store())).toEqual({ namespaceExists: false, revisions: [], pods: [] });
      expect(kube.calls.map((call) => call.method)).toEqual(['readNamespace']);
    });

    it("maps the app's pods and Deployments, selected by store and component", async () => {
      await driver.ensureNamespace(store(), DEFAULT_NAMESPACE_LIMITS);
      kube.deployments = [deployment(2, '6.6.1', 1, 10), deployment(1, '6.6', 2, 90)];
      kube.pods = [
        pod('shop-one-r1-5d8f7b9c6-abcde', 1, {
          phase: 'Running',
          startTime: new Date('2030-01-01T10:00:00Z'),
          conditions: [
            { type: 'PodScheduled', status: 'True' },
            { type: 'Ready', status: 'True' },
          ],
          containerStatuses: [container(2), container(1)],
          initContainerStatuses: [container(1)],
        }),
        pod('shop-one-r2-6f9a8c7d5-fghij', 2, {
          phase: 'Running',
          startTime: new Date('2030-01-01T10:05:00Z'),
          conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
          containerStatuses: [container(0)],
        }),
        pod('shop-one-r1-5d8f7b9c6-zzzzz', 1, { phase: 'Pending' }),
        pod('shop-one-r1-5d8f7b9c6-klmno', 1, { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }, { deletionTimestamp: new Date() }),
        pod('shop-one-r1-5d8f7b9c6-weird', 1, { phase: 'Evicted' }),
        pod('shop-one-mariadb-0', undefined, { phase: 'Running' }),
      ];

      const observed = await driver.observe(store());

      expect(observed.namespaceExists).toBe(true);
      expect(observed.revisions).toEqual([
        { revision: 1, version: '6.6', replicas: 2, weight: 90 },
        { revision: 2, version: '6.6.1', replicas: 1, weight: 10 },
      ]);
      expect(observed.pods).toEqual([
        { name: 'shop-one-r1-5d8f7b9c6-abcde', phase: 'Running', ready: true, restarts: 4, revision: 1, startedAt: '2030-01-01T10:00:00.000Z' },
        { name: 'shop-one-r1-5d8f7b9c6-klmno', phase: 'Running', ready: false, restarts: 0, revision: 1, startedAt: null },
        { name: 'shop-one-r1-5d8f7b9c6-weird', phase: 'Unknown', ready: false, restarts: 0, revision: 1, startedAt: null },
        { name: 'shop-one-r1-5d8f7b9c6-zzzzz', phase: 'Pending', ready: false, restarts: 0, revision: 1, startedAt: null },
        { name: 'shop-one-r2-6f9a8c7d5-fghij', phase: 'Running', ready: false, restarts: 0, revision: 2, startedAt: '2030-01-01T10:05:00.000Z' },
      ]);
      const selector = 'flotilla.io/store=shop-one,app.kubernetes.io/component=app';
      expect(kube.calls.find((call) => call.method === 'listNamespacedPod')?.param).toEqual({ namespace: 'store-shop-one', labelSelector: selector });
      expect(kube.calls.find((call) => call.method === 'listNamespacedDeployment')?.param).toEqual({ namespace: 'store-shop-one', labelSelector: selector });
      expect(helm.calls).toHaveLength(0);
    });
  });

  describe('remove', () => {
    it('uninstalls, deletes the namespace and waits until it is gone', async () => {
      await driver.ensureNamespace(store(), DEFAULT_NAMESPACE_LIMITS);
      let reads = 0;
      const apis = kube.apis();
      const readNamespace = apis.core.readNamespace;
      apis.core.readNamespace = async (param) => {
        if (++reads === 3) kube.namespaces.delete('store-shop-one');
        return readNamespace(param);
      };
      const waiting = new KubernetesDriver({ ...OPTIONS }, { helm, apis, sleep: async (ms) => void slept.push(ms) });

      await waiting.remove(store());

      expect(helm.calls.map((call) => call.args)).toEqual([['uninstall', 'shop-one', '--namespace', 'store-shop-one', '--wait', '--timeout', '300s']]);
      expect(kube.calls.find((call) => call.method === 'deleteNamespace')?.param).toEqual({ name: 'store-shop-one', propagationPolicy: 'Foreground' });
      expect(reads).toBe(3);
      expect(slept).toEqual([1_000, 1_000]);
    });

    it('tolerates a release and a namespace that are already gone', async () => {
      helm.respond = () => {
        throw new HelmCommandError('helm uninstall failed (exit 1)', 'uninstall', 1, 'Error: uninstall: Release not loaded: shop-one: release: not found');
      };
      await driver.remove(store());
      await driver.remove(store());
      expect(kube.calls.filter((call) => call.method === 'deleteNamespace')).toHaveLength(2);
    });

    it('tolerates a namespace that is already terminating (409)', async () => {
      await driver.ensureNamespace(store(), DEFAULT_NAMESPACE_LIMITS);
      kube.failNext('deleteNamespace', apiFailure(409, 'Operation cannot be fulfilled on namespaces "store-shop-one": The system is ensuring all content is removed from this namespace.'));
      kube.failNext('readNamespace', apiFailure(404, 'namespaces "store-shop-one" not found'));
      await expect(driver.remove(store())).resolves.toBeUndefined();
    });

    it('rejects, to be retried, when the namespace outlives the bound', async () => {
      await driver.ensureNamespace(store(), DEFAULT_NAMESPACE_LIMITS);
      const error = await driver.remove(store()).catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(PermanentDriverError);
      expect(String(error)).toMatch(/store-shop-one is still terminating after 10000 ms/);
      expect(slept).toHaveLength(10);
    });

    it('does not delete the namespace when Helm fails for another reason', async () => {
      helm.respond = () => {
        throw new HelmCommandError('helm uninstall failed (exit 1)', 'uninstall', 1, 'Error: Kubernetes cluster unreachable');
      };
      await expect(driver.remove(store())).rejects.toBeInstanceOf(HelmCommandError);
      expect(kube.calls).toHaveLength(0);
    });
  });

  describe('killPods', () => {
    it('deletes up to count running app pods at random and names them', async () => {
      kube.pods = [pod('p-a', 1, { phase: 'Running' }), pod('p-b', 1, { phase: 'Running' }), pod('p-c', 2, { phase: 'Running' }), pod('p-gone', 1, {}, { deletionTimestamp: new Date() })];
      const killed = await driver.killPods(store(), 2);
      // randomInt always 0: Fisher-Yates over [a, b, c] gives [b, c, a].
      expect(killed).toEqual(['p-b', 'p-c']);
      expect(kube.pods.map((p) => p.metadata?.name)).toEqual(['p-a', 'p-gone']);
      expect(await driver.killPods(store(), 10)).toEqual(['p-a']);
    });

    it('refuses a count that is not a whole number', async () => {
      await expect(driver.killPods(store(), -1)).rejects.toBeInstanceOf(PermanentDriverError);
      await expect(driver.killPods(store(), 1.5)).rejects.toBeInstanceOf(PermanentDriverError);
      expect(kube.calls).toHaveLength(0);
    });
  });

  describe('listStoreNamespaces, check, close', () => {
    it('lists the namespaces labelled managed-by=flotilla and with its installation id', async () => {
      await driver.ensureNamespace(store('shop-b'), DEFAULT_NAMESPACE_LIMITS);
      await driver.ensureNamespace(store('shop-a'), DEFAULT_NAMESPACE_LIMITS);
      kube.namespaces.set('default', { metadata: { name: 'default', labels: {} } });
      kube.calls.length = 0;

      // A namespace of another installation is never listed.
      kube.namespaces.set('store-shop-c', { metadata: { name: 'store-shop-c', labels: { 'app.kubernetes.io/managed-by': 'flotilla', 'flotilla.io/installation': 'other' } } });

      expect((await driver.listStoreNamespaces()).map((ns) => ns.name)).toEqual(['store-shop-a', 'store-shop-b']);
      expect(kube.calls[0].param).toMatchObject({ labelSelector: 'app.kubernetes.io/managed-by=flotilla,flotilla.io/installation=flotilla' });
    });

    it('checks the version endpoint and a one-item namespace list', async () => {
      await driver.check();
      expect(kube.calls).toEqual([
        { method: 'getCode', param: {} },
        { method: 'listNamespace', param: { limit: 1 } },
      ]);
      kube.failNext('getCode', Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:6443'), { code: 'ECONNREFUSED' }));
      await expect(driver.check()).rejects.toThrow('reach the Kubernetes API failed: connect ECONNREFUSED 10.0.0.1:6443');
    });

    it('refuses calls once closed', async () => {
      await driver.close();
      await expect(driver.check()).rejects.toThrow(/closed/);
      await expect(driver.apply(store(), 'wordpress', release())).rejects.toThrow(/closed/);
      expect(helm.calls).toHaveLength(0);
    });
  });
});

function pod(name: string, revision: number | undefined, status: V1Pod['status'], metadata: V1Pod['metadata'] = {}): V1Pod {
  const labels: Record<string, string> = {
    'app.kubernetes.io/name': 'wordpress',
    'app.kubernetes.io/instance': 'shop-one',
    'flotilla.io/store': 'shop-one',
    'app.kubernetes.io/component': revision === undefined ? 'database' : 'app',
  };
  if (revision !== undefined) labels['flotilla.io/revision'] = String(revision);
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'store-shop-one', labels, ...metadata }, status };
}

function container(restartCount: number): NonNullable<NonNullable<V1Pod['status']>['containerStatuses']>[number] {
  return { name: 'c', image: 'wordpress:6.6', imageID: '', ready: restartCount === 0, restartCount };
}

function deployment(revision: number, version: string, replicas: number, weight: number, status: V1Deployment['status'] = {}): V1Deployment {
  return {
    metadata: {
      name: `shop-one-r${revision}`,
      labels: { 'flotilla.io/store': 'shop-one', 'app.kubernetes.io/component': 'app', 'flotilla.io/revision': String(revision) },
      annotations: { 'flotilla.io/version': version, 'flotilla.io/weight': String(weight) },
    },
    spec: {
      replicas,
      selector: {},
      template: { spec: { containers: [{ name: 'wordpress', image: `wordpress:${version}` }] } },
    },
    status,
  };
}
