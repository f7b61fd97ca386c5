import type { Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ACTIVE_USER_CHECK, type ActiveUserCheck } from '@flotilla/auth';

/** How long a user found in the database is taken to exist without asking again. */
const KNOWN_FOR_MS = 30_000;
const MAX_ENTRIES = 100_000;

/**
 * A signed, unexpired token whose user no longer exists is refused (401). Users seen
 * recently are remembered for 30 s, so a deleted user's tokens stop working within
 * that time while each request costs a map lookup, not a query.
 */
export function activeUserCheck(dataSource: DataSource, now: () => number = Date.now): ActiveUserCheck {
  const known = new Map<string, number>();
  const knownActive = (userId: string): boolean => {
    const until = known.get(userId);
    return until !== undefined && until > now();
  };
  const check = async (userId: string): Promise<boolean> => {
    const until = known.get(userId);
    if (until !== undefined && until > now()) return true;
    const rows = (await dataSource.query(`SELECT 1 FROM users WHERE id = $1`, [userId])) as unknown[];
    if (rows.length === 0) {
      known.delete(userId);
      return false;
    }
    if (known.size >= MAX_ENTRIES) known.clear();
    known.set(userId, now() + KNOWN_FOR_MS);
    return true;
  };
  return Object.assign(check, { knownActive });
}

export const activeUserCheckProvider: Provider = {
  provide: ACTIVE_USER_CHECK,
  inject: [DataSource],
  useFactory: (dataSource: DataSource) => activeUserCheck(dataSource),
};
