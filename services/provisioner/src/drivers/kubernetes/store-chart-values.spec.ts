import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnv } from '@flotilla/config';
import type { ReleaseSpec, StoreRef } from '../cluster-driver.js';
import { ProvisionerEnv } from '../../provisioner.env.js';
import { createKubernetesDriver } from './create-kubernetes-driver.js';
import { loadStoreChartValues, parseStoreChartValues, StoreChartValuesError } from './store-chart-values.js';
import { FakeHelm, FakeKubernetes } from './testing/fakes.js';

const TLS_YAML = `
common:
  ingress:
    tls:
      enabled: true
      secretName: stores-wildcard-tls
    annotations:
      cert-manager.io/cluster-issuer: letsencrypt
  storageClassName: fast-ssd
wordpress:
  image:
    repository: registry.example.com/mirror/wordpress
medusa:
  image:
    repository: registry.example.com/flotilla/medusa-store
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flotilla-chart-values-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseStoreChartValues', () => {
  it('reads YAML and JSON alike, common values under each chart’s own', () => {
    const values = parseStoreChartValues(TLS_YAML, 'STORE_CHART_VALUES');
    expect(values.wordpress).toEqual({
      ingress: { tls: { enabled: true, secretName: 'stores-wildcard-tls' }, annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' } },
      storageClassName: 'fast-ssd',
      image: { repository: 'registry.example.com/mirror/wordpress' },
    });
    expect(values.medusa?.image).toEqual({ repository: 'registry.example.com/flotilla/medusa-store' });
    expect(parseStoreChartValues(JSON.stringify({ medusa: { app: { port: 9000 } } }), 'X')).toEqual({ medusa: { app: { port: 9000 } } });
    expect(parseStoreChartValues('', 'X')).toEqual({});
  });

  it('lets a chart’s own value win over a common one', () => {
    const values = parseStoreChartValues('{"common":{"ingress":{"tls":{"enabled":true}}},"medusa":{"ingress":{"tls":{"enabled":false}}}}', 'X');
    expect(values.wordpress?.ingress).toEqual({ tls: { enabled: true } });
    expect(values.medusa?.ingress).toEqual({ tls: { enabled: false } });
  });

  it.each([
    ['{not yaml: [', /STORE_CHART_VALUES is neither YAML nor JSON/],
    ['- a\n- b', /STORE_CHART_VALUES must be a mapping of common, wordpress, medusa/],
    ['ingress:\n  tls:\n    enabled: true', /unknown key "ingress" at the top/],
    ['wordpress: 3', /wordpress must be a mapping/],
    ['wordpress:\n  host: evil.example.com', /wordpress\.host is set by the provisioner for each store/],
    ['common:\n  ingress:\n    className: traefik', /common\.ingress\.className is set by the provisioner .*INGRESS_CLASS_NAME/],
    ['medusa:\n  revisions: []', /medusa\.revisions is set by the provisioner/],
    ['common:\n  installation: prod', /common\.installation is set by the provisioner .*INSTALLATION_ID/],
    ['wordpress:\n  networkPolicy:\n    ingressNamespace: kube-system', /INGRESS_NAMESPACE/],
  ])('refuses %j, naming the key', (text, message) => {
    expect(() => parseStoreChartValues(text, 'STORE_CHART_VALUES')).toThrow(StoreChartValuesError);
    expect(() => parseStoreChartValues(text, 'STORE_CHART_VALUES')).toThrow(message);
  });
});

describe('loadStoreChartValues', () => {
  it('applies STORE_CHART_VALUES over the file’s values', () => {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, TLS_YAML);
    const values = loadStoreChartValues({ STORE_CHART_VALUES_FILE: file, STORE_CHART_VALUES: '{"wordpress":{"ingress":{"tls":{"secretName":"shop-tls"}}}}' });
    expect(values.wordpress?.ingress).toMatchObject({ tls: { enabled: true, secretName: 'shop-tls' } });
    expect(values.medusa?.ingress).toMatchObject({ tls: { enabled: true, secretName: 'stores-wildcard-tls' } });
  });

  it('validates against each chart’s values.schema.json, naming the key', () => {
    expect(() => loadStoreChartValues({ STORE_CHART_VALUES: 'common:\n  ingress:\n    tls:\n      enabled: "yes"' })).toThrow(
      /STORE_CHART_VALUES: the wordpress chart refuses ingress\.tls\.enabled must be boolean/,
    );
    expect(() => loadStoreChartValues({ STORE_CHART_VALUES: 'medusa:\n  imagee:\n    repository: x' })).toThrow(/the medusa chart refuses imagee is not a value of the chart/);
    expect(() => loadStoreChartValues({ STORE_CHART_VALUES: 'wordpress:\n  app:\n    resources:\n      requests:\n        cpu: lots' })).toThrow(/app\.resources\.requests\.cpu/);
  });

  it('says which file cannot be read', () => {
    expect(() => loadStoreChartValues({ STORE_CHART_VALUES_FILE: join(dir, 'missing.yaml') })).toThrow(/STORE_CHART_VALUES_FILE ".*missing\.yaml" cannot be read: ENOENT/);
  });
});

describe('the provisioner environment', () => {
  it('refuses bad store chart values at start, naming the key', () => {
    expect(() => loadEnv(ProvisionerEnv, { STORE_CHART_VALUES: 'wordpress:\n  host: x.example.com' })).toThrow(/wordpress\.host is set by the provisioner/);
    expect(() => loadEnv(ProvisionerEnv, { STORE_CHART_VALUES: '{"common":{"ingress":{"tls":{"enabled":1}}}}' })).toThrow(/ingress\.tls\.enabled must be boolean/);
    expect(() => loadEnv(ProvisionerEnv, { STORE_URL_SCHEME: 'ftp' })).toThrow(/STORE_URL_SCHEME/);
    expect(loadEnv(ProvisionerEnv, { STORE_CHART_VALUES: TLS_YAML }).STORE_CHART_VALUES).toBe(TLS_YAML);
  });
});

describe('the kubernetes driver with store chart values', () => {
  const store: StoreRef = { storeId: 's-1', name: 'shop-one', namespace: 'store-shop-one', teamId: 't-1', template: 'wordpress' };
  const release: ReleaseSpec = {
    host: 'shop-one.stores.example.com',
    secrets: { databaseRootPassword: 'dbroot-4e8Qz0Lk2Vb7Nc1X', databasePassword: 'dbuser-7Hf3Kp9Wq2Zs5Tm8', adminPassword: 'admin-1Jg6Rt8Yu3Io5Pa2', authSalt: 'salt-9Ks4Ld7Fg2Hj6Qw1Ez3' },
    revisions: [{ revision: 1, version: '6.6', replicas: 2, weight: 100 }],
  };

  it('passes them to Helm under the values it sets for the store', async () => {
    const helm = new FakeHelm();
    const driver = createKubernetesDriver(
      { KUBECONFIG: '', INGRESS_CLASS_NAME: 'nginx', ROLLOUT_DEADLINE_SECONDS: 60, STORAGE_CLASS_NAME: 'local-path', STORE_CHART_VALUES: TLS_YAML },
      { helm, apis: new FakeKubernetes().apis() },
    );
    await driver.apply(store, 'wordpress', release);
    const values = JSON.parse(helm.calls[0].options.stdin ?? '') as Record<string, unknown>;
    expect(values).toMatchObject({
      host: 'shop-one.stores.example.com',
      ingress: { className: 'nginx', tls: { enabled: true, secretName: 'stores-wildcard-tls' }, annotations: { 'cert-manager.io/cluster-issuer': 'letsencrypt' } },
      image: { repository: 'registry.example.com/mirror/wordpress' },
      storageClassName: 'local-path',
      revisions: [{ revision: 1, version: '6.6', replicas: 2, weight: 100 }],
    });
  });

  it('will not start with values the charts refuse', () => {
    expect(() =>
      createKubernetesDriver({ KUBECONFIG: '', INGRESS_CLASS_NAME: 'nginx', ROLLOUT_DEADLINE_SECONDS: 60, STORE_CHART_VALUES: 'wordpress:\n  replicas: 3' }, { helm: new FakeHelm(), apis: new FakeKubernetes().apis() }),
    ).toThrow(/wordpress chart refuses replicas is not a value of the chart/);
  });
});
