import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

/** The part of s3rver's filesystem store these calls need. */
interface UploadsStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
}

/**
 * AbortMultipartUpload and ListMultipartUploads for the embedded S3, which answers them
 * 405 and 501: without them, abandoned multipart uploads cannot be aborted, nor seen
 * to be gone, in tests. Read from s3rver's own layout (a directory per upload id holding
 * the key and the parts). Like the rest of the embedded S3, signatures are not checked;
 * listings are one page. Returns false for any other request, which s3rver answers.
 */
export function handleMultipartUploads(store: UploadsStore, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://embedded');
  const [bucket, ...keyParts] = url.pathname.split('/').filter(Boolean);
  if (!bucket) return false;
  const uploadsDir = store.getResourcePath(decodeURIComponent(bucket), undefined, 'uploads');
  if (req.method === 'GET' && keyParts.length === 0 && url.searchParams.has('uploads')) {
    const prefix = url.searchParams.get('prefix') ?? '';
    const uploads = (existsSync(uploadsDir) ? readdirSync(uploadsDir) : [])
      .map((uploadId) => ({ uploadId, keyFile: join(uploadsDir, uploadId, 'key') }))
      // A part PUT after an abort or completion recreates a directory without its key: no upload.
      .filter((u) => existsSync(u.keyFile))
      .map((u) => ({ ...u, key: readFileSync(u.keyFile, 'utf8'), initiated: statSync(u.keyFile).mtime }))
      .filter((u) => u.key.startsWith(prefix))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const items = uploads
      .map((u) => `<Upload><Key>${xml(u.key)}</Key><UploadId>${u.uploadId}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated></Upload>`)
      .join('');
    send(res, 200, `<ListMultipartUploadsResult><Bucket>${xml(bucket)}</Bucket><Prefix>${xml(prefix)}</Prefix><IsTruncated>false</IsTruncated>${items}</ListMultipartUploadsResult>`);
    return true;
  }
  const uploadId = url.searchParams.get('uploadId');
  if (req.method === 'DELETE' && keyParts.length > 0 && uploadId) {
    const dir = join(uploadsDir, uploadId);
    if (!/^[0-9a-f]+$/.test(uploadId) || !existsSync(join(dir, 'key'))) {
      send(res, 404, `<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><UploadId>${xml(uploadId)}</UploadId></Error>`);
    } else {
      rmSync(dir, { recursive: true, force: true });
      res.writeHead(204).end();
    }
    req.resume();
    return true;
  }
  return false;
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

const xml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
