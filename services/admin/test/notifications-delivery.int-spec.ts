import { describe, expect, it, jest } from '@jest/globals';
import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { BaseEnv, FlotillaConfigModule } from '@flotilla/config';
import { AdminRpc, StoreEventTypes, type NotificationPayload } from '@flotilla/contracts';
import { EventPublisher, Heartbeat, RabbitModule } from '@flotilla/messaging';
import { ObservabilityModule } from '@flotilla/observability';
import { waitFor } from '@flotilla/testing';
import { NotificationDeliverer } from '../src/notifications/deliverer.js';
import { deadLetterEntry, voteFields } from './dead-letters-harness.js';
import { MAX_ATTEMPTS, notificationsUnderTest, SECRET } from './notifications-harness.js';

jest.setTimeout(180_000);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const payloadOf = (body: string): NotificationPayload => JSON.parse(body) as NotificationPayload;

/** Events to deliveries to a real webhook receiver and a real SMTP server, through two admin replicas. */
describe('admin notifications: delivery', () => {
  const t = notificationsUnderTest();
  const hookChannel = async (path: string, events: string[]) => t.createChannel({ kind: 'webhook', url: `${t.hooks.url}${path}`, secret: SECRET, events });

  it('a store.health event as the provisioner publishes it: a signed webhook and an e-mail; the same event again notifies nobody twice', async () => {
    const hook = await hookChannel('/store-down', ['store.down']);
    const mail = await t.createChannel({ kind: 'email', to: ['ops@flotilla.test'], events: ['store.down'] });
    const event = await t.storeHealth('down', { name: 'shop-down', reason: 'pods pending: Unschedulable' });

    const [received] = await waitFor(() => (t.hooks.at('/store-down').length > 0 ? t.hooks.at('/store-down') : undefined), { what: 'the webhook', timeoutMs: 20_000 });
    expect(received!.verified).toBe(true);
    const payload = payloadOf(received!.body);
    expect(payload).toMatchObject({ event: 'store.down', summary: expect.stringContaining('shop-down'), data: { name: 'shop-down', health: 'down', reason: 'pods pending: Unschedulable' } });
    expect(received!.headers['x-flotilla-event']).toBe('store.down');
    expect(received!.headers['x-flotilla-delivery']).toBe(payload.id);
    expect(Math.abs(Number(received!.headers['x-flotilla-timestamp']) - Date.now() / 1000)).toBeLessThan(60);
    expect(received!.headers['x-flotilla-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);

    const letter = await waitFor(() => t.mail.mails.find((m) => m.text.includes('shop-down')), { what: 'the e-mail', timeoutMs: 20_000 });
    expect(letter.to).toEqual(['ops@flotilla.test']);
    expect(letter.from).toBe('alerts@flotilla.test');
    expect(letter.text).toMatch(/Subject: \[Flotilla\] store\.down: Store shop-down is down/);
    expect(letter.text).toContain('pods pending: Unschedulable');

    // The same event (same id), published again as a redelivery would bring it.
    await t.publish(StoreEventTypes.Health, { ...event, occurredAt: new Date().toISOString() });
    await t.storeHealth('down', { id: event.id, name: 'shop-down' });
    await sleep(2000);
    expect(t.hooks.at('/store-down')).toHaveLength(1);
    expect(t.mail.mails.filter((m) => m.text.includes('shop-down'))).toHaveLength(1);
    expect(await t.deliveries(hook.id)).toEqual([expect.objectContaining({ event: 'store.down', status: 'sent', attempts: 1, sentAt: expect.any(String) })]);
    expect(await t.deliveries(mail.id)).toEqual([expect.objectContaining({ event: 'store.down', status: 'sent', attempts: 1 })]);
    const { items } = await t.call<{ items: { id: string; lastDelivery: unknown }[] }>(AdminRpc.Notifications, {});
    expect(items.find((c) => c.id === hook.id)?.lastDelivery).toMatchObject({ status: 'sent', error: null });
    await t.call(AdminRpc.DeleteNotification, { id: hook.id });
    await t.call(AdminRpc.DeleteNotification, { id: mail.id });
  });

  it('a receiver that answers 500 three times then 200: delivered on the fourth attempt, the same delivery id each time', async () => {
    const hook = await hookChannel('/flaky', ['store.up']);
    await t.storeHealth('up', { name: 'shop-flaky' });
    const [delivery] = await waitFor(async () => {
      const items = await t.deliveries(hook.id);
      return items[0]?.status === 'sent' ? items : undefined;
    }, { what: 'the flaky delivery sent', timeoutMs: 30_000 });
    expect(delivery).toMatchObject({ status: 'sent', attempts: 4, lastError: null });
    const requests = t.hooks.at('/flaky');
    expect(requests.map((r) => r.status)).toEqual([500, 500, 500, 200]);
    expect(new Set(requests.map((r) => r.headers['x-flotilla-delivery']))).toEqual(new Set([delivery!.id]));
    expect(requests.every((r) => r.verified)).toBe(true);
    // Backed off: 100, 200, 400 ms between the attempts (NOTIFY_RETRY_BASE_MS doubled), at least.
    const gaps = requests.slice(1).map((r, i) => r.at - requests[i]!.at);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(100 * 2 ** i - 20));
    await t.call(AdminRpc.DeleteNotification, { id: hook.id });
  });

  it('a receiver that always fails: dead after the configured attempts, audited, and no dead_letter notification of it', async () => {
    const hook = await hookChannel('/broken', ['store.down']);
    const watcher = await hookChannel('/watch-dead-letters', ['dead_letter']);
    await t.storeHealth('down', { name: 'shop-broken' });
    const [delivery] = await waitFor(async () => {
      const items = await t.deliveries(hook.id);
      return items[0]?.status === 'dead' ? items : undefined;
    }, { what: 'the delivery dead', timeoutMs: 30_000 });
    expect(delivery).toMatchObject({ status: 'dead', attempts: MAX_ATTEMPTS, lastError: 'the webhook answered 500', sentAt: null });
    await sleep(1000);
    expect(t.hooks.at('/broken')).toHaveLength(MAX_ATTEMPTS);
    const { rows } = await t.db.query<{ details: { deliveryId: string } }>(`SELECT details FROM ${t.schema}.audit WHERE action = 'notification.dead' AND target = $1`, [`notification:${hook.id}`]);
    expect(rows.map((r) => r.details.deliveryId)).toEqual([delivery!.id]);
    expect(t.hooks.at('/watch-dead-letters')).toEqual([]);
    const { items } = await t.call<{ items: { id: string; lastDelivery: unknown }[] }>(AdminRpc.Notifications, {});
    expect(items.find((c) => c.id === hook.id)?.lastDelivery).toMatchObject({ status: 'dead', error: 'the webhook answered 500' });
    await t.call(AdminRpc.DeleteNotification, { id: hook.id });
    await t.call(AdminRpc.DeleteNotification, { id: watcher.id });
  });

  it('a new dead letter notifies once, however often it is collected', async () => {
    const hook = await hookChannel('/dead-letters', ['dead_letter']);
    await deadLetterEntry(t.redis, t.naming.key('votes'), voteFields(), 'poll closed before the vote was counted');
    await t.call(AdminRpc.DeadLetters, {});
    const [received] = await waitFor(() => (t.hooks.at('/dead-letters').length > 0 ? t.hooks.at('/dead-letters') : undefined), { what: 'the dead_letter notification' });
    expect(payloadOf(received!.body)).toMatchObject({ event: 'dead_letter', summary: expect.stringContaining('poll closed before the vote was counted'), data: { kind: 'stream' } });
    await t.call(AdminRpc.DeadLetters, {});
    await sleep(1000);
    expect(t.hooks.at('/dead-letters')).toHaveLength(1);
    await t.call(AdminRpc.DeleteNotification, { id: hook.id });
  });

  it('a test send queues a signed test delivery', async () => {
    const hook = await hookChannel('/tested', ['store.rollback']);
    const { deliveryId } = await t.call<{ deliveryId: string }>(AdminRpc.TestNotification, { id: hook.id });
    const [received] = await waitFor(() => (t.hooks.at('/tested').length > 0 ? t.hooks.at('/tested') : undefined), { what: 'the test delivery' });
    expect(received).toMatchObject({ verified: true, headers: expect.objectContaining({ 'x-flotilla-event': 'test', 'x-flotilla-delivery': deliveryId }) });
    await t.call(AdminRpc.DeleteNotification, { id: hook.id });
  });

  it('a service instance that stops beating and comes back: one service.down and one service.up, though two replicas sweep', async () => {
    const hook = await hookChannel('/services', ['service.down', 'service.up']);
    @Module({ imports: [FlotillaConfigModule.forRoot(BaseEnv, t.env), ObservabilityModule, RabbitModule.forRoot({ service: 'upload', heartbeat: { intervalMs: 100 } })] })
    class InstanceModule {}
    const instance: INestApplicationContext = await NestFactory.createApplicationContext(InstanceModule, { logger: ['error'], abortOnError: false });
    try {
      const instanceId = instance.get(Heartbeat).instanceId;
      const mine = (event: string) => t.hooks.at('/services').filter((r) => r.headers['x-flotilla-event'] === event && payloadOf(r.body).data.instanceId === instanceId);
      await sleep(1500);
      // Its beats stop, as a crash looks from outside.
      const silenced = jest.spyOn(instance.get(EventPublisher), 'publishEnvelope').mockRejectedValue(new Error('killed'));
      await waitFor(() => mine('service.down').length > 0, { what: 'service.down', timeoutMs: 20_000 });
      silenced.mockRestore();
      await waitFor(() => mine('service.up').length > 0, { what: 'service.up', timeoutMs: 20_000 });
      await sleep(1500);
      expect(mine('service.down')).toHaveLength(1);
      expect(mine('service.up')).toHaveLength(1);
      expect(payloadOf(mine('service.down')[0]!.body)).toMatchObject({ summary: expect.stringMatching(/^Service upload .* is down: no heartbeat/), data: { service: 'upload', status: 'down' } });
      expect(mine('service.down')[0]!.verified && mine('service.up')[0]!.verified).toBe(true);
    } finally {
      await instance.close();
      await t.call(AdminRpc.DeleteNotification, { id: hook.id });
    }
  });

  it('two admin replicas: every delivery sent exactly once, counted at the receiver', async () => {
    const hook = await hookChannel('/many', ['store.down']);
    // The deliverers wait until every delivery is queued, then race for them all at once.
    const gate = { open: false };
    const claimed = t.admins.map((admin) => {
      const deliverer = admin.get(NotificationDeliverer);
      const original = deliverer.deliverDue.bind(deliverer);
      const tally = { rows: 0 };
      jest.spyOn(deliverer, 'deliverDue').mockImplementation(async () => {
        if (!gate.open) return 0;
        const n = await original();
        tally.rows += n;
        return n;
      });
      return tally;
    });
    const count = 40;
    for (let i = 0; i < count; i++) await t.storeHealth('down', { name: `shop-many-${i}` });
    await waitFor(async () => (await t.deliveries(hook.id)).length === count, { what: 'every delivery queued', timeoutMs: 30_000 });
    gate.open = true;
    await waitFor(async () => (await t.deliveries(hook.id)).filter((d) => d.status === 'sent').length === count, { what: 'every delivery sent', timeoutMs: 60_000 });
    await sleep(1000);
    const requests = t.hooks.at('/many');
    const ids = requests.map((r) => String(r.headers['x-flotilla-delivery']));
    expect(requests).toHaveLength(count);
    expect(new Set(ids).size).toBe(count);
    expect(new Set(requests.map((r) => payloadOf(r.body).data.name)).size).toBe(count);
    // Both replicas claimed some (a single one would pass the counts too: this shows they raced).
    expect(claimed.map((c) => c.rows > 0)).toEqual([true, true]);
    expect(claimed[0]!.rows + claimed[1]!.rows).toBe(count);
    await t.call(AdminRpc.DeleteNotification, { id: hook.id });
  });

  it('the provisioner’s store.rollback event notifies with its reason', async () => {
    const hook = await hookChannel('/rollback', ['store.rollback']);
    const storeId = randomUUID();
    await t.publish(StoreEventTypes.Rollback, {
      id: randomUUID(),
      type: StoreEventTypes.Rollback,
      occurredAt: new Date().toISOString(),
      source: 'provisioner',
      correlationId: randomUUID(),
      data: { storeId, name: 'shop-rb', teamId: randomUUID(), status: 'degraded', revision: 3, message: 'degraded: revision 3 not ready within 60 s; serving revision 2' },
    });
    const [received] = await waitFor(() => (t.hooks.at('/rollback').length > 0 ? t.hooks.at('/rollback') : undefined), { what: 'the rollback notification' });
    expect(payloadOf(received!.body)).toMatchObject({ event: 'store.rollback', summary: expect.stringContaining('serving revision 2'), data: { storeId, name: 'shop-rb', revision: 3 } });
    await t.call(AdminRpc.DeleteNotification, { id: hook.id });
  });
});
