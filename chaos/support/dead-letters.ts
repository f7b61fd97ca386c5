/**
 * Dead letters as an operator meets them (API.md, Admin): listed, replayed in bulk, and
 * made on purpose — stream entries Postgres refuses every time, events no consumer can
 * read, and a validation whose object is missing until the test puts it back.
 */
import amqp from 'amqplib';
import { randomUUID } from 'node:crypto';
import { loadEnv, Naming } from '@flotilla/config';
import { DatasetEvents, Streams, type DeadLetter, type DeadLetterPage } from '@flotilla/contracts';
import { createRedisClient, topologyNames, waitUntilReady } from '@flotilla/messaging';
import { png } from '@flotilla/samples';
import { ObjectStorage, StorageEnv } from '@flotilla/storage';
import { publishSigned, TEST_AMQP_URL, TEST_REDIS_URL, waitFor } from '@flotilla/testing';
import type { ApiClient, ApiResponse, Platform } from '../../e2e/support/platform.js';

export interface Poisoned {
  count: number;
  /** Markers found in the payload of the letters that must fail again. */
  hopeless: string[];
  /** Markers of the letters that pass once `repair()` ran. */
  repairable: string[];
  repair(): Promise<void>;
}

/** Whether the letter's payload holds one of `markers`. */
export const holds = (d: DeadLetter, markers: string[]): boolean => markers.some((m) => JSON.stringify(d.payload ?? '').includes(m));

export class DeadLetterDesk {
  constructor(
    private readonly api: ApiClient,
    private readonly token: string,
  ) {}

  async list(): Promise<DeadLetterPage> {
    const res = await this.api.request<DeadLetterPage>('GET', '/api/v1/admin/dead-letters?limit=100', { token: this.token });
    if (res.status !== 200) throw new Error(`GET /admin/dead-letters answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  replay(ids: string[]): Promise<ApiResponse<{ matched?: number; replayed?: number }>> {
    return this.api.request('POST', '/api/v1/admin/dead-letters/replay', { token: this.token, body: { ids } });
  }

  /** Waits until `count` letters are listed as `dead`, and returns them. */
  async waitForDead(count: number): Promise<DeadLetter[]> {
    return waitFor(
      async () => {
        const dead = (await this.list()).items.filter((d) => d.status === 'dead');
        return dead.length >= count ? dead : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: `${count} dead letters listed` },
    );
  }

  /**
   * Waits until every one of `ids` was sent back and has come to rest: those whose payload
   * holds one of `hopeless` dead again after their replay, the others `replayed` (or dead
   * again). Returns them as they are then, or when the time runs out.
   */
  async waitForSettled(ids: string[], hopeless: string[]): Promise<DeadLetter[]> {
    const mine = async (): Promise<DeadLetter[]> => (await this.list()).items.filter((d) => ids.includes(d.id));
    const deadAgain = (d: DeadLetter): boolean => d.status === 'dead' && d.history.some((h) => h.event === 'replayed') && d.history.at(-1)?.event === 'dead';
    const rested = (d: DeadLetter): boolean => (holds(d, hopeless) ? deadAgain(d) : d.status === 'replayed' || deadAgain(d));
    return waitFor(
      async () => {
        const letters = await mine();
        return letters.length === ids.length && letters.every(rested) ? letters : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: 'every replayed letter to come to rest' },
    ).catch(() => mine());
  }

  /**
   * Makes dead letters: `streamEntries` vote entries Postgres refuses every time (year 0 is
   * no timestamp), `malformedEvents` dataset.uploaded events with bad data, and one
   * validation of an object that is missing until `repair()` puts it in the platform's S3.
   */
  async poison(platform: Platform, { streamEntries, malformedEvents }: { streamEntries: number; malformedEvents: number }): Promise<Poisoned> {
    const naming = new Naming(platform.namespace);
    const hopeless: string[] = [];
    const redis = createRedisClient(TEST_REDIS_URL, { connectionName: 'dead-letter-desk' });
    await waitUntilReady(redis, 5000);
    try {
      for (let i = 0; i < streamEntries; i++) {
        const voteId = randomUUID();
        hopeless.push(voteId);
        await redis.xadd(naming.key(Streams.Votes), '*', 'voteId', voteId, 'pollId', 'cats-vs-dogs', 'option', 'cats', 'voterId', randomUUID(), 'ip', '192.0.2.1', 'userAgent', 'poison/1', 'requestId', randomUUID(), 'at', '0000-01-01T00:00:00Z');
      }
    } finally {
      redis.disconnect();
    }
    const envelope = (data: unknown, id = randomUUID()) => ({ id, type: DatasetEvents.Uploaded, occurredAt: new Date().toISOString(), source: 'upload', correlationId: randomUUID(), data });
    const datasetId = randomUUID();
    const jobId = randomUUID();
    const image = png({ width: 32, height: 32 });
    const key = `datasets/${datasetId}/${randomUUID()}/late.png`;
    const missing = envelope({
      datasetId,
      jobId,
      teamId: randomUUID(),
      profile: 'xray',
      options: {},
      queuedAt: new Date().toISOString(),
      files: [{ fileId: randomUUID(), filename: 'late.png', contentType: 'image/png', sizeBytes: image.length, key }],
    });
    const connection = await amqp.connect(TEST_AMQP_URL);
    try {
      const channel = await connection.createConfirmChannel();
      const exchange = topologyNames(naming, 'validator').eventsExchange;
      for (let i = 0; i < malformedEvents; i++) {
        const id = randomUUID();
        hopeless.push(id);
        publishSigned(channel, exchange, DatasetEvents.Uploaded, envelope({ datasetId: 'not-a-uuid', files: 'none' }, id), { persistent: true });
      }
      publishSigned(channel, exchange, DatasetEvents.Uploaded, missing, { persistent: true });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
    const storage = new ObjectStorage(loadEnv(StorageEnv, { S3_ENDPOINT: platform.s3!.endpoint, S3_BUCKET: `flotilla-${platform.namespace}` }));
    return {
      count: streamEntries + malformedEvents + 1,
      hopeless,
      repairable: [jobId],
      repair: () => storage.putObject(key, image, 'image/png'),
    };
  }
}
