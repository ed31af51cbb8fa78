import { test, expect, users, signIn, openProfile, verifyAtProvider } from '../tests/helpers';

// Three instances behind nginx, round robin: the page, its server functions, its live-update
// stream and the provider's webhook each land on whichever instance nginx picks.

test('through the load balancer, the open profile follows the provider without a reload', async ({ page, request }) => {
  const stream = page.waitForResponse((r) => new URL(r.url()).pathname === '/events');
  const panel = await openProfile(page, 'Grace Hopper');
  // The stream comes through nginx unbuffered, as an event stream.
  const events = await stream;
  expect(events.status()).toBe(200);
  expect(events.headers()['content-type']).toContain('text/event-stream');

  await verifyAtProvider(page, request, { outcome: 'needs_review', risk_tier: 'high', reason_codes: ['liveness_failed'] });
  await page.evaluate(() => ((window as any).__noReload = true));
  await expect(panel.getByText('Needs review')).toBeVisible();
  await expect(panel.locator('.next-action')).toHaveText(/^Awaiting security review — /);
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
});

test('a session made on one instance is good on every instance', async ({ page }) => {
  await signIn(page, users.security);
  // Each of these requests goes to the next instance in turn.
  for (let i = 0; i < 6; i++) {
    await page.goto('/review-queue');
    await expect(page.getByRole('heading', { name: 'Review queue' })).toBeVisible();
  }
  await expect(page.getByText('Grace Hopper').first()).toBeVisible();
});
