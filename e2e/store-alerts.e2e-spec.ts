import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mailReceiver, waitFor, webhookReceiver, type MailReceiver, type ReceivedHook, type WebhookReceiver } from '@flotilla/testing';
import { ADMIN, Platform } from './support/platform.js';

const PERIOD_MS = 1000;
const SECRET = 'store-alerts-webhook-secret-0123';

/**
 * RELIABILITY.md "Watching stores": a store whose pods are all killed and kept from
 * starting is `down` within two reconcile periods, and the admins hear of it — a webhook
 * signed with the channel's secret and an e-mail through a real SMTP server, both
 * checked where they arrive — and hear again when it is back `up`.
 */
describe('store alerts end to end: health to webhook and e-mail', () => {
  let mail: MailReceiver;
  let hooks: WebhookReceiver;
  const platform = new Platform(
    { SIMULATED_POD_START_MS: '150', SIMULATED_POD_READY_MS: '150', RECONCILE_INTERVAL_MS: String(PERIOD_MS), NOTIFY_POLL_MS: '200', RATE_LIMIT_PER_USER: '100000' },
    ['gateway', 'provisioner', 'admin'],
    { envOf: (name): Record<string, string> => (name === 'admin' ? { SMTP_URL: mail.url, SMTP_FROM: 'Flotilla alerts <alerts@flotilla.test>' } : {}) },
  );
  let admin: string;
  let member: string;

  const api = (method: string, path: string, token: string, body?: unknown) => platform.api.request<Record<string, unknown>>(method, `/api/v1${path}`, { token, body });
  const hookFor = (event: string, storeId: string) => (): ReceivedHook | undefined =>
    hooks.received.find((h) => h.headers['x-flotilla-event'] === event && (JSON.parse(h.body) as { data?: { storeId?: string } }).data?.storeId === storeId);
  const mailFor = (event: string, storeName: string) => () => mail.mails.find((m) => m.text.includes(`Subject: [Flotilla] ${event}: Store ${storeName}`));

  beforeAll(async () => {
    mail = await mailReceiver();
    hooks = await webhookReceiver(SECRET, () => 204);
    await platform.start();
    admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await platform.api.request<{ id: string }>('POST', '/api/v1/admin/teams', { token: admin, body: { name: 'alerted' } });
    await platform.api.request('POST', '/api/v1/admin/users', { token: admin, body: { email: 'm@alerts.test', password: 'member-password-123', teamId: team.body.id, role: 'member' } });
    member = await platform.api.login('m@alerts.test', 'member-password-123');
    const events = ['store.down', 'store.up'];
    expect((await api('POST', '/admin/notifications', admin, { kind: 'webhook', url: `${hooks.url}/alerts`, secret: SECRET, events })).status).toBe(201);
    expect((await api('POST', '/admin/notifications', admin, { kind: 'email', to: ['oncall@alerts.test'], events })).status).toBe(201);
  });

  afterAll(async () => {
    await platform.stop();
    await Promise.all([mail?.close(), hooks?.close()]);
  });

  it('notifies down within two periods of the pods dying, and up when they are back', async () => {
    const created = await api('POST', '/stores', member, { name: 'alerted-shop', template: 'wordpress', replicas: 2 });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    await waitFor(async () => ((await api('GET', `/stores/${id}/health`, member)).body.status === 'up' ? true : undefined), { what: 'the store up', timeoutMs: 30_000 });

    expect((await api('POST', `/admin/stores/${id}/chaos`, admin, { killPods: 2, holdPods: true })).status).toBe(202);
    const killedAt = Date.now();
    const down = await waitFor(hookFor('store.down', id), { what: 'the signed store.down webhook', timeoutMs: 15_000, intervalMs: 50 });
    // Two periods to be judged down, then one poll of the deliverer (and this machine's slack).
    expect(down.at - killedAt).toBeLessThanOrEqual(2 * PERIOD_MS + 2000);
    expect(down.verified).toBe(true);
    const downBody = JSON.parse(down.body) as { event: string; summary: string; data: { name: string; health: string; reason: string } };
    expect(downBody).toMatchObject({ event: 'store.down', data: { name: 'alerted-shop', health: 'down', reason: expect.stringMatching(/^0 ready pods: 2 pending/) } });
    const downMail = await waitFor(mailFor('store.down', 'alerted-shop'), { what: 'the store.down e-mail', timeoutMs: 15_000 });
    expect(downMail.to).toEqual(['oncall@alerts.test']);
    expect(downMail.from).toBe('alerts@flotilla.test');
    expect(downMail.text).toContain('0 ready pods');

    expect((await api('POST', `/admin/stores/${id}/chaos`, admin, { killPods: 0, holdPods: false })).status).toBe(202);
    const up = await waitFor(hookFor('store.up', id), { what: 'the signed store.up webhook', timeoutMs: 15_000, intervalMs: 50 });
    expect(up.verified).toBe(true);
    expect(up.headers['x-flotilla-delivery']).not.toBe(down.headers['x-flotilla-delivery']);
    await waitFor(mailFor('store.up', 'alerted-shop'), { what: 'the store.up e-mail', timeoutMs: 15_000 });

    // Once each: the receivers' own record, not the platform's, is the truth.
    await new Promise((resolve) => setTimeout(resolve, 2 * PERIOD_MS));
    const storeHooks = hooks.received.filter((h) => (JSON.parse(h.body) as { data?: { storeId?: string } }).data?.storeId === id);
    expect(storeHooks.map((h) => h.headers['x-flotilla-event'])).toEqual(['store.down', 'store.up']);
    expect(mail.mails.filter((m) => m.text.includes('Store alerted-shop')).length).toBe(2);
  });
});
