import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import amqp from 'amqplib';
import { randomUUID } from 'node:crypto';
import { loadEnv, Naming } from '@flotilla/config';
import { DatasetEvents, type AuditEntry, type CleanupRun, type DeadLetter, type RequestRecord, type ServiceInstance } from '@flotilla/contracts';
import { topologyNames } from '@flotilla/messaging';
import { png } from '@flotilla/samples';
import { ObjectStorage, StorageEnv } from '@flotilla/storage';
import { publishSigned, TEST_AMQP_URL, waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from './support/platform.js';
import { uploadAndValidate } from './support/datasets.js';

const MEMBER = { email: 'm@admin.test', password: 'member-password-123' };

describe('admin: request log, audit, dead letters, cleanup, service health', () => {
  const platform = new Platform(
    {
      // Heartbeats come every 5 s: an instance is down after two missed ones.
      SERVICE_DOWN_AFTER_MS: '11000',
      DEAD_LETTER_POLL_MS: '500',
      RETENTION_DAYS: '0',
      VALIDATION_MAX_ATTEMPTS: '2',
      VALIDATION_RETRY_DELAY_MS: '300',
      SIMULATED_POD_START_MS: '100',
      SIMULATED_POD_READY_MS: '100',
    },
    ['gateway', 'upload', 'validator', 'vote-consumer', 'provisioner', 'admin'],
  );
  let admin: string;
  let member: string;
  let memberId: string;

  const get = async <T>(path: string, token = admin): Promise<T> => {
    const res = await platform.api.request<T>('GET', `/api/v1${path}`, { token });
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  };

  beforeAll(async () => {
    await platform.start();
    admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'audited' } });
    const user = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/users', { token: admin, body: { ...MEMBER, teamId: team.body.id, role: 'member' } });
    memberId = user.body.id;
    member = await platform.api.login(MEMBER.email, MEMBER.password);
  });

  afterAll(() => platform.stop());

  it('answers 403 to members on every admin route', async () => {
    for (const [method, path] of [
      ['GET', '/admin/stats'],
      ['GET', '/admin/requests'],
      ['GET', '/admin/audit'],
      ['GET', '/admin/datasets'],
      ['GET', '/admin/validations'],
      ['GET', '/admin/dead-letters'],
      ['POST', `/admin/dead-letters/${randomUUID()}/replay`],
      ['DELETE', `/admin/dead-letters/${randomUUID()}`],
      ['POST', '/admin/cleanup/run'],
      ['GET', '/admin/cleanup/log'],
      ['GET', '/admin/services'],
      ['GET', '/admin/events'],
    ] as const) {
      const res = await platform.api.request(method, `/api/v1${path}`, { token: member });
      expect([method, path, res.status]).toEqual([method, path, 403]);
    }
  });

  it('logs every request with status and duration, and never a password or token', async () => {
    const marker = `/api/v1/datasets/${randomUUID()}`;
    expect((await platform.api.request('GET', marker, { token: member })).status).toBe(404);
    const login = await platform.api.request<{ accessToken: string; refreshToken: string }>('POST', '/api/v1/auth/login', { body: MEMBER });
    const entry = await waitFor(async () => {
      const page = await get<{ items: RequestRecord[] }>(`/admin/requests?status=404&route=${encodeURIComponent('/api/v1/datasets/')}&limit=50`);
      return page.items.find((r) => r.path === marker);
    }, { what: 'the request in the log' });
    expect(entry).toMatchObject({ method: 'GET', status: 404, userId: memberId });
    expect(entry.durationMs).toBeGreaterThan(0);
    const all = await waitFor(async () => {
      const page = await get<{ items: RequestRecord[] }>('/admin/requests?limit=500');
      return page.items.some((r) => r.route.endsWith('/auth/login') && r.status === 200) ? page.items : undefined;
    }, { what: 'the logins in the log' });
    const text = JSON.stringify(all);
    for (const secret of [MEMBER.password, ADMIN.password, login.body.accessToken, login.body.refreshToken, admin]) expect(text).not.toContain(secret);
    const filtered = await get<{ items: RequestRecord[] }>('/admin/requests?status=404&limit=500');
    expect(filtered.items.every((r) => r.status === 404)).toBe(true);
  });

  it('audits a failed login, a deleted dataset and a chaos kill with actor and time', async () => {
    expect((await platform.api.request('POST', '/api/v1/auth/login', { body: { email: MEMBER.email, password: 'not-the-password-1' } })).status).toBe(401);
    const { datasetId } = await uploadAndValidate(platform.api, member, 'doomed', 'xray', [{ filename: 'a.png', contentType: 'image/png', content: png({ width: 64, height: 64 }) }]);
    expect((await platform.api.request('DELETE', `/api/v1/datasets/${datasetId}`, { token: member })).status).toBe(204);
    const store = await platform.api.request<{ id: string }>('POST', '/api/v1/stores', { token: member, body: { name: 'audited-shop', template: 'wordpress', replicas: 2 } });
    await waitFor(async () => ((await platform.api.request<{ status: string }>('GET', `/api/v1/stores/${store.body.id}`, { token: member })).body.status === 'ready' ? true : undefined), {
      what: 'the store',
    });
    expect((await platform.api.request('POST', `/api/v1/admin/stores/${store.body.id}/chaos`, { token: admin, body: { killPods: 1 } })).status).toBe(202);
    const adminId = (await platform.api.request<{ id: string }>('GET', '/api/v1/auth/me', { token: admin })).body.id;

    const audit = await waitFor(async () => {
      const items = (await get<{ items: AuditEntry[] }>('/admin/audit?limit=200')).items;
      const found = {
        failedLogin: items.find((e) => e.action === 'login.failed' && e.actorEmail === MEMBER.email),
        deletion: items.find((e) => e.action === 'dataset.deleted' && e.target === `dataset:${datasetId}`),
        chaos: items.find((e) => e.action === 'store.chaos' && e.target === `store:${store.body.id}`),
      };
      return found.failedLogin && found.deletion && found.chaos ? found : undefined;
    }, { what: 'the three audit entries' });
    expect(audit.failedLogin).toMatchObject({ outcome: 'failure', at: expect.any(String) });
    expect(audit.deletion).toMatchObject({ actorId: memberId, outcome: 'success' });
    expect(audit.chaos).toMatchObject({ actorId: adminId });
    expect(JSON.stringify(audit)).not.toContain('not-the-password-1');
    const byAction = await get<{ items: AuditEntry[] }>('/admin/audit?action=login.failed');
    expect(byAction.items.length).toBeGreaterThan(0);
    expect(byAction.items.every((e) => e.action === 'login.failed')).toBe(true);
  });

  it('lists a poison message in the validator queue with its error; replayed after the cause is fixed, its job completes', async () => {
    const naming = new Naming(platform.namespace);
    const image = png({ width: 70, height: 70 });
    const manifest = Buffer.from('filename,label\nx.png,normal\n');
    const datasetId = randomUUID();
    const jobId = randomUUID();
    const files = [
      { fileId: randomUUID(), filename: 'x.png', contentType: 'image/png', sizeBytes: image.length, content: image },
      { fileId: randomUUID(), filename: 'manifest.csv', contentType: 'text/csv', sizeBytes: manifest.length, content: manifest },
    ].map((f) => ({ ...f, key: `datasets/${datasetId}/${f.fileId}/${f.filename}` }));
    const connection = await amqp.connect(TEST_AMQP_URL);
    try {
      const channel = await connection.createConfirmChannel();
      const envelope = {
        id: randomUUID(),
        type: DatasetEvents.Uploaded,
        occurredAt: new Date().toISOString(),
        source: 'upload',
        correlationId: randomUUID(),
        data: { datasetId, jobId, teamId: randomUUID(), profile: 'xray', options: {}, queuedAt: new Date().toISOString(), files: files.map(({ content: _, ...f }) => f) },
      };
      publishSigned(channel, topologyNames(naming, 'validator').eventsExchange, DatasetEvents.Uploaded, envelope, { persistent: true });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
    // Its objects are missing: every attempt fails, then it is dead-lettered.
    const letter = await waitFor(async () => (await get<{ items: DeadLetter[] }>('/admin/dead-letters')).items.find((d) => JSON.stringify(d.payload).includes(jobId)), {
      what: 'the dead letter',
      timeoutMs: 30_000,
    });
    expect(letter).toMatchObject({ kind: 'queue', status: 'dead', type: 'dataset.uploaded' });
    expect(letter.error).toMatch(new RegExp(`validation job ${jobId} failed 2 time\\(s\\)`));
    // The cause fixed: the objects are there now.
    const storage = new ObjectStorage(loadEnv(StorageEnv, { S3_ENDPOINT: platform.s3!.endpoint, S3_BUCKET: `flotilla-${platform.namespace}` }));
    for (const f of files) await storage.putObject(f.key, f.content, f.contentType);
    const replay = await platform.api.request<DeadLetter>('POST', `/api/v1/admin/dead-letters/${letter.id}/replay`, { token: admin });
    expect([replay.status, replay.body.status]).toEqual([202, 'replayed']);
    expect((await platform.api.request('POST', `/api/v1/admin/dead-letters/${letter.id}/replay`, { token: admin })).status).toBe(409);
    const job = await waitFor(async () => {
      const items = (await get<{ items: { jobId: string; status: string }[] }>('/admin/validations?limit=200')).items;
      const found = items.find((j) => j.jobId === jobId);
      return found?.status === 'passed' ? found : undefined;
    }, { what: 'the replayed job to pass', timeoutMs: 30_000 });
    expect(job.status).toBe('passed');
    expect((await get<{ items: AuditEntry[] }>('/admin/audit?action=dead_letter.replayed')).items[0]?.target).toBe(`dead-letter:${letter.id}`);
  });

  it('runs the retention cleanup, which purges expired datasets and logs what was freed', async () => {
    const { datasetId } = await uploadAndValidate(platform.api, member, 'old', 'xray', [{ filename: 'b.png', contentType: 'image/png', content: png({ width: 66, height: 66 }) }]);
    const run = await platform.api.request<CleanupRun>('POST', '/api/v1/admin/cleanup/run', { token: admin });
    expect([run.status, run.body.status, run.body.trigger]).toEqual([202, 'running', 'manual']);
    const done = await waitFor(async () => (await get<{ items: CleanupRun[] }>('/admin/cleanup/log')).items.find((r) => r.id === run.body.id && r.status !== 'running'), {
      what: 'the cleanup run to finish',
    });
    expect(done).toMatchObject({ status: 'succeeded', retentionDays: 0 });
    expect(done.datasetsDeleted).toBeGreaterThanOrEqual(1);
    expect(done.objectsDeleted).toBeGreaterThanOrEqual(1);
    expect(done.bytesFreed).toBeGreaterThan(0);
    expect((await platform.api.request('GET', `/api/v1/datasets/${datasetId}`, { token: member })).status).toBe(404);
  });

  it('gathers the stats, and streams them live', async () => {
    const stats = await get<{ users: number; teams: number; unavailable: string[]; queues: { validation: number | null } }>('/admin/stats');
    expect(stats.users).toBeGreaterThanOrEqual(2);
    expect(stats.teams).toBeGreaterThanOrEqual(1);
    expect(stats.unavailable).toEqual([]);
    expect(stats.queues.validation).not.toBeNull();
    const controller = new AbortController();
    const res = await fetch(`${platform.api.baseUrl}/api/v1/admin/events?access_token=${admin}`, { signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    controller.abort();
    expect(new TextDecoder().decode(value)).toContain('event: stats');
    const logged = await waitFor(async () => (await get<{ items: RequestRecord[] }>('/admin/requests?route=events&limit=10')).items[0], { what: 'the stream request in the log' });
    expect(JSON.stringify(logged)).not.toContain(admin);
  });

  it('shows a gracefully stopped service stopped, a killed one down within the threshold, and up again after it restarts', async () => {
    const instances = async (): Promise<ServiceInstance[]> => (await get<{ items: ServiceInstance[] }>('/admin/services')).items;
    const statusOf = async (instanceId: string): Promise<string | undefined> => (await instances()).find((i) => i.instanceId === instanceId)?.status;
    const before = await waitFor(async () => {
      const items = await instances();
      return ['gateway', 'upload', 'validator', 'vote-consumer', 'provisioner', 'admin'].every((s) => items.some((i) => i.service === s && i.status === 'up')) ? items : undefined;
    }, { what: 'every service up' });
    const old = before.find((i) => i.service === 'vote-consumer' && i.status === 'up')!;
    const voteConsumer = platform.service('vote-consumer');
    // SIGTERM: the last beat says goodbye.
    await voteConsumer.stop();
    await waitFor(async () => ((await statusOf(old.instanceId)) === 'stopped' ? true : undefined), { what: 'vote-consumer stopped', timeoutMs: 30_000 });
    await voteConsumer.start();
    const back = await waitFor(async () => (await instances()).find((i) => i.service === 'vote-consumer' && i.status === 'up' && i.instanceId !== old.instanceId), { what: 'vote-consumer up again' });
    expect(back.transitions.map((t) => t.status)).toEqual(['up']);
    expect((await instances()).find((i) => i.instanceId === old.instanceId)!.transitions.map((t) => t.status)).toEqual(['up', 'stopped']);

    // SIGKILL: silence, so down once the threshold passed.
    await voteConsumer.kill();
    const killedAt = Date.now();
    await waitFor(async () => ((await statusOf(back.instanceId)) === 'down' ? true : undefined), { what: 'vote-consumer down', timeoutMs: 30_000 });
    // The threshold, plus the sweep's period and the beat in flight at the kill.
    expect(Date.now() - killedAt).toBeLessThan(11_000 + 5000);
    expect((await instances()).find((i) => i.instanceId === back.instanceId)!.transitions.map((t) => t.status)).toEqual(['up', 'down']);
    await voteConsumer.start();
    await waitFor(async () => (await instances()).some((i) => i.service === 'vote-consumer' && i.status === 'up' && i.instanceId !== back.instanceId), { what: 'vote-consumer up once more' });
  });
});
