import { test as base, expect, Page, APIRequestContext } from '@playwright/test';

/** Every test fails if the page throws (a panic in the WebAssembly app shows up as one). */
export const test = base.extend({
  page: async ({ page }, use) => {
    const errors: string[] = [];
    const console_errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') console_errors.push(`${page.url()}: ${m.text().slice(0, 2000)}`);
    });
    await use(page);
    expect(errors, `uncaught errors in the page; console said: ${console_errors.join(' | ')}`).toEqual([]);
  },
});
export { expect };

export const users = {
  admin: { email: 'admin@clearance.test', password: 'demo-admin-password', name: 'Avery Admin' },
  recruiter: { email: 'recruiter@clearance.test', password: 'demo-recruiter-password', name: 'Riley Recruiter' },
  security: { email: 'security@clearance.test', password: 'demo-security-password', name: 'Sam Security' },
  manager: { email: 'manager@clearance.test', password: 'demo-manager-password', name: 'Morgan Manager' },
  manager2: { email: 'manager2@clearance.test', password: 'demo-manager2-password', name: 'Jordan Lead' },
  security2: { email: 'security2@clearance.test', password: 'demo-security2-password', name: 'Quinn Second' },
};

export type User = (typeof users)[keyof typeof users];

/** Waits until the WebAssembly bundle has hydrated the page. */
export async function hydrated(page: Page) {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

export async function signIn(page: Page, user: User) {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/candidates$/);
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

/**
 * Waits until every row of the candidate list shows `text`: after "Apply filters" the URL changes
 * before the new rows arrive, so reading the table right away can read the old, unfiltered one.
 */
export async function listShowsOnly(page: Page, text: string) {
  const rows = page.locator('table tbody tr');
  await expect(rows.first()).toContainText(text);
  await expect(rows.filter({ hasNotText: text })).toHaveCount(0);
}

/** The provider simulator of this run (the app's port + 1). */
export const providerSim = `http://127.0.0.1:${Number(process.env.E2E_PORT ?? 3100) + 1}`;

/** On an open profile: sends verification from its panel, then the candidate finishes at the
 * provider simulator with this result (the candidate's newest session). */
export async function verifyAtProvider(
  page: Page,
  request: APIRequestContext,
  result: { outcome: string; risk_tier: string; reason_codes: string[] },
) {
  const panel = page.getByRole('region', { name: 'Verification' });
  await panel.getByRole('button', { name: 'Send verification' }).click();
  await expect(panel.locator('.next-action')).toHaveText('Waiting for candidate');
  const id = new URL(page.url()).pathname.split('/').pop();
  const sessions = await (await request.get(`${providerSim}/control/sessions`)).json();
  const session = sessions.sessions.filter((s: any) => s.candidate_id === id).pop();
  expect(session, `a provider session for candidate ${id}`).toBeTruthy();
  const done = await request.post(`${providerSim}/control/sessions/${session.session_id}/complete`, { data: result });
  expect(done.ok()).toBeTruthy();
}

/** A recruiter finds the candidate by name and opens their profile: its verification panel. */
export async function openProfile(page: Page, name: string) {
  await signIn(page, users.recruiter);
  await page.getByLabel('Search').fill(name);
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(new RegExp(`q=${name.split(' ')[0]}`));
  await page.getByRole('link', { name }).first().click();
  const panel = page.getByRole('region', { name: 'Verification' });
  await expect(panel).toBeVisible();
  await hydrated(page);
  return panel;
}
