// Vote ingest through the gateway against the raw limit measured in the same run.
//
//   node bench/votes-ingest.mjs [--seconds 10] [--connections 100] [--users 100]
//
// Starts vote-consumer and gateway (built: npm run build) in a namespace of their own
// on the machine's Postgres, Redis and RabbitMQ; logs in USERS voters; drives
// authenticated POST /polls/{id}/votes with autocannon; then drives a bare Fastify
// route with the same body and connections; prints both, the ratio, p99, and checks
// that every accepted vote was persisted (zero loss).
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Redis } from 'ioredis';
import amqp from 'amqplib';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '100' },
    users: { type: 'string', default: '100' },
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const USERS = Number(args.users);
const ROOT = new URL('..', import.meta.url).pathname;
const NAMESPACE = `bench${randomBytes(3).toString('hex')}`;
const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const ADMIN = { email: 'admin@bench.local', password: 'bench-admin-password' };

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

async function startService(name, port) {
  const child = spawn(process.execPath, [`${ROOT}services/${name}/dist/main.js`], {
    env: {
      ...process.env,
      NAMESPACE,
      HTTP_PORT: String(port),
      LOG_LEVEL: 'warn',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      RATE_LIMIT_PER_IP: '0',
      RATE_LIMIT_PER_USER: '0',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/health/startup`).then((r) => r.ok, () => false);
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} did not start`);
}

async function api(base, method, path, body, token) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => undefined);
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

function load(url, tokens) {
  let next = 0;
  const options = ['cats', 'dogs'];
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        method: 'POST',
        path: '/api/v1/polls/cats-vs-dogs/votes',
        setupRequest: (req) => {
          const i = next++;
          return {
            ...req,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[i % tokens.length]}` },
            body: JSON.stringify({ option: options[i % 2] }),
          };
        },
      },
    ],
  });
}

const summary = (r) => ({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors, total: r.requests.total });

const children = [];
try {
  const [gwPort, vcPort] = [await freePort(), await freePort()];
  children.push(await startService('vote-consumer', vcPort));
  children.push(await startService('gateway', gwPort));
  const base = `http://127.0.0.1:${gwPort}`;
  const admin = await api(base, 'POST', '/api/v1/auth/login', ADMIN);
  const team = await api(base, 'POST', '/api/v1/admin/teams', { name: 'bench' }, admin.accessToken);
  const tokens = [];
  for (let i = 0; i < USERS; i++) {
    const email = `voter${i}@bench.local`;
    await api(base, 'POST', '/api/v1/admin/users', { email, password: 'bench-voter-password', teamId: team.id, role: 'member' }, admin.accessToken);
    tokens.push((await api(base, 'POST', '/api/v1/auth/login', { email, password: 'bench-voter-password' })).accessToken);
  }
  // Warm-up: JIT, connection pools, the gateway's poll cache.
  await api(base, 'POST', '/api/v1/polls/cats-vs-dogs/votes', { option: 'cats' }, tokens[0]);

  const platform = summary(await load(base, tokens));

  const bare = spawn(process.execPath, [`${ROOT}bench/bare-route.mjs`], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(bare);
  const [line] = await once(bare.stdout, 'data');
  const raw = summary(await load(`http://127.0.0.1:${String(line).trim()}`, tokens));

  // Zero loss: every accepted vote (202) reaches the audit table. autocannon counts only
  // answers that arrived within the duration; up to one request per connection was
  // still in flight and may be accepted too, hence the range.
  const accepted = platform.total - platform.non2xx + 1;
  const acceptedMax = accepted + CONNECTIONS;
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  let persisted = 0;
  for (let i = 0; i < 120; i++) {
    persisted = Number((await db.query(`SELECT count(*) AS n FROM ${NAMESPACE}_votes.vote_events`)).rows[0].n);
    if (persisted >= accepted) { await new Promise((r) => setTimeout(r, 1000)); persisted = Number((await db.query(`SELECT count(*) AS n FROM ${NAMESPACE}_votes.vote_events`)).rows[0].n); break; }
    await new Promise((r) => setTimeout(r, 500));
  }
  await db.end();

  const ratio = platform.rps / raw.rps;
  console.log(`\nvote ingest, ${CONNECTIONS} connections, ${SECONDS} s, ${USERS} users, node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
  console.table({
    'gateway POST /votes': { 'req/s': Math.round(platform.rps), 'p50 ms': platform.p50, 'p99 ms': platform.p99, 'non-2xx': platform.non2xx, errors: platform.errors },
    'bare Fastify route': { 'req/s': Math.round(raw.rps), 'p50 ms': raw.p50, 'p99 ms': raw.p99, 'non-2xx': raw.non2xx, errors: raw.errors },
  });
  console.log(`ratio ${(ratio * 100).toFixed(1)}% of the bare route (bar ≥ 40%), p99 ${platform.p99} ms (bar ≤ 25 ms)`);
  const ok = persisted >= accepted && persisted <= acceptedMax;
  console.log(`accepted ${accepted} (+ up to ${CONNECTIONS} in flight at the end), persisted ${persisted}${ok ? ' — zero loss' : ' — MISMATCH'}`);
  process.exitCode = ok ? 0 : 1;
} finally {
  for (const child of children.reverse()) {
    child.kill('SIGTERM');
    await once(child, 'exit').catch(() => undefined);
  }
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  const { rows } = await db.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1`, [`${NAMESPACE}\\_%`]);
  for (const { nspname } of rows) await db.query(`DROP SCHEMA "${nspname}" CASCADE`);
  await db.end();
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const keys = await redis.keys(`${NAMESPACE}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  const broker = await amqp.connect(process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672');
  const channel = await broker.createChannel();
  for (const q of ['votes.rpc', 'gateway.events', 'gateway.events.retry', 'gateway.events.dlq', 'vote-consumer.events', 'vote-consumer.events.retry', 'vote-consumer.events.dlq']) {
    await channel.deleteQueue(`${NAMESPACE}.${q}`).catch(() => undefined);
  }
  await broker.close().catch(() => undefined);
}
