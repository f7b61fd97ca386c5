import { createHash, createHmac } from 'node:crypto';

/**
 * AWS Signature V4 for a presigned URL, computed here from first principles (not by the
 * SDK that made the URL): what the signature binds is what S3 enforces, so recomputing it
 * for another method, length, type or key shows whether S3 would accept that request.
 */
export interface PresignedRequest {
  method: string;
  url: URL;
  /** Header values to sign for the headers the URL lists in X-Amz-SignedHeaders (host is taken from the URL). */
  headers: Record<string, string>;
}

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const sha256hex = (data: string): string => createHash('sha256').update(data).digest('hex');
const rfc3986 = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The signature S3 would expect for `request`, signed with `secretAccessKey`. */
export function expectedSignature(request: PresignedRequest, secretAccessKey: string): string {
  const q = request.url.searchParams;
  const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
  const amzDate = q.get('X-Amz-Date') ?? '';
  const scope = (q.get('X-Amz-Credential') ?? '').split('/').slice(1).join('/');
  const [date, region, service] = scope.split('/');
  const query = [...q.entries()]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headerValue = (name: string): string => (name === 'host' ? request.url.host : (request.headers[name] ?? '')).trim();
  const canonical = [
    request.method,
    request.url.pathname,
    query,
    signedHeaders.map((h) => `${h}:${headerValue(h)}\n`).join(''),
    signedHeaders.join(';'),
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date!), region!), service!), 'aws4_request');
  return createHmac('sha256', key).update(toSign).digest('hex');
}

/** Whether S3 would take `request` with this URL's signature. */
export function signatureAccepts(request: PresignedRequest, secretAccessKey: string): boolean {
  return expectedSignature(request, secretAccessKey) === request.url.searchParams.get('X-Amz-Signature');
}
