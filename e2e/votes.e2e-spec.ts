import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from './support/platform.js';
import { expectBody, statusOf } from './support/typed-api.js';

interface Results {
  pollId: string;
  total: number;
  options: { option: string; count: number; percentage: number }[];
  updatedAt: string;
}

const USERS = 100;
const VOTES_PER_USER = 100;
const OPTIONS = ['red', 'green', 'blue', 'yellow'];

describe('votes end to end: login → vote → results', () => {
  // 100 voters sign in at once from one address: login attempts still being checked count
  // against the per-IP login limit (docs/THROTTLING.md), which this test is not about.
  const platform = new Platform({ RATE_LIMIT_PER_IP: '1000000', RATE_LIMIT_PER_USER: '100000', LOGIN_MAX_FAILURES_PER_IP: '100000' });
  let adminToken: string;
  let tokens: string[] = [];

  beforeAll(async () => {
    await platform.start();
    adminToken = await platform.api.login(ADMIN.email, ADMIN.password);
    const admin = platform.api.as(adminToken);
    const team = await expectBody<{ id: string }>(admin.POST('/api/v1/admin/teams', { body: { name: 'voters' } }), 201);
    const emails = Array.from({ length: USERS }, (_, i) => `voter${i}@e2e.test`);
    for (const email of emails) {
      await expectBody(admin.POST('/api/v1/admin/users', { body: { email, password: 'voter-password-123', teamId: team.id, role: 'member' } }), 201);
    }
    tokens = await Promise.all(emails.map((e) => platform.api.login(e, 'voter-password-123')));
  });

  afterAll(() => platform.stop());

  it('lists the default poll from the first start', async () => {
    const polls = await expectBody<{ items: { id: string; options: string[] }[] }>(platform.api.as(tokens[0]).GET('/api/v1/polls'), 200);
    expect(polls.items).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'cats-vs-dogs', options: ['cats', 'dogs'] })]));
  });

  it('a member votes on cats-vs-dogs and sees it counted', async () => {
    const member = platform.api.as(tokens[0]);
    const vote = await expectBody(member.POST('/api/v1/polls/{pollId}/votes', { params: { path: { pollId: 'cats-vs-dogs' } }, body: { option: 'cats' } }), 202);
    expect(vote).toMatchObject({ pollId: 'cats-vs-dogs', option: 'cats' });
    const results = await waitFor(
      async () => {
        const r = await expectBody<Results>(member.GET('/api/v1/polls/{pollId}/results', { params: { path: { pollId: 'cats-vs-dogs' } } }), 200);
        return r.total === 1 ? r : undefined;
      },
      { what: 'the vote to be counted' },
    );
    expect(results.options).toEqual([
      { option: 'cats', count: 1, percentage: 100 },
      { option: 'dogs', count: 0, percentage: 0 },
    ]);
  });

  it('refuses unknown polls (404), unknown options (422) and members creating polls (403)', async () => {
    const member = platform.api.as(tokens[0]);
    const vote = (pollId: string, option: string) => statusOf(member.POST('/api/v1/polls/{pollId}/votes', { params: { path: { pollId } }, body: { option } }));
    expect(await vote('no-such-poll', 'cats')).toBe(404);
    expect(await vote('Bad..Id', 'cats')).toBe(404);
    expect(await vote('cats-vs-dogs', 'hamsters')).toBe(422);
    expect(await statusOf(member.GET('/api/v1/polls/{pollId}/results', { params: { path: { pollId: 'no-such-poll' } } }))).toBe(404);
    expect(await statusOf(member.POST('/api/v1/polls', { body: { id: 'x1', question: 'q', options: ['a', 'b'] } }))).toBe(403);
  });

  it('an admin creates a poll; a duplicate id is 409; bad polls are 400', async () => {
    const admin = platform.api.as(adminToken);
    const created = await expectBody(admin.POST('/api/v1/polls', { body: { id: 'colours', question: 'Favourite colour?', options: OPTIONS } }), 201);
    expect(created).toMatchObject({ id: 'colours', options: OPTIONS });
    expect(await statusOf(admin.POST('/api/v1/polls', { body: { id: 'colours', question: 'Again?', options: ['a', 'b'] } }))).toBe(409);
    expect(await statusOf(admin.POST('/api/v1/polls', { body: { id: 'one', question: 'q', options: ['only'] } }))).toBe(400);
    expect(await statusOf(admin.POST('/api/v1/polls', { body: { id: '-bad', question: 'q', options: ['a', 'b'] } }))).toBe(400);
  });

  it(`${USERS * VOTES_PER_USER} votes from ${USERS} users, vote-consumer SIGKILLed mid-flood: results equal the recount of each user's last vote`, async () => {
    const last = new Map<number, string>();
    let accepted = 0;
    let refused = 0;
    let sent = 0;
    const started = Date.now();
    const killAt = Math.floor((USERS * VOTES_PER_USER) / 3);
    let killed = false;
    const restart = async (): Promise<void> => {
      await platform.voteConsumer.kill();
      await new Promise((r) => setTimeout(r, 500));
      await platform.voteConsumer.start();
    };
    let restarting: Promise<void> | undefined;
    await Promise.all(
      tokens.map(async (token, user) => {
        const voter = platform.api.as(token);
        for (let i = 0; i < VOTES_PER_USER; i++) {
          const option = OPTIONS[(user * 7 + i * 3 + (i % 5)) % OPTIONS.length]!;
          sent++;
          if (!killed && sent >= killAt) {
            killed = true;
            restarting = restart();
          }
          const status = await statusOf(voter.POST('/api/v1/polls/{pollId}/votes', { params: { path: { pollId: 'colours' } }, body: { option } }));
          if (status === 202) {
            accepted++;
            last.set(user, option);
          } else refused++;
        }
      }),
    );
    const seconds = (Date.now() - started) / 1000;
    await restarting;
    const expected = OPTIONS.map((option) => ({ option, count: [...last.values()].filter((o) => o === option).length }));
    const results = await waitFor(
      async () => {
        const r = await expectBody<Results>(platform.api.as(adminToken).GET('/api/v1/polls/{pollId}/results', { params: { path: { pollId: 'colours' } } }), 200);
        const counts = r.options.map(({ option, count }) => ({ option, count }));
        return JSON.stringify(counts) === JSON.stringify(expected) ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'results to equal the recount' },
    );
    // Printed for the record; the benchmark harness measures throughput properly.
    console.log(
      `votes sent ${sent}, accepted ${accepted}, refused ${refused}, voters ${last.size}, ` +
        `${(sent / seconds).toFixed(0)} votes/s through the gateway (1 client process, ${USERS} concurrent users), consumer SIGKILLed once`,
    );
    expect(refused).toBe(0);
    expect(results.total).toBe(USERS);
    expect(results.options.reduce((s, o) => s + o.percentage, 0)).toBeCloseTo(100, 0);
  });
});
