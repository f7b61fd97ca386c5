import { describe, expect, it } from '@jest/globals';
import { assertBindingKey, topicMatches } from './routing-key.js';

describe('topicMatches', () => {
  it.each([
    ['dataset.uploaded', 'dataset.uploaded', true],
    ['dataset.uploaded', 'dataset.deleted', false],
    ['dataset.*', 'dataset.uploaded', true],
    ['dataset.*', 'dataset', false],
    ['dataset.*', 'dataset.file.uploaded', false],
    ['*.uploaded', 'dataset.uploaded', true],
    ['#', 'anything.at.all', true],
    ['#', 'single', true],
    ['dataset.#', 'dataset', true],
    ['dataset.#', 'dataset.file.uploaded', true],
    ['dataset.#', 'datasets.uploaded', false],
    ['#.ready', 'store.ready', true],
    ['#.ready', 'store.ready.now', false],
    ['a.#.z', 'a.z', true],
    ['a.#.z', 'a.b.c.z', true],
    ['a.#.z', 'a.b.c', false],
    ['*.*', 'a.b', true],
    ['*.*', 'a', false],
  ])('%s matches %s: %s', (pattern, key, expected) => {
    expect(topicMatches(pattern, key)).toBe(expected);
  });
});

describe('assertBindingKey', () => {
  it('accepts routing keys and wildcards', () => {
    for (const key of ['dataset.uploaded', 'dataset.*', '#', 'store.#', 'service.heartbeat']) {
      expect(() => assertBindingKey(key)).not.toThrow();
    }
  });

  it('rejects empty words and other characters', () => {
    for (const key of ['', 'dataset.', '.x', 'a..b', 'a b', 'a.*x']) {
      expect(() => assertBindingKey(key)).toThrow(RangeError);
    }
  });
});
