import type { Locator, Page } from 'playwright-core';
import { waitFor } from '@flotilla/testing';

/** The admin console as a user drives it: the login form, the navigation, tables and figures. */
export class AdminConsole {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/admin/`);
  }

  async login(email: string, password: string): Promise<void> {
    await this.page.getByLabel('Email').fill(email);
    await this.page.getByLabel('Password').fill(password);
    await this.page.getByRole('button', { name: 'Sign in' }).click();
    await this.heading('Dashboard').waitFor();
  }

  heading(name: string | RegExp): Locator {
    return this.page.getByRole('heading', { level: 1, name });
  }

  /** Opens a page from the navigation and waits until it has loaded. */
  async go(section: string): Promise<void> {
    await this.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: section, exact: true }).click();
    await this.heading(section).waitFor();
    await this.settled();
  }

  /** Waits until no part of the page is still loading. */
  async settled(): Promise<void> {
    await waitFor(async () => (await this.page.locator('.state-loading').count()) === 0, { what: 'the page to finish loading', timeoutMs: 20_000 });
  }

  table(caption: string | RegExp): Locator {
    return this.page.getByRole('table', { name: caption });
  }

  /** The data rows of a table (not its "nothing here" row). */
  rows(caption: string | RegExp): Locator {
    return this.table(caption).locator('tbody tr[data-id]');
  }

  /** The texts of one column, row by row. */
  async column(caption: string | RegExp, header: string): Promise<string[]> {
    return (await this.rows(caption).locator(`td[data-column="${header}"]`).allTextContents()).map((t) => t.trim());
  }

  /** A dashboard figure as a number (`undefined` while it shows none). */
  async figure(testId: string): Promise<number | undefined> {
    const text = (await this.page.getByTestId(testId).textContent())?.replace(/[^0-9.]/g, '') ?? '';
    return text === '' ? undefined : Number(text);
  }
}
