// Votes: ingest through the gateway, freshness of the results at half that rate, and
// the consumer draining a backlog written straight to the stream.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '@flotilla/testing';
import { loadSummary, voteLoad } from '../load.mjs';
import { voteFields } from '../raw-limits.mjs';
import { latencySummary, sleep } from '../stats.mjs';

/** Authenticated `POST /polls/cats-vs-dogs/votes` at `connections` connections, as fast as the gateway answers. */
export async function voteIngest(platform, { connections, seconds, tokens }) {
  // Warm-up: JIT, connection pools, the gateway's poll cache.
  await voteLoad(platform.service('gateway').url, { connections: Math.min(10, connections), seconds: 1, tokens });
  return loadSummary(await voteLoad(platform.service('gateway').url, { connections, seconds, tokens }));
}

/**
 * Load at `rate` votes/s on cats-vs-dogs while one probe voter flips its vote on a poll of
 * its own and reads the results until they show it: the time from the 202 to the results
 * reflecting the vote, per probe.
 */
export async function voteFreshness(platform, { connections, seconds, tokens, probeToken, adminToken, rate }) {
  const api = platform.api;
  const pollId = `bench-fresh-${randomUUID().slice(0, 8)}`;
  await api.call('POST', '/polls', { token: adminToken, body: { id: pollId, question: 'Freshness probe', options: ['a', 'b'] } });
  const load = voteLoad(platform.service('gateway').url, { connections, seconds, tokens, overallRate: rate });
  const samples = [];
  let failures = 0;
  const end = performance.now() + seconds * 1000 - 500;
  await sleep(300);
  for (let i = 0; performance.now() < end; i++) {
    const option = i % 2 === 0 ? 'a' : 'b';
    const vote = await api.request('POST', `/polls/${pollId}/votes`, { token: probeToken, body: { option } });
    if (vote.status !== 202) {
      failures++;
      continue;
    }
    const accepted = performance.now();
    for (;;) {
      const results = await api.request('GET', `/polls/${pollId}/results`, { token: probeToken });
      const count = results.body?.options?.find((o) => o.option === option)?.count;
      if (results.status === 200 && count === 1 && results.body.total === 1) {
        samples.push(performance.now() - accepted);
        break;
      }
      if (performance.now() - accepted > 10_000) {
        failures++;
        break;
      }
      await sleep(5);
    }
  }
  const background = loadSummary(await load);
  return { rate, probes: samples.length, failures, latency: latencySummary(samples), background };
}

/**
 * Stops the consumer, XADDs `entries` votes of `voters` voters on a poll of their own
 * straight to the stream, starts the consumer again and waits until the group has
 * delivered and acknowledged every entry; then checks the database: every entry once in
 * the audit (zero loss), one ballot per voter holding its last vote, tallies equal to
 * those ballots (zero double counts). The rate is the entries over the span of their
 * `recorded_at`, so the consumer's start-up is not in it.
 */
export async function voteDrain(platform, { entries, voters, adminToken }) {
  const pollId = `bench-drain-${randomUUID().slice(0, 8)}`;
  const options = ['yes', 'no'];
  await platform.api.call('POST', '/polls', { token: adminToken, body: { id: pollId, question: 'Drain', options } });
  const optionOf = (i) => options[(i * 7 + Math.floor(i / voters)) % 2];

  await platform.stopService('vote-consumer');
  const redis = new Redis(TEST_REDIS_URL);
  const stream = platform.naming.key('votes');
  const group = 'vote-processors';
  const filled = performance.now();
  const at = new Date().toISOString();
  for (let from = 0; from < entries; from += 5000) {
    const pipeline = redis.pipeline();
    for (let i = from; i < Math.min(entries, from + 5000); i++) {
      pipeline.xadd(stream, '*', ...voteFields({ pollId, option: optionOf(i), voterId: `drain-${i % voters}`, at }));
    }
    await pipeline.exec();
  }
  const fillSeconds = (performance.now() - filled) / 1000;
  const backlog = await redis.xlen(stream);

  const restarted = performance.now();
  const consumer = platform.service('vote-consumer');
  await consumer.start(120_000);
  let state;
  for (;;) {
    state = await groupState(redis, stream, group);
    if (state.drained) break;
    if (performance.now() - restarted > 30 * 60_000) throw new Error(`the backlog did not drain: ${JSON.stringify(state)}`);
    await sleep(250);
  }
  const wallSeconds = (performance.now() - restarted) / 1000;
  const deadLetters = await redis.xlen(`${stream}:dead`);
  redis.disconnect();

  const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await db.connect();
  try {
    const schema = platform.naming.schema('votes');
    const [audit] = (
      await db.query(
        `SELECT count(*)::int AS n, count(DISTINCT stream_id)::int AS distinct_ids,
                count(*) FILTER (WHERE rejected_reason IS NOT NULL)::int AS rejected,
                extract(epoch FROM max(recorded_at) - min(recorded_at))::float AS span
         FROM "${schema}".vote_events WHERE poll_id = $1`,
        [pollId],
      )
    ).rows;
    const tallies = Object.fromEntries((await db.query(`SELECT option, count::int AS n FROM "${schema}".tallies WHERE poll_id = $1`, [pollId])).rows.map((r) => [r.option, r.n]));
    const ballots = (await db.query(`SELECT voter_id, option FROM "${schema}".ballots WHERE poll_id = $1`, [pollId])).rows;
    // Each voter's last entry is the one with the highest index of its class modulo `voters`.
    const expected = Object.fromEntries(options.map((o) => [o, 0]));
    const lastOption = new Map();
    for (let v = 0; v < Math.min(voters, entries); v++) {
      const last = v + voters * Math.floor((entries - 1 - v) / voters);
      expected[optionOf(last)]++;
      lastOption.set(`drain-${v}`, optionOf(last));
    }
    const wrongBallots = ballots.filter((b) => lastOption.get(b.voter_id) !== b.option).length;
    const lost = entries - audit.n;
    const doubleCounted = options.reduce((sum, o) => sum + Math.abs((tallies[o] ?? 0) - expected[o]), 0) + wrongBallots + (audit.n - audit.distinct_ids);
    const span = audit.span > 0 ? audit.span : wallSeconds;
    return {
      entries,
      voters,
      backlog,
      fillSeconds,
      wallSeconds,
      span,
      rowsPerSecond: audit.n / span,
      persisted: audit.n,
      rejected: audit.rejected,
      deadLetters,
      lost,
      doubleCounted,
      tallies,
      expectedTallies: expected,
      ballots: ballots.length,
    };
  } finally {
    await db.end();
  }
}

/** Whether the group has been delivered everything in the stream and acknowledged it all. */
async function groupState(redis, stream, group) {
  const toRecord = (flat) => {
    const record = {};
    for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i]] = flat[i + 1];
    return record;
  };
  const info = toRecord(await redis.xinfo('STREAM', stream));
  const state = (await redis.xinfo('GROUPS', stream)).map(toRecord).find((g) => g.name === group);
  if (!state) return { drained: false };
  const pending = Number(state.pending);
  return { drained: pending === 0 && state['last-delivered-id'] === info['last-generated-id'], pending, lag: state.lag, lastDelivered: state['last-delivered-id'] };
}
