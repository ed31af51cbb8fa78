import { test, expect, users, signIn, hydrated } from './helpers';

test('a blocked move says why; security grants a 24h exception; the recruiter moves the candidate', async ({ page }) => {
  // Grace Lovelace: Frontend Engineer, phone screen, not verified.
  await signIn(page, users.recruiter);
  await page.getByLabel('Search').fill('Grace Lovelace');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByRole('link', { name: 'Grace Lovelace' }).first().click();
  // The router moves to the profile a tick after the click (it waits for any page code first).
  await expect(page).toHaveURL(/\/candidates\/\d+$/);
  await hydrated(page);
  const profileUrl = page.url();
  const card = page.locator('.application').first();
  await card.getByLabel('New stage').selectOption({ label: 'Onsite / panel interview' });
  await card.getByRole('button', { name: 'Move to stage' }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'Blocked by policy' });
  await expect(alert).toContainText(
    "Blocked by policy 'ats-embedded-verification-status' (v1): Onsite / panel interview needs verification Verified, and this candidate's is Not started.",
  );
  await expect(alert).toContainText('Reason code: verification_not_started.');
  await expect(card.getByText('Stage: Phone screen')).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, users.security);
  await page.goto(profileUrl);
  await hydrated(page);
  const exceptions = page.getByRole('region', { name: 'Stage exceptions' });
  await exceptions.getByLabel('Exception for stage').selectOption({ label: 'Onsite / panel interview' });
  await exceptions.getByLabel('Exception reason code').selectOption({ label: 'Exception: verification scheduled, interview cannot wait' });
  await exceptions.getByLabel('Hours').fill('24');
  await exceptions.getByRole('button', { name: 'Grant exception' }).click();
  await expect(exceptions.getByText('Exception granted.')).toBeVisible();
  await expect(exceptions.getByRole('listitem')).toContainText(/Onsite \/ panel interview — 2[34]h \d\dm left/);
  await expect(exceptions.getByRole('listitem')).toContainText('approved by Sam Security');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, users.recruiter);
  await page.goto(profileUrl);
  await hydrated(page);
  const card2 = page.locator('.application').first();
  await card2.getByLabel('New stage').selectOption({ label: 'Onsite / panel interview' });
  await card2.getByRole('button', { name: 'Move to stage' }).click();
  await expect(card2.getByText('Stage: Onsite / panel interview')).toBeVisible();
  await expect(card2.getByText(/Phone screen → Onsite \/ panel interview by Riley Recruiter/)).toBeVisible();
});

test('an admin edits the policy and gets a line-numbered error for a bad stage name', async ({ page }) => {
  await signIn(page, users.admin);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Policy' }).click();
  await hydrated(page);
  await expect(page.getByLabel('Policy', { exact: true })).toHaveValue('ats-embedded-verification-status');
  const editor = page.getByLabel('Policy YAML');
  const original = await editor.inputValue();
  expect(original).toContain('stage_gates:');
  const broken = original.replace('  offer:', '  offre:');
  const line = broken.split('\n').findIndex((l) => l.includes('offre:')) + 1;
  await editor.fill(broken);
  await page.getByRole('button', { name: 'Save policy' }).click();
  await expect(page.getByRole('alert')).toContainText(`Line ${line}, stage_gates.offre: 'offre' is not a stage`);

  // A valid change is saved as version 2 with its ticket, and the diff shows it.
  await editor.fill(original.replace('override_ttl_hours: 24', 'override_ttl_hours: 48'));
  await page.getByLabel('Change ticket (optional)').fill('CHG-7');
  await page.getByRole('button', { name: 'Save policy' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved as version 2.' })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'CHG-7' })).toBeVisible();
  await page.getByRole('button', { name: 'Show changes in version 2' }).click();
  const diff = page.getByLabel('Changes in version 2', { exact: true });
  await expect(diff).toContainText(/-\s+override_ttl_hours: 24/);
  await expect(diff).toContainText(/\+\s+override_ttl_hours: 48/);
  // Earlier versions stay readable in full.
  await page.getByRole('button', { name: 'View version 1' }).click();
  await expect(page.getByLabel('Version 1', { exact: true })).toContainText('override_ttl_hours: 24');
});
