import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { waitFor } from '@flotilla/testing';
import { ADMIN, Platform } from '../support/platform.js';
import { AdminConsole } from './admin-console.js';
import { TestBrowser } from './browser.js';

interface StoreBody {
  id: string;
  name: string;
  status: string;
  error?: string;
  revision: number;
  observed: { revision: number | null };
  rollout?: { step: number; steps: number; weight: number; paused: boolean; waiting: string | null; until: string | null };
}

const RECONCILE_MS = 2000;
const STEPS = [{ weight: 10, pause: '1s' }, { weight: 50, pause: 'indefinite' }, { weight: 100 }];
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

/**
 * Steering a store's rollout from the console, in a real browser: an administrator
 * pauses, resumes and promotes another team's canary from its store page, and aborts the
 * next one; each asks for confirmation, and the browser reports no error meanwhile.
 */
describe('admin console: rollouts', () => {
  const platform = new Platform(
    {
      RATE_LIMIT_PER_IP: '1000000',
      RATE_LIMIT_PER_USER: '100000',
      CLUSTER_DRIVER: 'simulated',
      SIMULATED_POD_START_MS: '150',
      SIMULATED_POD_READY_MS: '150',
      ROLLOUT_DEADLINE_SECONDS: '30',
      RECONCILE_INTERVAL_MS: String(RECONCILE_MS),
    },
    ['gateway', 'provisioner', 'admin'],
  );
  let browser: TestBrowser;
  let ui: AdminConsole;
  let admin: string;
  let member: string;
  let store: StoreBody;

  const api = <T>(method: string, path: string, token = admin, body?: unknown) => platform.api.request<T>(method, `/api/v1${path}`, { token, body });
  const current = async () => (await api<StoreBody>('GET', `/stores/${store.id}`)).body;
  const until = (check: (s: StoreBody) => boolean, what: string) =>
    waitFor(async () => {
      const s = await current();
      return check(s) ? s : undefined;
    }, { what, timeoutMs: 30_000, intervalMs: 100 });

  beforeAll(async () => {
    await platform.start();
    admin = await platform.api.login(ADMIN.email, ADMIN.password);
    const team = await api<{ id: string }>('POST', '/admin/teams', admin, { name: 'rollouts' });
    expect(team.status).toBe(201);
    expect((await api('POST', '/admin/users', admin, { email: 'member@rollouts.test', password: 'member-password-123', teamId: team.body.id, role: 'member' })).status).toBe(201);
    member = await platform.api.login('member@rollouts.test', 'member-password-123');
    // A member's store: the administrator steers another team's rollout.
    const created = await api<StoreBody>('POST', '/stores', member, { name: 'canary-shop', template: 'wordpress', version: '6.6', replicas: 4, rollout: { strategy: 'Canary', steps: STEPS } });
    expect(created.status).toBe(202);
    store = created.body;
    await until((s) => s.status === 'ready', 'the store to be ready');
    browser = await TestBrowser.launch();
    ui = new AdminConsole(browser.page, platform.api.baseUrl);
    await ui.open();
    await ui.login(ADMIN.email, ADMIN.password);
  }, 180_000);

  afterEach(() => {
    // Whatever the browser reported during the test fails it.
    expect(browser.takeProblems()).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await platform.stop();
  });

  const panel = () => ui.page.getByRole('region', { name: 'Rollout' });
  const status = (text: string) => ui.page.locator('.facts dd').getByText(text, { exact: true }).first().waitFor();

  /** Clicks a panel button, checks the dialog it opens, and confirms it. */
  async function steer(button: string, title: RegExp, confirm: string, screenshot?: string): Promise<void> {
    await panel().getByRole('button', { name: button }).click();
    const dialog = ui.page.getByRole('dialog', { name: title });
    await dialog.waitFor();
    if (screenshot) await browser.screenshot(screenshot);
    await dialog.getByRole('button', { name: confirm, exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
  }

  it("shows another team's canary at 50% waiting to be promoted; pause, resume and promote from the page bring it to ready", async () => {
    expect((await api('PATCH', `/stores/${store.id}`, member, { version: '6.7' })).status).toBe(202);
    await ui.go('Stores');
    await ui.table(/^Stores/).getByRole('link', { name: store.name }).click();
    await ui.heading(`Store ${store.name}`).waitFor();
    await ui.settled();
    // The steps as written, objects and all.
    await ui.page.locator('.facts').getByText('Canary: 10% (pause 1s) → 50% (until promoted) → 100%').waitFor();

    // Live: the page follows the rollout to its indefinite step without a reload.
    const state = panel().getByTestId('rollout-state');
    await state.getByText(/step 2 of 3, waiting to be promoted\.$/).waitFor({ timeout: 30_000 });
    expect(await panel().getByRole('meter', { name: /Traffic to revision 2: 50%/ }).getAttribute('aria-valuenow')).toBe('50');
    const steps = panel().getByRole('list', { name: 'Steps' }).getByRole('listitem');
    expect((await steps.allTextContents()).map((t) => t.trim())).toEqual(['Step 1 10% (pause 1s) (done)', 'Step 2 50% (until promoted) (current step)', 'Step 3 100%']);
    expect(await panel().locator('[aria-current="step"]').textContent()).toContain('50%');
    // From the last but one step a promote goes to 100% anyway: no second button for it.
    const buttons = () => panel().getByRole('group', { name: 'Steer the rollout' }).getByRole('button').allTextContents();
    expect(await buttons()).toEqual(['Promote…', 'Pause…', 'Abort…']);
    // The bar moves smoothly, unless the user asked for less motion.
    // (Run in the page, which has the DOM this file's types do not.)
    const transition = () => panel().locator('.weight-fill').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { transitionDuration: string } }).getComputedStyle(el).transitionDuration);
    expect(await transition()).toBe('0.4s');
    await ui.page.emulateMedia({ reducedMotion: 'reduce' });
    expect(await transition()).toBe('0s');
    await ui.page.emulateMedia({ reducedMotion: null });
    await browser.screenshot('rollouts-01-waiting-for-promote');
    await ui.page.setViewportSize(PHONE);
    await browser.screenshot('rollouts-02-waiting-for-promote-phone');
    await ui.page.setViewportSize(DESKTOP);

    // Escape cancels a confirmation, sends nothing, and gives focus back.
    await panel().getByRole('button', { name: 'Pause…' }).click();
    await ui.page.getByRole('dialog', { name: /Pause the rollout of/ }).waitFor();
    await ui.page.keyboard.press('Escape');
    await ui.page.getByRole('dialog').waitFor({ state: 'detached' });
    expect(await ui.page.locator(':focus').textContent()).toBe('Pause…');
    expect((await current()).rollout?.paused).toBe(false);

    // Keyboard alone: Enter opens it, Tab to the action, Enter confirms.
    await ui.page.keyboard.press('Enter');
    const pause = ui.page.getByRole('dialog', { name: `Pause the rollout of ${store.name}?` });
    await pause.waitFor();
    await browser.screenshot('rollouts-03-pause-confirm');
    await ui.page.keyboard.press('Tab');
    expect(await ui.page.locator(':focus').textContent()).toBe('Pause');
    await ui.page.keyboard.press('Enter');
    await pause.waitFor({ state: 'detached' });
    await ui.page.getByRole('status').getByText(`Paused the rollout of ${store.name}.`).waitFor();
    await state.getByText('paused', { exact: true }).waitFor();
    await state.getByText(/paused: holding here until resumed/).waitFor();
    expect((await current()).rollout).toMatchObject({ step: 2, weight: 50, paused: true });
    // The same button now resumes, and keeps the focus.
    expect(await ui.page.locator(':focus').textContent()).toBe('Resume…');
    await browser.screenshot('rollouts-04-paused');

    await steer('Resume…', /Resume the rollout of/, 'Resume');
    await state.getByText(/step 2 of 3, waiting to be promoted\.$/).waitFor();
    expect((await current()).rollout).toMatchObject({ step: 2, paused: false, waiting: 'promote' });

    await steer('Promote…', /^Promote the rollout of .*\?$/, 'Promote', 'rollouts-05-promote-confirm');
    await panel().waitFor({ state: 'detached', timeout: 30_000 });
    await status('ready');
    const done = await current();
    expect(done).toMatchObject({ status: 'ready', revision: 2, observed: { revision: 2 } });
    expect(done.rollout).toBeUndefined();
    // Each action is in the store's events on the page, as the administrator's.
    const events = ui.table(/^Events/);
    for (const said of ['rollout paused', 'rollout resumed', 'rollout promoted: the current step goes on']) await events.getByText(new RegExp(`^${said}`)).first().waitFor();
    await browser.screenshot('rollouts-06-promoted-ready');
  }, 120_000);

  it('aborts the next rollout from the page: the store is degraded on the stable revision', async () => {
    expect((await api('PATCH', `/stores/${store.id}`, member, { version: '6.8' })).status).toBe(202);
    await panel().getByTestId('rollout-state').getByText(/step 2 of 3, waiting to be promoted\.$/).waitFor({ timeout: 30_000 });
    await steer('Abort…', /Abort the rollout of/, 'Abort rollout', 'rollouts-07-abort-confirm');
    await ui.page.getByRole('status').getByText(/^Aborted the rollout of/).waitFor();
    await status('degraded');
    await panel().waitFor({ state: 'detached' });
    const aborted = await current();
    expect(aborted).toMatchObject({ status: 'degraded', observed: { revision: 2 } });
    expect(aborted.error).toMatch(/aborted; serving revision 2/);
    await ui.page.locator('.facts').getByText(aborted.error!).waitFor();
    await browser.screenshot('rollouts-08-aborted');
    await ui.page.setViewportSize(PHONE);
    await browser.screenshot('rollouts-09-aborted-phone');
    await ui.page.setViewportSize(DESKTOP);
  }, 120_000);

  it('counts down a timed pause and promotes straight to 100% from the page', async () => {
    const steps = [{ weight: 20, pause: '5m' }, { weight: 60, pause: 'indefinite' }, { weight: 100 }];
    expect((await api('PATCH', `/stores/${store.id}`, member, { version: '6.9', rollout: { strategy: 'Canary', steps } })).status).toBe(202);
    await ui.page.locator('.facts').getByText('Canary: 20% (pause 5m) → 60% (until promoted) → 100%').waitFor({ timeout: 30_000 });
    await panel().getByTestId('rollout-state').getByText(/step 1 of 3, holding for its pause\.$/).waitFor({ timeout: 30_000 });
    const { rollout } = await current();
    expect(rollout).toMatchObject({ step: 1, weight: 20, waiting: 'pause' });
    const countdown = panel().getByTestId('rollout-countdown');
    await countdown.getByText(/^Its pause ends at \d\d:\d\d:\d\d, in 4 min 5\d s\.$/).waitFor();
    expect(await countdown.locator('time').getAttribute('datetime')).toBe(rollout!.until);
    const before = await countdown.textContent();
    await waitFor(async () => (await countdown.textContent()) !== before, { what: 'the countdown to tick', timeoutMs: 3000, intervalMs: 100 });
    expect(await panel().getByRole('group', { name: 'Steer the rollout' }).getByRole('button').allTextContents()).toEqual(['Promote…', 'Promote to 100%…', 'Pause…', 'Abort…']);
    await browser.screenshot('rollouts-10-timed-pause');

    await steer('Promote to 100%…', /to 100%\?$/, 'Promote to 100%');
    await ui.page.getByRole('status').getByText(`Promoted the rollout of ${store.name} to 100%.`).waitFor();
    await panel().waitFor({ state: 'detached', timeout: 30_000 });
    await status('ready');
    expect(await current()).toMatchObject({ status: 'ready', revision: 4, observed: { revision: 4 } });
  }, 120_000);

  it("shows the API's refusal in the dialog when the rollout ended while it was open", async () => {
    expect((await api('PATCH', `/stores/${store.id}`, member, { version: '7.0', rollout: { strategy: 'Canary', steps: STEPS } })).status).toBe(202);
    await panel().getByTestId('rollout-state').getByText(/waiting to be promoted\.$/).waitFor({ timeout: 30_000 });
    await panel().getByRole('button', { name: 'Abort…' }).click();
    const dialog = ui.page.getByRole('dialog', { name: /Abort the rollout of/ });
    await dialog.waitFor();
    // Someone else finishes it meanwhile; the open dialog stays.
    expect((await api('POST', `/stores/${store.id}/rollout/promote`, member, { full: true })).status).toBe(202);
    await until((s) => s.status === 'ready', 'the rollout promoted through the API');
    await panel().waitFor({ state: 'detached' });
    await dialog.getByText(/No rollout is running now: the store is ready\./).waitFor();
    await dialog.getByRole('button', { name: 'Abort rollout' }).click();
    await dialog.getByRole('alert').getByText(`Store ${store.name} has no rollout running (it is ready); there is nothing to abort.`).waitFor();
    await browser.screenshot('rollouts-11-refused');
    // The browser logs the refusal itself: that one, and nothing else, is expected.
    expect(browser.takeProblems()).toEqual([expect.stringMatching(/status of 409 \(Conflict\) \(http:.*\/rollout\/abort\)$/)]);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await current()).status).toBe('ready');
  }, 120_000);
});
