import { describe, expect, it } from '@jest/globals';
import { STORE_NAME_MAX } from '@flotilla/contracts';
import { PermanentDriverError } from './cluster-driver.js';
import { checkStoreNamespace, defaultNamespacePrefix, NAMESPACE_PREFIX_MAX, namespaceFor, resolveOwnership } from './ownership.js';

describe('installation ownership', () => {
  it('defaults the id to NAMESPACE, then flotilla, and the prefix to store-{id}', () => {
    expect(resolveOwnership({})).toEqual({ installationId: 'flotilla', namespacePrefix: 'store-flotilla' });
    expect(resolveOwnership({ NAMESPACE: 't1a2b3' })).toEqual({ installationId: 't1a2b3', namespacePrefix: 'store-t1a2b3' });
    expect(resolveOwnership({ INSTALLATION_ID: 'flotilla-prod', NAMESPACE: 'x' })).toEqual({ installationId: 'flotilla-prod', namespacePrefix: 'store-flotilla-prod' });
    expect(resolveOwnership({ INSTALLATION_ID: 'flotilla-prod', STORE_NAMESPACE_PREFIX: 'prod' }).namespacePrefix).toBe('prod');
  });

  it('keeps every namespace within 63 characters: long ids get a shortened, hashed prefix, distinct per id', () => {
    const a = defaultNamespacePrefix('flotilla-production-europe-west');
    const b = defaultNamespacePrefix('flotilla-production-europe-east');
    expect(a).not.toBe(b);
    for (const prefix of [a, b, defaultNamespacePrefix('a'.repeat(63))]) {
      expect(prefix.length).toBeLessThanOrEqual(NAMESPACE_PREFIX_MAX);
      const namespace = namespaceFor(prefix, 'a'.repeat(STORE_NAME_MAX));
      expect(namespace.length).toBeLessThanOrEqual(63);
      expect(namespace).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
    }
  });

  it('refuses ids and prefixes that are not DNS labels, or name the cluster\'s own namespaces', () => {
    for (const id of ['', 'Prod', 'prod_1', '-prod', 'a'.repeat(64), 'a.b']) expect(() => resolveOwnership({ INSTALLATION_ID: id || 'UPPER' })).toThrow(/installation id/);
    for (const prefix of ['kube-system', 'default', 'a'.repeat(23), 'x_y']) expect(() => resolveOwnership({ STORE_NAMESPACE_PREFIX: prefix })).toThrow(/namespace prefix/);
  });

  it('accepts a store\'s namespace only with its own prefix, or the store-{name} of older stores', () => {
    expect(checkStoreNamespace('store-dev-shop', 'shop', 'store-dev')).toBe('store-dev-shop');
    expect(checkStoreNamespace('store-shop', 'shop', 'store-dev')).toBe('store-shop');
    for (const namespace of ['store-prod-shop', 'kube-system', 'shop', 'store-dev-shop2']) {
      expect(() => checkStoreNamespace(namespace, 'shop', 'store-dev')).toThrow(PermanentDriverError);
    }
  });
});
