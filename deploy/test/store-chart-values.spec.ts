import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreTemplates, type StoreTemplate } from '@flotilla/contracts';
import { loadStoreChartValues, type StoreChartValues } from '../../services/provisioner/src/drivers/kubernetes/store-chart-values.js';
import { STORE_SECRET_KEYS, storeValues } from '../../services/provisioner/src/drivers/kubernetes/store-release.js';
import { storeUrl } from '../../services/provisioner/src/drivers/kubernetes/store-url.js';
import { helm, helmTemplate } from './support/helm.js';
import { parseManifests, type K8sObject } from './support/manifests.js';
import { CHART, ROOT, VALUES_FILES } from './support/paths.js';

/*
 * The installation's store chart values travel from the platform chart
 * (provisioner.storeChartValues) to the provisioner's STORE_CHART_VALUES, which the
 * provisioner validates at start and merges under every store's values; with TLS on, the
 * store charts' Ingresses carry the tls block and the API's store URLs are https.
 */

const NAMESPACE = { 'values.yaml': 'flotilla', 'values-dev.yaml': 'flotilla-dev', 'values-prod.yaml': 'flotilla-prod' } as const;
const VERSIONS: Record<StoreTemplate, [string, string]> = { wordpress: ['6.6', '6.6.1'], medusa: ['2.8.4', '2.8.5'] };
let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'store-chart-values-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function provisionerConfig(objects: K8sObject[]): Record<string, string> {
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'flotilla-provisioner');
  if (!configMap) throw new Error('no ConfigMap flotilla-provisioner rendered');
  return configMap.data as Record<string, string>;
}

/** A store chart rendered with what the driver would pass during a canary, the installation's values underneath. */
function renderStore(template: StoreTemplate, chartValues: StoreChartValues): K8sObject[] {
  const [v1, v2] = VERSIONS[template];
  const values = storeValues(
    template,
    {
      host: 'shop-one.stores.example.com',
      secrets: Object.fromEntries(STORE_SECRET_KEYS[template].map((key) => [key, `${key}-0123456789abcdef`])),
      revisions: [
        { revision: 1, version: v1, replicas: 2, weight: 90 },
        { revision: 2, version: v2, replicas: 1, weight: 10 },
      ],
    },
    { ingressClassName: 'nginx', ingressNamespace: 'ingress-nginx', chartValues },
  );
  const file = join(work, `${template}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(values));
  // Released as the provisioner does: named after the store, in its namespace.
  const result = helm(['template', 'shop-one', join(ROOT, 'deploy/store-charts', template), '--namespace', 'store-shop-one', '--values', file]);
  if (result.status !== 0) throw new Error(`helm template ${template} failed: ${result.stderr.trim()}`);
  return parseManifests(result.stdout);
}

describe('provisioner.storeChartValues of the platform chart', () => {
  it.each(VALUES_FILES)('reaches the provisioner as STORE_CHART_VALUES that it accepts (%s)', (file) => {
    const config = provisionerConfig(helmTemplate(CHART, join(CHART, file), NAMESPACE[file]));
    expect(() => JSON.parse(config.STORE_CHART_VALUES)).not.toThrow();
    expect(() => loadStoreChartValues({ STORE_CHART_VALUES: config.STORE_CHART_VALUES })).not.toThrow();
    expect(config.STORE_URL_SCHEME).toBe('');
  });

  it('carries any values as JSON, unchanged', () => {
    const values = { common: { ingress: { annotations: { 'nginx.ingress.kubernetes.io/proxy-body-size': '64m', 'a.example.com/quote': "it's \"quoted\"" } } }, medusa: { image: { repository: 'registry.example.com/medusa-store' } } };
    const config = provisionerConfig(helmTemplate(CHART, join(CHART, 'values.yaml'), 'flotilla', ['--set-json', `provisioner.storeChartValues=${JSON.stringify(values)}`]));
    expect(JSON.parse(config.STORE_CHART_VALUES)).toEqual(values);
  });

  it('serves production stores over TLS: the Ingresses get the tls block and cert-manager annotation, the URLs are https', () => {
    const config = provisionerConfig(helmTemplate(CHART, join(CHART, 'values-prod.yaml'), 'flotilla-prod'));
    const chartValues = loadStoreChartValues({ STORE_CHART_VALUES: config.STORE_CHART_VALUES });
    for (const template of StoreTemplates) {
      const ingresses = renderStore(template, chartValues).filter((o) => o.kind === 'Ingress');
      expect(ingresses.map((o) => o.metadata.name).sort()).toEqual(['shop-one', 'shop-one-canary']);
      for (const ingress of ingresses) {
        expect(ingress.spec.tls).toEqual([{ hosts: ['shop-one.stores.example.com'], secretName: 'shop-one-tls' }]);
        expect(ingress.metadata.annotations?.['cert-manager.io/cluster-issuer']).toBe('letsencrypt-prod');
      }
      expect(storeUrl({ name: 'shop-one', template }, { BASE_DOMAIN: 'stores.example.com', STORE_CHART_VALUES: config.STORE_CHART_VALUES })).toBe('https://shop-one.stores.example.com');
    }
  });
});

describe.each(StoreTemplates)('the %s chart’s Ingresses', (template) => {
  it('have no tls block and an http URL without TLS values', () => {
    for (const ingress of renderStore(template, {}).filter((o) => o.kind === 'Ingress')) expect(ingress.spec.tls).toBeUndefined();
    expect(storeUrl({ name: 'shop-one', template }, { BASE_DOMAIN: 'stores.example.com' })).toBe('http://shop-one.stores.example.com');
  });

  it('name the TLS secret the values give, on the main and the canary Ingress', () => {
    const ingresses = renderStore(template, { [template]: { ingress: { tls: { enabled: true, secretName: 'stores-wildcard' } } } }).filter((o) => o.kind === 'Ingress');
    expect(ingresses).toHaveLength(2);
    for (const ingress of ingresses) expect(ingress.spec.tls).toEqual([{ hosts: ['shop-one.stores.example.com'], secretName: 'stores-wildcard' }]);
  });

  it('keep the values the driver owns whatever the installation’s values say', () => {
    const objects = renderStore(template, { [template]: { ingress: { className: 'traefik' }, host: 'evil.example.com' } });
    for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
      expect(ingress.spec.ingressClassName).toBe('nginx');
      expect(ingress.spec.rules[0].host).toBe('shop-one.stores.example.com');
    }
  });
});
