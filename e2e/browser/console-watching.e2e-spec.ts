import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Locator } from 'playwright-core';
import { waitFor, webhookReceiver, type WebhookReceiver } from '@flotilla/testing';
import { ADMIN, Platform } from '../support/platform.js';
import { AdminConsole } from './admin-console.js';
import { TestBrowser } from './browser.js';

/** `GET /stores/{id}/health` (API.md). */
interface HealthBody {
  status: 'up' | 'down' | 'unknown';
  reason: string | null;
  transitions: { at: string; from: string; to: string; reason: string | null }[];
}
interface ChannelBody {
  id: string;
  url?: string;
}

const SECRET = 'a-signing-secret-of-some-length';
/** Short, so a store is down within seconds of losing its pods. */
const PERIOD_MS = 1000;

/**
 * Watching stores in the console, in a real browser: a store's health as it goes down and
 * comes back, without a reload, and the notification channels an administrator sets up.
 */
describe('admin console: store health and notifications', () => {
  const platform = new Platform(
    {
      RATE_LIMIT_PER_IP: '1000000',
      RATE_LIMIT_PER_USER: '100000',
      CLUSTER_DRIVER: 'simulated',
      SIMULATED_POD_START_MS: '150',
      SIMULATED_POD_READY_MS: '150',
      RECONCILE_INTERVAL_MS: String(PERIOD_MS),
    },
    // The admin service watches every service's queues (dead letters, depths): the whole platform runs.
    ['gateway', 'upload', 'validator', 'vote-consumer', 'provisioner', 'admin'],
  );
  let receiver: WebhookReceiver;
  let hookUrl: string;
  let browser: TestBrowser;
  let ui: AdminConsole;
  let admin: string;
  let member: string;

  const api = <T>(method: string, path: string, token = admin, body?: unknown) => platform.api.request<T>(method, `/api/v1${path}`, { token, body });
  const untilHealth = (id: string, status: HealthBody['status']) =>
    waitFor(
      async () => {
        const res = await api<HealthBody>('GET', `/stores/${id}/health`);
        return res.body.status === status ? res.body : undefined;
      },
      { what: `the store to be ${status}`, timeoutMs: 30_000, intervalMs: 200 },
    );

  beforeAll(async () => {
    receiver = await webhookReceiver(SECRET, () => 204);
    hookUrl = `${receiver.url}/flotilla-hook`;
    await platform.start();
    admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await api<{ id: string }>('POST', '/admin/teams', admin, { name: 'watchers' });
    expect(team.status).toBe(201);
    const created = await api('POST', '/admin/users', admin, { email: 'member@watching.test', password: 'member-password-123', teamId: team.body.id, role: 'member' });
    expect(created.status).toBe(201);
    member = await platform.api.login('member@watching.test', 'member-password-123');
    browser = await TestBrowser.launch();
    ui = new AdminConsole(browser.page, platform.api.baseUrl);
    await ui.open();
    await ui.login(ADMIN.email, ADMIN.password);
  });

  afterEach(() => {
    // Whatever the browser reported during the test fails it.
    expect(browser.takeProblems()).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await platform.stop();
    await receiver?.close();
  });

  it("follows another team's store on its page as it goes down and comes back, in words as well as colours", async () => {
    const created = await api<{ id: string; name: string }>('POST', '/stores', member, { name: `watched-${randomUUID().slice(0, 6)}`, template: 'wordpress', replicas: 2 });
    expect(created.status).toBe(202);
    const { id, name } = created.body;
    await untilHealth(id, 'up');

    await ui.go('Stores');
    await expectCell(ui.page.locator(`tr[data-id="${id}"]`), 'Health', 'up');
    await ui.table(/^Stores/).getByRole('link', { name }).click();
    await ui.heading(`Store ${name}`).waitFor();
    await ui.settled();
    const panel = ui.page.getByRole('region', { name: 'Health' });
    await panel.getByTestId('store-health-state').getByText('up', { exact: true }).waitFor();
    expect(await transitions()).toEqual([['unknown', 'up', '—']]);
    await panel.getByRole('img', { name: /^Up now; 1 change since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.$/ }).waitFor();
    await browser.screenshot('watching-01-store-health-up');

    // Every pod killed and none let back: down within two periods, and the open page shows it.
    expect((await api('POST', `/admin/stores/${id}/chaos`, admin, { killPods: 2, holdPods: true })).status).toBe(202);
    await untilHealth(id, 'down');
    await panel.getByTestId('store-health-state').getByText('down', { exact: true }).waitFor();
    // The reason follows the store while it stays down: just after the kill the replacements
    // may not exist yet ("no pods"), then they wait unscheduled ("2 pending"); the transition
    // keeps the reason it was made with.
    const down = await waitFor(
      async () => {
        const res = await api<HealthBody>('GET', `/stores/${id}/health`);
        return /^0 ready pods: 2 pending/.test(res.body.reason ?? '') ? res.body : undefined;
      },
      { what: 'the pending pods named as the reason', timeoutMs: 30_000, intervalMs: 200 },
    );
    await panel.getByTestId('store-health-reason').getByText(down.reason!, { exact: true }).waitFor();
    await panel.getByRole('img', { name: /^Down now; 2 changes since / }).waitFor();
    expect(down.transitions.at(-1)!.reason).toMatch(/^0 ready pods: (2 pending|no pods)/);
    expect(await transitions()).toEqual([
      ['up', 'down', down.transitions.at(-1)!.reason],
      ['unknown', 'up', '—'],
    ]);
    await browser.screenshot('watching-02-store-health-down');

    expect((await api('POST', `/admin/stores/${id}/chaos`, admin, { killPods: 0, holdPods: false })).status).toBe(202);
    await untilHealth(id, 'up');
    await panel.getByTestId('store-health-state').getByText('up', { exact: true }).waitFor();
    await waitFor(async () => (await transitions()).length === 3, { what: 'the third transition on the page' });
    expect((await transitions())[0]).toEqual(['down', 'up', '—']);
    expect(await panel.getByTestId('store-health-reason').count()).toBe(0);
  });

  it('adds a webhook channel through the form, sends it a test, shows the delivery and deletes the channel', async () => {
    await ui.go('Notifications');
    await ui.table(/^Notification channels/).getByText(/^No channel yet/).waitFor();

    // Checked in the browser first: nothing is sent, each field says what is wrong, focus goes to the first.
    const form = ui.page.getByRole('form', { name: 'Add a channel' });
    await form.getByRole('button', { name: 'Add channel' }).click();
    await form.getByText('Enter the URL the webhook is posted to.').waitFor();
    await form.getByText('The secret needs at least 16 characters.').waitFor();
    await form.getByText('Choose at least one event.').waitFor();
    expect(await ui.page.locator(':focus').getAttribute('type')).toBe('url');
    await form.getByLabel('Webhook URL').fill('ftp://hooks.example.com/x');
    await form.getByRole('button', { name: 'Add channel' }).click();
    await form.getByText('The URL must start with https:// or http://.').waitFor();
    expect((await api<{ items: ChannelBody[] }>('GET', '/admin/notifications')).body.items).toEqual([]);

    await form.getByLabel('Signing secret').fill(SECRET);
    await form.getByRole('checkbox', { name: /A store goes down/ }).check();
    // A host name the browser's URL parser takes and the server's checks refuse: its problem+json is shown beside the field.
    await form.getByLabel('Webhook URL').fill('http://-bad-.example.com/hook');
    await form.getByRole('button', { name: 'Add channel' }).click();
    await form.getByRole('alert').getByText(/^The channel was not added: /).waitFor();
    await form.getByText('url must be an http:// or https:// URL').waitFor();
    expect(await form.getByLabel('Webhook URL').getAttribute('aria-invalid')).toBe('true');
    // The browser logs the refusal itself as an error: that one, and nothing else, is expected.
    expect(browser.takeProblems()).toEqual([expect.stringMatching(/status of 400 \(Bad Request\) \(http:.*\/api\/v1\/admin\/notifications\)$/)]);

    await form.getByLabel('Webhook URL').fill(hookUrl);
    await form.getByRole('checkbox', { name: /A store goes down/ }).focus();
    // The keyboard alone: Tab to the next event and tick it with Space.
    await ui.page.keyboard.press('Tab');
    await ui.page.keyboard.press('Space');
    await browser.screenshot('watching-03-channel-form');
    await form.getByRole('button', { name: 'Add channel' }).click();
    await ui.page.getByRole('status').getByText(`Channel ${hookUrl} added.`).waitFor();
    const row = ui.rows(/^Notification channels/).filter({ hasText: hookUrl });
    await row.waitFor();
    await row.locator('td[data-column="Last delivery"]').getByText('Never').waitFor();
    const listed = (await api<{ items: (ChannelBody & Record<string, unknown>)[] }>('GET', '/admin/notifications')).body.items;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ kind: 'webhook', url: hookUrl, secretSet: true });
    expect([...(listed[0]!.events as string[])].sort()).toEqual(['store.down', 'store.up']);
    expect(JSON.stringify(listed[0])).not.toContain(SECRET);

    await row.getByRole('button', { name: 'Send test' }).click();
    await ui.page.getByText(`Test sent to ${hookUrl}; its delivery shows under Deliveries.`).waitFor();
    const deliveries = ui.rows(`Deliveries to ${hookUrl} (1)`);
    await deliveries.locator('td[data-column="Status"]').getByText('sent', { exact: true }).waitFor({ timeout: 30_000 });
    expect(await deliveries.locator('td[data-column="Attempts"]').textContent()).toBe('1');
    await deliveries.locator('td[data-column="Event"]').getByText('test', { exact: true }).waitFor();
    // What arrived is signed with the secret typed into the form.
    const [hook] = receiver.received;
    expect(hook?.verified).toBe(true);
    await waitFor(async () => (await row.locator('td[data-column="Last delivery"]').textContent())?.includes('sent'), { what: 'the last delivery in the list', timeoutMs: 30_000 });
    await browser.screenshot('watching-04-channel-delivered');
    await row.getByRole('button', { name: 'Hide deliveries' }).click();
    await ui.table(/^Deliveries to/).waitFor({ state: 'detached' });

    // Escape cancels the confirmation and gives focus back; confirming deletes.
    const remove = row.getByRole('button', { name: 'Delete…' });
    await remove.click();
    const dialog = ui.page.getByRole('dialog', { name: 'Delete this channel?' });
    await dialog.waitFor();
    await ui.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await ui.page.locator(':focus').textContent()).toBe('Delete…');
    await remove.click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await dialog.waitFor({ state: 'detached' });
    await ui.page.getByText(`Channel ${hookUrl} deleted.`).waitFor();
    await ui.table(/^Notification channels/).getByText(/^No channel yet/).waitFor();
    expect((await api<{ items: ChannelBody[] }>('GET', '/admin/notifications')).body.items).toEqual([]);
  });

  it('adds an e-mail channel, saying plainly that its deliveries fail while no mail server is configured', async () => {
    await ui.go('Notifications');
    const form = ui.page.getByRole('form', { name: 'Add a channel' });
    await form.getByRole('radio', { name: 'E-mail' }).check();
    await form.getByLabel('Recipients').fill('ops@example.com, not-an-address');
    await form.getByRole('checkbox', { name: /A message is dead-lettered/ }).check();
    await form.getByRole('button', { name: 'Add channel' }).click();
    await form.getByText('Not an e-mail address: not-an-address.').waitFor();
    expect(await ui.page.locator(':focus').evaluate((element) => element.tagName)).toBe('TEXTAREA');

    await form.getByLabel('Recipients').fill('ops@example.com\noncall@example.com');
    expect(await form.getByText(/^Not an e-mail address/).count()).toBe(0);
    await form.getByRole('button', { name: 'Add channel' }).click();
    await ui.page.getByRole('alert').getByText(/^Channel ops@example.com, oncall@example.com added, but: .*SMTP/).waitFor();
    const row = ui.rows(/^Notification channels/).filter({ hasText: 'oncall@example.com' });
    await expectCell(row, 'Kind', 'E-mail');
    await expectCell(row, 'Events', 'dead_letter');
    const listed = (await api<{ items: (ChannelBody & { to?: string[] })[] }>('GET', '/admin/notifications')).body.items;
    expect(listed.map((c) => c.to)).toEqual([['ops@example.com', 'oncall@example.com']]);
    expect((await api('DELETE', `/admin/notifications/${listed[0]!.id}`)).status).toBe(204);
  });

  async function expectCell(row: Locator, column: string, text: string): Promise<void> {
    await row.locator(`td[data-column="${column}"]`).getByText(text, { exact: true }).waitFor();
  }

  async function transitions(): Promise<string[][]> {
    const rows = ui.rows(/^Health transitions/);
    const cells = await rows.evaluateAll((trs) =>
      trs.map((tr) => ['From', 'To', 'Reason'].map((column) => tr.querySelector(`td[data-column="${column}"]`)?.textContent?.trim() ?? '')),
    );
    return cells;
  }
});
