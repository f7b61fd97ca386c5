import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { png } from '@flotilla/samples';
import { waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from '../e2e/support/platform.js';
import { putFiles, startUpload, waitForVerdict, type StartBody } from '../e2e/support/datasets.js';
import { postgres, report, ServiceDb, sleep } from './support/chaos.js';
import { DeadLetterDesk, holds } from './support/dead-letters.js';

/**
 * RELIABILITY.md: Postgres stopped for 3 minutes under a vote flood and dataset traffic —
 * nothing dead-lettered because of the outage; afterwards every accepted vote is counted
 * once, tallies equal the recount, the request log has every request. Then every dead
 * letter replayed twice at once, some of them failing again — each sent once per
 * replay; a letter that dies again is back as `dead` with its new error, none dropped.
 *
 * The consumers give up on a message after 3 deliveries, 1 s apart: without telling an
 * outage from a bad message, 3 minutes would dead-letter every entry pending.
 */
const OUTAGE_MS = 180_000;
const VOTERS = 10;
const POLL = 'outage-poll';
const OPTIONS = ['north', 'south', 'east'];

describe('fault: Postgres stopped for 3 minutes under a vote flood and dataset traffic', () => {
  const platform = new Platform(
    {
      RATE_LIMIT_PER_USER: '10000000',
      RATE_LIMIT_PER_IP: '100000000',
      VOTE_MAX_DELIVERIES: '3',
      VOTE_CLAIM_IDLE_MS: '1000',
      VOTE_BLOCK_MS: '200',
      VALIDATION_MAX_ATTEMPTS: '3',
      VALIDATION_RETRY_DELAY_MS: '1000',
      DEAD_LETTER_POLL_MS: '300',
    },
    ['gateway', 'vote-consumer', 'upload', 'validator', 'admin'],
  );
  let admin: string;
  const tokens: string[] = [];

  beforeAll(async () => {
    await platform.start();
    admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'enduring' } });
    expect((await platform.api.request('POST', '/api/v1/polls', { token: admin, body: { id: POLL, question: 'Which way?', options: OPTIONS } })).status).toBe(201);
    for (let i = 0; i < VOTERS; i++) {
      await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email: `o${i}@chaos.test`, password: 'member-password-123', teamId: team.body.id, role: 'member' } });
      tokens.push(await platform.api.login(`o${i}@chaos.test`, 'member-password-123'));
    }
  }, 180_000);

  afterAll(() => platform.stop());

  /** A request tagged with an id of the client's own, so the request log can be checked against it. */
  async function tagged<T = Record<string, unknown>>(answered: Set<string>, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: T }> {
    const id = randomUUID();
    try {
      const res = await platform.api.request<T>(method, path, { token, body, headers: { 'x-request-id': id } });
      answered.add(id);
      return res;
    } catch {
      return { status: 0, body: {} as T };
    }
  }

  it('dead-letters nothing, counts every accepted vote once, and logs every request', async () => {
    const answered = new Set<string>();
    const accepted = new Map<string, { voter: number; option: string }>();
    const lastOption = new Map<number, string>();
    const refused = new Map<number, number>();
    let acceptedDuring = 0;
    let down = false;
    let flowing = true;

    const voting = Promise.all(
      tokens.map(async (token, voter) => {
        for (let n = 0; flowing; n++) {
          const option = OPTIONS[(voter * 7 + n * (voter + 1)) % OPTIONS.length]!;
          const res = await tagged<{ voteId: string }>(answered, 'POST', `/api/v1/polls/${POLL}/votes`, token, { option });
          if (res.status === 202) {
            accepted.set(res.body.voteId, { voter, option });
            lastOption.set(voter, option);
            if (down) acceptedDuring++;
          } else refused.set(res.status, (refused.get(res.status) ?? 0) + 1);
          await sleep(100);
        }
      }),
    );

    // Dataset traffic: one dataset after another, each step retried until taken.
    const datasets: string[] = [];
    const datasetRefusals = new Map<number, number>();
    const until2xx = async <T,>(step: () => Promise<{ status: number; body: T }>): Promise<T> => {
      for (;;) {
        const res = await step();
        if (res.status >= 200 && res.status < 300) return res.body;
        datasetRefusals.set(res.status, (datasetRefusals.get(res.status) ?? 0) + 1);
        await sleep(1000);
      }
    };
    const uploading = (async () => {
      for (let i = 0; flowing; i++) {
        const image = { filename: `scan-${i}.png`, contentType: 'image/png', content: png({ width: 64 + i, height: 64 }) };
        const files = [image, { filename: 'manifest.csv', contentType: 'text/csv', content: Buffer.from(`filename,label\n${image.filename},normal\n`) }];
        const start = await until2xx(async () => {
          try {
            return { status: 201, body: await startUpload(platform.api, tokens[0]!, `outage-${i}`, 'xray', files) };
          } catch {
            return { status: 503, body: undefined as unknown as StartBody };
          }
        });
        await putFiles(start, files);
        await until2xx(() => tagged(answered, 'POST', '/api/v1/upload/complete', tokens[0]!, { datasetId: start.datasetId }));
        datasets.push(start.datasetId);
        await sleep(3000);
      }
    })();

    let stoppedFor = 0;
    try {
      await sleep(5000);
      const stoppedAt = Date.now();
      down = true;
      await postgres.stop();
      try {
        await sleep(OUTAGE_MS);
      } finally {
        await postgres.start();
        down = false;
        stoppedFor = Date.now() - stoppedAt;
      }
      await sleep(10_000);
    } finally {
      flowing = false;
      await Promise.all([voting, uploading]);
    }

    const verdicts: string[] = [];
    for (const id of datasets) verdicts.push(await waitForVerdict(platform.api, tokens[0]!, id, 180_000).then((v) => v.status, () => 'unfinished'));
    const votes = await ServiceDb.open(platform.namespace, 'votes');
    const adminDb = await ServiceDb.open(platform.namespace, 'admin');
    try {
      const ids = [...accepted.keys()];
      await waitFor(async () => (await votes.scalar('SELECT count(DISTINCT vote_id) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [ids])) === ids.length, {
        timeoutMs: 180_000,
        intervalMs: 1000,
        what: 'every accepted vote in the audit',
      }).catch(() => undefined);
      const requestIds = [...answered];
      const logged = async (): Promise<number> => adminDb.scalar('SELECT count(DISTINCT correlation_id) AS n FROM requests WHERE correlation_id = ANY($1::text[])', [requestIds]);
      await waitFor(async () => (await logged()) === requestIds.length, { timeoutMs: 180_000, intervalMs: 1000, what: 'every request in the request log' }).catch(() => undefined);
      const audited = await votes.scalar('SELECT count(*) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [ids]);
      const distinct = await votes.scalar('SELECT count(DISTINCT vote_id) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [ids]);
      // An option every voter moved away from keeps its tally row at 0.
      const tallies = Object.fromEntries((await votes.rows<{ option: string; n: string }>('SELECT option, count AS n FROM tallies WHERE poll_id = $1 AND count <> 0', [POLL])).map((r) => [r.option, Number(r.n)]));
      const recount = Object.fromEntries((await votes.rows<{ option: string; n: string }>('SELECT option, count(*) AS n FROM ballots WHERE poll_id = $1 GROUP BY option', [POLL])).map((r) => [r.option, Number(r.n)]));
      const expected = [...lastOption.values()].reduce<Record<string, number>>((acc, o) => ({ ...acc, [o]: (acc[o] ?? 0) + 1 }), {});
      const requestsLogged = await logged();
      const letters = await new DeadLetterDesk(platform.api, admin).list();
      const sum = (m: Map<number, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

      report(
        `Postgres stopped for ${(stoppedFor / 1000).toFixed(1)} s under a vote flood and dataset traffic`,
        {
          sent: accepted.size + sum(refused) + datasets.length,
          found: distinct + verdicts.filter((v) => v === 'passed').length,
          duplicated: audited - distinct,
          errors: sum(refused) + sum(datasetRefusals),
          'votes accepted': accepted.size,
          'of them while Postgres was down': acceptedDuring,
          'dead letters': letters.total,
          'requests answered': requestIds.length,
          'requests in the log': requestsLogged,
        },
        [
          `tallies ${JSON.stringify(tallies)}; recount from ballots ${JSON.stringify(recount)}; client's last votes ${JSON.stringify(expected)}`,
          `votes refused by status ${JSON.stringify(Object.fromEntries(refused))}; dataset steps refused by status ${JSON.stringify(Object.fromEntries(datasetRefusals))}; verdicts ${JSON.stringify(verdicts.reduce<Record<string, number>>((acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }), {}))}`,
          `dead letters: ${letters.items.map((d) => `${d.source} "${d.error}"`).join('; ') || 'none'}`,
        ],
      );
      expect(acceptedDuring).toBeGreaterThan(0);
      expect(letters.total).toBe(0);
      expect([audited, distinct]).toEqual([accepted.size, accepted.size]);
      expect(tallies).toEqual(recount);
      expect(recount).toEqual(expected);
      expect(requestsLogged).toBe(requestIds.length);
      expect(verdicts).toEqual(datasets.map(() => 'passed'));
    } finally {
      await votes.close();
      await adminDb.close();
    }
  });

  it('every dead letter replayed twice at once: each sent once, those that fail again back as dead, none dropped', async () => {
    const desk = new DeadLetterDesk(platform.api, admin);
    const made = await desk.poison(platform, { streamEntries: 3, malformedEvents: 2 });
    const before = await desk.waitForDead(made.count);
    const ids = before.map((d) => d.id);
    // One of them can pass now: its missing object is put back before the replay.
    await made.repair();

    const [first, second] = await Promise.all([desk.replay(ids), desk.replay(ids)]);
    const after = await desk.waitForSettled(ids, made.hopeless);
    const sentTwice = after.filter((d) => d.replays !== 1 || d.history.filter((h) => h.event === 'replayed').length !== 1);
    const hopeless = after.filter((d) => holds(d, made.hopeless));
    const repaired = after.filter((d) => holds(d, made.repairable));
    const backDead = after.filter((d) => d.status === 'dead' && d.history.some((h) => h.event === 'replayed'));
    const all = await desk.list();
    const replayed = (first.body.replayed ?? 0) + (second.body.replayed ?? 0);

    report(
      `every dead letter (${ids.length}) replayed twice at once`,
      {
        sent: ids.length,
        found: replayed,
        duplicated: sentTwice.length,
        errors: backDead.length,
        answers: `${first.status} ${JSON.stringify(first.body)} / ${second.status} ${JSON.stringify(second.body)}`,
        'letters listed after': all.total,
      },
      after.map((d) => `${d.kind} ${d.source}: ${d.status}, replays ${d.replays}, error "${d.error}", history ${d.history.map((h) => h.event).join(' → ')}`),
    );
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(replayed).toBe(ids.length);
    expect(sentTwice.map((d) => d.id)).toEqual([]);
    // The poison fails again: back as dead with its new error; the repaired one stays replayed; none dropped.
    expect(hopeless.length).toBe(made.hopeless.length);
    expect(hopeless.filter((d) => d.status !== 'dead' || !d.history.some((h) => h.event === 'replayed'))).toEqual([]);
    expect(repaired.map((d) => d.status)).toEqual(['replayed']);
    expect(all.total).toBe(ids.length);
  });
});
