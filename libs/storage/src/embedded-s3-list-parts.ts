import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

/** The part of s3rver's filesystem store this call needs. */
interface UploadsStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
}

/**
 * ListParts for the embedded S3, which answers it 405: without it, an interrupted
 * multipart upload cannot be resumed in tests. Read from s3rver's own layout (a
 * directory per upload id holding the key, each part as a file named by its number and
 * the part's MD5 beside it). One page, like its other listings; signatures are not
 * checked. Returns false for any other request, which s3rver answers.
 */
export function handleListParts(store: UploadsStore, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://embedded');
  const [bucket, ...keyParts] = url.pathname.split('/').filter(Boolean);
  const uploadId = url.searchParams.get('uploadId');
  if (req.method !== 'GET' || !bucket || keyParts.length === 0 || !uploadId || url.searchParams.has('partNumber')) return false;
  const key = keyParts.map(decodeURIComponent).join('/');
  const dir = join(store.getResourcePath(decodeURIComponent(bucket), undefined, 'uploads'), uploadId);
  const keyFile = join(dir, 'key');
  if (!/^[0-9a-f]+$/.test(uploadId) || !existsSync(keyFile) || readFileSync(keyFile, 'utf8') !== key) {
    send(res, 404, `<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><UploadId>${xml(uploadId)}</UploadId></Error>`);
    return true;
  }
  const parts = readdirSync(dir)
    .filter((name) => /^\d+$/.test(name) && existsSync(join(dir, `${name}.md5`)))
    .map((name) => ({ partNumber: Number(name), file: join(dir, name) }))
    .sort((a, b) => a.partNumber - b.partNumber)
    .map((p) => {
      const stat = statSync(p.file);
      const etag = readFileSync(`${p.file}.md5`, 'utf8').trim();
      return `<Part><PartNumber>${p.partNumber}</PartNumber><LastModified>${stat.mtime.toISOString()}</LastModified><ETag>"${etag}"</ETag><Size>${stat.size}</Size></Part>`;
    })
    .join('');
  send(
    res,
    200,
    `<ListPartsResult><Bucket>${xml(bucket)}</Bucket><Key>${xml(key)}</Key><UploadId>${xml(uploadId)}</UploadId><IsTruncated>false</IsTruncated>${parts}</ListPartsResult>`,
  );
  return true;
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

const xml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
