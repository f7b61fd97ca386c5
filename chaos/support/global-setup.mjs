// Before any chaos test module loads: a Postgres cluster, a RabbitMQ node and a Redis of
// the suite's own, on free ports, which the faults stop, kill and freeze; the machine's
// servers are only observed (machine-servers.mjs). The tests reach the private servers
// through DATABASE_URL, AMQP_URL and REDIS_URL (read by @flotilla/testing at import), and
// control them through FLOTILLA_CHAOS_SERVERS (chaos.ts). Needs the build (npm run test:chaos).
import { PrivatePostgres, PrivateRabbitMQ, PrivateRedis } from '@flotilla/testing';
import { observeMachine } from './machine-servers.mjs';

export default async function globalSetup() {
  const started = Date.now();
  const machine = await observeMachine({
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    amqpUrl: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  });
  const postgres = new PrivatePostgres();
  const rabbitmq = new PrivateRabbitMQ();
  const redis = new PrivateRedis();
  const starts = await Promise.allSettled([postgres.start(), rabbitmq.start(), redis.start()]);
  const failed = starts.filter((s) => s.status === 'rejected');
  if (failed.length > 0) {
    await Promise.allSettled([postgres.remove(), rabbitmq.remove(), redis.remove(), machine.check()]);
    throw new Error(`the chaos suite's private servers did not start: ${failed.map((f) => f.reason?.message ?? f.reason).join('; ')}`);
  }
  globalThis.flotillaChaos = { machine, postgres, rabbitmq, redis };
  process.env.DATABASE_URL = postgres.url;
  process.env.AMQP_URL = rabbitmq.url;
  process.env.REDIS_URL = redis.url;
  process.env.FLOTILLA_CHAOS_SERVERS = JSON.stringify({ postgres: postgres.location, rabbitmq: rabbitmq.location, redis: { port: redis.port, pid: redis.pid } });
  console.log(
    `\nchaos: private servers up in ${((Date.now() - started) / 1000).toFixed(1)} s — Postgres ${postgres.url} (postmaster ${postgres.pid}), ` +
      `RabbitMQ ${rabbitmq.node} ${rabbitmq.url} (pid ${rabbitmq.pid}), Redis ${redis.url}; ` +
      `the machine's Postgres postmaster ${machine.before.postgres.pid}, RabbitMQ pid ${machine.before.rabbitmq}`,
  );
}
