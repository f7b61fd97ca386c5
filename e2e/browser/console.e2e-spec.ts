import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { Locator } from 'playwright-core';
import { png } from '@flotilla/samples';
import { waitFor } from '@flotilla/testing';
import { uploadAndValidate } from '../support/datasets.js';
import { ADMIN, Platform } from '../support/platform.js';
import { AdminConsole } from './admin-console.js';
import { publishEvent } from './amqp.js';
import { TestBrowser } from './browser.js';

interface DeadLetterBody {
  id: string;
  status: string;
  payload: unknown;
  replays: number;
}
interface CleanupRunBody {
  id: string;
  trigger: string;
}
interface StoreBody {
  id: string;
  name: string;
  status: string;
}

const VOTERS = 20;
const SECTIONS = ['Dashboard', 'Requests', 'Audit', 'Datasets', 'Validations', 'Stores', 'Dead letters', 'Cleanup', 'Services', 'Notifications', 'Polls'];

/**
 * The admin console in a real browser against the whole platform: what an administrator
 * sees and does, and that the browser reports no error or warning while they do it.
 */
describe('admin console in a browser', () => {
  const platform = new Platform(
    {
      RATE_LIMIT_PER_IP: '1000000',
      RATE_LIMIT_PER_USER: '100000',
      CLUSTER_DRIVER: 'simulated',
      SIMULATED_POD_START_MS: '150',
      SIMULATED_POD_READY_MS: '150',
    },
    ['gateway', 'upload', 'validator', 'vote-consumer', 'provisioner', 'admin'],
  );
  let browser: TestBrowser;
  let ui: AdminConsole;
  let admin: string;
  let member: string;
  let teamId: string;

  const api = <T>(method: string, path: string, token = admin, body?: unknown) => platform.api.request<T>(method, `/api/v1${path}`, { token, body });

  beforeAll(async () => {
    await platform.start();
    const page = await fetch(`${platform.api.baseUrl}/admin/`);
    if (page.status !== 200 || !page.headers.get('content-type')?.includes('text/html')) {
      throw new Error(`/admin/ answered ${page.status}: build the console first (npx vite build --config services/admin/web/vite.config.ts)`);
    }
    admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await api<{ id: string }>('POST', '/admin/teams', admin, { name: 'console' });
    expect(team.status).toBe(201);
    teamId = team.body.id;
    const created = await api('POST', '/admin/users', admin, { email: 'member@console.test', password: 'member-password-123', teamId, role: 'member' });
    expect(created.status).toBe(201);
    member = await platform.api.login('member@console.test', 'member-password-123');
    browser = await TestBrowser.launch();
    ui = new AdminConsole(browser.page, platform.api.baseUrl);
  });

  afterEach(() => {
    // Whatever the browser reported during the test fails it.
    expect(browser.takeProblems()).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await platform.stop();
  });

  it('is served with its CSP; an administrator signs in through the form and sees live figures', async () => {
    const res = await fetch(`${platform.api.baseUrl}/admin/`);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    await ui.open();
    await ui.page.getByLabel('Email').waitFor();
    await browser.screenshot('01-login');
    await ui.login(ADMIN.email, ADMIN.password);
    await ui.page.getByTestId('live-status').getByText('Live', { exact: true }).waitFor();
    await waitFor(async () => (await ui.figure('figure-votes')) !== undefined, { what: 'the dashboard figures' });
  });

  it(`moves the dashboard's live figures when ${VOTERS} votes are cast through the API`, async () => {
    const votesBefore = (await ui.figure('figure-votes'))!;
    const requestsBefore = (await ui.figure('figure-requests-last-hour'))!;
    const usersBefore = (await ui.figure('figure-users'))!;
    const voters: string[] = [];
    for (let i = 0; i < VOTERS; i++) {
      const email = `voter${i}@console.test`;
      expect((await api('POST', '/admin/users', admin, { email, password: 'voter-password-123', teamId, role: 'member' })).status).toBe(201);
      voters.push(await platform.api.login(email, 'voter-password-123'));
    }
    await waitFor(async () => (await ui.figure('figure-users')) === usersBefore + VOTERS, { what: `the users figure to count the ${VOTERS} new voters`, timeoutMs: 30_000 });
    for (const token of voters) expect((await api('POST', '/polls/cats-vs-dogs/votes', token, { option: 'cats' })).status).toBe(202);

    // No reload: the figures arrive on the event stream.
    const votes = await waitFor(
      async () => {
        const now = await ui.figure('figure-votes');
        return now !== undefined && now >= votesBefore + VOTERS ? now : undefined;
      },
      { what: `the votes figure to reach ${votesBefore + VOTERS}`, timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(votes).toBeGreaterThanOrEqual(votesBefore + VOTERS);
    await waitFor(async () => ((await ui.figure('figure-requests-last-hour')) ?? 0) > requestsBefore, { what: 'the requests figure to move', timeoutMs: 30_000 });
    await browser.screenshot('02-dashboard-live');
  });

  it('filters the request log to the 404s and shows only those', async () => {
    const missing = `missing-${randomUUID().slice(0, 8)}`;
    expect((await api('GET', `/polls/${missing}/results`)).status).toBe(404);
    await ui.go('Requests');
    await ui.page.getByLabel('Status').fill('404');
    await ui.page.getByLabel('Route contains').fill('polls');
    // The log is written shortly after the answer: apply until the request shows.
    await waitFor(
      async () => {
        await ui.page.getByRole('button', { name: 'Apply' }).click();
        await ui.settled();
        return (await ui.column(/^Requests/, 'Path')).some((path) => path.includes(missing));
      },
      { what: 'the 404 in the request log', timeoutMs: 30_000, intervalMs: 500 },
    );
    const statuses = await ui.column(/^Requests/, 'Status');
    expect(statuses.length).toBeGreaterThan(0);
    expect(new Set(statuses)).toEqual(new Set(['404']));
    await browser.screenshot('03-requests-404');
  });

  it('shows a poison message in Dead letters and replays it', async () => {
    const envelope = {
      id: randomUUID(),
      type: 'dataset.uploaded',
      occurredAt: new Date().toISOString(),
      source: 'upload',
      correlationId: randomUUID(),
      data: { datasetId: 'not-a-uuid' },
    };
    await publishEvent(platform.namespace, 'dataset.uploaded', envelope);
    const letter = await waitFor(
      async () => {
        const res = await api<{ items: DeadLetterBody[] }>('GET', '/admin/dead-letters');
        return res.body.items?.find((d) => JSON.stringify(d.payload).includes(envelope.id) && d.status === 'dead');
      },
      { what: 'the poison message among the dead letters', timeoutMs: 60_000, intervalMs: 500 },
    );
    await ui.go('Dead letters');
    const row = ui.page.locator(`tr[data-id="${letter.id}"]`);
    await row.waitFor();
    await expectText(row.locator('td[data-column="Type"]'), 'dataset.uploaded');
    await expectText(row.locator('td[data-column="Status"]'), 'dead');
    await row.getByRole('button', { name: 'Replay' }).click();
    await row.locator('td[data-column="Status"]').getByText('replayed', { exact: true }).waitFor();
    expect(await row.getByRole('button', { name: 'Replay' }).count()).toBe(0);
    await browser.screenshot('04-dead-letter-replayed');
    // Still poison: it dies again at once and is collected back as the same letter, dead,
    // marked as replayed once — never dropped.
    const back = await waitFor(
      async () => {
        const res = await api<{ items: DeadLetterBody[] }>('GET', '/admin/dead-letters');
        const again = res.body.items.find((d) => d.id === letter.id);
        return again?.status === 'dead' ? again : undefined;
      },
      { what: 'the replayed poison message back among the dead letters', timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(back.replays).toBe(1);
    await ui.go('Requests');
    await ui.go('Dead letters');
    const again = ui.page.locator(`tr[data-id="${letter.id}"]`);
    await again.waitFor();
    await expectText(again.locator('td[data-column="Status"]'), 'dead');
    await again.locator('td[data-column="Error"]').getByText(/replayed 1× before/).waitFor();
    await browser.screenshot('05-dead-letter-dead-again');
  });

  it('runs the cleanup from the console and shows the new run in its log', async () => {
    await ui.go('Cleanup');
    await ui.table(/^Cleanup runs/).waitFor();
    const before = await ui.rows(/^Cleanup runs/).count();
    await ui.page.getByRole('button', { name: 'Run cleanup now…' }).click();
    const dialog = ui.page.getByRole('dialog', { name: 'Run cleanup now?' });
    await dialog.waitFor();
    await browser.screenshot('05-cleanup-confirm');
    await dialog.getByRole('button', { name: 'Run cleanup' }).click();
    await dialog.waitFor({ state: 'detached' });
    await waitFor(async () => (await ui.rows(/^Cleanup runs/).count()) === before + 1, { what: 'a new row in the cleanup log' });
    expect((await ui.column(/^Cleanup runs/, 'Trigger'))[0]).toMatch(/^manual/);
    const log = await api<{ items: CleanupRunBody[] }>('GET', '/admin/cleanup/log');
    expect(log.body.items.filter((r) => r.trigger === 'manual')).toHaveLength(1);
    await browser.screenshot('06-cleanup-run');
  });

  it("opens a dataset with its files and its validation's issues", async () => {
    const files = [{ filename: 'lonely.png', contentType: 'image/png', content: png({ width: 70, height: 64 }) }];
    const { datasetId, verdict } = await uploadAndValidate(platform.api, member, 'console-sample', 'xray', files);
    await ui.go('Datasets');
    await ui.table(/^Datasets/).getByRole('link', { name: 'console-sample' }).click();
    await ui.heading('Dataset console-sample').waitFor();
    await ui.settled();
    expect(ui.page.url()).toContain(datasetId);
    await expectText(ui.table(/^Files/).locator('td[data-column="Filename"]'), 'lonely.png');
    const codes = (await ui.table(/^Issues/).locator('td[data-column="Code"]').allTextContents()).map((c) => c.trim());
    expect(codes.sort()).toEqual(verdict.issues.map((i) => i.code).sort());
    await browser.screenshot('07-dataset');
  });

  it('shows a store with its pods and kills one after asking how many', async () => {
    const created = await api<StoreBody>('POST', '/stores', member, { name: `console-${randomUUID().slice(0, 6)}`, template: 'wordpress', replicas: 2 });
    expect(created.status).toBe(202);
    await waitFor(async () => (await api<StoreBody>('GET', `/stores/${created.body.id}`)).body.status === 'ready', { what: 'the store to be ready', timeoutMs: 60_000, intervalMs: 250 });
    await ui.go('Stores');
    await ui.table(/^Stores/).getByRole('link', { name: created.body.name }).click();
    await ui.heading(`Store ${created.body.name}`).waitFor();
    await waitFor(async () => (await ui.table(/^Pods/).locator('tbody tr').count()) === 2, { what: 'the two pods' });

    // The dialog closes on Escape and gives focus back to the button.
    const kill = ui.page.getByRole('button', { name: 'Kill pods…' });
    await kill.click();
    const dialog = ui.page.getByRole('dialog', { name: /Kill pods of/ });
    await dialog.waitFor();
    await ui.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await ui.page.locator(':focus').textContent()).toBe('Kill pods…');

    await kill.click();
    await dialog.getByLabel(/How many pods/).fill('1');
    await browser.screenshot('08-kill-pods');
    await dialog.getByRole('button', { name: 'Kill pods' }).click();
    await ui.page.getByText(/Asked the cluster to kill 1 pod/).waitFor();
    await waitFor(
      async () => {
        const events = await api<{ items: { type: string }[] }>('GET', `/stores/${created.body.id}/events`);
        return events.body.items.some((e) => /chaos/.test(e.type));
      },
      { what: 'the chaos in the store events', timeoutMs: 30_000 },
    );
  });

  it('renders every page without errors (screenshots of each)', async () => {
    for (const [i, section] of SECTIONS.entries()) {
      await ui.go(section);
      expect(await ui.page.getByRole('alert').count()).toBe(0);
      await browser.screenshot(`${String(10 + i)}-${section.toLowerCase().replace(/ /g, '-')}`);
    }
    await ui.page.getByRole('button', { name: 'Log out' }).click();
    await ui.page.getByLabel('Email').waitFor();
  });
});

async function expectText(locator: Locator, text: string): Promise<void> {
  await locator.getByText(text, { exact: true }).first().waitFor();
}
