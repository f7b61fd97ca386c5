import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PermanentDriverError, type ReleaseSpec, type StoreRef } from '../cluster-driver.js';
import { KubernetesDriver } from './kubernetes-driver.js';
import { FakeKubernetes } from './testing/fakes.js';
import { ExecHelmRunner, HelmCommandError, helmPath, isHelmWaitTimeout, isPermanentHelmFailure, isReleaseLocked, isReleaseNotFound } from './helm.js';

let dir: string;

/** An executable standing in for Helm: `body` runs under this Node with the arguments in `process.argv.slice(2)`. */
function fakeBinary(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!${process.execPath}\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flotilla-helm-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('helmPath', () => {
  it('finds the pinned binary of the repository, Helm 3.10.1', async () => {
    const path = helmPath({});
    expect(path).toMatch(/node_modules\/\.bin\/helm$/);
    const { stdout } = await new ExecHelmRunner(path).run(['version', '--short'], { timeoutMs: 10_000 });
    expect(stdout).toMatch(/^v3\.10\.1\+/);
  });

  it('prefers HELM_PATH', () => {
    expect(helmPath({ HELM_PATH: '/opt/helm/bin/helm' })).toBe('/opt/helm/bin/helm');
  });

  it('says what to do when there is no binary', () => {
    const outside = mkdtempSync(join(tmpdir(), 'flotilla-nohelm-'));
    try {
      expect(() => helmPath({}, outside, outside)).toThrow(/HELM_PATH/);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe('ExecHelmRunner', () => {
  it('feeds the real Helm its values on stdin (--values -)', async () => {
    const chart = join(dir, 'chart');
    mkdirSync(join(chart, 'templates'), { recursive: true });
    writeFileSync(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: probe\nversion: 0.1.0\n');
    writeFileSync(join(chart, 'templates', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\ndata:\n  password: {{ .Values.secrets.password | quote }}\n');

    const { stdout } = await new ExecHelmRunner(helmPath()).run(['template', 'probe', chart, '--values', '-'], {
      stdin: JSON.stringify({ secrets: { password: 'from-stdin-0123456789' } }),
      timeoutMs: 10_000,
    });

    expect(stdout).toContain('password: "from-stdin-0123456789"');
  });

  it('passes every argument as is, with no shell to interpret it', async () => {
    const echo = fakeBinary('echo-args', `let input = ''; process.stdin.on('data', (c) => (input += c)).on('end', () => console.log(JSON.stringify({ args: process.argv.slice(2), input })));`);
    const args = ['upgrade', '$(id)', 'a;rm -rf /', '`id`', '*', '"quoted"', '--set', 'x=1 y=2', ''];

    const { stdout } = await new ExecHelmRunner(echo).run(args, { stdin: '{"a":1}', timeoutMs: 10_000 });

    expect(JSON.parse(stdout)).toEqual({ args, input: '{"a":1}' });
  });

  it.each([
    ['a full quota', 'Error: UPGRADE FAILED: persistentvolumeclaims "data-shop-mariadb-0" is forbidden: exceeded quota: store-quota'],
    ['a forbidden object', 'Error: UPGRADE FAILED: deployments.apps is forbidden: User "system:serviceaccount:flotilla:provisioner" cannot create resource'],
    ['values the chart refuses', "Error: values don't meet the specifications of the schema(s) in the following chart(s):\nwordpress:\n- revisions.0.weight: Must be less than or equal to 100"],
    ['a template that fails', 'Error: execution error at (wordpress/templates/secret.yaml:1:12): secrets.authSalt is required'],
  ])('rejects with PermanentDriverError for %s', async (_, stderr) => {
    const failing = fakeBinary('fail-permanent', `process.stderr.write(${JSON.stringify(stderr)}); process.exit(1);`);
    const error = await new ExecHelmRunner(failing).run(['upgrade'], { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentDriverError);
    expect(String(error)).toContain('helm upgrade failed (exit 1)');
  });

  it('rejects with HelmCommandError, keeping stderr, for what a retry may fix', async () => {
    const failing = fakeBinary('fail-transient', `process.stderr.write('Error: UPGRADE FAILED: timed out waiting for the condition\\n'); process.exit(1);`);
    const error = await new ExecHelmRunner(failing).run(['upgrade'], { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HelmCommandError);
    expect(error).not.toBeInstanceOf(PermanentDriverError);
    expect((error as HelmCommandError).exitCode).toBe(1);
    expect(isHelmWaitTimeout(error)).toBe(true);
  });

  it('rejects with HelmCommandError, not PermanentDriverError, while the namespace is being terminated', async () => {
    const stderr =
      'Error: create: failed to create: secrets "sh.helm.release.v1.shop.v1" is forbidden: unable to create new content in namespace store-shop because it is being terminated';
    const failing = fakeBinary('fail-terminating', `process.stderr.write(${JSON.stringify(stderr)}); process.exit(1);`);
    const error = await new ExecHelmRunner(failing).run(['upgrade', '--install', 'shop', '/charts/wordpress'], { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HelmCommandError);
    expect(error).not.toBeInstanceOf(PermanentDriverError);
    expect(isPermanentHelmFailure(stderr)).toBe(false);
    expect(isPermanentHelmFailure('Error: deployments.apps is forbidden: exceeded quota: store-quota')).toBe(true);
  });

  it('redacts secrets from what it reports', async () => {
    const secret = 'Sup3r-Secret-Value-42';
    const failing = fakeBinary('fail-leaky', `process.stderr.write('Error: bad value ${secret} in values\\n'); process.exit(1);`);
    const error = (await new ExecHelmRunner(failing).run(['upgrade'], { timeoutMs: 10_000, redact: [secret] }).catch((e: unknown) => e)) as HelmCommandError;
    expect(error.message).toContain('[redacted]');
    expect(error.message).not.toContain(secret);
    expect(error.stderr).not.toContain(secret);
  });

  it('kills Helm that outlives its timeout, with SIGKILL if SIGTERM is ignored', async () => {
    const stuck = fakeBinary('stuck', `process.on('SIGTERM', () => undefined); process.stderr.write('waiting\\n'); setInterval(() => undefined, 1000);`);
    const started = Date.now();
    const error = (await new ExecHelmRunner(stuck, { killGraceMs: 200 }).run(['upgrade'], { timeoutMs: 300 }).catch((e: unknown) => e)) as HelmCommandError;
    expect(error).toBeInstanceOf(HelmCommandError);
    expect(error.timedOut).toBe(true);
    expect(error.message).toMatch(/helm upgrade was killed after 300 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('reports a binary that does not exist', async () => {
    const error = await new ExecHelmRunner(join(dir, 'no-such-helm')).run(['version'], { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HelmCommandError);
    expect(String(error)).toMatch(/could not start .*ENOENT/);
  });

  it("recognises Helm's words for a missing and a locked release", () => {
    const notFound = new HelmCommandError('x', 'uninstall', 1, 'Error: uninstall: Release not loaded: shop: release: not found');
    const locked = new HelmCommandError('x', 'upgrade', 1, 'Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress');
    expect(isReleaseNotFound(notFound)).toBe(true);
    expect(isReleaseLocked(locked)).toBe(true);
    expect(isReleaseNotFound(locked)).toBe(false);
    expect(isReleaseLocked(notFound)).toBe(false);
    expect(isReleaseNotFound(new Error('release: not found'))).toBe(false);
  });
});

describe('a store installed into a namespace being terminated', () => {
  it('is refused for a retry while the old namespace terminates, and installs once it is gone', async () => {
    const kube = new FakeKubernetes();
    const marker = join(dir, 'terminating');
    writeFileSync(marker, '');
    // Helm as it answers while the namespace is terminating, and once it is gone.
    const helm = fakeBinary(
      'helm-terminating',
      `const fs = require('node:fs');
       if (fs.existsSync(${JSON.stringify(marker)})) {
         process.stderr.write('Error: create: failed to create: secrets "sh.helm.release.v1.shop-one.v1" is forbidden: unable to create new content in namespace store-dev-shop-one because it is being terminated');
         process.exit(1);
       }
       process.stdout.write('Release "shop-one" has been upgraded.');`,
    );
    const driver = new KubernetesDriver(
      { chartsDir: '/charts', helmPath: helm, helmTimeoutSeconds: 60, ingressClassName: 'nginx', installationId: 'dev', namespacePrefix: 'store-dev' },
      { apis: kube.apis(), sleep: async () => undefined },
    );
    const store: StoreRef = { storeId: '7d0e5a0c-4a8b-4c55-9a51-2d6f0b1c9e11', name: 'shop-one', namespace: 'store-dev-shop-one', teamId: '3b8f7f0e-1c2d-4e5f-8a9b-0c1d2e3f4a5b', template: 'wordpress' };
    const release: ReleaseSpec = {
      host: 'shop-one.stores.example.com',
      secrets: { databaseRootPassword: 'root-Zq8tVb3LkP0sW2xY', databasePassword: 'user-Hc5nR1mJ7dQ9fA4e', adminPassword: 'admin-Tg6uY2iO8pL3kJ1h', authSalt: 'salt-Mn4bV7cX1zA9sD6f' },
      revisions: [{ revision: 1, version: '6.6', replicas: 1, weight: 100 }],
    };

    const first = await driver.apply(store, 'wordpress', release).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(HelmCommandError);
    expect(first).not.toBeInstanceOf(PermanentDriverError);

    rmSync(marker);
    await expect(driver.apply(store, 'wordpress', release)).resolves.toBeUndefined();
  });
});

