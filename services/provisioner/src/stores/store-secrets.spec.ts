import { describe, expect, it } from '@jest/globals';
import { StoreSecrets } from './store-secrets.js';

describe('StoreSecrets', () => {
  const secrets = new StoreSecrets('a-key-of-at-least-thirty-two-characters');

  it('round-trips generated passwords, and the sealed form does not show them', () => {
    const plain = StoreSecrets.generate();
    const sealed = secrets.seal(plain);
    expect(secrets.open(sealed)).toEqual(plain);
    for (const value of Object.values(plain)) expect(sealed).not.toContain(value);
  });

  it('refuses a sealed value under another key, or tampered with', () => {
    const sealed = secrets.seal({ adminPassword: 'x' });
    expect(() => new StoreSecrets('another-key-of-at-least-thirty-two-chars').open(sealed)).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64');
    expect(() => secrets.open(parts.join('.'))).toThrow();
  });
});

describe('StoreSecrets.generate', () => {
  it('gives every secret the store charts require, in the form they accept', async () => {
    const { STORE_SECRET_KEYS, STORE_SECRET_PATTERN } = await import('../drivers/kubernetes/index.js');
    const generated = StoreSecrets.generate();
    for (const template of ['wordpress', 'medusa'] as const) {
      for (const key of STORE_SECRET_KEYS[template]) expect([template, key, STORE_SECRET_PATTERN.test(generated[key] ?? '')]).toEqual([template, key, true]);
    }
  });
});
