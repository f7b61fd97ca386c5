import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@flotilla/testing';
import { ADMIN, Platform, type ServiceName } from '../e2e/support/platform.js';
import { pool, report, ServiceDb, sleep } from './support/chaos.js';
import { DatasetFlow, xrayDataset } from './replicas/dataset-flow.js';
import { Gateways } from './replicas/gateways.js';
import { MigrationGate } from './replicas/migration-gate.js';
import { migrationClashes, migrationRows, reconcilePasses, SCHEMA_OF, scheduledCleanups } from './replicas/records.js';
import { StoreFlow } from './replicas/store-flow.js';
import { OPTIONS, VoteFlood } from './replicas/vote-flood.js';

/**
 * RELIABILITY.md: two instances of every service, one of each SIGKILLed under load —
 * nothing lost or done twice; scheduled work (cleanup, reconcile) runs once; migrations
 * run once when both start together. Checked against the client's own record.
 */
const SERVICES: ServiceName[] = ['gateway', 'vote-consumer', 'upload', 'validator', 'provisioner', 'admin'];
/** The order of the kills: the validator as soon as a job is part-way, the rest once stores are being provisioned. */
const KILL_ORDER: ServiceName[] = ['validator', 'provisioner', 'vote-consumer', 'upload', 'admin', 'gateway'];
const VOTERS = 40;
const DATASETS = 6;
const VOLUMES = 6;
/** Stores made ready with both provisioners up, then stores asked for just before the kills. */
const EARLY_STORES = 2;
const STORES = 4;
const STORE_REPLICAS = 2;
/** Votes keep flowing this long after the last kill. */
const FLOOD_AFTER_KILLS_MS = 10_000;
const CLEANUP_INTERVAL_MS = 60_000;
const RECONCILE_INTERVAL_MS = 2000;
const POLL = 'twin-compass';

describe('fault: two instances of every service, one of each SIGKILLed under load', () => {
  const platform = new Platform(
    {
      RATE_LIMIT_PER_IP: '100000000',
      RATE_LIMIT_PER_USER: '100000000',
      VOTE_CLAIM_IDLE_MS: '2000',
      VOTE_BLOCK_MS: '500',
      VALIDATION_LEASE_MS: '3000',
      VALIDATION_PROGRESS_INTERVAL_MS: '50',
      VALIDATION_RETRY_DELAY_MS: '500',
      VALIDATION_FILE_CONCURRENCY: '1',
      SIMULATED_POD_START_MS: '1500',
      SIMULATED_POD_READY_MS: '1500',
      RECONCILE_INTERVAL_MS: String(RECONCILE_INTERVAL_MS),
      CLEANUP_INTERVAL_MS: String(CLEANUP_INTERVAL_MS),
      TEAM_STORE_QUOTA: '50',
    },
    SERVICES,
    { replicas: 2, startTimeoutMs: 240_000 },
  );
  let voterTokens: string[] = [];
  let member: string;
  let startupMs = 0;
  /** What instances saw of another migrating at the same moment, as `service#n: what`. */
  let migrationFailures: string[] = [];
  /** Instances held at the migration gate until all were there. */
  let gated = 0;

  beforeAll(async () => {
    const began = Date.now();
    // Both instances of each service start together, and migrate together: the gate holds them until all are there.
    const gate = await MigrationGate.close(platform.namespace, SERVICES.map((s) => SCHEMA_OF[s]));
    const starting = platform.start();
    starting.catch(() => undefined); // awaited below; the gate must open either way
    gated = await gate.openWhenWaiting(platform.namespace, SERVICES.length * 2, 180_000);
    await starting;
    startupMs = Date.now() - began;
    migrationFailures = platform.services.flatMap((s) => migrationClashes(s.logs()).map((what) => `${s.label}: ${what}`));
    const admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'twins' } });
    expect((await platform.api.request('POST', '/api/v1/polls', { token: admin, body: { id: POLL, question: 'Which way?', options: OPTIONS } })).status).toBe(201);
    const users = [...Array(VOTERS + 1).keys()];
    const tokens = new Array<string>(users.length);
    await pool(users, 8, async (i) => {
      const email = `twin${i}@chaos.test`;
      const api = platform.apis[i % platform.apis.length]!;
      await api.request('POST', '/api/v1/admin/users', { token: admin, body: { email, password: 'twin-password-123', teamId: team.body.id, role: 'member' } });
      tokens[i] = await api.login(email, 'twin-password-123');
    });
    member = tokens.pop()!;
    voterTokens = tokens;
  }, 420_000);

  afterAll(() => platform.stop());

  it('loses nothing, does nothing twice, runs cleanup and reconcile once per period and migrates once', async () => {
    const gateways = new Gateways(platform.apis);
    const flood = new VoteFlood(gateways, POLL, voterTokens, 1_000_000);
    const datasets = new DatasetFlow(gateways, member);
    const stores = new StoreFlow(gateways, member);
    const jobs = await ServiceDb.open(platform.namespace, 'validation');
    const provisioner = await ServiceDb.open(platform.namespace, 'provisioner');
    const votes = await ServiceDb.open(platform.namespace, 'votes');
    const uploads = await ServiceDb.open(platform.namespace, 'upload');
    const began = Date.now();
    try {
      const flooding = flood.run();
      flooding.catch(() => undefined); // awaited below
      const early = await Promise.all([...Array(EARLY_STORES).keys()].map((i) => stores.create(i, `twin-early-${i}`, STORE_REPLICAS)));
      await Promise.all(early.map((id, i) => stores.settle(i, id, 60_000)));
      const sending = Promise.all([...Array(DATASETS).keys()].map((i) => datasets.send(i, i, xrayDataset(i, VOLUMES))));
      sending.catch(() => undefined); // awaited below

      // The kills, each while its service has work in hand.
      const killed: { service: ServiceName; at: number; note: string }[] = [];
      const kill = async (service: ServiceName, note: string): Promise<void> => {
        await platform.kill(service);
        killed.push({ service, at: Date.now(), note });
      };
      const partWay = await waitFor(
        async () => {
          const rows = await jobs.rows<{ files_checked: number; files_total: number }>(`SELECT files_checked, files_total FROM jobs WHERE status = 'running'`);
          return rows.filter((r) => r.files_checked > 0 && r.files_checked < r.files_total).length;
        },
        { timeoutMs: 180_000, intervalMs: 20, what: 'a validation job part-way' },
      );
      await kill('validator', `${partWay} job(s) part-way`);
      const storeIds = [...early, ...(await Promise.all([...Array(STORES).keys()].map((i) => stores.create(i, `twin-shop-${i}`, STORE_REPLICAS))))];
      const installing = `SELECT count(DISTINCT e.store_id) AS n FROM store_events e JOIN stores s ON s.id = e.store_id WHERE s.status = 'provisioning' AND e.message LIKE 'installing%'`;
      const provisioning = await waitFor(async () => provisioner.scalar(installing), { timeoutMs: 30_000, intervalMs: 20, what: 'stores being installed' });
      const datasetsAtKill = await uploads.rows<{ status: string; n: string }>('SELECT status, count(*) AS n FROM datasets GROUP BY status');
      for (const service of KILL_ORDER.slice(1)) {
        const note =
          service === 'provisioner' ? `${provisioning} store(s) provisioning`
          : service === 'vote-consumer' || service === 'gateway' ? `${flood.sent} votes sent`
          : service === 'upload' ? `datasets ${datasetsAtKill.map((r) => `${r.status} ${r.n}`).join(', ')}`
          : '';
        await kill(service, note);
        await sleep(300);
      }
      await sleep(FLOOD_AFTER_KILLS_MS);
      flood.stop();
      await flooding;
      const lastKillAt = killed[killed.length - 1]!.at;

      // Votes: every accepted id in the audit once, tallies equal to the ballots and the client's recount.
      const acceptedIds = [...flood.accepted.keys()];
      await waitFor(async () => (await votes.scalar('SELECT count(DISTINCT vote_id) AS n FROM vote_events WHERE vote_id = ANY($1::uuid[])', [acceptedIds])) === acceptedIds.length, {
        timeoutMs: 180_000,
        intervalMs: 500,
        what: 'every accepted vote in the audit',
      });
      await sleep(3000); // a late redelivery would land now
      const audit = await votes.rows<{ vote_id: string; option: string; n: string }>('SELECT vote_id, min(option) AS option, count(*) AS n FROM vote_events GROUP BY vote_id');
      const auditRows = await votes.scalar('SELECT count(*) AS n FROM vote_events');
      const voteDuplicates = audit.reduce((n, r) => n + Number(r.n) - 1, 0);
      const strays = audit.filter((r) => !flood.accepted.has(r.vote_id)).length;
      const wrongOption = audit.filter((r) => flood.accepted.has(r.vote_id) && flood.accepted.get(r.vote_id)!.option !== r.option).length;
      const byOption = (rows: { option: string; n: string }[]): Record<string, number> => Object.fromEntries(OPTIONS.map((o) => [o, Number(rows.find((r) => r.option === o)?.n ?? 0)]));
      const tallies = byOption(await votes.rows(`SELECT option, count AS n FROM tallies WHERE poll_id = $1`, [POLL]));
      const ballots = byOption(await votes.rows(`SELECT option, count(*) AS n FROM ballots WHERE poll_id = $1 GROUP BY option`, [POLL]));
      const recount = flood.recount();
      const refused = [...flood.refused.values()].reduce((a, b) => a + b, 0);
      report(
        'two of everything: votes',
        { sent: flood.sent, found: audit.length - strays, duplicated: voteDuplicates, errors: flood.unanswered + refused, accepted: acceptedIds.length, 'audit rows': auditRows, 'taken without an answer': strays, 'wrong option': wrongOption },
        [
          `refused by status ${JSON.stringify(Object.fromEntries(flood.refused))}; unanswered by gateway ${gateways.unanswered.join('/')}`,
          `tallies ${JSON.stringify(tallies)}, ballots ${JSON.stringify(ballots)}, recount of the client's last votes ${JSON.stringify(recount)}`,
        ],
      );

      // Datasets: each completed one has a verdict, one job and one result in the validator's schema.
      await sending;
      await sleep(2000); // a late duplicate result would show now
      const completedIds = [...datasets.completed.keys()];
      const jobsPerDataset = await jobs.rows<{ dataset_id: string; n: string; attempts: string }>('SELECT dataset_id, count(*) AS n, max(attempts) AS attempts FROM jobs GROUP BY dataset_id');
      const results = await jobs.rows<{ dataset: string; n: string }>(`SELECT envelope->'data'->>'datasetId' AS dataset, count(*) AS n FROM outbox WHERE type = 'validation.completed' GROUP BY 1`);
      const unpublished = await jobs.scalar('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL');
      const datasetRows = await uploads.rows<{ id: string; status: string }>('SELECT id, status FROM datasets WHERE id = ANY($1::uuid[])', [completedIds]);
      const applied = await uploads.scalar(`SELECT count(*) AS n FROM processed_events WHERE type = 'validation.completed'`);
      const jobCounts = completedIds.map((id) => Number(jobsPerDataset.find((r) => r.dataset_id === id)?.n ?? 0));
      const resultCounts = completedIds.map((id) => Number(results.find((r) => r.dataset === id)?.n ?? 0));
      const verdicts = completedIds.map((id) => datasets.verdicts.get(id)?.status);
      report(
        'two of everything: datasets',
        {
          sent: DATASETS,
          found: verdicts.filter((v) => v === 'passed').length,
          duplicated: jobCounts.reduce((n, c) => n + Math.max(0, c - 1), 0) + resultCounts.reduce((n, c) => n + Math.max(0, c - 1), 0),
          errors: datasets.problems.length + datasets.startsRetried + datasets.putsRetried,
          'unpublished results': unpublished,
          'results applied by upload': applied,
        },
        [
          `jobs per dataset ${jobCounts.join(', ')}; results per dataset ${resultCounts.join(', ')}; attempts ${jobsPerDataset.map((r) => r.attempts).join(', ')}`,
          `verdicts ${verdicts.join(', ')}; datasets ${datasetRows.map((d) => d.status).join(', ')}${datasets.problems.length ? `; ${datasets.problems.join('; ')}` : ''}`,
        ],
      );

      // Stores: every one ready, made ready once.
      const settled = await Promise.all(storeIds.map((id, i) => stores.settle(i, id, 180_000)));
      const readyEvents = await provisioner.rows<{ store_id: string; n: string }>(`SELECT store_id, count(*) AS n FROM store_events WHERE type = 'ready' GROUP BY store_id`);
      const repairs = await provisioner.scalar(`SELECT count(*) AS n FROM store_events WHERE type = 'repair'`);
      const readyCounts = storeIds.map((id) => Number(readyEvents.find((r) => r.store_id === id)?.n ?? 0));
      const readyPods = await Promise.all(
        storeIds.map(async (id, i) => (await gateways.retry<{ items: { ready: boolean }[] }>(i, 'GET', `/api/v1/stores/${id}/pods`, { token: member }, (r) => r.status === 200))?.body.items.filter((p) => p.ready).length ?? 0),
      );
      report(
        'two of everything: stores',
        { sent: storeIds.length, found: settled.filter((s) => s.status === 'ready').length, duplicated: readyCounts.reduce((n, c) => n + Math.max(0, c - 1), 0), errors: settled.filter((s) => s.status === 'failed').length, repairs },
        [`${settled.map((s) => `${s.name} ${s.status} ${s.observed.readyReplicas}/${STORE_REPLICAS}${s.error ? ` (${s.error})` : ''}`).join('; ')}`, `ready events ${readyCounts.join(', ')}; ready pods as the API shows them ${readyPods.join(', ')}`],
      );

      // Scheduled work: a cleanup run after the admin's kill, each period once; the reconcile passes likewise.
      const adminKilledAt = killed.find((k) => k.service === 'admin')!.at;
      const cleanups = await waitFor(
        async () => {
          const c = await scheduledCleanups(platform.namespace, CLEANUP_INTERVAL_MS);
          return c.startedAt.some((t) => t > adminKilledAt) ? c : undefined;
        },
        { timeoutMs: CLEANUP_INTERVAL_MS + 60_000, intervalMs: 1000, what: 'a scheduled cleanup after the kill' },
      );
      const reconcile = await reconcilePasses(platform.namespace, RECONCILE_INTERVAL_MS);
      const reconcileAfterKill = reconcile.completedAt.filter((t) => t > lastKillAt).length;
      // A run due while the platform was still starting may fail (upload not serving yet); none after.
      const cleanupsFailedUnderLoad = cleanups.failedAt.filter((t) => t >= began).length;
      report(
        'two of everything: cleanup',
        { sent: cleanups.periods.ran + cleanups.periods.missed, found: cleanups.periods.ran, duplicated: cleanups.periods.duplicated, errors: cleanups.failedAt.length, missed: cleanups.periods.missed, 'failed under load': cleanupsFailedUnderLoad },
        [`scheduled runs at ${cleanups.startedAt.map((t) => new Date(t).toISOString().slice(11, 23)).join(', ')}; the admin killed at ${new Date(adminKilledAt).toISOString().slice(11, 23)}`],
      );
      report('two of everything: reconcile', {
        sent: reconcile.periods.ran + reconcile.periods.missed,
        found: reconcile.periods.ran,
        duplicated: reconcile.periods.duplicated,
        errors: reconcile.failed,
        missed: reconcile.periods.missed,
        'started again after a kill': reconcile.startedTwice,
        'passes after the kills': reconcileAfterKill,
      });

      // Migrations: both instances started together; one row per migration in each schema.
      const migrations = await Promise.all(SERVICES.map(async (s) => ({ service: s, ...(await migrationRows(platform.namespace, s)) })));
      report(
        'two of everything: migrations',
        {
          sent: migrations.reduce((n, m) => n + m.expected, 0),
          found: migrations.reduce((n, m) => n + m.names, 0),
          duplicated: migrations.reduce((n, m) => n + m.rows - m.names, 0),
          errors: migrationFailures.length,
          'startup ms': startupMs,
          'instances migrating together': gated,
        },
        [
          `failed at start because another instance ran them at the same moment: ${migrationFailures.join(', ') || 'none'}`,
          `rows per schema ${migrations.map((m) => `${m.service} ${m.rows}/${m.expected}`).join(', ')}`,
          `kills: ${killed.map((k) => `${k.service}${k.note ? ` (${k.note})` : ''}`).join(', ')}`,
        ],
      );

      expect(killed.map((k) => k.service)).toEqual(KILL_ORDER);
      expect(partWay).toBeGreaterThan(0);
      expect(acceptedIds.length).toBeGreaterThan(0);
      expect([audit.length - strays, voteDuplicates, wrongOption]).toEqual([acceptedIds.length, 0, 0]);
      expect(strays).toBeLessThanOrEqual(flood.unanswered);
      expect(tallies).toEqual(recount);
      expect(ballots).toEqual(recount);
      expect(datasets.problems).toEqual([]);
      expect(verdicts).toEqual(completedIds.map(() => 'passed'));
      expect(completedIds).toHaveLength(DATASETS);
      expect([jobCounts, resultCounts]).toEqual([completedIds.map(() => 1), completedIds.map(() => 1)]);
      expect(unpublished).toBe(0);
      expect(datasetRows.map((d) => d.status)).toEqual(completedIds.map(() => 'passed'));
      expect(settled.map((s) => s.status)).toEqual(storeIds.map(() => 'ready'));
      expect(readyCounts).toEqual(storeIds.map(() => 1));
      expect([cleanups.periods.duplicated, cleanups.periods.missed, cleanupsFailedUnderLoad]).toEqual([0, 0, 0]);
      expect([reconcile.periods.duplicated, reconcile.periods.missed, reconcile.failed]).toEqual([0, 0, 0]);
      expect(reconcileAfterKill).toBeGreaterThan(0);
      expect(migrations.map((m) => [m.service, m.rows, m.names])).toEqual(migrations.map((m) => [m.service, m.expected, m.expected]));
      expect(gated).toBe(SERVICES.length * 2);
      expect(migrationFailures).toEqual([]);
    } finally {
      flood.stop();
      await Promise.all([jobs, provisioner, votes, uploads].map((db) => db.close()));
    }
  });
});
