import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PrivateRedis, waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from '../e2e/support/platform.js';
import { readiness, report, ServiceDb, sleep } from './support/chaos.js';

/**
 * RELIABILITY.md: Redis restarted — the gateway answers 503 for votes while it is down
 * and recovers without a restart. On a Redis of the test's own, persistent as the
 * deployment's, killed outright while votes flow: what was accepted is still persisted once.
 */
const VOTERS = 20;
const DOWN_MS = 6000;

describe('fault: Redis restarted while votes flow', () => {
  const redis = new PrivateRedis({ durable: true });
  let platform: Platform;
  const tokens: string[] = [];

  beforeAll(async () => {
    await redis.start();
    platform = new Platform({ REDIS_URL: redis.url, RATE_LIMIT_PER_USER: '1000000', RATE_LIMIT_PER_IP: '100000000', VOTE_CLAIM_IDLE_MS: '3000' }, ['gateway', 'vote-consumer']);
    await platform.start();
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'cached' } });
    for (let i = 0; i < VOTERS; i++) {
      await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email: `r${i}@chaos.test`, password: 'member-password-123', teamId: team.body.id, role: 'member' } });
      tokens.push(await platform.api.login(`r${i}@chaos.test`, 'member-password-123'));
    }
  }, 180_000);

  afterAll(async () => {
    await platform?.stop();
    await redis.remove();
  });

  it('answers 503 at once while Redis is down, takes votes again once it is back, and loses none it accepted', async () => {
    const pids = { gateway: platform.gateway.pid, 'vote-consumer': platform.voteConsumer.pid };
    const accepted = new Set<string>();
    const refused = new Map<number, number>();
    const slowestRefusalMs = { value: 0 };
    // Redis surely down: from the moment its process is gone to the moment it is started again.
    let downFrom = Infinity;
    let downUntil = Infinity;
    let flowing = true;
    let acceptedDuring = 0;

    const voting = Promise.all(
      tokens.map(async (token, i) => {
        let n = 0;
        while (flowing) {
          const started = Date.now();
          const res = await platform.api.request<{ voteId: string }>('POST', '/api/v1/polls/cats-vs-dogs/votes', { token, body: { option: (i + n++) % 2 ? 'cats' : 'dogs' } }).catch(() => ({ status: 0, body: { voteId: '' } }));
          if (res.status === 202) {
            accepted.add(res.body.voteId);
            if (started >= downFrom && Date.now() <= downUntil) acceptedDuring++;
          } else {
            refused.set(res.status, (refused.get(res.status) ?? 0) + 1);
            slowestRefusalMs.value = Math.max(slowestRefusalMs.value, Date.now() - started);
          }
          await sleep(30);
        }
      }),
    );

    await sleep(3000);
    const acceptedBefore = accepted.size;
    await redis.stop('SIGKILL');
    downFrom = Date.now();
    await sleep(1000);
    const readyDuring = { gateway: await readiness(platform.gateway.url), 'vote-consumer': await readiness(platform.voteConsumer.url) };
    await sleep(DOWN_MS - 1000);
    const refusedDuring = [...refused.values()].reduce((a, b) => a + b, 0);
    downUntil = Date.now();
    await redis.start();
    const backAt = Date.now();
    await waitFor(async () => accepted.size > acceptedBefore + acceptedDuring + 10, { timeoutMs: 30_000, what: 'votes to be accepted again' });
    const recoveredInMs = Date.now() - backAt;
    await waitFor(async () => (await readiness(platform.gateway.url)).status === 200 && (await readiness(platform.voteConsumer.url)).status === 200, { what: 'readiness to recover' });
    await sleep(2000);
    flowing = false;
    await voting;

    const db = await ServiceDb.open(platform.namespace, 'votes');
    try {
      await waitFor(async () => (await db.scalar('SELECT count(*) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [[...accepted]])) === accepted.size, {
        timeoutMs: 60_000,
        intervalMs: 500,
        what: 'every accepted vote in the audit',
      });
      const persisted = await db.scalar('SELECT count(*) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [[...accepted]]);
      const distinct = await db.scalar('SELECT count(DISTINCT vote_id) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [[...accepted]]);
      const restarted = Object.entries(pids).filter(([name, pid]) => platform.service(name as 'gateway').pid !== pid).map(([n]) => n);
      report(
        `Redis killed and restarted after ${DOWN_MS / 1000} s (private, append-only)`,
        {
          sent: accepted.size + [...refused.values()].reduce((a, b) => a + b, 0),
          found: persisted,
          duplicated: persisted - distinct,
          errors: [...refused.values()].reduce((a, b) => a + b, 0),
          accepted: accepted.size,
          'accepted while down': acceptedDuring,
          'slowest refusal ms': slowestRefusalMs.value,
          'votes again after ms': recoveredInMs,
          'services restarted': restarted.length,
        },
        [
          `refused by status: ${JSON.stringify(Object.fromEntries(refused))} (${refusedDuring} while down)`,
          `readiness while down: gateway ${readyDuring.gateway.status} (${readyDuring.gateway.down.join(', ')}), vote-consumer ${readyDuring['vote-consumer'].status} (${readyDuring['vote-consumer'].down.join(', ')})`,
        ],
      );
      expect([...refused.keys()].every((s) => s === 503)).toBe(true);
      expect(refusedDuring).toBeGreaterThan(0);
      expect(acceptedDuring).toBe(0);
      expect(slowestRefusalMs.value).toBeLessThan(2000);
      expect(readyDuring.gateway).toEqual({ status: 503, down: ['redis'] });
      expect(readyDuring['vote-consumer'].status).toBe(503);
      expect(restarted).toEqual([]);
      expect([persisted, distinct]).toEqual([accepted.size, accepted.size]);
    } finally {
      await db.close();
    }
  });
});
