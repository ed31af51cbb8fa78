import { test, expect, users, signIn, hydrated } from './helpers';

const port = Number(process.env.E2E_PORT ?? 3100);
const sim = `http://127.0.0.1:${port + 1}`;

test('a dropped webhook leaves a stale badge; "Reconcile this candidate" corrects it and the drift is listed', async ({ page, request }) => {
  await signIn(page, users.recruiter);
  await page.getByLabel('Search').fill('Edsger Dijkstra');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByRole('link', { name: 'Edsger Dijkstra' }).first().click();
  const panel = page.getByRole('region', { name: 'Verification' });
  await hydrated(page);
  await panel.getByRole('button', { name: 'Send verification' }).click();
  await expect(panel.locator('.next-action')).toHaveText('Waiting for candidate');
  const profile = page.url();
  const id = profile.split('/').pop();

  // The provider finishes, but its webhook is lost on the way.
  await request.post(`${sim}/control/settings`, { data: { drop_rate: 1.0 } });
  const sessions = await (await request.get(`${sim}/control/sessions`)).json();
  const session = sessions.sessions.filter((s: any) => s.candidate_id === id).pop();
  await request.post(`${sim}/control/sessions/${session.session_id}/complete`, { data: { outcome: 'completed', risk_tier: 'low', reason_codes: [] } });
  await request.post(`${sim}/control/settings`, { data: {} });
  await page.reload();
  await expect(panel.getByText('Not started', { exact: true })).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, users.security);
  await page.goto(profile);
  await hydrated(page);
  await panel.getByRole('button', { name: 'Reconcile this candidate' }).click();
  await expect(page.locator('.reconcile-status')).toHaveText('Checked 1, drifted 1, fixed 1, failed 0.');
  await expect(panel.getByText('Verified', { exact: true })).toBeVisible();

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Drift' }).click();
  const drifted = page.getByRole('region', { name: 'Drifted candidates' }).or(page.locator('section', { has: page.getByRole('heading', { name: 'Drifted candidates' }) }));
  await expect(drifted.getByRole('row', { name: /Edsger Dijkstra/ })).toContainText('not_started');
  await expect(drifted.getByRole('row', { name: /Edsger Dijkstra/ })).toContainText('verified');
});
