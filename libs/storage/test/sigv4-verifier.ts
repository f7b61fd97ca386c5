import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac } from 'node:crypto';

/**
 * What S3 does with a presigned request, written independently of the SDK that signs:
 * rebuild the canonical request from the request actually sent (method, path, query,
 * the signed headers' values), sign it with the secret, compare, and check the expiry.
 * The embedded S3 skips all of this, so the tests use it to prove a URL's scope.
 */
export function verifyPresignedRequest(
  request: { method: string; url: string; headers: Record<string, string> },
  secretAccessKey: string,
  now = new Date(),
): { valid: true } | { valid: false; reason: string } {
  const url = new URL(request.url);
  const q = url.searchParams;
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return { valid: false, reason: 'not a SigV4 presigned URL' };
  const amzDate = q.get('X-Amz-Date') ?? '';
  const expires = Number(q.get('X-Amz-Expires'));
  const signedAt = Date.parse(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
  if (!Number.isFinite(signedAt) || !(expires > 0)) return { valid: false, reason: 'no date or expiry' };
  if (now.getTime() > signedAt + expires * 1000) return { valid: false, reason: 'expired' };
  const [, date, region, service] = (q.get('X-Amz-Credential') ?? '').split('/');
  const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';');
  const headers: Record<string, string> = { host: url.host };
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  for (const name of signedHeaders) if (headers[name] === undefined) return { valid: false, reason: `signed header ${name} not sent` };
  const query = [...q.entries()]
    .filter(([key]) => key !== 'X-Amz-Signature')
    .map(([key, value]) => [rfc3986(key), rfc3986(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const canonical = [
    request.method.toUpperCase(),
    url.pathname,
    query,
    signedHeaders.map((name) => `${name}:${String(headers[name]).trim().replace(/\s+/g, ' ')}\n`).join(''),
    signedHeaders.join(';'),
    'UNSIGNED-PAYLOAD',
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key: Buffer = Buffer.from(`AWS4${secretAccessKey}`);
  for (const part of [date!, region!, service!, 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return signature === q.get('X-Amz-Signature') ? { valid: true } : { valid: false, reason: 'signature does not match the request' };
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const hmac = (key: Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
const rfc3986 = (text: string): string => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * The signature the SDK's own signer (`@smithy/signature-v4`) gives `request` as sent,
 * signed again with the URL's date, expiry, scope and signed-header names: equal to the
 * URL's `X-Amz-Signature` exactly when S3 would accept the request (expiry aside). A
 * second opinion beside {@link verifyPresignedRequest}, from the reference implementation.
 */
export async function resignWithSdk(
  request: { method: string; url: string; headers: Record<string, string> },
  secretAccessKey: string,
): Promise<string> {
  const url = new URL(request.url);
  const q = url.searchParams;
  const [accessKeyId, , region, service] = (q.get('X-Amz-Credential') ?? '').split('/');
  const amzDate = q.get('X-Amz-Date') ?? '';
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const signedHeaders = new Set((q.get('X-Amz-SignedHeaders') ?? '').split(';'));
  const sent = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]));
  // What S3 reads: the signed headers as they arrive (a header not sent is simply absent).
  const headers: Record<string, string> = { host: url.host };
  for (const name of signedHeaders) if (name !== 'host' && sent[name] !== undefined) headers[name] = sent[name];
  // The presigner states the unsigned payload as this header, and the signer hoists it back into the query.
  headers['X-Amz-Content-Sha256'] = q.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of q.entries()) {
    if (key === 'X-Amz-Signature' || key === 'X-Amz-Content-Sha256') continue;
    const prior = query[key];
    query[key] = prior === undefined ? value : ([] as string[]).concat(prior, value);
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: accessKeyId!, secretAccessKey },
    region: region!,
    service: service!,
    sha256: Sha256,
    // S3 signs the path as it is in the URL, already encoded once.
    uriEscapePath: false,
  });
  const signed = await signer.presign(
    {
      method: request.method.toUpperCase(),
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers,
    },
    { signingDate, expiresIn: Number(q.get('X-Amz-Expires')), signableHeaders: signedHeaders },
  );
  return String(signed.query?.['X-Amz-Signature']);
}
