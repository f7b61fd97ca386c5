// The raw limits: what the platform's parts can do on this machine with nothing of the
// platform in between, measured in the same run as the scenarios they stand beside.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { TEST_AMQP_URL, TEST_DATABASE_URL, TEST_REDIS_URL } from '@flotilla/testing';
import { loadSummary, voteLoad } from './load.mjs';
import { ROOT, spawnWithFirstLine, stopChild } from './platform.mjs';
import { latencySummary, mapLimit, MiB, sequentialLatencies } from './stats.mjs';

/** A bare Fastify route that parses the same body and answers 202, driven exactly like the vote scenario. */
export async function bareRoute({ connections, seconds, tokens }) {
  const { child, line } = await spawnWithFirstLine(join(ROOT, 'bench/bare-route.mjs'));
  try {
    return loadSummary(await voteLoad(`http://127.0.0.1:${line.trim()}`, { connections, seconds, tokens }));
  } finally {
    await stopChild(child);
  }
}

/** The fields the gateway XADDs for one vote. */
export function voteFields({ voteId = randomUUID(), pollId = 'cats-vs-dogs', option = 'cats', voterId = randomUUID(), at = new Date().toISOString() } = {}) {
  return ['voteId', voteId, 'pollId', pollId, 'option', option, 'voterId', voterId, 'ip', '127.0.0.1', 'userAgent', 'flotilla-bench', 'requestId', randomUUID(), 'at', at];
}

/**
 * XADD of a vote's fields at `clients` concurrent connections without pipelining:
 * redis-benchmark when it is installed, else `clients` ioredis connections in a loop.
 */
export async function redisXadd({ naming, clients, requests, seconds }) {
  const key = naming.key('bench:raw-xadd');
  const url = new URL(TEST_REDIS_URL);
  const tool = spawnSync('redis-benchmark', ['--version'], { encoding: 'utf8' });
  try {
    if (tool.status === 0) {
      const args = ['-h', url.hostname, '-p', url.port || '6379', '-c', String(clients), '-n', String(requests), '--csv'];
      if (url.password) args.push('-a', decodeURIComponent(url.password), ...(url.username ? ['--user', decodeURIComponent(url.username)] : []));
      const child = spawn('redis-benchmark', [...args, 'XADD', key, '*', ...voteFields()], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (chunk) => (out += chunk));
      const [code] = await once(child, 'exit');
      const last = out.trim().split('\n').pop() ?? '';
      const cells = [...last.matchAll(/"([^"]*)"/g)].map((m) => m[1]);
      if (code !== 0 || cells.length < 7) throw new Error(`redis-benchmark failed (${code}): ${out}`);
      return { tool: 'redis-benchmark', clients, rps: Number(cells[1]), latency: { p50: Number(cells[4]), p95: Number(cells[5]), p99: Number(cells[6]) } };
    }
    const connections = Array.from({ length: clients }, () => new Redis(TEST_REDIS_URL));
    const samples = [];
    const end = performance.now() + seconds * 1000;
    await Promise.all(
      connections.map(async (redis) => {
        while (performance.now() < end) {
          const started = performance.now();
          await redis.xadd(key, '*', ...voteFields());
          samples.push(performance.now() - started);
        }
      }),
    );
    connections.forEach((c) => c.disconnect());
    return { tool: 'ioredis', clients, rps: samples.length / seconds, latency: latencySummary(samples) };
  } finally {
    const redis = new Redis(TEST_REDIS_URL);
    await redis.del(key);
    redis.disconnect();
  }
}

/** Rows shaped like `vote_events`, for the raw insert and the drain backlog alike. */
export function voteRows(count, offset = 0) {
  const at = new Date().toISOString();
  const rows = { streamId: [], voteId: [], pollId: [], option: [], voterId: [], ip: [], userAgent: [], requestId: [], at: [], rejected: [] };
  for (let i = offset; i < offset + count; i++) {
    rows.streamId.push(`1700000000000-${i}`);
    rows.voteId.push(randomUUID());
    rows.pollId.push('bench-drain');
    rows.option.push(i % 3 === 0 ? 'no' : 'yes');
    rows.voterId.push(`drain-voter-${i}`);
    rows.ip.push('127.0.0.1');
    rows.userAgent.push('flotilla-bench');
    rows.requestId.push(randomUUID());
    rows.at.push(at);
    rows.rejected.push(null);
  }
  return rows;
}

/**
 * `rows` rows in batches of `batch` with `unnest`, over `connections` connections, into a
 * table shaped like `vote_events` (same columns, same primary key) in a schema of the
 * namespace's own, dropped afterwards.
 */
export async function pgInserts({ naming, rows, batch = 1000, connections = 2 }) {
  const schema = naming.schema('bench_raw');
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  await admin.query(`CREATE TABLE "${schema}".vote_events (
    stream_id text PRIMARY KEY, vote_id uuid, poll_id text, option text, voter_id text, ip text, user_agent text,
    request_id text, at timestamptz NOT NULL, recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(), rejected_reason text)`);
  const clients = Array.from({ length: connections }, () => new pg.Client({ connectionString: TEST_DATABASE_URL }));
  try {
    await Promise.all(clients.map((c) => c.connect()));
    const batches = Array.from({ length: Math.ceil(rows / batch) }, (_, i) => i);
    let done = 0;
    const started = performance.now();
    await Promise.all(
      clients.map(async (client) => {
        while (done < batches.length) {
          const i = done++;
          const r = voteRows(Math.min(batch, rows - i * batch), i * batch);
          await client.query(
            `INSERT INTO "${schema}".vote_events (stream_id, vote_id, poll_id, option, voter_id, ip, user_agent, request_id, at, rejected_reason)
             SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::text[])`,
            [r.streamId, r.voteId, r.pollId, r.option, r.voterId, r.ip, r.userAgent, r.requestId, r.at, r.rejected],
          );
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return { rows, batch, connections, seconds, rowsPerSecond: rows / seconds };
  } finally {
    await Promise.allSettled(clients.map((c) => c.end()));
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.end();
  }
}

export function s3Client(endpoint) {
  return new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
}

/**
 * PUT then GET of `copies` copies of `files` (the upload scenario's bytes) against the
 * platform's S3 and bucket, `concurrency` objects at a time — the validator's
 * concurrency, so the GET figure is the ceiling of its reads. Bodies are read and dropped.
 */
export async function s3PutGet({ endpoint, bucket, files, copies, concurrency }) {
  const s3 = s3Client(endpoint);
  const objects = Array.from({ length: copies }, (_, c) => files.map((f) => ({ key: `bench-raw/${c}/${f.filename}`, file: f }))).flat();
  const bytes = objects.reduce((sum, o) => sum + o.file.content.length, 0);
  try {
    let started = performance.now();
    await mapLimit(objects, concurrency, (o) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: o.key, Body: o.file.content, ContentType: o.file.contentType })));
    const putSeconds = (performance.now() - started) / 1000;
    started = performance.now();
    await mapLimit(objects, concurrency, async (o) => {
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.key }));
      for await (const chunk of res.Body) void chunk;
    });
    const getSeconds = (performance.now() - started) / 1000;
    return { objects: objects.length, bytes, concurrency, putMiBps: bytes / MiB / putSeconds, getMiBps: bytes / MiB / getSeconds, getBytesPerSecond: bytes / getSeconds };
  } finally {
    for (let i = 0; i < objects.length; i += 1000) {
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects.slice(i, i + 1000).map((o) => ({ Key: o.key })) } })).catch(() => undefined);
    }
    s3.destroy();
  }
}

/**
 * Sequential RPC round trips over RabbitMQ with direct reply-to against an echo server in
 * a process of its own, for `seconds`; p50/p99 in ms.
 */
export async function rmqRpc({ naming, seconds, onQueue }) {
  const queue = naming.amqp('bench.raw-rpc');
  onQueue?.(queue);
  const { child } = await spawnWithFirstLine(join(ROOT, 'bench/lib/servers/rpc-echo.mjs'), [queue], { AMQP_URL: TEST_AMQP_URL });
  const connection = await amqp.connect(TEST_AMQP_URL, { noDelay: true });
  try {
    const channel = await connection.createChannel();
    const waiting = new Map();
    await channel.consume('amq.rabbitmq.reply-to', (message) => {
      const resolve = waiting.get(message.properties.correlationId);
      waiting.delete(message.properties.correlationId);
      resolve?.(JSON.parse(message.content.toString()));
    }, { noAck: true });
    const payload = { pattern: 'bench.echo', payload: { datasetId: randomUUID() }, actor: { userId: randomUUID(), role: 'member', teamId: randomUUID() } };
    const call = () =>
      new Promise((resolve) => {
        const id = randomUUID();
        waiting.set(id, resolve);
        channel.sendToQueue(queue, Buffer.from(JSON.stringify(payload)), { correlationId: id, replyTo: 'amq.rabbitmq.reply-to', contentType: 'application/json', expiration: '5000' });
      });
    const samples = await sequentialLatencies(seconds, call, { warmup: 50 });
    return { calls: samples.length, latency: latencySummary(samples) };
  } finally {
    await connection.close().catch(() => undefined);
    await stopChild(child);
  }
}
