import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { DEFAULT_POLL, StreamGroups } from '@flotilla/contracts';
import { createRedisClient, fieldsToRecord, waitUntilReady } from '@flotilla/messaging';
import { freePort, ServiceProcess, testEnv, TEST_REDIS_URL, uniqueNamespace, waitFor } from '@flotilla/testing';
import { addVotes, cleanUp, pendingVotes, recount, voteFlood, VotesDb, votesStream, type SentVote } from './votes-harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const POLL = DEFAULT_POLL.id;
const OPTIONS = [...DEFAULT_POLL.options];

/** The service as production runs it: `node services/vote-consumer/dist/main.js`, built from the current sources. */
function build(): void {
  const result = spawnSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-b', 'services/vote-consumer'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tsc -b services/vote-consumer failed:\n${result.stdout}${result.stderr}`);
}

async function metricOf(service: ServiceProcess, name: string): Promise<number> {
  const text = await (await fetch(`${service.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[1] ?? 0);
}

describe('vote-consumer as a process: SIGKILL and SIGTERM during a flood', () => {
  const ns = uniqueNamespace();
  const stream = votesStream(ns);
  const env = testEnv(ns, { VOTE_CLAIM_IDLE_MS: '1500', VOTE_BLOCK_MS: '500', VOTE_BATCH_SIZE: '250', SHUTDOWN_GRACE_MS: '15000' });
  const sent: SentVote[] = [];
  let service: ServiceProcess;
  let redis: Redis;
  let db: VotesDb;

  const persisted = (): Promise<number> => db.scalar(`SELECT count(*) AS n FROM vote_events`);
  const drained = async (): Promise<boolean> => (await persisted()) === sent.length && (await pendingVotes(redis, stream)) === 0;

  beforeAll(async () => {
    build();
    service = new ServiceProcess('vote-consumer', await freePort(), env);
    await service.start();
    redis = createRedisClient(TEST_REDIS_URL, { connectionName: 'crash-test' });
    await waitUntilReady(redis, 5000);
    db = await VotesDb.open(ns);
  });

  afterAll(async () => {
    await service?.stop();
    await db?.close();
    redis?.disconnect();
    await cleanUp(ns, [['vote-consumer', 'votes']]);
  });

  it('SIGKILLed twice while 20,000 votes flow, restarted: every vote persisted once, tallies exact', async () => {
    const flood = voteFlood(POLL, OPTIONS, 100, 200);
    const killAt = [Math.floor(flood.length * 0.3), Math.floor(flood.length * 0.6)];
    const kills: { pendingAtKill: number; persistedAtKill: number }[] = [];
    for (let i = 0; i < flood.length; i += 500) {
      const chunk = flood.slice(i, i + 500);
      await addVotes(redis, stream, chunk);
      sent.push(...chunk);
      if (kills.length < killAt.length && sent.length >= killAt[kills.length]!) {
        // Kill it with batches in hand: read from the stream, not yet committed and acked. A
        // backlog of several batches first, so one is being handled and the next read ahead
        // whenever the kill lands (a lone batch commits in a few milliseconds).
        const backlog = flood.slice(i + 500, i + 2500);
        await addVotes(redis, stream, backlog);
        sent.push(...backlog);
        i += backlog.length;
        await waitFor(async () => (await pendingVotes(redis, stream)) > 0, { intervalMs: 5, what: 'a batch in flight' });
        await service.kill();
        kills.push({ pendingAtKill: await pendingVotes(redis, stream), persistedAtKill: await persisted() });
        // Votes keep coming while nobody consumes; then a new instance starts.
        const whileDown = flood.slice(i + 500, i + 1500);
        await addVotes(redis, stream, whileDown);
        sent.push(...whileDown);
        i += whileDown.length;
        await service.start();
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await waitFor(drained, { timeoutMs: 90_000, intervalMs: 200, what: 'every vote to be committed and acked' });

    const tallies = await db.tallies(POLL);
    expect(tallies).toEqual(recount(sent, POLL, OPTIONS));
    expect(await db.ballots(POLL, OPTIONS)).toEqual(tallies);
    expect(Object.values(tallies).reduce((a, b) => a + b, 0)).toBe(100);
    expect(await persisted()).toBe(sent.length);
    expect(await db.scalar(`SELECT count(DISTINCT stream_id) AS n FROM vote_events`)).toBe(sent.length);
    expect(kills.every((k) => k.pendingAtKill > 0)).toBe(true);
    // The killed instances' consumers hold nothing any more: their entries were reclaimed.
    const consumers = ((await redis.xinfo('CONSUMERS', stream, StreamGroups.VoteProcessors)) as unknown[][]).map((flat) => fieldsToRecord(flat));
    expect(consumers.every((c) => c.pending === '0')).toBe(true);

    const duplicatesSkipped = await metricOf(service, 'votes_duplicates_total');
    console.log(
      `SIGKILL x${kills.length}: votes sent ${sent.length}, persisted ${await persisted()}, duplicates in the audit 0, ` +
        `in flight at the kills ${kills.map((k) => k.pendingAtKill).join(' + ')} (redelivered via XAUTOCLAIM; ${duplicatesSkipped} already committed, skipped by the last instance), ` +
        `tallies ${JSON.stringify(tallies)} = recount = ballots`,
    );
  });

  it('SIGTERM drains: batches in hand commit and are acked before exit, the rest waits in the stream', async () => {
    const flood = voteFlood(POLL, OPTIONS, 100, 100, 7);
    const before = await persisted();
    await addVotes(redis, stream, flood);
    sent.push(...flood);
    await waitFor(async () => (await persisted()) > before, { intervalMs: 5, what: 'the consumer to start on the flood' });

    const started = Date.now();
    const code = await service.stop();
    const stopMs = Date.now() - started;
    // Not the forced exit (1) of a shutdown that overran SHUTDOWN_GRACE_MS.
    expect(code === 0 || code === null).toBe(true);
    // Nothing half done: whatever was read got committed and acknowledged.
    expect(await pendingVotes(redis, stream)).toBe(0);
    const atStop = await persisted();

    await service.start();
    await waitFor(drained, { timeoutMs: 90_000, intervalMs: 200, what: 'the rest to be committed' });
    const tallies = await db.tallies(POLL);
    expect(tallies).toEqual(recount(sent, POLL, OPTIONS));
    expect(await db.ballots(POLL, OPTIONS)).toEqual(tallies);
    console.log(
      `SIGTERM: stopped in ${stopMs} ms with 0 pending (${atStop - before} of ${flood.length} committed before exit, the rest after restart); ` +
        `total sent ${sent.length}, persisted ${await persisted()}, tallies ${JSON.stringify(tallies)} = recount`,
    );
  });
});
