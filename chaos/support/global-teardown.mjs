// After the chaos run: removes the private servers, then fails the run if the machine's
// own Postgres or RabbitMQ was restarted meanwhile (see machine-servers.mjs).
export default async function globalTeardown() {
  const state = globalThis.flotillaChaos;
  if (!state) return;
  const { machine, postgres, rabbitmq, redis } = state;
  await Promise.allSettled([postgres.remove(), rabbitmq.remove(), redis.remove()]);
  const { after, problems } = await machine.check();
  if (problems.length > 0) throw new Error(`chaos: the machine's own servers were disturbed:\n  ${problems.join('\n  ')}`);
  console.log(
    `chaos: the machine's servers untouched — Postgres postmaster pid ${after.postgres.pid} (started ${after.postgres.started}) and ` +
      `RabbitMQ pid ${after.rabbitmq} as before the run, a connection to each held open throughout`,
  );
}
