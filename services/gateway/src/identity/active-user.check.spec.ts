import { describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { activeUserCheck } from './active-user.check.js';

describe('activeUserCheck', () => {
  const users = new Set(['u1']);
  let queries = 0;
  const dataSource = {
    query: async (_sql: string, [id]: string[]) => {
      queries += 1;
      return users.has(id!) ? [{}] : [];
    },
  } as unknown as DataSource;

  it('accepts an existing user, remembers it for 30 s, then asks again', async () => {
    let now = 0;
    const check = activeUserCheck(dataSource, () => now);
    queries = 0;
    expect(await check('u1')).toBe(true);
    expect(await check('u1')).toBe(true);
    expect(queries).toBe(1);
    users.delete('u1');
    now = 30_001;
    expect(await check('u1')).toBe(false);
    expect(queries).toBe(2);
  });

  it('refuses a user that does not exist, every time', async () => {
    const check = activeUserCheck(dataSource);
    queries = 0;
    expect(await check('ghost')).toBe(false);
    expect(await check('ghost')).toBe(false);
    expect(queries).toBe(2);
  });

  it('knows without asking exactly the users it would accept without a query', async () => {
    let now = 0;
    users.add('u2');
    const check = activeUserCheck(dataSource, () => now);
    expect(check.knownActive?.('u2')).toBe(false);
    expect(await check('u2')).toBe(true);
    expect(check.knownActive?.('u2')).toBe(true);
    now = 30_001;
    expect(check.knownActive?.('u2')).toBe(false);
    expect(check.knownActive?.('ghost')).toBe(false);
  });
});
