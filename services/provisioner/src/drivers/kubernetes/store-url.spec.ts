import { describe, expect, it } from '@jest/globals';
import { storeView, type StoreRow } from '../../stores/store-repository.js';
import { storeUrl, storeUrlScheme } from './store-url.js';

const BASE_DOMAIN = 'stores.example.com';

describe('storeUrlScheme and storeUrl', () => {
  it('is http while no TLS is configured', () => {
    expect(storeUrl({ name: 'shop', template: 'wordpress' }, { BASE_DOMAIN })).toBe('http://shop.stores.example.com');
    expect(storeUrlScheme({ BASE_DOMAIN, STORE_URL_SCHEME: '', STORE_CHART_VALUES: '' }, 'medusa')).toBe('http');
  });

  it('is https for the charts whose values enable TLS, only those', () => {
    const settings = { BASE_DOMAIN, STORE_CHART_VALUES: 'wordpress:\n  ingress:\n    tls:\n      enabled: true' };
    expect(storeUrl({ name: 'shop', template: 'wordpress' }, settings)).toBe('https://shop.stores.example.com');
    expect(storeUrl({ name: 'shop', template: 'medusa' }, settings)).toBe('http://shop.stores.example.com');
    const both = { BASE_DOMAIN, STORE_CHART_VALUES: '{"common":{"ingress":{"tls":{"enabled":true}}}}' };
    expect(storeUrlScheme(both, 'wordpress')).toBe('https');
    expect(storeUrlScheme(both, 'medusa')).toBe('https');
  });

  it('follows STORE_URL_SCHEME when set, whatever the chart values say', () => {
    expect(storeUrlScheme({ BASE_DOMAIN, STORE_URL_SCHEME: 'https' }, 'medusa')).toBe('https');
    const tls = { BASE_DOMAIN, STORE_URL_SCHEME: 'http', STORE_CHART_VALUES: '{"common":{"ingress":{"tls":{"enabled":true}}}}' };
    expect(storeUrl({ name: 'shop', template: 'wordpress' }, tls)).toBe('http://shop.stores.example.com');
  });

  it('does not read TLS from a value that is not true', () => {
    const settings = { BASE_DOMAIN, STORE_CHART_VALUES: '{"wordpress":{"ingress":{"tls":{"enabled":false,"secretName":"x"}}}}' };
    expect(storeUrlScheme(settings, 'wordpress')).toBe('http');
  });
});

describe('the store the API shows', () => {
  const at = new Date('2026-01-01T00:00:00Z');
  const row: StoreRow = {
    ...{ id: 's-1', team_id: 't-1', created_by: 'u-1', name: 'shop', namespace: 'store-flotilla-shop', template: 'medusa', status: 'ready', error: null },
    ...{ revision: 1, stable_revision: 1, version: '2.10.1', replicas: 1, rollout: { strategy: 'BlueGreen' }, observed_ready: 1, observed_revision: 1 },
    ...{ secrets: 'sealed', created_at: at, ready_at: at, updated_at: at },
  };

  it('has an https URL when the installation’s chart values enable TLS, http otherwise', () => {
    expect(storeView(row, { BASE_DOMAIN }).url).toBe('http://shop.stores.example.com');
    expect(storeView(row, { BASE_DOMAIN, STORE_CHART_VALUES: 'common:\n  ingress:\n    tls:\n      enabled: true' }).url).toBe('https://shop.stores.example.com');
    expect(storeView(row, { BASE_DOMAIN, STORE_URL_SCHEME: 'https' }).url).toBe('https://shop.stores.example.com');
  });
});
