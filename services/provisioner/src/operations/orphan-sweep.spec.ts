import { describe, expect, it } from '@jest/globals';
import { MetricsService } from '@flotilla/observability';
import { DEFAULT_NAMESPACE_LIMITS, type ClusterDriver, type StoreRef } from '../drivers/cluster-driver.js';
import { KubernetesDriver } from '../drivers/kubernetes/kubernetes-driver.js';
import { FakeHelm, FakeKubernetes } from '../drivers/kubernetes/testing/fakes.js';
import { ManualScheduler } from '../drivers/simulated/scheduler.js';
import { SimulatedCluster } from '../drivers/simulated/simulated-cluster.js';
import { SimulatedDriver } from '../drivers/simulated/simulated-driver.js';
import type { ProvisionerEnv } from '../provisioner.env.js';
import type { StoreRepository, StoreRow } from '../stores/store-repository.js';
import type { StoreHealthRepository } from '../stores/store-health-repository.js';
import type { StoreLock } from './store-lock.js';
import { StoreOperations } from './store-operations.js';

const TEAM = '7d4f0f4e-1a51-4d59-b0b4-6d5f8a1c0001';
const PASS_MS = 15_000;

/** One installation's database: rows by id, and hooks to act just before and just after the sweep reads them. */
class MemoryStores {
  readonly rows = new Map<string, StoreRow>();
  beforeRead: (() => Promise<void>) | undefined;
  afterRead: (() => Promise<void>) | undefined;

  add(id: string, name: string, namespace: string): StoreRow {
    const row = { id, name, namespace, team_id: TEAM, template: 'wordpress', status: 'ready', stable_revision: null } as unknown as StoreRow;
    this.rows.set(id, row);
    return row;
  }

  repo(): StoreRepository {
    return {
      all: async () => [...this.rows.values()],
      namespaces: async () => {
        const before = this.beforeRead;
        this.beforeRead = undefined;
        await before?.();
        const rows = [...this.rows.values()];
        const hook = this.afterRead;
        this.afterRead = undefined;
        await hook?.();
        return rows.map(({ id, namespace }) => ({ id, namespace }));
      },
      find: async (id: string) => this.rows.get(id),
      countByStatus: async () => ({}),
      log: async () => undefined,
    } as unknown as StoreRepository;
  }
}

const freeLock = { withLock: (_id: string, work: (signal: AbortSignal) => Promise<unknown>) => work(new AbortController().signal) } as unknown as StoreLock;

const noHealth = { checked: async () => undefined, transition: async () => true } as unknown as StoreHealthRepository;

function operations(driver: ClusterDriver, stores: MemoryStores, installation: string, now: () => number): StoreOperations {
  const env = {
    INSTALLATION_ID: installation,
    STORE_NAMESPACE_PREFIX: `store-${installation}`,
    RECONCILE_INTERVAL_MS: PASS_MS,
    ORPHAN_NAMESPACE_GRACE_MS: 2 * PASS_MS,
    STORE_SECRETS_KEY: 'a-test-key-of-at-least-thirty-two-characters',
    BASE_DOMAIN: 'stores.test',
  } as unknown as ProvisionerEnv;
  const ops = new StoreOperations(stores.repo(), freeLock, driver, env, new MetricsService(), noHealth);
  (ops as unknown as { now: () => number }).now = now;
  return ops;
}

const ref = (id: string, name: string, namespace: string): StoreRef => ({ storeId: id, name, namespace, teamId: TEAM, template: 'wordpress' });
const uuid = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

interface Installation {
  id: string;
  driver: ClusterDriver;
  stores: MemoryStores;
  ops: StoreOperations;
}

/**
 * Two installations (dev and prod) on one cluster, ten reconcile passes each. Each has
 * two live stores with the same names as the other's; a store of the other installation
 * appears in the middle of every pass.
 */
async function twoInstallations(driverFor: (installation: string) => ClusterDriver, names: () => Promise<string[]>, advance: (ms: number) => void, now: () => number): Promise<void> {
  const installations: Installation[] = ['dev', 'prod'].map((id) => {
    const stores = new MemoryStores();
    const driver = driverFor(id);
    return { id, driver, stores, ops: operations(driver, stores, id, now) };
  });
  let n = 0;
  const create = async (inst: Installation, name: string): Promise<string> => {
    const id = uuid(++n);
    const namespace = `store-${inst.id}-${name}`;
    inst.stores.add(id, name, namespace);
    await inst.driver.ensureNamespace(ref(id, name, namespace), DEFAULT_NAMESPACE_LIMITS);
    return namespace;
  };
  const expected: string[] = [];
  for (const inst of installations) for (const name of ['shop', 'blog']) expected.push(await create(inst, name));
  advance(10 * PASS_MS);
  for (let pass = 0; pass < 10; pass++) {
    for (const [i, inst] of installations.entries()) {
      const other = installations[1 - i];
      // Stores of this installation requested between the namespace listing and the row
      // read, and just after the rows were read; one of the other installation each time.
      inst.stores.beforeRead = async () => {
        expected.push(await create(inst, `early-${pass}`));
        expected.push(await create(other, `cross-early-${pass}-${i}`));
      };
      inst.stores.afterRead = async () => {
        expected.push(await create(inst, `mid-${pass}`));
        expected.push(await create(other, `cross-${pass}-${i}`));
      };
      await inst.ops.reconcile(async () => undefined);
      advance(PASS_MS / 2);
    }
    expect((await names()).filter((name) => expected.includes(name)).sort()).toEqual([...expected].sort());
  }
  expect(expected).toHaveLength(4 + 10 * 8);
}

describe('orphan sweep: two installations on one cluster', () => {
  it('kubernetes driver: over ten passes neither deletes the other installation\'s namespaces, nor a store created mid-pass', async () => {
    const kube = new FakeKubernetes();
    let clock = Date.parse('2026-01-01T00:00:00Z');
    kube.clock = () => new Date(clock);
    kube.terminationReads = 1;
    const helm = new FakeHelm();
    const driverFor = (installation: string): ClusterDriver =>
      new KubernetesDriver(
        { chartsDir: '/charts', helmPath: 'helm', helmTimeoutSeconds: 60, ingressClassName: 'nginx', installationId: installation, namespacePrefix: `store-${installation}` } as never,
        { helm, apis: kube.apis(), now: () => clock, sleep: async () => undefined },
      );
    await twoInstallations(driverFor, async () => [...kube.namespaces.values()].filter((ns) => !ns.metadata?.deletionTimestamp).map((ns) => ns.metadata?.name as string), (ms) => (clock += ms), () => clock);
    expect(kube.calls.filter((c) => c.method === 'deleteNamespace')).toEqual([]);
  });

  it('simulated driver: two provisioners sharing one simulated cluster leave each other\'s namespaces alone', async () => {
    const scheduler = new ManualScheduler();
    const cluster = new SimulatedCluster({ podStartMs: 10, podReadyMs: 10, namespaceTerminationMs: 10, scheduler });
    const driverFor = (installation: string): ClusterDriver => new SimulatedDriver({}, { cluster, installationId: installation, namespacePrefix: `store-${installation}` } as never);
    try {
      const names = async (): Promise<string[]> => cluster.namespaceNames().filter((name) => cluster.namespace(name)?.phase !== 'Terminating');
      await twoInstallations(driverFor, names, (ms) => scheduler.advance(ms), () => scheduler.now());
    } finally {
      cluster.close();
    }
  });

  it('removes only its own namespaces without a store, once older than the grace, and never the other installation\'s', async () => {
    const kube = new FakeKubernetes();
    kube.terminationReads = 1;
    let clock = Date.parse('2026-01-01T00:00:00Z');
    kube.clock = () => new Date(clock);
    const driverFor = (installation: string, prefix = `store-${installation}`): ClusterDriver =>
      new KubernetesDriver(
        { chartsDir: '/charts', helmPath: 'helm', helmTimeoutSeconds: 60, ingressClassName: 'nginx', installationId: installation, namespacePrefix: prefix } as never,
        { helm: new FakeHelm(), apis: kube.apis(), now: () => clock, sleep: async () => undefined },
      );
    const dev = { driver: driverFor('dev'), stores: new MemoryStores() };
    const prod = { driver: driverFor('prod'), stores: new MemoryStores() };
    const devOps = operations(dev.driver, dev.stores, 'dev', () => clock);
    // Dev's deleted store (no row), prod's store that dev has no row for either, and dev's live one.
    await dev.driver.ensureNamespace(ref(uuid(1), 'gone', 'store-dev-gone'), DEFAULT_NAMESPACE_LIMITS);
    await prod.driver.ensureNamespace(ref(uuid(2), 'gone', 'store-prod-gone'), DEFAULT_NAMESPACE_LIMITS);
    // A staging installation misconfigured with dev's prefix: its namespace looks like dev's, but is not.
    await driverFor('staging', 'store-dev').ensureNamespace(ref(uuid(4), 'alike', 'store-dev-alike'), DEFAULT_NAMESPACE_LIMITS);
    dev.stores.add(uuid(3), 'live', 'store-dev-live');
    await dev.driver.ensureNamespace(ref(uuid(3), 'live', 'store-dev-live'), DEFAULT_NAMESPACE_LIMITS);
    const present = (): string[] => [...kube.namespaces.keys()].sort();

    clock += PASS_MS; // younger than the grace (two passes here): kept
    await devOps.reconcile(async () => undefined);
    expect(present()).toEqual(['store-dev-alike', 'store-dev-gone', 'store-dev-live', 'store-prod-gone']);

    clock += 2 * PASS_MS;
    await devOps.reconcile(async () => undefined);
    expect(present()).toEqual(['store-dev-alike', 'store-dev-live', 'store-prod-gone']);
    expect(kube.calls.filter((c) => c.method === 'deleteNamespace').map((c) => c.param.name)).toEqual(['store-dev-gone']);
  });
});
