import fs from 'node:fs';
import { test, expect, signIn, hydrated, users, listShowsOnly } from './helpers';

test('an admin reads Insights for a date range and follows a number to the candidates behind it', async ({ page }) => {
  await signIn(page, users.admin);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Insights' }).click();
  await expect(page.getByRole('heading', { name: 'Insights', level: 1 })).toBeVisible();
  await hydrated(page);

  // The chart reads as words; the table under it says the same.
  const funnel = page.getByRole('region', { name: 'Hiring funnel' });
  await expect(funnel.getByRole('img', { name: /^Funnel: Applied \d+, Phone screen \d+/ })).toBeVisible();
  await expect(funnel.getByRole('rowheader', { name: 'Hired' })).toBeVisible();

  // Today only (the demo's applications are created when it starts; the e2e server runs in UTC).
  const today = new Date().toISOString().slice(0, 10);
  await page.getByLabel('From', { exact: true }).fill(today);
  await page.getByLabel('To', { exact: true }).fill(today);
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(new RegExp(`/insights\\?from=${today}&to=${today}`));
  await expect(page.getByText(new RegExp(`\\d+ applications created from ${today} to ${today}`))).toBeVisible();

  // Results by day: a chart with its words, and the same figures as a table behind a toggle.
  const outcomes = page.getByRole('region', { name: 'Verification outcomes' });
  await expect(outcomes.getByRole('img', { name: /^\d+ results over 1 day$/ })).toBeVisible();
  await outcomes.getByText('Show the results as a table').click();
  await expect(outcomes.getByRole('rowheader', { name: today })).toBeVisible();

  // Each table downloads as CSV.
  const download = page.waitForEvent('download');
  await funnel.getByRole('link', { name: 'Download the funnel (CSV)' }).click();
  const file = await download;
  const text = fs.readFileSync(await file.path(), 'utf8');
  expect(text.split('\n')[0]).toBe('stage,reached,now_at');

  // Long ago: nothing.
  await page.getByLabel('From', { exact: true }).fill('2020-01-01');
  await page.getByLabel('To', { exact: true }).fill('2020-01-31');
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page.getByText('0 applications created from 2020-01-01 to 2020-01-31')).toBeVisible();
  await expect(page.getByRole('region', { name: 'Review SLA' }).getByText('No review opened in this range.')).toBeVisible();

  // Back to today; a count of candidates opens the list filtered the same way.
  await page.goto(`/insights?from=${today}&to=${today}`);
  await hydrated(page);
  await funnel.getByRole('link', { name: /candidates now at Applied$/ }).click();
  await expect(page).toHaveURL(/\/candidates\?stage=applied$/);
  await listShowsOnly(page, 'Applied');
});

test('Insights narrows to one policy and one risk tier, kept in the URL', async ({ page }) => {
  await signIn(page, users.security);
  await page.goto('/insights');
  await hydrated(page);
  await expect(page.getByText(/Figures as of /)).toBeVisible();
  await page.getByLabel('Policy', { exact: true }).selectOption('Remote SWE High Assurance');
  await page.getByLabel('Risk tier', { exact: true }).selectOption({ label: 'High' });
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/[?&]policy=Remote\+SWE\+High\+Assurance(&|$)/);
  await expect(page).toHaveURL(/[?&]tier=high(&|$)/);
  await hydrated(page);
  // The choices stay chosen, and the tables follow them.
  await expect(page.getByLabel('Policy', { exact: true })).toHaveValue('Remote SWE High Assurance');
  await expect(page.getByLabel('Risk tier', { exact: true })).toHaveValue('high');
  const outcomes = page.getByRole('region', { name: 'Verification outcomes' });
  await expect(outcomes.getByRole('rowheader', { name: 'No tier yet' })).toBeVisible();
  const tiers = outcomes.getByRole('table', { name: /by risk tier/ });
  await expect(tiers.getByRole('link', { name: '0 candidates of risk tier Low' })).toBeVisible();
  const timings = page.getByRole('region', { name: 'Time to each event' });
  await expect(timings.getByRole('link', { name: 'Download the timings (CSV)' }))
    .toHaveAttribute('href', /&policy=Remote%20SWE%20High%20Assurance&tier=high$/);
  // A number of the tier mix opens the list of that tier.
  await tiers.getByRole('link', { name: /candidates of risk tier High$/ }).click();
  await expect(page).toHaveURL(/\/candidates\?risk=high$/);
});

test('a hiring manager has no Insights', async ({ page }) => {
  await signIn(page, users.manager);
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Insights' })).toHaveCount(0);
  await page.goto('/insights');
  await expect(page.getByRole('alert')).toBeVisible();
});
