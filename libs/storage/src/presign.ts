import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * `getSignedUrl` after one turn of the event loop. Signing is CPU work that settles
 * through promise microtasks only: a burst of it (upload/start signs a URL per file, and
 * many starts run at once) would run as one block that holds off every socket read and
 * timer for seconds. The service's own Postgres and Redis clients would then time out
 * (their 3 s connect and command timeouts) on replies that had arrived, and a request
 * would answer 503 for a dependency that is up. A turn before each signature lets I/O in.
 */
export const presign: typeof getSignedUrl = async (client, command, options) => {
  await nextTurn();
  return getSignedUrl(client, command, options);
};
