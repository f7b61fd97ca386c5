import { extname } from 'node:path';

/** Content types by lower-case file extension; anything else is `application/octet-stream`. */
const BY_EXTENSION: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.dcm': 'application/dicom',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.mhd': 'text/plain',
};

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** The content type a file is declared with, guessed from its extension (case-insensitive). */
export function contentTypeOf(filename: string): string {
  return BY_EXTENSION[extname(filename).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
}
