import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PermanentDriverError, type ReleaseSpec, type StoreRef } from '../cluster-driver.js';
import { createKubernetesDriver } from './create-kubernetes-driver.js';
import { ExecHelmRunner, HelmCommandError, helmPath, type HelmRunOptions, type HelmRunner } from './helm.js';
import { FakeHelm, FakeKubernetes } from './testing/fakes.js';

const store: StoreRef = { storeId: 's-1', name: 'shop-one', namespace: 'store-shop-one', teamId: 't-1', template: 'wordpress' };
const release: ReleaseSpec = {
  host: 'shop-one.stores.example.com',
  secrets: {
    databaseRootPassword: 'dbroot-4e8Qz0Lk2Vb7Nc1X',
    databasePassword: 'dbuser-7Hf3Kp9Wq2Zs5Tm8',
    adminPassword: 'admin-1Jg6Rt8Yu3Io5Pa2',
    authSalt: 'salt-9Ks4Ld7Fg2Hj6Qw1Ez3',
  },
  revisions: [{ revision: 1, version: '6.6', replicas: 1, weight: 100 }],
};

let dir: string;
let kubeconfig: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flotilla-driver-'));
  kubeconfig = join(dir, 'kubeconfig');
  // A cluster nobody serves: Helm must get as far as dialling it.
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'nowhere', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'nowhere', context: { cluster: 'nowhere', user: 'u' } }],
      'current-context': 'nowhere',
    }),
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('createKubernetesDriver', () => {
  it("uses the repository's charts and pinned Helm, and the environment's settings", async () => {
    const helm = new FakeHelm();
    const kube = new FakeKubernetes();
    const driver = createKubernetesDriver(
      { KUBECONFIG: '/etc/flotilla/kubeconfig', INGRESS_CLASS_NAME: 'traefik', ROLLOUT_DEADLINE_SECONDS: 120, STORAGE_CLASS_NAME: 'local-path' },
      { helm, apis: kube.apis() },
    );

    await driver.apply(store, 'wordpress', release);

    const [{ args, options }] = helm.calls;
    expect(existsSync(join(args[3], 'Chart.yaml'))).toBe(true);
    expect(args[3]).toMatch(/deploy\/store-charts\/wordpress$/);
    expect(args.slice(7, 9)).toEqual(['--timeout', '120s']);
    expect(args.slice(-2)).toEqual(['--kubeconfig', '/etc/flotilla/kubeconfig']);
    expect(JSON.parse(options.stdin ?? '')).toMatchObject({ ingress: { className: 'traefik' }, storageClassName: 'local-path' });
  });

  it('takes the charts directory and Helm from the environment when set', async () => {
    const helm = new FakeHelm();
    const driver = createKubernetesDriver(
      { KUBECONFIG: '', INGRESS_CLASS_NAME: 'nginx', ROLLOUT_DEADLINE_SECONDS: 60, STORE_CHARTS_DIR: '/opt/charts', HELM_PATH: '/opt/helm' },
      { helm, apis: new FakeKubernetes().apis() },
    );
    await driver.apply(store, 'wordpress', release);
    expect(helm.calls[0].args[3]).toBe('/opt/charts/wordpress');
    expect(helm.calls[0].args).not.toContain('--kubeconfig');
  });
});

describe('the real Helm 3.10.1 with the arguments the driver builds', () => {
  /** The real binary, with a timeout that leaves Helm time to give up dialling. */
  class RealHelm implements HelmRunner {
    private readonly real = new ExecHelmRunner(helmPath());
    run(args: readonly string[], options: HelmRunOptions) {
      return this.real.run(args, { ...options, timeoutMs: 20_000 });
    }
  }

  const driver = (helm: HelmRunner) =>
    createKubernetesDriver({ KUBECONFIG: kubeconfig, INGRESS_CLASS_NAME: 'nginx', ROLLOUT_DEADLINE_SECONDS: 5 }, { helm, apis: new FakeKubernetes().apis() });

  it('accepts the upgrade flags and the values on stdin, failing only on the unreachable cluster, secrets redacted', async () => {
    const helm = new RealHelm();
    const error = await driver(helm).apply(store, 'wordpress', release).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(HelmCommandError);
    expect(error).not.toBeInstanceOf(PermanentDriverError);
    const stderr = (error as HelmCommandError).stderr;
    expect(stderr).toMatch(/Kubernetes cluster unreachable|connection refused/);
    expect(stderr).not.toMatch(/unknown flag|invalid argument|requires/i);
    for (const secret of Object.values(release.secrets)) expect(String(error)).not.toContain(secret);
  });

  it('accepts the uninstall flags (and does not delete the namespace when the cluster is unreachable)', async () => {
    const helm = new RealHelm();
    const kube = new FakeKubernetes();
    const remover = createKubernetesDriver({ KUBECONFIG: kubeconfig, INGRESS_CLASS_NAME: 'nginx', ROLLOUT_DEADLINE_SECONDS: 5 }, { helm, apis: kube.apis() });
    const error = await remover.remove(store).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HelmCommandError);
    expect((error as HelmCommandError).stderr).toMatch(/Kubernetes cluster unreachable|connection refused/);
    expect(kube.calls).toHaveLength(0);
  });

  it.each([
    ['history', ['history', 'shop-one', '--namespace', 'store-shop-one', '--max', '1', '--output', 'json']],
    ['rollback', ['rollback', 'shop-one', '--namespace', 'store-shop-one', '--wait', '--timeout', '5s']],
    ['uninstall', ['uninstall', 'shop-one', '--namespace', 'store-shop-one', '--wait', '--timeout', '5s']],
  ])('accepts the %s flags used to undo a stale lock', async (_, args) => {
    const error = await new ExecHelmRunner(helmPath()).run([...args, '--kubeconfig', kubeconfig], { timeoutMs: 20_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HelmCommandError);
    expect((error as HelmCommandError).stderr).toMatch(/Kubernetes cluster unreachable|connection refused/);
  });
});
