import { S3Client } from '@aws-sdk/client-s3';
import type { StorageEnv } from './storage.env.js';

/** How long connecting to S3 may take before the call fails as unavailable. */
const CONNECT_TIMEOUT_MS = 5000;
/**
 * How long a socket may sit idle (no bytes either way) before the call fails as unavailable.
 * It also applies to a `getStream` body its reader stops reading.
 */
const SOCKET_IDLE_TIMEOUT_MS = 60_000;
/**
 * Builds an S3 client for one endpoint ('' = the SDK's own AWS endpoint resolution). Checksums
 * only when an operation requires them: otherwise the SDK puts a CRC32 of a body it has not
 * seen into presigned PUT URLs, and S3 refuses the client's upload.
 */
export function createS3Client(env: StorageEnv, endpoint: string): S3Client {
  return new S3Client({
    region: env.S3_REGION,
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, socketTimeout: SOCKET_IDLE_TIMEOUT_MS },
  });
}
