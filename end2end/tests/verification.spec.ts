import { test, expect, users, signIn, openProfile, verifyAtProvider } from './helpers';

test('recruiter sends verification; the provider flags it; the open profile updates by itself', async ({ page, request }) => {
  const panel = await openProfile(page, 'Grace Hopper');
  const profileUrl = page.url();

  // The candidate finishes at the provider, which flags the result for review.
  await verifyAtProvider(page, request, { outcome: 'needs_review', risk_tier: 'high', reason_codes: ['liveness_failed', 'document_mismatch'] });

  // No reload: the panel follows the live updates.
  await page.evaluate(() => ((window as any).__noReload = true));
  await expect(panel.getByText('Needs review')).toBeVisible();
  await expect(panel.getByText('High', { exact: true })).toBeVisible();
  await expect(panel.getByText('Could not complete the liveness check')).toBeVisible();
  await expect(panel.locator('.next-action')).toHaveText(/^Awaiting security review — \d+h \d+m left$/);
  await expect(panel.getByRole('link', { name: 'Open evidence pack' })).toBeVisible();
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);

  // The list finds the candidate by status and risk tier, and the filters stay in the URL.
  await page.goto('/candidates');
  await page.getByLabel('Verification').selectOption({ label: 'Needs review' });
  await page.getByLabel('Risk tier').selectOption({ label: 'High' });
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/status=needs_review/);
  await expect(page).toHaveURL(/risk=high/);
  await expect(page.getByRole('link', { name: 'Grace Hopper' })).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Verification')).toHaveValue('needs_review');

  // Grace Hopper applied to Site Reliability Engineer, managed by Jordan Lead, who sees the badge
  // and the go/no-go line only.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, users.manager2);
  const res = await page.goto(profileUrl);
  expect(res?.status()).toBe(200);
  const hmPanel = page.getByRole('region', { name: 'Verification' });
  await expect(hmPanel.getByText('Needs review')).toBeVisible();
  await expect(hmPanel.getByText('No-go: identity not verified yet')).toBeVisible();
  await expect(hmPanel.getByText('High', { exact: true })).toHaveCount(0);
  await expect(hmPanel.getByText('Could not complete the liveness check')).toHaveCount(0);
  await expect(hmPanel.getByRole('link', { name: 'Open evidence pack' })).toHaveCount(0);
  await expect(hmPanel.getByRole('button', { name: /Send verification|Re-verify/ })).toHaveCount(0);
});

test('security opens the evidence pack from the profile and downloads its JSON; a hiring manager cannot', async ({ page }) => {
  await signIn(page, users.security);
  await page.getByLabel('Verification').selectOption({ label: 'Needs review' });
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/status=needs_review/);
  await page.getByRole('link', { name: 'Grace Hopper' }).click();
  await page.getByRole('region', { name: 'Verification' }).getByRole('link', { name: 'Open evidence pack' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Evidence pack' })).toBeVisible();
  const digest = (await page.locator('code.digest').textContent())!.trim();
  expect(digest).toMatch(/^[0-9a-f]{64}$/);
  await expect(page.getByRole('table').getByText('Verification requested')).toBeVisible();
  await expect(page.getByRole('table').getByText('Verification completed')).toBeVisible();
  const evidenceUrl = page.url();

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download JSON' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^evidence-vs_[0-9a-f]+_\d+\.json$/);
  const fs = require('fs');
  const pack = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  expect(pack.sha256).toBe(digest);
  expect(pack.events.map((e: any) => e.event)).toContain('Verification completed');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, users.manager2);
  const res = await page.goto(evidenceUrl);
  expect(res?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Evidence pack' })).toHaveCount(0);
  const json = await page.request.get(`${evidenceUrl}/pack.json`);
  expect(json.status()).toBe(404);
});

test('an open profile listens for changes instead of polling, and updates when the provider answers', async ({ page, request }) => {
  const panelFetches: string[] = [];
  page.on('request', (r) => {
    if (r.url().includes('/api/verification_panel')) panelFetches.push(r.url());
  });
  const stream = page.waitForRequest((r) => new URL(r.url()).pathname === '/events');
  const panel = await openProfile(page, 'Ken Hopper');
  await stream;

  // Nothing changes: nothing is fetched (the panel polled every 3 s before live updates).
  await page.waitForTimeout(7000);
  expect(panelFetches).toEqual([]);

  await verifyAtProvider(page, request, { outcome: 'verified', risk_tier: 'low', reason_codes: [] });
  await page.evaluate(() => ((window as any).__noReload = true));
  await expect(panel.getByText('Go: identity verified')).toBeVisible();
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
});
