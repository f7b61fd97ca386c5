import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { handleListParts } from './embedded-s3-list-parts.js';
import { handleMultipartUploads } from './embedded-s3-multipart.js';
import { EMBEDDED_S3_CREDENTIALS } from './storage.env.js';

export interface EmbeddedS3Options {
  /** Port to listen on; 0 (the default) takes a free one. */
  port?: number;
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Where objects are kept, as files; kept on close. Default: a fresh temporary directory, removed on close. */
  directory?: string;
  /** Buckets to create before it answers (each service also creates its own bucket at start). */
  buckets?: string[];
}

export interface EmbeddedS3 {
  /** `http://host:port`, for `S3_ENDPOINT`. */
  endpoint: string;
  directory: string;
  /** The credentials it accepts (the `StorageEnv` defaults). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Stops listening, then removes the directory if it was a temporary one. */
  close(): Promise<void>;
}

/**
 * Starts an S3 in this process (s3rver), for local runs and tests, and resolves once it
 * listens. It accepts only the credentials S3RVER/S3RVER, but does not verify signatures
 * nor the signed Content-Length and Content-Type (it does check a presigned URL's
 * expiry), so what presigned URLs allow is checked by the project's own tests. It has
 * AbortMultipartUpload, ListMultipartUploads and ListParts (added here, see
 * `embedded-s3-multipart` and `embedded-s3-list-parts`) but not lifecycle rules (501 NotImplemented);
 * completing an upload checks neither the parts' ETags nor the 5 MiB minimum, and the
 * object's ETag is the MD5 of the whole object rather than S3's `<hash>-<parts>`.
 */
export async function startEmbeddedS3(options: EmbeddedS3Options = {}): Promise<EmbeddedS3> {
  const temporary = !options.directory;
  const directory = options.directory ?? mkdtempSync(join(tmpdir(), 'flotilla-s3-'));
  mkdirSync(directory, { recursive: true });
  const host = options.host ?? '127.0.0.1';
  patchListObjectsV2();
  const server = new S3rver({
    directory,
    silent: true,
    // Path-style only: otherwise any host name that is not an IP address or `localhost`
    // (a Docker service name, a public name, `[::1]`) is taken for a bucket name.
    vhostBuckets: false,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  let http: Server;
  try {
    // Not s3rver's run(): its server reports a taken port as an unhandled 'error' event,
    // which ends the process instead of rejecting.
    await server.configureBuckets();
    const s3rver = server.callback();
    const store = (server as unknown as { store: Parameters<typeof handleMultipartUploads>[0] }).store;
    http = await listen(createServer((req, res) => handleMultipartUploads(store, req, res) || handleListParts(store, req, res) || void s3rver(req, res)), options.port ?? 0, host);
  } catch (error) {
    if (temporary) rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  const address = http.address() as AddressInfo;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  return {
    endpoint: `http://${hostInUrl}:${address.port}`,
    directory,
    credentials: { ...EMBEDDED_S3_CREDENTIALS },
    async close() {
      const closed = new Promise<void>((resolve, reject) => http.close((error) => (error ? reject(error) : resolve())));
      // Keep-alive connections and unread downloads would hold close() open.
      http.closeAllConnections();
      await closed;
      if (temporary) rmSync(directory, { recursive: true, force: true });
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

interface ListContext {
  query: Record<string, string | string[] | undefined>;
  body: unknown;
}

interface ListBucketResult {
  Marker?: string;
  NextMarker?: string;
  IsTruncated?: boolean;
  Contents: { Key: string; Owner?: unknown }[];
  CommonPrefixes: { Prefix: string }[];
  [field: string]: unknown;
}

type BucketController = { getBucket?: (ctx: ListContext) => Promise<void>; flotillaListV2?: true };

/**
 * s3rver 3.7 encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 (Node
 * 17 and later) no longer has: every listing longer than one page answered 500. This
 * answers ListObjectsV2 through s3rver's ListObjects (v1, paged by marker) instead, with
 * the last key (base64url) as the continuation token. Its router looks the handler up on
 * the controller module at each request, so replacing it there is enough.
 */
function patchListObjectsV2(): void {
  const controller = createRequire(import.meta.url)('s3rver/lib/controllers/bucket.js') as BucketController;
  const original = controller.getBucket;
  if (controller.flotillaListV2 || typeof original !== 'function') return;
  controller.flotillaListV2 = true;
  controller.getBucket = async (ctx: ListContext): Promise<void> => {
    const query = ctx.query;
    if (query['list-type'] !== '2') return original(ctx);
    const one = (name: string): string | undefined => {
      const value = query[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const token = one('continuation-token');
    const startAfter = token ? Buffer.from(token, 'base64url').toString('utf8') : one('start-after');
    const v1: Record<string, string | string[] | undefined> = { ...query };
    for (const name of ['list-type', 'continuation-token', 'start-after', 'fetch-owner']) delete v1[name];
    if (startAfter) v1.marker = startAfter;
    ctx.query = v1;
    await original(ctx);
    ctx.query = query;
    const { Marker: _marker, NextMarker, ...result } = (ctx.body as { ListBucketResult: ListBucketResult }).ListBucketResult;
    const contents = one('fetch-owner') === 'true' ? result.Contents : result.Contents.map(({ Owner: _owner, ...rest }) => rest);
    const last = NextMarker ?? contents.at(-1)?.Key ?? result.CommonPrefixes.at(-1)?.Prefix;
    ctx.body = {
      ListBucketResult: {
        ...result,
        StartAfter: token ? undefined : startAfter,
        ContinuationToken: token,
        NextContinuationToken: result.IsTruncated && last ? Buffer.from(last, 'utf8').toString('base64url') : undefined,
        KeyCount: contents.length + result.CommonPrefixes.length,
        Contents: contents,
      },
    };
  };
}
