import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Naming } from '@flotilla/config';
import { REDIS } from '@flotilla/messaging';

/** Another operation holds the store; the job is retried later. */
export class StoreBusyError extends Error {
  override readonly name = 'StoreBusyError';
}

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/**
 * One operation per store at a time, across every provisioner instance: a Redis key
 * with a random token and a TTL, renewed while the operation runs and released only
 * by its holder. A crashed holder's lock lapses after the TTL.
 */
@Injectable()
export class StoreLock {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly naming: Naming,
  ) {}

  /** Runs `work` holding the store's lock; throws {@link StoreBusyError} when another holder has it. */
  async withLock<T>(storeId: string, work: (lost: AbortSignal) => Promise<T>, ttlMs = 30_000): Promise<T> {
    const key = this.naming.key(`store-lock:${storeId}`);
    const token = randomUUID();
    if ((await this.redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') throw new StoreBusyError(`store ${storeId} is busy with another operation`);
    const lost = new AbortController();
    const renewal = setInterval(() => {
      this.redis.eval(EXTEND, 1, key, token, ttlMs).then(
        (held) => held === 1 || lost.abort(new StoreBusyError(`lost the lock of store ${storeId}`)),
        () => undefined, // Redis unreachable for a moment: the TTL leaves room for the next try
      );
    }, Math.floor(ttlMs / 3));
    try {
      return await work(lost.signal);
    } finally {
      clearInterval(renewal);
      await this.redis.eval(RELEASE, 1, key, token).catch(() => undefined);
    }
  }
}
