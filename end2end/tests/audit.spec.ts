import { test, expect, users, signIn, hydrated, listShowsOnly } from './helpers';

test('a security reviewer verifies the audit chain from the Audit page', async ({ page }) => {
  await signIn(page, users.security);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Audit log' })).toBeVisible();
  await hydrated(page);
  await page.getByRole('button', { name: 'Verify audit chain' }).click();
  await expect(page.locator('.verify-result')).toHaveText(/^Intact through entry \d+: every link checks out\.$/);
  // The verification itself is now the newest entry.
  await expect(page.getByRole('table').getByRole('row').nth(1)).toContainText('Audit chain verified');
});

test('stage moves appear on the candidate audit timeline; hiring managers see neither timeline nor Audit', async ({ page }) => {
  await signIn(page, users.recruiter);
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' })).toHaveCount(0);
  await page.getByLabel('Job').selectOption({ label: 'Frontend Engineer' });
  await page.getByLabel('Stage').selectOption({ label: 'Phone screen' });
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/stage=phone_screen/);
  await listShowsOnly(page, 'Phone screen');
  await page.locator('table tbody tr').first().getByRole('link').click();
  await hydrated(page);
  const card = page.locator('.application').first();
  await card.getByLabel('New stage').selectOption({ label: 'Rejected' });
  await card.getByRole('button', { name: 'Move to stage' }).click();
  const timeline = page.getByRole('region', { name: 'Audit timeline' });
  await expect(timeline.getByRole('row').last()).toContainText('Phone screen → Rejected (Frontend Engineer)');
  await expect(timeline.getByRole('row').last()).toContainText('Riley Recruiter');
  const url = page.url();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, users.manager);
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' })).toHaveCount(0);
  await page.goto(url);
  await expect(page.getByRole('region', { name: 'Verification' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Audit timeline' })).toHaveCount(0);
  const audit = await page.goto('/audit');
  expect(audit?.status()).toBe(403);
});

test('an admin exports the audit trail with progress and gets every application', async ({ page }) => {
  await signIn(page, users.admin);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
  await hydrated(page);
  await page.getByLabel('Format').selectOption({ label: 'CSV' });
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download export' }).click(),
  ]);
  await expect(page.getByRole('status').filter({ hasText: 'Export complete' })).toHaveText(/^Export complete: \d+ application\(s\)\.$/);
  const expected = Number((await page.getByRole('status').filter({ hasText: 'Export complete' }).textContent())!.match(/\d+/)![0]);
  expect(expected).toBeGreaterThanOrEqual(50);
  await expect(page.getByRole('progressbar', { name: 'Export progress' })).toHaveAttribute('value', String(expected));
  const fs = require('fs');
  const text: string = fs.readFileSync(await download.path(), 'utf8');
  const lines = text.trim().split('\n');
  expect(lines[0]).toContain('approved_by');
  expect(lines.length - 1).toBe(expected);
});
