// Stores on the simulated cluster: many created at once, then half of their pods killed.
import { latencySummary, mapLimit, sleep } from '../stats.mjs';

const TEAM_QUOTA = 20;

/**
 * Creates `count` stores at once (WordPress and Medusa in turn, two replicas each), spread
 * over the members' teams within the team quota, and waits until every one is ready.
 * Then kills half the pods of every store (chaos, as an administrator) and waits until
 * every store runs all its pods ready again, and until its record shows them.
 */
export async function storesScenario(platform, { members, count, adminToken, reconcileMs, timeoutMs = 10 * 60_000 }) {
  const api = platform.api;
  if (members.length * TEAM_QUOTA < count) throw new Error(`${count} stores need ${Math.ceil(count / TEAM_QUOTA)} teams`);
  const created = performance.now();
  const stores = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      api.call('POST', '/stores', {
        token: members[Math.floor(i / TEAM_QUOTA)].token,
        body: { name: `bench-${i}`, template: i % 2 === 0 ? 'wordpress' : 'medusa', replicas: 2 },
      }),
    ),
  );
  const ids = new Set(stores.map((s) => s.id));
  const all = async () => (await api.call('GET', '/stores', { token: adminToken })).items.filter((s) => ids.has(s.id));
  let list = [];
  while (performance.now() - created < timeoutMs) {
    list = await all();
    if (list.every((s) => ['ready', 'failed', 'degraded'].includes(s.status))) break;
    await sleep(250);
  }
  const allReadyMs = performance.now() - created;
  const ready = list.filter((s) => s.status === 'ready');
  const readyAfter = ready.map((s) => Date.parse(s.readyAt) - Date.parse(s.createdAt));

  // Chaos: half of each store's pods.
  const podsOf = async (id) => (await api.call('GET', `/stores/${id}/pods`, { token: adminToken })).items;
  const before = new Map(await mapLimit([...ids], 8, async (id) => [id, (await podsOf(id)).length]));
  const killedAt = performance.now();
  const killed = await mapLimit([...ids], 16, async (id) => {
    const res = await api.call('POST', `/admin/stores/${id}/chaos`, { token: adminToken, body: { killPods: Math.max(1, Math.floor(before.get(id) / 2)) } });
    return res.killed.length;
  });
  const kills = killed.reduce((a, b) => a + b, 0);
  const restoredAfter = new Map();
  let recordsRestoredMs = Number.NaN;
  const deadline = killedAt + 2 * reconcileMs + 60_000;
  while (performance.now() < deadline && (restoredAfter.size < ids.size || Number.isNaN(recordsRestoredMs))) {
    const open = [...ids].filter((id) => !restoredAfter.has(id));
    await mapLimit(open, 8, async (id) => {
      const pods = await podsOf(id);
      if (pods.length >= before.get(id) && pods.every((p) => p.ready)) restoredAfter.set(id, performance.now() - killedAt);
    });
    if (Number.isNaN(recordsRestoredMs) && restoredAfter.size === ids.size) {
      const records = await all();
      if (records.every((s) => s.status === 'ready' && s.observed?.readyReplicas >= s.desired?.replicas)) recordsRestoredMs = performance.now() - killedAt;
    }
    await sleep(250);
  }
  const restored = [...restoredAfter.values()];
  return {
    count,
    ready: ready.length,
    notReady: list.filter((s) => s.status !== 'ready').map((s) => `${s.name}: ${s.status} ${s.error ?? ''}`).slice(0, 5),
    allReadySeconds: allReadyMs / 1000,
    readyAfter: latencySummary(readyAfter),
    podsBefore: [...before.values()].reduce((a, b) => a + b, 0),
    podsKilled: kills,
    restoredStores: restored.length,
    restoreSeconds: restored.length === ids.size ? Math.max(...restored) / 1000 : Number.NaN,
    restore: latencySummary(restored),
    recordsRestoredSeconds: recordsRestoredMs / 1000,
    reconcileSeconds: reconcileMs / 1000,
  };
}
