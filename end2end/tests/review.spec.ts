import { test, expect, users, signIn, hydrated, verifyAtProvider } from './helpers';

/** Sends verification for the named candidate and has the provider return this result. */
async function providerResult(page: any, request: any, name: string, outcome: string, risk: string) {
  await signIn(page, users.recruiter);
  await page.getByLabel('Search').fill(name);
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByRole('link', { name }).first().click();
  const panel = page.getByRole('region', { name: 'Verification' });
  await hydrated(page);
  await verifyAtProvider(page, request, { outcome, risk_tier: risk, reason_codes: ['face_mismatch'] });
  await expect(panel.locator('.next-action')).toHaveText(/^Awaiting security review — /);
  const url = page.url();
  await page.getByRole('button', { name: 'Sign out' }).click();
  return url;
}

test('a reviewer claims and decides; a high-risk override waits for a second reviewer', async ({ page, request }) => {
  const profile = await providerResult(page, request, 'Barbara Lovelace', 'needs_review', 'high');

  await signIn(page, users.security);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Review queue' }).click();
  await hydrated(page);
  const card = page.getByRole('article', { name: 'Review of Barbara Lovelace' });
  await expect(card).toBeVisible();
  await expect(card.locator('.sla')).toHaveText(/left$/);
  await card.getByRole('button', { name: 'Claim' }).click();
  await expect(card.getByText('Claimed by you (Sam Security)')).toBeVisible();
  await card.getByLabel('Outcome').selectOption({ label: 'Verified' });
  await card.getByLabel('Reason code').selectOption({ label: 'Override approved with second approver' });
  await card.getByLabel('Rationale').fill('Live video call with the candidate confirmed the document.');
  await card.getByRole('button', { name: 'Record decision' }).click();
  await expect(card.getByText('Awaiting second approval')).toBeVisible();
  await expect(card.getByText('A different security reviewer must approve it.')).toBeVisible();

  // The recruiter sees that the candidate is still gated.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, users.recruiter);
  await page.goto(profile);
  await expect(page.getByRole('region', { name: 'Verification' }).locator('.next-action')).toHaveText('Awaiting second approval');

  // A different reviewer approves; the recruiter's profile shows the result.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, users.security2);
  await page.goto('/review-queue');
  await hydrated(page);
  const pending = page.getByRole('article', { name: 'Review of Barbara Lovelace' });
  await pending.getByRole('button', { name: 'Approve override' }).click();
  await expect(page.getByRole('article', { name: 'Review of Barbara Lovelace' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, users.recruiter);
  await page.goto(profile);
  const panel = page.getByRole('region', { name: 'Verification' });
  await expect(panel.getByText('Verified', { exact: true })).toBeVisible();
  await expect(panel.locator('.next-action')).toHaveText('Cleared');
  await expect(panel.getByText('Sam Security (approved by Quinn Second)')).toBeVisible();
});
