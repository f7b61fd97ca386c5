import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from '../e2e/support/platform.js';
import { pool, report, ServiceDb, sleep } from './support/chaos.js';

/**
 * RELIABILITY.md: `vote-consumer` killed with SIGKILL three times while 100k votes flow —
 * every accepted vote persisted exactly once; tallies equal a recount from ballots.
 */
const USERS = 200;
const VOTES_PER_USER = 500;
const TOTAL = USERS * VOTES_PER_USER;
const OPTIONS = ['north', 'south', 'east', 'west'];
const POLL = 'chaos-compass';

/**
 * A user's i-th vote: drawn with unequal weights (4:3:2:1) from a hash of user and round,
 * so the final counts are uneven and differ from any earlier round's (a writer that kept
 * a first vote, or counted one twice, gets other numbers).
 */
function optionOf(user: number, i: number): string {
  let h = Math.imul(user * 100_003 + i + 1, 0x9e3779b1) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) >>> 0;
  const r = (h ^ (h >>> 13)) % 10;
  return OPTIONS[r < 4 ? 0 : r < 7 ? 1 : r < 9 ? 2 : 3]!;
}

describe('fault: vote-consumer SIGKILLed three times while 100k votes flow', () => {
  const platform = new Platform(
    { RATE_LIMIT_PER_IP: '100000000', RATE_LIMIT_PER_USER: '100000000', VOTE_CLAIM_IDLE_MS: '2000', VOTE_BLOCK_MS: '500', LOG_LEVEL: 'error' },
    ['gateway', 'vote-consumer'],
  );
  let tokens: string[] = [];
  let db: ServiceDb;

  beforeAll(async () => {
    await platform.start();
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'voters' } });
    expect((await platform.api.request('POST', '/api/v1/polls', { token: admin, body: { id: POLL, question: 'Which way?', options: OPTIONS } })).status).toBe(201);
    tokens = new Array<string>(USERS);
    await pool([...Array(USERS).keys()], 8, async (i) => {
      const email = `voter${i}@chaos.test`;
      await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email, password: 'voter-password-123', teamId: team.body.id, role: 'member' } });
      tokens[i] = await platform.api.login(email, 'voter-password-123');
    });
    db = await ServiceDb.open(platform.namespace, 'votes');
  }, 300_000);

  afterAll(async () => {
    await db?.close();
    await platform.stop();
  });

  it('persists every accepted vote exactly once, and the tallies equal the recount', async () => {
    const accepted = new Map<string, { user: number; option: string }>();
    const lastAccepted = new Map<number, string>();
    const refused = new Map<number, number>();
    const errors: string[] = [];
    const killAt = [0.25, 0.5, 0.75].map((f) => Math.floor(TOTAL * f));
    const kills: { atSent: number; downMs: number; persistedAtKill: number }[] = [];
    let sent = 0;
    let restarting: Promise<void> = Promise.resolve();
    const consumer = platform.voteConsumer;

    const killAndRestart = async (atSent: number): Promise<void> => {
      const persistedAtKill = await db.scalar('SELECT count(*) AS n FROM vote_events');
      const started = Date.now();
      await consumer.kill();
      await sleep(1000); // votes keep coming while nobody consumes
      await consumer.start();
      kills.push({ atSent, downMs: Date.now() - started, persistedAtKill });
    };

    const began = Date.now();
    await Promise.all(
      tokens.map(async (token, user) => {
        for (let i = 0; i < VOTES_PER_USER; i++) {
          const option = optionOf(user, i);
          sent++;
          if (killAt.length > 0 && sent >= killAt[0]!) {
            const at = killAt.shift()!;
            restarting = restarting.then(() => killAndRestart(at));
          }
          try {
            const res = await platform.api.request<{ voteId: string }>('POST', `/api/v1/polls/${POLL}/votes`, { token, body: { option } });
            if (res.status === 202) {
              accepted.set(res.body.voteId, { user, option });
              lastAccepted.set(user, option);
            } else refused.set(res.status, (refused.get(res.status) ?? 0) + 1);
          } catch (error) {
            errors.push(String(error));
          }
        }
      }),
    );
    const floodSeconds = (Date.now() - began) / 1000;
    await restarting;

    await waitFor(async () => (await db.scalar('SELECT count(*) AS n FROM vote_events')) >= accepted.size, { timeoutMs: 180_000, intervalMs: 500, what: 'every accepted vote in the audit' });
    await sleep(3000); // anything redelivered late would land now
    const rows = await db.rows<{ vote_id: string; option: string; n: string }>('SELECT vote_id, option, count(*) AS n FROM vote_events GROUP BY vote_id, option');
    const persisted = await db.scalar('SELECT count(*) AS n FROM vote_events');
    const duplicated = rows.filter((r) => Number(r.n) > 1).length + (persisted - rows.length);
    const persistedIds = new Set(rows.map((r) => r.vote_id));
    const missing = [...accepted.keys()].filter((id) => !persistedIds.has(id));
    const stray = rows.filter((r) => !accepted.has(r.vote_id)).length;
    const wrongOption = rows.filter((r) => accepted.get(r.vote_id) && accepted.get(r.vote_id)!.option !== r.option).length;

    const tallies = Object.fromEntries((await db.rows<{ option: string; count: string }>('SELECT option, count FROM tallies WHERE poll_id = $1', [POLL])).map((r) => [r.option, Number(r.count)]));
    const ballots = Object.fromEntries((await db.rows<{ option: string; n: string }>('SELECT option, count(*) AS n FROM ballots WHERE poll_id = $1 GROUP BY option', [POLL])).map((r) => [r.option, Number(r.n)]));
    const recount = Object.fromEntries(OPTIONS.map((o) => [o, [...lastAccepted.values()].filter((x) => x === o).length]));
    const normalise = (t: Record<string, number>) => Object.fromEntries(OPTIONS.map((o) => [o, t[o] ?? 0]));
    const results = await platform.api.request<{ total: number; options: { option: string; count: number }[] }>('GET', `/api/v1/polls/${POLL}/results`, { token: tokens[0] });

    report(
      'vote-consumer SIGKILL ×3 under 100k votes',
      {
        sent,
        found: persisted,
        duplicated,
        errors: errors.length + [...refused.values()].reduce((a, b) => a + b, 0),
        accepted: accepted.size,
        missing: missing.length,
        'not sent by us': stray,
        'wrong option': wrongOption,
      },
      [
        `flood ${floodSeconds.toFixed(1)} s (${(sent / floodSeconds).toFixed(0)} votes/s through the gateway, ${USERS} users); refused by status ${JSON.stringify(Object.fromEntries(refused))}`,
        `kills at ${kills.map((k) => `${k.atSent} sent (${k.persistedAtKill} persisted, down ${k.downMs} ms)`).join('; ')}`,
        `tallies ${JSON.stringify(normalise(tallies))} = ballots ${JSON.stringify(normalise(ballots))} = recount ${JSON.stringify(recount)}; API total ${results.body.total}`,
      ],
    );
    expect(kills).toHaveLength(3);
    expect(errors).toEqual([]);
    expect(accepted.size).toBe(TOTAL);
    expect(missing).toEqual([]);
    expect([persisted, duplicated, stray, wrongOption]).toEqual([accepted.size, 0, 0, 0]);
    expect(normalise(tallies)).toEqual(recount);
    expect(normalise(ballots)).toEqual(recount);
    expect(results.body.options.map((o) => [o.option, o.count])).toEqual(OPTIONS.map((o) => [o, recount[o]]));
  });
});
