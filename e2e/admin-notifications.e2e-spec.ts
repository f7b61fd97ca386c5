import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { NotificationChannel, NotificationDelivery } from '@flotilla/contracts';
import { waitFor, webhookReceiver, type WebhookReceiver } from '@flotilla/testing';
import { ADMIN, Platform } from './support/platform.js';

const MEMBER = { email: 'm@notifications.test', password: 'member-password-123' };
const SECRET = 'e2e-webhook-secret-0123456789';

describe('admin notifications through the gateway', () => {
  // No SMTP_URL: e-mail channels are kept, with a warning, and their deliveries fail saying why.
  const platform = new Platform({ NOTIFY_POLL_MS: '200', NOTIFY_RETRY_BASE_MS: '100', NOTIFY_MAX_ATTEMPTS: '2' }, ['gateway', 'admin']);
  let receiver: WebhookReceiver;
  let receiverUrl: string;
  let admin: string;
  let member: string;

  beforeAll(async () => {
    receiver = await webhookReceiver(SECRET, () => 204);
    receiverUrl = `${receiver.url}/hook`;
    await platform.start();
    admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'notified' } });
    await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { ...MEMBER, teamId: team.body.id, role: 'member' } });
    member = await platform.api.login(MEMBER.email, MEMBER.password);
  });

  afterAll(async () => {
    await platform.stop();
    await receiver.close();
  });

  it('an admin creates a webhook channel (secret never shown), a member gets 403, a test send arrives signed', async () => {
    const created = await platform.api.request<NotificationChannel>('POST', '/api/v1/admin/notifications', {
      token: admin,
      body: { kind: 'webhook', url: receiverUrl, secret: SECRET, events: ['store.down', 'service.down'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'webhook', url: receiverUrl, secretSet: true, events: ['store.down', 'service.down'], lastDelivery: null });
    expect(JSON.stringify(created.body)).not.toContain(SECRET);
    const id = created.body.id;

    for (const [method, path, body] of [
      ['GET', '/admin/notifications', undefined],
      ['POST', '/admin/notifications', { kind: 'webhook', url: receiverUrl, secret: SECRET, events: ['store.down'] }],
      ['DELETE', `/admin/notifications/${id}`, undefined],
      ['POST', `/admin/notifications/${id}/test`, undefined],
      ['GET', `/admin/notifications/${id}/deliveries`, undefined],
    ] as const) {
      const res = await platform.api.request(method, `/api/v1${path}`, { token: member, ...(body ? { body } : {}) });
      expect(`${method} ${path}: ${res.status}`).toBe(`${method} ${path}: 403`);
    }

    const tested = await platform.api.request<{ deliveryId: string }>('POST', `/api/v1/admin/notifications/${id}/test`, { token: admin });
    expect(tested.status).toBe(202);
    const hook = await waitFor(() => receiver.received.find((r) => r.headers['x-flotilla-delivery'] === tested.body.deliveryId), { what: 'the test delivery', timeoutMs: 20_000 });
    expect(hook.headers['x-flotilla-event']).toBe('test');
    expect(hook.verified).toBe(true);
    expect(JSON.parse(hook.body)).toMatchObject({ id: tested.body.deliveryId, event: 'test', summary: expect.any(String) });

    const deliveries = await waitFor(async () => {
      const res = await platform.api.request<{ items: NotificationDelivery[] }>('GET', `/api/v1/admin/notifications/${id}/deliveries`, { token: admin });
      return res.body.items[0]?.status === 'sent' ? res.body.items : undefined;
    }, { what: 'the delivery sent' });
    expect(deliveries[0]).toMatchObject({ id: tested.body.deliveryId, event: 'test', status: 'sent', attempts: 1 });
    const list = await platform.api.request<{ items: NotificationChannel[] }>('GET', '/api/v1/admin/notifications', { token: admin });
    expect(list.body.items.find((c) => c.id === id)?.lastDelivery).toMatchObject({ status: 'sent', error: null });

    const audit = await platform.api.request<{ items: { action: string }[] }>('GET', '/api/v1/admin/audit?action=notification.', { token: admin });
    expect(audit.body.items.map((e) => e.action)).toEqual(expect.arrayContaining(['notification.created', 'notification.tested']));

    expect((await platform.api.request('DELETE', `/api/v1/admin/notifications/${id}`, { token: admin })).status).toBe(204);
    expect((await platform.api.request('DELETE', `/api/v1/admin/notifications/${id}`, { token: admin })).status).toBe(404);
    expect((await platform.api.request('POST', `/api/v1/admin/notifications/${randomUUID()}/test`, { token: admin })).status).toBe(404);
  });

  it('keeps an e-mail channel while SMTP is not configured, with a warning; its deliveries end dead saying so', async () => {
    const created = await platform.api.request<NotificationChannel>('POST', '/api/v1/admin/notifications', {
      token: admin,
      body: { kind: 'email', to: ['ops@notifications.test'], events: ['dead_letter'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ kind: 'email', to: ['ops@notifications.test'], warning: expect.stringContaining('SMTP not configured') });
    const tested = await platform.api.request<{ deliveryId: string }>('POST', `/api/v1/admin/notifications/${created.body.id}/test`, { token: admin });
    expect(tested.status).toBe(202);
    const dead = await waitFor(async () => {
      const res = await platform.api.request<{ items: NotificationDelivery[] }>('GET', `/api/v1/admin/notifications/${created.body.id}/deliveries`, { token: admin });
      return res.body.items.find((d) => d.id === tested.body.deliveryId && d.status === 'dead');
    }, { what: 'the e-mail delivery dead', timeoutMs: 20_000 });
    expect(dead).toMatchObject({ attempts: 2, lastError: expect.stringContaining('SMTP not configured'), sentAt: null });
    const audit = await platform.api.request<{ items: { action: string; outcome: string }[] }>('GET', '/api/v1/admin/audit?action=notification.dead', { token: admin });
    expect(audit.body.items[0]).toMatchObject({ action: 'notification.dead', outcome: 'failure' });
  });

  it('answers problem+json naming the field for invalid or hostile channels, never 500', async () => {
    const bodies: [Record<string, unknown> | string, string][] = [
      [{ kind: 'webhook', url: 'ftp://example.com', secret: SECRET, events: ['store.down'] }, 'url'],
      [{ kind: 'webhook', url: receiverUrl, secret: 'short', events: ['store.down'] }, 'secret'],
      [{ kind: 'webhook', url: receiverUrl, secret: SECRET, events: [] }, 'events'],
      [{ kind: 'webhook', url: receiverUrl, secret: SECRET, events: ['store.exploded'] }, 'events'],
      [{ kind: 'email', to: ['not-an-address'], events: ['store.down'] }, 'to'],
      [{ kind: 'email', to: [], events: ['store.down'] }, 'to'],
      [{ kind: 'webhook', url: `${receiverUrl}/${'a'.repeat(5000)}`, secret: SECRET, events: ['store.down'] }, 'url'],
      [`{"kind":"webhook","url":"${receiverUrl}","secret":"${'s'.repeat(20)}\\ud800","events":["store.down"]}`, 'secret'],
      [`{"kind":"webhook","url":"${receiverUrl}\\u0000","secret":"${SECRET}","events":["store.down"]}`, 'url'],
    ];
    for (const [body, field] of bodies) {
      const res = await platform.api.request<{ errors?: { path: string }[] }>('POST', '/api/v1/admin/notifications', {
        token: admin,
        ...(typeof body === 'string' ? { rawBody: body, headers: { 'content-type': 'application/json' } } : { body }),
      });
      expect([400, 422]).toContain(res.status);
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(res.body.errors?.some((e) => e.path === field || e.path.startsWith(`${field}.`))).toBe(true);
    }
    expect((await platform.api.request('GET', '/api/v1/admin/notifications/not-a-uuid/deliveries', { token: admin })).status).toBe(400);
  });
});
