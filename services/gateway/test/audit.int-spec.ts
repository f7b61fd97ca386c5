import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import amqp, { type Channel, type ChannelModel } from 'amqplib';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Naming } from '@flotilla/config';
import type { AuditEventData, EventEnvelope } from '@flotilla/contracts';
import { topologyNames, topologyResources } from '@flotilla/messaging';
import { deleteAmqp, deleteKeys, dropSchemas, freePort, ServiceProcess, testEnv, TEST_AMQP_URL, TEST_DATABASE_URL, uniqueNamespace, waitFor } from '@flotilla/testing';

jest.setTimeout(120_000);

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ADMIN = { email: 'admin@audit.test', password: 'audit-admin-password-123' };
const MEMBER_PASSWORD = 'member-password-4567';

function build(): void {
  const result = spawnSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-b', 'services/gateway'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`tsc -b services/gateway failed:\n${result.stdout}${result.stderr}`);
}

interface Received {
  routingKey: string;
  raw: string;
  envelope: EventEnvelope<AuditEventData>;
}

/**
 * The gateway as a process against real Postgres, Redis and RabbitMQ: its audit events
 * are observed on the bus through a queue bound to `audit.#`, as the admin service
 * would see them, and its schema is read directly.
 */
describe('gateway: audit events through the outbox', () => {
  const ns = uniqueNamespace();
  const naming = new Naming(ns);
  const schema = naming.schema('identity');
  const exchange = topologyNames(naming, 'gateway').eventsExchange;
  const auditQueue = naming.amqp('test.audit');
  const received: Received[] = [];
  let gateway: ServiceProcess;
  let connection: ChannelModel;
  let channel: Channel;
  let db: pg.Client;

  const api = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown, options: { token?: string; ip?: string } = {}) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.ip) headers['x-forwarded-for'] = options.ip;
    const res = await fetch(`${gateway.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const login = (email: string, password: string, ip?: string) =>
    api<{ accessToken: string; refreshToken: string }>('POST', '/auth/login', { email, password }, { ip });

  /** Waits for the first audit event of `action` matching `where`. */
  const audited = async (action: string, where: (d: AuditEventData) => boolean = () => true): Promise<Received> =>
    (await waitFor(() => received.find((r) => r.envelope.data.action === action && where(r.envelope.data)), {
      what: `audit.${action}`,
      timeoutMs: 10_000,
    })) as Received;

  let adminId: string;
  let adminToken: string;

  beforeAll(async () => {
    build();
    connection = await amqp.connect(TEST_AMQP_URL);
    channel = await connection.createChannel();
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(auditQueue, { exclusive: true });
    await channel.bindQueue(auditQueue, exchange, 'audit.#');
    await channel.consume(
      auditQueue,
      (m) => {
        if (!m) return;
        const raw = m.content.toString();
        received.push({ routingKey: m.fields.routingKey, raw, envelope: JSON.parse(raw) as EventEnvelope<AuditEventData> });
      },
      { noAck: true },
    );
    gateway = new ServiceProcess(
      'gateway',
      await freePort(),
      testEnv(ns, {
        // The test plays the proxy that names the client.
        TRUST_PROXY: '127.0.0.1',
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        JWT_SECRET: 'audit-test-jwt-secret-that-is-long-enough-0123',
        RATE_LIMIT_PER_IP: '100000',
        LOGIN_MAX_FAILURES_PER_IP: '1000',
        LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
      }),
    );
    await gateway.start();
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    const res = await login(ADMIN.email, ADMIN.password);
    expect(res.status).toBe(200);
    adminToken = res.body.accessToken;
    adminId = ((await api<{ id: string }>('GET', '/auth/me', undefined, { token: adminToken })).body).id;
  });

  afterAll(async () => {
    await gateway?.stop();
    await channel?.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await db?.end();
    const r = topologyResources(naming, 'gateway');
    await deleteAmqp(r.queues, r.exchanges);
    await Promise.allSettled([dropSchemas(ns), deleteKeys(ns)]);
  });

  it('publishes audit.login.succeeded with the user and the caller\'s ip', async () => {
    expect((await login(ADMIN.email, ADMIN.password, '203.0.113.7')).status).toBe(200);
    const event = await audited('login.succeeded', (d) => d.ip === '203.0.113.7');
    expect(event.routingKey).toBe('audit.login.succeeded');
    expect(event.envelope).toMatchObject({ type: 'audit.login.succeeded', source: 'gateway' });
    expect(event.envelope.data).toEqual({
      action: 'login.succeeded',
      outcome: 'success',
      actorId: adminId,
      actorEmail: ADMIN.email,
      ip: '203.0.113.7',
      target: `user:${adminId}`,
    });
    expect(event.raw).not.toContain(ADMIN.password);
  });

  it('publishes audit.login.failed for a wrong password and for an unknown email, never with the password', async () => {
    const wrong = await login(ADMIN.email.toUpperCase(), 'wrong-password-111', '203.0.113.8');
    const unknown = await login('nobody@audit.test', 'wrong-password-222', '203.0.113.8');
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    const forWrong = await audited('login.failed', (d) => d.actorEmail === ADMIN.email && d.ip === '203.0.113.8');
    const forUnknown = await audited('login.failed', (d) => d.actorEmail === 'nobody@audit.test');
    expect(forWrong.routingKey).toBe('audit.login.failed');
    expect(forWrong.envelope.data).toMatchObject({ outcome: 'failure', actorId: adminId, details: { reason: 'wrong-password' } });
    expect(forUnknown.envelope.data).toMatchObject({ outcome: 'failure', actorId: null, ip: '203.0.113.8', details: { reason: 'unknown-email' } });
    expect(forWrong.raw).not.toContain('wrong-password-111');
    expect(forUnknown.raw).not.toContain('wrong-password-222');
  });

  it('publishes audit.login.throttled once the account has failed too often', async () => {
    const email = 'guessed@audit.test';
    for (let i = 0; i < 3; i++) expect((await login(email, `guess-${i}-xxxxxxxx`, '198.51.100.4')).status).toBe(401);
    const refused = await login(email, 'guess-4-xxxxxxxx', '198.51.100.4');
    expect(refused.status).toBe(429);
    const event = await audited('login.throttled', (d) => d.actorEmail === email);
    expect(event.routingKey).toBe('audit.login.throttled');
    expect(event.envelope.data).toMatchObject({ outcome: 'failure', actorId: null, ip: '198.51.100.4', details: { retryAfterSeconds: expect.any(Number) } });
    expect(event.raw).not.toContain('guess-4');
  });

  it('publishes audit.team.created and audit.user.created with the admin as actor, never the password', async () => {
    const team = await api<{ id: string }>('POST', '/admin/teams', { name: 'audit-team' }, { token: adminToken, ip: '192.0.2.50' });
    expect(team.status).toBe(201);
    const user = await api<{ id: string }>(
      'POST',
      '/admin/users',
      { email: 'member@audit.test', password: MEMBER_PASSWORD, teamId: team.body.id, role: 'member' },
      { token: adminToken, ip: '192.0.2.50' },
    );
    expect(user.status).toBe(201);
    const teamEvent = await audited('team.created', (d) => d.target === `team:${team.body.id}`);
    expect(teamEvent.routingKey).toBe('audit.team.created');
    expect(teamEvent.envelope.data).toMatchObject({ outcome: 'success', actorId: adminId, actorEmail: ADMIN.email, ip: '192.0.2.50', details: { name: 'audit-team' } });
    const userEvent = await audited('user.created', (d) => d.target === `user:${user.body.id}`);
    expect(userEvent.routingKey).toBe('audit.user.created');
    expect(userEvent.envelope.data).toMatchObject({
      outcome: 'success',
      actorId: adminId,
      ip: '192.0.2.50',
      details: { role: 'member', teamId: team.body.id, email: 'member@audit.test' },
    });
    expect(userEvent.raw).not.toContain(MEMBER_PASSWORD);
    expect(userEvent.raw).not.toContain('password');
    // A refused creation changes nothing and records nothing.
    expect((await api('POST', '/admin/teams', { name: 'audit-team' }, { token: adminToken })).status).toBe(409);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(received.filter((r) => r.envelope.data.action === 'team.created')).toHaveLength(1);
  });

  it('publishes audit.token.reuse when a used refresh token comes back, with the family revoked in the same change', async () => {
    const first = await login('member@audit.test', MEMBER_PASSWORD);
    const memberId = ((await api<{ id: string }>('GET', '/auth/me', undefined, { token: first.body.accessToken })).body).id;
    const rotated = await api<{ refreshToken: string }>('POST', '/auth/refresh', { refreshToken: first.body.refreshToken });
    expect(rotated.status).toBe(200);
    const reused = await api('POST', '/auth/refresh', { refreshToken: first.body.refreshToken }, { ip: '198.51.100.99' });
    expect(reused.status).toBe(401);
    const event = await audited('token.reuse', (d) => d.actorId === memberId);
    expect(event.routingKey).toBe('audit.token.reuse');
    const familyId = (event.envelope.data.details as { familyId: string }).familyId;
    expect(event.envelope.data).toMatchObject({
      outcome: 'failure',
      actorEmail: 'member@audit.test',
      ip: '198.51.100.99',
      target: `user:${memberId}`,
      details: { tokensRevoked: 1 },
    });
    const { rows } = await db.query<{ live: string }>(`SELECT count(*) FILTER (WHERE revoked_at IS NULL) AS live FROM "${schema}".refresh_tokens WHERE family_id = $1`, [familyId]);
    expect(Number(rows[0]!.live)).toBe(0);
    expect(event.raw).not.toContain(first.body.refreshToken.split('.')[1]);
  });

  it('publishes audit.logout when a session is ended, and nothing for a token already revoked', async () => {
    const session = await login('member@audit.test', MEMBER_PASSWORD);
    const out = await api('POST', '/auth/logout', { refreshToken: session.body.refreshToken }, { ip: '192.0.2.77' });
    expect(out.status).toBe(204);
    const event = await audited('logout', (d) => d.ip === '192.0.2.77');
    expect(event.routingKey).toBe('audit.logout');
    expect(event.envelope.data).toMatchObject({ outcome: 'success', actorEmail: 'member@audit.test', details: { tokensRevoked: 1 } });
    expect(event.raw).not.toContain(session.body.refreshToken.split('.')[1]);
    expect((await api('POST', '/auth/logout', { refreshToken: session.body.refreshToken }, { ip: '192.0.2.78' })).status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(received.filter((r) => r.envelope.data.ip === '192.0.2.78')).toHaveLength(0);
  });

  it('keeps a refused login a 401 when its audit entry cannot be written, and commits nothing of a login it cannot audit', async () => {
    const tokens = async (): Promise<number> => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".refresh_tokens`)).rows[0]!.n);
    await db.query(`ALTER TABLE "${schema}".outbox RENAME TO outbox_away`);
    try {
      const refused = await login(ADMIN.email, 'wrong-password-333', '203.0.113.200');
      expect(refused.status).toBe(401);
      const before = await tokens();
      const failedLogin = await login(ADMIN.email, ADMIN.password, '203.0.113.201');
      expect(failedLogin.status).toBe(500);
      // The refresh token and its audit entry commit together, or neither does.
      expect(await tokens()).toBe(before);
    } finally {
      await db.query(`ALTER TABLE "${schema}".outbox_away RENAME TO outbox`);
    }
    expect((await login(ADMIN.email, ADMIN.password, '203.0.113.202')).status).toBe(200);
    await audited('login.succeeded', (d) => d.ip === '203.0.113.202');
    expect(received.some((r) => r.envelope.data.ip === '203.0.113.200' || r.envelope.data.ip === '203.0.113.201')).toBe(false);
  });
});
