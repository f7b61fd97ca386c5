import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { Naming } from '@flotilla/config';
import { createRedisClient } from '@flotilla/messaging';
import { PrivateRedis, TEST_DATABASE_URL, uniqueNamespace, waitFor } from '@flotilla/testing';
import { raiseTokenVersion, TokenVersions } from '../src/identity/token-versions.js';
import { User } from '../src/identity/user.entity.js';

/**
 * Token versions against a real Postgres and a Redis of the test's own (so it can be
 * stopped): raised in a transaction, published so another instance sees them, never
 * lowered, and read from Postgres while Redis is away.
 */
describe('TokenVersions', () => {
  const ns = uniqueNamespace();
  const schema = `${ns}_identity`;
  const naming = new Naming(ns);
  const redisServer = new PrivateRedis();
  let dataSource: DataSource;
  let redis: Redis;
  let otherRedis: Redis;
  /** This instance, which raises and publishes. */
  let here: TokenVersions;
  /** Another gateway instance, which only checks. */
  let there: TokenVersions;

  const addUser = async (): Promise<string> => {
    const id = randomUUID();
    await dataSource.query(`INSERT INTO users (id, email, password_hash, role) VALUES ($1, $2, 'x', 'member')`, [id, `${id}@versions.test`]);
    return id;
  };
  const raise = (id: string): Promise<number> => dataSource.transaction(async (m) => (await raiseTokenVersion(m, id))!);

  beforeAll(async () => {
    await redisServer.start();
    dataSource = await new DataSource({ type: 'postgres', url: TEST_DATABASE_URL, entities: [User], extra: { options: `-c search_path=${schema}` } }).initialize();
    await dataSource.query(`CREATE SCHEMA ${schema}`);
    await dataSource.query(`CREATE TABLE users (id uuid PRIMARY KEY, email text NOT NULL, password_hash text NOT NULL, role text NOT NULL, team_id uuid,
      disabled boolean NOT NULL DEFAULT false, token_version integer NOT NULL DEFAULT 0, created_at timestamptz NOT NULL DEFAULT now())`);
    // As the services connect: fail fast while Redis is away.
    redis = createRedisClient(redisServer.url);
    otherRedis = createRedisClient(redisServer.url);
    here = new TokenVersions(redis, naming, dataSource);
    there = new TokenVersions(otherRedis, naming, dataSource);
  });

  afterAll(async () => {
    here.onModuleDestroy();
    there.onModuleDestroy();
    redis.disconnect();
    otherRedis.disconnect();
    await dataSource.query(`DROP SCHEMA ${schema} CASCADE`);
    await dataSource.destroy();
    await redisServer.stop();
  });

  it('a raised and published version refuses older tokens at once here, and on another instance at its next refresh', async () => {
    const id = await addUser();
    expect(await there.check.isCurrent(id, 0, false)).toBe(true);
    const version = await raise(id);
    expect(version).toBe(1);
    await here.publish(id, version);
    expect(here.check.isCurrent(id, 0, false)).toBe(false);
    expect(await redis.get(naming.key(`auth:token-version:${id}`))).toBe('1');
    expect(await redis.pttl(naming.key(`auth:token-version:${id}`))).toBeGreaterThan(86_400_000);
    // The other instance knew version 0 as fresh; within its stale bound it asks again.
    const since = Date.now();
    await waitFor(async () => (await there.check.isCurrent(id, 0, false)) === false, { timeoutMs: 5000, intervalMs: 50, what: 'the other instance to refuse version 0' });
    expect(Date.now() - since).toBeLessThan(5000);
    expect(await there.check.isCurrent(id, 1, false)).toBe(true);
  });

  it('never lowers a published version', async () => {
    const id = await addUser();
    await here.publish(id, 3);
    await here.publish(id, 2);
    expect(await redis.get(naming.key(`auth:token-version:${id}`))).toBe('3');
  });

  it('with Redis away: versions are read from Postgres, and a publish that failed is repeated once Redis is back', async () => {
    const id = await addUser();
    const version = await raise(id);
    await redisServer.stop();
    try {
      // Never seen by the other instance, Redis unreachable: Postgres says version 1.
      expect(await there.check.isCurrent(id, 0, false)).toBe(false);
      expect(await there.check.isCurrent(id, 1, false)).toBe(true);
      await here.publish(id, version); // does not throw
    } finally {
      await redisServer.start();
    }
    await waitFor(async () => (await redis.get(naming.key(`auth:token-version:${id}`)).catch(() => null)) === '1', {
      timeoutMs: 10_000,
      what: 'the failed publish to be repeated',
    });
  });
});
