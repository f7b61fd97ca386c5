import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomUUID } from 'node:crypto';
import { Naming } from '@flotilla/config';
import { Streams, StreamGroups } from '@flotilla/contracts';
import { createRedisClient, waitUntilReady } from '@flotilla/messaging';
import { nifti } from '@flotilla/samples';
import { TEST_REDIS_URL, waitFor, type ServiceProcess } from '@flotilla/testing';
import { ADMIN, Platform, type ServiceName } from '../e2e/support/platform.js';
import { putFiles, startUpload, waitForVerdict, type LocalFile } from '../e2e/support/datasets.js';
import { report, ServiceDb, sleep } from './support/chaos.js';

/**
 * RELIABILITY.md: SIGTERM under load (each service) — in-flight requests finish,
 * consumers stop taking work and ack or hand back what they hold; exit within the grace
 * period. Each service in turn is stopped with SIGTERM in the middle of its kind of work,
 * then started again for the next.
 */
const GRACE_MS = 10_000;
/** A request sent this long before the signal has surely reached the service. */
const IN_FLIGHT_MARGIN_MS = 150;

interface Call {
  started: number;
  ended?: number;
  status: number; // 0: no answer (connection reset or refused)
}

interface Stop {
  code: number | null;
  ms: number;
}

/** Nest re-raises the signal once it has closed (exit by SIGTERM, code null); the grace timer's forced exit is code 1. */
const graceful = (stop: Stop): boolean => stop.code === 0 || stop.code === null;
const exitOf = (stop: Stop): string => (stop.code === null ? 'exit by SIGTERM after closing' : `exit code ${stop.code}`);

function heavyFiles(seed: number, volumes = 6): LocalFile[] {
  const files = Array.from({ length: volumes }, (_, v) => ({ filename: `volume-${v}.nii`, contentType: 'application/octet-stream', content: nifti({ x: 256, y: 256, z: 48, seed: seed * 10 + v }) }));
  const rows = files.map((f) => `${f.filename},normal,${createHash('sha256').update(f.content).digest('hex')}`);
  return [...files, { filename: 'manifest.csv', contentType: 'text/csv', content: Buffer.from(`filename,label,sha256\n${rows.join('\n')}\n`) }];
}

describe('fault: SIGTERM under load, each service', () => {
  const platform = new Platform(
    {
      SHUTDOWN_GRACE_MS: String(GRACE_MS),
      // Calls a stopping service hands back wait in its queue for the restarted one: long enough to be answered.
      RPC_TIMEOUT_MS: '20000',
      RATE_LIMIT_PER_USER: '10000000',
      RATE_LIMIT_PER_IP: '100000000',
      // The load tests leave hundreds of uploads started and never completed: the team's
      // quota of uploads pending at once would refuse the later tests' uploads (422).
      QUOTA_MAX_CONCURRENT_UPLOADS: '1000000',
      SIMULATED_POD_START_MS: '2500',
      SIMULATED_POD_READY_MS: '2500',
      RECONCILE_INTERVAL_MS: '2000',
      VALIDATION_PROGRESS_INTERVAL_MS: '50',
      VOTE_CLAIM_IDLE_MS: '3000',
    },
    ['gateway', 'upload', 'validator', 'vote-consumer', 'provisioner', 'admin'],
  );
  let admin: string;
  let member: string;
  const figures: string[] = [];

  beforeAll(async () => {
    await platform.start();
    admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'terminated' } });
    await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email: 't@chaos.test', password: 'member-password-123', teamId: team.body.id, role: 'member' } });
    member = await platform.api.login('t@chaos.test', 'member-password-123');
  }, 120_000);

  afterAll(async () => {
    console.log(`SIGTERM under load (grace ${GRACE_MS} ms):\n  ${figures.join('\n  ')}`);
    await platform.stop();
  });

  /** SIGTERM, timed; resolves with the exit code (0 graceful, 1 forced out by the grace timer). */
  async function terminate(svc: ServiceProcess): Promise<Stop> {
    const started = Date.now();
    const code = await svc.stop();
    return { code, ms: Date.now() - started };
  }

  /** Keeps `clients` loops of `call` going until `until` resolves; records each call. */
  async function load(clients: number, call: () => Promise<number>, until: Promise<unknown>): Promise<Call[]> {
    const calls: Call[] = [];
    let done = false;
    void until.finally(() => (done = true));
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (!done) {
          const c: Call = { started: Date.now(), status: 0 };
          calls.push(c);
          c.status = await call().catch(() => 0);
          c.ended = Date.now();
          if (c.status === 0 || c.status >= 500) await sleep(100);
        }
      }),
    );
    return calls;
  }

  /** The calls in flight at `signalAt` (sent well before it, not yet answered), by status. */
  function inFlight(calls: Call[], signalAt: number): { n: number; statuses: Record<number, number> } {
    const held = calls.filter((c) => c.started <= signalAt - IN_FLIGHT_MARGIN_MS && (c.ended ?? Infinity) > signalAt);
    return { n: held.length, statuses: held.reduce<Record<number, number>>((acc, c) => ({ ...acc, [c.status]: (acc[c.status] ?? 0) + 1 }), {}) };
  }

  const restart = async (name: ServiceName): Promise<void> => {
    await platform.service(name).start();
  };

  const uploadStart = (token: string, files = 150): Promise<number> =>
    platform.api
      .request('POST', '/api/v1/upload/start', {
        token,
        body: { datasetName: `load-${randomUUID()}`, profile: 'xray', files: Array.from({ length: files }, (_, i) => ({ filename: `f${i}.png`, contentType: 'image/png', sizeBytes: 1000 + i })) },
      })
      .then((r) => r.status);

  it('gateway: requests in flight finish, and it exits within the grace period', async () => {
    let signalAt = 0;
    let stop: Stop | undefined;
    const stopped = (async () => {
      await sleep(1500);
      signalAt = Date.now();
      stop = await terminate(platform.gateway);
    })();
    const calls = await load(30, () => uploadStart(member), stopped);
    await stopped;
    const held = inFlight(calls, signalAt);
    figures.push(`gateway: ${exitOf(stop!)} after ${stop!.ms} ms; ${calls.length} requests, ${held.n} in flight at the signal → ${JSON.stringify(held.statuses)}`);
    await restart('gateway');
    expect(held.n).toBeGreaterThan(0);
    expect(held.statuses).toEqual({ 201: held.n });
    expect(graceful(stop!)).toBe(true);
    expect(stop!.ms).toBeLessThan(GRACE_MS);
  });

  // An open event stream (the console's live /admin/events, or a validation's events) is
  // an active connection the HTTP server would wait for on close: the gateway ends its
  // streams before it closes.
  it('an open console event stream does not hold the gateway past the grace period', async () => {
    const stream = await fetch(`${platform.gateway.url}/api/v1/admin/events?access_token=${admin}`);
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    void (async () => {
      for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) return;
    })();
    await sleep(500);
    const stop = await terminate(platform.gateway);
    await reader.cancel().catch(() => undefined);
    figures.push(`gateway with a console event stream open: ${exitOf(stop)} after ${stop.ms} ms`);
    await restart('gateway');
    expect(graceful(stop)).toBe(true);
    expect(stop.ms).toBeLessThan(GRACE_MS);
  });

  it('upload: RPCs in flight are answered before it exits within the grace period', async () => {
    let signalAt = 0;
    let stop: Stop | undefined;
    const stopped = (async () => {
      await sleep(1500);
      signalAt = Date.now();
      stop = await terminate(platform.service('upload'));
      // Calls it handed back wait in its queue: the new instance answers them.
      await restart('upload');
    })();
    const calls = await load(20, () => uploadStart(member), stopped);
    await stopped;
    const held = inFlight(calls, signalAt);
    figures.push(`upload: ${exitOf(stop!)} after ${stop!.ms} ms; ${calls.length} upload/start calls, ${held.n} in flight at the signal → ${JSON.stringify(held.statuses)}`);
    expect(held.n).toBeGreaterThan(0);
    expect(held.statuses).toEqual({ 201: held.n });
    expect(graceful(stop!)).toBe(true);
    expect(stop!.ms).toBeLessThan(GRACE_MS);
  });

  it('vote-consumer: what it read is committed and acked before it exits; the rest waits in the stream', async () => {
    const naming = new Naming(platform.namespace);
    const redis = createRedisClient(TEST_REDIS_URL, { connectionName: 'sigterm-test' });
    await waitUntilReady(redis, 5000);
    const db = await ServiceDb.open(platform.namespace, 'votes');
    try {
      const stream = naming.key(Streams.Votes);
      const ids: string[] = [];
      for (let i = 0; i < 20_000; i += 1000) {
        const pipeline = redis.pipeline();
        for (let j = 0; j < 1000; j++) {
          const voteId = randomUUID();
          ids.push(voteId);
          pipeline.xadd(stream, '*', 'voteId', voteId, 'pollId', 'cats-vs-dogs', 'option', j % 2 ? 'cats' : 'dogs', 'voterId', `voter-${(i + j) % 500}`, 'ip', '192.0.2.9', 'userAgent', 'sigterm/1', 'requestId', randomUUID(), 'at', new Date().toISOString());
        }
        await pipeline.exec();
      }
      const before = await db.scalar('SELECT count(*) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [ids]);
      await waitFor(async () => (await db.scalar('SELECT count(*) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [ids])) > before, { intervalMs: 5, what: 'the consumer on the flood' });
      const stop = await terminate(platform.voteConsumer);
      const pending = Number(((await redis.xpending(stream, StreamGroups.VoteProcessors)) as [number])[0]);
      const atExit = await db.scalar('SELECT count(*) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [ids]);
      await restart('vote-consumer');
      await waitFor(async () => (await db.scalar('SELECT count(*) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [ids])) === ids.length, { timeoutMs: 120_000, intervalMs: 250, what: 'every vote after the restart' });
      const distinct = await db.scalar('SELECT count(DISTINCT vote_id) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [ids]);
      figures.push(`vote-consumer: ${exitOf(stop)} after ${stop.ms} ms; ${ids.length} votes, ${atExit} committed before the exit with ${pending} pending (unacked), all ${distinct} after the restart, once each`);
      expect(graceful(stop)).toBe(true);
      expect(stop.ms).toBeLessThan(GRACE_MS);
      expect(pending).toBe(0);
      expect(distinct).toBe(ids.length);
    } finally {
      redis.disconnect();
      await db.close();
    }
  });

  it('validator: the job it holds is handed back or finished, it exits within the grace period, and the job ends once', async () => {
    const files = heavyFiles(3, 10);
    const start = await startUpload(platform.api, member, 'terminated-job', 'xray', files);
    await putFiles(start, files);
    expect((await platform.api.request('POST', '/api/v1/upload/complete', { token: member, body: { datasetId: start.datasetId } })).status).toBe(202);
    const jobs = await ServiceDb.open(platform.namespace, 'validation');
    try {
      await waitFor(async () => (await jobs.scalar(`SELECT count(*) AS n FROM jobs WHERE status = 'running' AND files_checked > 0 AND files_checked < files_total`)) > 0, { intervalMs: 10, what: 'the job part-way' });
      const stop = await terminate(platform.service('validator'));
      const [atExit] = await jobs.rows<{ status: string; attempts: number; files_checked: number; files_total: number }>('SELECT status, attempts, files_checked, files_total FROM jobs');
      await restart('validator');
      const verdict = await waitForVerdict(platform.api, member, start.datasetId, 120_000);
      await sleep(1500);
      const results = await jobs.scalar(`SELECT count(*) AS n FROM outbox WHERE type = 'validation.completed'`);
      const [after] = await jobs.rows<{ attempts: number }>('SELECT attempts FROM jobs');
      figures.push(`validator: ${exitOf(stop)} after ${stop.ms} ms; job at the exit ${atExit!.status} ${atExit!.files_checked}/${atExit!.files_total} (attempt ${atExit!.attempts}); after the restart ${verdict.status} at attempt ${after!.attempts}, ${results} result(s)`);
      expect(graceful(stop)).toBe(true);
      expect(stop.ms).toBeLessThan(GRACE_MS);
      expect(verdict.status).toBe('passed');
      expect(results).toBe(1);
    } finally {
      await jobs.close();
    }
  });

  it('provisioner: operations in flight are handed back or finished, it exits within the grace period, and every store gets ready', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await platform.api.request<{ id: string }>('POST', '/api/v1/stores', { token: member, body: { name: `term-shop-${i}`, template: 'wordpress', replicas: 2 } });
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    await waitFor(async () => ((await platform.api.request<{ items: unknown[] }>('GET', `/api/v1/stores/${ids[0]}/pods`, { token: member })).body.items?.length ?? 0) > 0, { intervalMs: 50, what: 'pods starting' });
    const stop = await terminate(platform.service('provisioner'));
    await restart('provisioner');
    const stores = await waitFor(
      async () => {
        const all = await Promise.all(ids.map(async (id) => (await platform.api.request<{ status: string }>('GET', `/api/v1/stores/${id}`, { token: member })).body.status));
        return all.every((s) => s === 'ready' || s === 'failed') ? all : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: 'every store settled' },
    );
    figures.push(`provisioner: ${exitOf(stop)} after ${stop.ms} ms with ${ids.length} stores provisioning; after the restart ${stores.join(', ')}`);
    expect(graceful(stop)).toBe(true);
    expect(stop.ms).toBeLessThan(GRACE_MS);
    expect(stores).toEqual(ids.map(() => 'ready'));
  });

  it('admin: requests in flight are answered, an open event stream does not hold the exit, it exits within the grace period', async () => {
    const adminSvc = platform.service('admin');
    const stream = await fetch(`${platform.gateway.url}/api/v1/admin/events?access_token=${admin}`);
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    void (async () => {
      for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) return;
    })();
    let signalAt = 0;
    let stop: Stop | undefined;
    const stopped = (async () => {
      await sleep(1500);
      signalAt = Date.now();
      stop = await terminate(adminSvc);
      // Calls it handed back wait in its queue: the new instance answers them.
      await restart('admin');
    })();
    let n = 0;
    const calls = await load(40, () => platform.api.request('GET', n++ % 2 ? '/api/v1/admin/stats' : '/api/v1/admin/requests?limit=500', { token: admin }).then((r) => r.status), stopped);
    await stopped;
    const held = inFlight(calls, signalAt);
    figures.push(`admin: ${exitOf(stop!)} after ${stop!.ms} ms; ${calls.length} stats and request-log reads, ${held.n} in flight at the signal → ${JSON.stringify(held.statuses)}; a console event stream open`);
    await reader.cancel().catch(() => undefined);
    // In flight: answered by it before it exits, or handed back and answered by its successor.
    expect(held.statuses).toEqual(held.n ? { 200: held.n } : {});
    expect(graceful(stop!)).toBe(true);
    expect(stop!.ms).toBeLessThan(GRACE_MS);
  });

  it('prints the figures', () => {
    report('SIGTERM under load', { sent: figures.length, found: figures.filter((f) => !/exit code 1 /.test(f)).length, duplicated: 0, errors: figures.filter((f) => /exit code 1 /.test(f)).length });
  });
});
