import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { BaseEnv, FlotillaConfigModule } from '@flotilla/config';
import { ObservabilityModule } from '@flotilla/observability';
import { PrivateRedis, testEnv, uniqueNamespace, waitFor } from '@flotilla/testing';
import type { Redis } from 'ioredis';
import { isRedisUnavailable, REDIS, RedisModule, waitUntilReady } from '../src/index.js';
import { blockingReader } from '../src/redis/redis-client.js';

const COMMAND_TIMEOUT_MS = 400;

/** What a command came to: its reply, its error, or nothing within `ms` (it hangs). */
async function outcome(command: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${ms} ms`), ms);
  });
  try {
    return await Promise.race([command.then((reply) => ({ reply }), (error: unknown) => error), guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** The server's process id, from the server itself (never the machine's Redis: this is a private one). */
async function serverPid(redis: Redis): Promise<number> {
  const info = await redis.info('server');
  return Number(/process_id:(\d+)/.exec(info)?.[1]);
}

describe('Redis command timeouts', () => {
  const namespace = uniqueNamespace();
  const server = new PrivateRedis();
  let app: INestApplicationContext;
  let redis: Redis;
  let pid = 0;
  let paused = false;

  const pause = (): void => {
    process.kill(pid, 'SIGSTOP');
    paused = true;
  };
  const resume = (): void => {
    if (paused) process.kill(pid, 'SIGCONT');
    paused = false;
  };

  beforeAll(async () => {
    await server.start();
    @Module({
      imports: [
        FlotillaConfigModule.forRoot(BaseEnv, testEnv(namespace, { REDIS_URL: server.url, REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) })),
        ObservabilityModule,
        RedisModule.forRoot({ connectionName: 'timeouts-test' }),
      ],
    })
    class TestModule {}
    app = await NestFactory.createApplicationContext(TestModule, { logger: false, abortOnError: false });
    redis = app.get<Redis>(REDIS);
    pid = await serverPid(redis);
    expect(pid).toBeGreaterThan(0);
  });

  afterAll(async () => {
    resume();
    await app?.close();
    await server.remove();
  });

  it('hole 5: a command to a Redis that hangs (SIGSTOP) rejects as unavailable instead of waiting for ever', async () => {
    await redis.set(`${namespace}:k`, 'v');
    pause();
    try {
      const result = await outcome(redis.get(`${namespace}:k`), COMMAND_TIMEOUT_MS + 5000);
      expect(result).toBeInstanceOf(Error);
      expect((result as Error).message).toMatch(/timed out/i);
      expect(isRedisUnavailable(result)).toBe(true);
    } finally {
      resume();
    }
    // Once the server runs again, so does the client.
    await waitFor(async () => (await redis.get(`${namespace}:k`)) === 'v', { what: 'Redis answering again' });
  });

  it('hole 5: a blocking read waits its whole block time on a healthy Redis, and no longer on a hung one', async () => {
    const blockMs = COMMAND_TIMEOUT_MS * 3;
    const reader = blockingReader(redis, blockMs, 'timeouts-test:reader');
    try {
      expect(await waitUntilReady(reader, 5000)).toBe(true);
      const stream = `${namespace}:quiet`;
      // Nothing arrives: the read ends when its BLOCK does, with no entries, not with a timeout.
      expect(await outcome(reader.call('XREAD', 'BLOCK', blockMs, 'STREAMS', stream, '$'), blockMs + 5000)).toEqual({ reply: null });
      pause();
      try {
        const hung = await outcome(reader.call('XREAD', 'BLOCK', blockMs, 'STREAMS', stream, '$'), blockMs + COMMAND_TIMEOUT_MS + 5000);
        expect(hung).toBeInstanceOf(Error);
        expect(isRedisUnavailable(hung)).toBe(true);
      } finally {
        resume();
      }
    } finally {
      reader.disconnect();
    }
  });
});
