import { describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { AdminRpc, type NotificationChannel } from '@flotilla/contracts';
import { NotificationDeliverer } from '../src/notifications/deliverer.js';
import { EmailSender, SMTP_NOT_CONFIGURED } from '../src/notifications/email.js';
import { notificationsUnderTest, outcome, SECRET } from './notifications-harness.js';

jest.setTimeout(120_000);

/** Channel CRUD through the admin's RPC patterns, as the gateway calls them. */
describe('admin notifications: channels', () => {
  const t = notificationsUnderTest();
  const webhook = (over: Record<string, unknown> = {}): Record<string, unknown> => ({ kind: 'webhook', url: 'https://hooks.example.com/x', secret: SECRET, events: ['store.down'], ...over });
  const email = (over: Record<string, unknown> = {}): Record<string, unknown> => ({ kind: 'email', to: ['ops@example.com'], events: ['service.down'], ...over });

  it('creates, lists (never the secret), and deletes channels, each audited', async () => {
    const hook = await t.createChannel(webhook({ events: ['store.down', 'store.up'] }));
    expect(hook).toMatchObject({ kind: 'webhook', url: 'https://hooks.example.com/x', secretSet: true, events: ['store.down', 'store.up'], createdBy: expect.any(String), lastDelivery: null });
    expect(hook).not.toHaveProperty('secret');
    const mail = await t.createChannel(email({ to: ['a@example.com', 'b@example.com'] }));
    expect(mail).toMatchObject({ kind: 'email', to: ['a@example.com', 'b@example.com'], events: ['service.down'] });
    expect(mail).not.toHaveProperty('warning');

    const { items } = await t.call<{ items: NotificationChannel[] }>(AdminRpc.Notifications, {});
    expect(items.map((c) => c.id)).toEqual(expect.arrayContaining([hook.id, mail.id]));
    expect(JSON.stringify(items)).not.toContain(SECRET);

    await t.call(AdminRpc.DeleteNotification, { id: hook.id });
    expect(await outcome(t.call(AdminRpc.DeleteNotification, { id: hook.id }))).toBe('NOT_FOUND');
    expect(await outcome(t.call(AdminRpc.NotificationDeliveries, { id: hook.id }))).toBe('NOT_FOUND');
    expect(await outcome(t.call(AdminRpc.TestNotification, { id: randomUUID() }))).toBe('NOT_FOUND');
    await t.call(AdminRpc.DeleteNotification, { id: mail.id });

    const { rows } = await t.db.query<{ action: string }>(`SELECT action FROM ${t.schema}.audit WHERE target IN ($1, $2) ORDER BY at`, [`notification:${hook.id}`, `notification:${mail.id}`]);
    expect(rows.map((r) => r.action).sort()).toEqual(['notification.created', 'notification.created', 'notification.deleted', 'notification.deleted']);
  });

  it('refuses every invalid or hostile channel with VALIDATION naming the field, never an internal error', async () => {
    const cases: [string, unknown, string][] = [
      ['no kind', { url: 'https://x.example', secret: SECRET, events: ['store.up'] }, 'kind'],
      ['unknown kind', webhook({ kind: 'sms' }), 'kind'],
      ['ftp url', webhook({ url: 'ftp://x.example/a' }), 'url'],
      ['javascript url', webhook({ url: 'javascript:alert(1)' }), 'url'],
      ['no url', webhook({ url: undefined }), 'url'],
      ['url too long', webhook({ url: `https://x.example/${'a'.repeat(3000)}` }), 'url'],
      ['url with NUL', webhook({ url: 'https://x.example/\u0000' }), 'url'],
      ['url with a lone surrogate', webhook({ url: 'https://x.example/\uD800' }), 'url'],
      ['short secret', webhook({ secret: 'short' }), 'secret'],
      ['long secret', webhook({ secret: 's'.repeat(257) }), 'secret'],
      ['secret with a lone surrogate', webhook({ secret: `${'s'.repeat(20)}\uDC00` }), 'secret'],
      ['secret not a string', webhook({ secret: 1234567890123456 }), 'secret'],
      ['huge secret', webhook({ secret: 'x'.repeat(200_000) }), 'secret'],
      ['to on a webhook', webhook({ to: ['a@example.com'] }), 'to'],
      ['url on an e-mail channel', email({ url: 'https://x.example' }), 'url'],
      ['no recipients', email({ to: [] }), 'to'],
      ['21 recipients', email({ to: Array.from({ length: 21 }, (_, i) => `r${i}@example.com`) }), 'to'],
      ['not an address', email({ to: ['not-an-address'] }), 'to'],
      ['address with a newline', email({ to: ['a@example.com\r\nBcc: x@evil.example'] }), 'to'],
      ['address with NUL', email({ to: ['a\u0000@example.com'] }), 'to'],
      ['address with a lone surrogate', email({ to: ['\uD83D@example.com'] }), 'to'],
      ['to not an array', email({ to: 'a@example.com' }), 'to'],
      ['no events', webhook({ events: [] }), 'events'],
      ['unknown event', webhook({ events: ['store.exploded'] }), 'events'],
      ['test is not subscribable', webhook({ events: ['test'] }), 'events'],
      ['events repeated', webhook({ events: ['store.up', 'store.up'] }), 'events'],
      ['huge event name', webhook({ events: ['e'.repeat(100_000)] }), 'events'],
      ['events not an array', webhook({ events: 'store.up' }), 'events'],
      ['unknown field', webhook({ extra: 1 }), 'extra'],
      ['url with credentials', webhook({ url: 'https://user:password@hooks.example.com/x' }), 'url'],
      ['deep nesting', webhook({ events: [[[[[[[[[[['store.up']]]]]]]]]]] }), 'events'],
    ];
    const wrong: string[] = [];
    for (const [name, body, field] of cases) {
      const error = await t.call(AdminRpc.CreateNotification, body).then(
        () => undefined,
        (e: unknown) => e as { code?: string; errors?: { path: string }[] },
      );
      if (error?.code !== 'VALIDATION' || !error.errors?.some((e) => e.path === field || e.path.startsWith(`${field}.`))) {
        wrong.push(`${name}: ${error ? `${error.code} ${JSON.stringify(error.errors)}` : 'accepted'}`);
      }
    }
    expect(wrong).toEqual([]);
    for (const payload of [null, 'x', [1], 42]) expect(await outcome(t.call(AdminRpc.CreateNotification, payload))).toBe('VALIDATION');
    for (const id of ['not-a-uuid', '\u0000', '\uD800', 'a'.repeat(50_000)]) {
      expect(await outcome(t.call(AdminRpc.DeleteNotification, { id }))).toBe('VALIDATION');
      expect(await outcome(t.call(AdminRpc.TestNotification, { id }))).toBe('VALIDATION');
      expect(await outcome(t.call(AdminRpc.NotificationDeliveries, { id }))).toBe('VALIDATION');
    }
    for (const limit of ['0', '201', 'x', -1, 1.5]) expect(await outcome(t.call(AdminRpc.NotificationDeliveries, { id: randomUUID(), limit }))).toBe('VALIDATION');
    // Nothing of it was stored.
    const { rows } = await t.db.query(`SELECT 1 FROM ${t.schema}.notification_channels WHERE 'store.exploded' = ANY (events) OR kind NOT IN ('webhook', 'email')`);
    expect(rows).toEqual([]);
  });

  it('removes sent and dead deliveries past their retention, never pending ones', async () => {
    const hook = await t.createChannel(webhook({ url: 'https://hooks.example.com/old' }));
    const old = "now() - interval '31 days'";
    for (const [status, next] of [['sent', 'now()'], ['dead', 'now()'], ['pending', "now() + interval '1 day'"]]) {
      await t.db.query(
        `INSERT INTO ${t.schema}.notification_deliveries (id, channel_id, event, source_id, occurred_at, summary, status, next_attempt_at, created_at)
         VALUES (gen_random_uuid(), $1, 'store.down', $2, ${old}, 'old', $3, ${next}, ${old})`,
        [hook.id, `old:${status}`, status],
      );
    }
    await t.db.query(`INSERT INTO ${t.schema}.notification_deliveries (id, channel_id, event, source_id, occurred_at, summary, status) VALUES (gen_random_uuid(), $1, 'store.down', 'recent', now(), 'recent', 'sent')`, [hook.id]);
    expect(await t.admins[0]!.get(NotificationDeliverer).purge()).toBe(2);
    expect((await t.deliveries(hook.id)).map((d) => d.status).sort()).toEqual(['pending', 'sent']);
    await t.call(AdminRpc.DeleteNotification, { id: hook.id });
  });

  it('an e-mail sender without SMTP fails each delivery saying so', async () => {
    const sender = new EmailSender('', '', 1000);
    expect(sender.configured).toBe(false);
    await expect(sender.send(['a@example.com'], { id: randomUUID(), event: 'test', occurredAt: new Date().toISOString(), summary: 's', data: {} })).rejects.toThrow(SMTP_NOT_CONFIGURED);
  });
});
