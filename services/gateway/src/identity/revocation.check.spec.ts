import { describe, expect, it } from '@jest/globals';
import { ServiceUnavailableException } from '@nestjs/common';
import { DEFAULT_REVOCATION_CHECK, revocationCheck, type VersionFetch } from './revocation.check.js';

/** A store of versions that counts its fetches and can be made unreachable. */
function store(): { versions: Map<string, number>; fetches: string[][]; down: boolean; fetch: VersionFetch } {
  const s = {
    versions: new Map<string, number>(),
    fetches: [] as string[][],
    down: false,
    fetch: async (ids: string[]) => {
      s.fetches.push(ids);
      if (s.down) throw new Error('connect ECONNREFUSED');
      return ids.map((id) => s.versions.get(id) ?? null);
    },
  };
  return s;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('revocationCheck', () => {
  it('waits for the store the first time, then answers without a promise while the version is fresh', async () => {
    const s = store();
    let now = 0;
    const check = revocationCheck(s.fetch, DEFAULT_REVOCATION_CHECK, () => now);
    s.versions.set('u1', 2);
    const first = check.isCurrent('u1', 2, false);
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toBe(true);
    now = 999;
    expect(check.isCurrent('u1', 2, false)).toBe(true);
    expect(check.isCurrent('u1', 1, false)).toBe(false);
    expect(s.fetches).toEqual([['u1']]);
  });

  it('a user without a version is at version 0', async () => {
    const s = store();
    const check = revocationCheck(s.fetch);
    expect(await check.isCurrent('fresh', 0, false)).toBe(true);
  });

  it('sees a revocation within staleMs: refreshed in the background once fresh has passed, awaited once stale', async () => {
    const s = store();
    let now = 0;
    const check = revocationCheck(s.fetch, DEFAULT_REVOCATION_CHECK, () => now);
    expect(await check.isCurrent('u1', 0, false)).toBe(true);
    s.versions.set('u1', 1); // revoked at 0
    now = 1500;
    // Answered at once from memory; the refresh goes out.
    expect(check.isCurrent('u1', 0, false)).toBe(true);
    await turn();
    await turn();
    expect(check.isCurrent('u1', 0, false)).toBe(false);
    expect(s.fetches).toHaveLength(2);

    // A user not asked about for longer than staleMs waits for the store.
    s.versions.set('u2', 0);
    expect(await check.isCurrent('u2', 0, false)).toBe(true);
    s.versions.set('u2', 1);
    now += DEFAULT_REVOCATION_CHECK.staleMs;
    const late = check.isCurrent('u2', 0, false);
    expect(late).toBeInstanceOf(Promise);
    expect(await late).toBe(false);
  });

  it('asks for every user of one event-loop turn in one fetch, and once per user', async () => {
    const s = store();
    const check = revocationCheck(s.fetch);
    const answers = await Promise.all(['a', 'b', 'c', 'a', 'b'].map((id) => check.isCurrent(id, 0, false)));
    expect(answers).toEqual([true, true, true, true, true]);
    expect(s.fetches).toEqual([['a', 'b', 'c']]);
  });

  it('learns a version this instance published, refusing older tokens at once', async () => {
    const s = store();
    const check = revocationCheck(s.fetch);
    expect(await check.isCurrent('u1', 0, false)).toBe(true);
    check.learn('u1', 3);
    expect(check.isCurrent('u1', 2, false)).toBe(false);
    expect(check.isCurrent('u1', 3, false)).toBe(true);
    // Versions only grow: a lower one from the store (say, its key expired) does not bring older tokens back.
    check.learn('u1', 1);
    expect(check.isCurrent('u1', 2, false)).toBe(false);
  });

  it('with the store unreachable: a user seen before is answered from the last version, one never seen gets 503, and the store is left alone for a while', async () => {
    const s = store();
    let now = 0;
    const check = revocationCheck(s.fetch, DEFAULT_REVOCATION_CHECK, () => now);
    s.versions.set('u1', 1);
    expect(await check.isCurrent('u1', 1, false)).toBe(true);
    s.down = true;
    now = 10_000;
    expect(await check.isCurrent('u1', 1, false)).toBe(true);
    expect(await check.isCurrent('u1', 0, true)).toBe(false);
    expect(() => check.isCurrent('ghost', 0, true)).toThrow(ServiceUnavailableException);
    expect(s.fetches).toHaveLength(2);
    now += DEFAULT_REVOCATION_CHECK.outageBackoffMs;
    s.down = false;
    s.versions.set('u1', 2);
    expect(await check.isCurrent('u1', 1, false)).toBe(false);
  });

  it('keeps at most maxUsers', async () => {
    const s = store();
    const check = revocationCheck(s.fetch, { ...DEFAULT_REVOCATION_CHECK, maxUsers: 2 });
    for (const id of ['a', 'b', 'c']) await check.isCurrent(id, 0, false);
    await check.isCurrent('a', 0, false);
    expect(s.fetches).toEqual([['a'], ['b'], ['c'], ['a']]);
  });
});
