/**
 * Keyset paging over `(created_at, id)`, newest first: the cursor is opaque to clients
 * and stable under inserts. Every list route of the API pages this way.
 */
export interface PageCursor {
  createdAt: Date;
  id: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export function encodePageCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

/** The cursor, or `null` when `raw` is not one this API issued. */
export function decodePageCursor(raw: string): PageCursor | null {
  const [at, id, ...rest] = Buffer.from(raw, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(at ?? '');
  if (rest.length > 0 || !id || Number.isNaN(createdAt.getTime()) || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
    return null;
  }
  return { createdAt, id };
}
