import { BadRequestException } from '@nestjs/common';
import { decodePageCursor, encodePageCursor, type PageCursor } from '@flotilla/contracts';

export type { Page } from '@flotilla/contracts';
export type Cursor = PageCursor;

export const encodeCursor = encodePageCursor;

/** The cursor of a list request; 400 when the client made one up. */
export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (!raw) return undefined;
  const cursor = decodePageCursor(raw);
  if (!cursor) throw new BadRequestException('cursor is not valid');
  return cursor;
}
