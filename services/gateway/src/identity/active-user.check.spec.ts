import { describe, expect, it } from '@jest/globals';
import { ServiceUnavailableException } from '@nestjs/common';
import { activeUserCheck, DEFAULT_ACTIVE_USER_CHECK, type UserLookup } from './active-user.check.js';

const refused = (): Error => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

describe('activeUserCheck', () => {
  const users = new Set(['u1']);
  let queries = 0;
  let down: 'no' | 'refused' | 'hung' = 'no';
  const lookup: UserLookup = async (id) => {
    queries += 1;
    if (down === 'refused') throw refused();
    if (down === 'hung') return new Promise<boolean>(() => undefined);
    return users.has(id);
  };
  const options = { ...DEFAULT_ACTIVE_USER_CHECK, lookupTimeoutMs: 20 };

  it('accepts an existing user, remembers it for freshMs, then asks again', async () => {
    let now = 0;
    const check = activeUserCheck(lookup, options, () => now);
    queries = 0;
    expect(await check('u1')).toBe(true);
    expect(await check('u1')).toBe(true);
    expect(queries).toBe(1);
    users.delete('u1');
    now = 30_001;
    expect(await check('u1')).toBe(false);
    expect(queries).toBe(2);
  });

  it('refuses a user that does not exist, every time, asking the database once every few seconds', async () => {
    let now = 1000;
    const check = activeUserCheck(lookup, options, () => now);
    queries = 0;
    expect(await check('ghost')).toBe(false);
    now = 5000;
    expect(await check('ghost')).toBe(false);
    expect(queries).toBe(1);
    now = 6001;
    expect(await check('ghost')).toBe(false);
    expect(queries).toBe(2);
  });

  it('knows without asking exactly the users it would accept without a query', async () => {
    let now = 0;
    users.add('u2');
    const check = activeUserCheck(lookup, options, () => now);
    expect(check.knownActive?.('u2')).toBe(false);
    expect(await check('u2')).toBe(true);
    expect(check.knownActive?.('u2')).toBe(true);
    now = 30_001;
    expect(check.knownActive?.('u2')).toBe(false);
    expect(check.knownActive?.('ghost')).toBe(false);
  });

  it('shares one lookup between the requests waiting for the same user', async () => {
    users.add('u3');
    const check = activeUserCheck(lookup, options);
    queries = 0;
    expect(await Promise.all([check('u3'), check('u3'), check('u3')])).toEqual([true, true, true]);
    expect(queries).toBe(1);
  });

  for (const outage of ['refused', 'hung'] as const) {
    it(`with Postgres ${outage}: a user found before passes where outages are tolerated, anyone else gets 503, and the database is left alone for a while`, async () => {
      let now = 0;
      users.add('u4');
      users.add('u5');
      const check = activeUserCheck(lookup, options, () => now);
      expect(await check('u4')).toBe(true);
      now = 60_000;
      down = outage;
      try {
        queries = 0;
        expect(await check('u4', true)).toBe(true);
        await expect(check('u4')).rejects.toBeInstanceOf(ServiceUnavailableException);
        await expect(check('u5', true)).rejects.toBeInstanceOf(ServiceUnavailableException);
        // One lookup met the outage; the others were answered without one.
        expect(queries).toBe(1);
        now += options.outageBackoffMs;
        expect(await check('u4', true)).toBe(true);
        expect(queries).toBe(2);
      } finally {
        down = 'no';
      }
      now += options.outageBackoffMs;
      expect(await check('u5', true)).toBe(true);
    });
  }

  it('lets other failures through as they are', async () => {
    const check = activeUserCheck(async () => {
      throw new Error('syntax error at or near "SELEC"');
    }, options);
    await expect(check('u1', true)).rejects.toThrow('syntax error');
  });
});
