import fs from 'node:fs';
import { test, expect, users, signIn, hydrated } from './helpers';

test('a recruiter sends verification to every candidate matching a search, after a preview, and follows the bulk job', async ({ page }) => {
  await signIn(page, users.recruiter);
  await page.getByLabel('Search').fill('Liskov');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/q=Liskov/);
  await hydrated(page);
  const bar = page.getByRole('region', { name: 'Bulk actions' });
  await expect(bar.getByRole('button', { name: 'Send verification' })).toBeDisabled();

  // One row by its name, then every match.
  await page.getByRole('checkbox', { name: 'Ada Liskov' }).check();
  await expect(bar.getByRole('status')).toHaveText('1 selected');
  // By keyboard too: Space ticks and unticks a row (the rows are one block of markup whose
  // checkboxes the page follows).
  const grace = page.getByRole('checkbox', { name: 'Grace Liskov' });
  await grace.focus();
  await page.keyboard.press('Space');
  await expect(bar.getByRole('status')).toHaveText('2 selected');
  await page.keyboard.press('Space');
  await expect(bar.getByRole('status')).toHaveText('1 selected');
  await expect(grace).not.toBeChecked();
  await bar.getByRole('button', { name: 'Select all matching' }).click();
  await expect(bar.getByRole('status')).toContainText('matching these filters selected');
  await expect(grace).toBeChecked();
  await expect(grace).toBeDisabled();

  // The selection as CSV: every Liskov, with the check-result columns a recruiter may see.
  const exported = page.waitForEvent('download');
  await bar.getByRole('button', { name: 'Export selection' }).click();
  const rowsCsv = fs.readFileSync(await (await exported).path(), 'utf8').trim().split('\n');
  expect(rowsCsv[0]).toBe('candidate_id,name,email,job,stage,verification,risk_tier,integrity_score');
  expect(rowsCsv.length).toBeGreaterThan(10);
  expect(rowsCsv.slice(1).every((l) => l.includes('Liskov'))).toBe(true);

  await bar.getByRole('button', { name: 'Send verification' }).click();
  const preview = page.getByRole('region', { name: 'Preview of the bulk action' });
  await expect(preview).toContainText(/Verification will be sent to \d+ of 10 selected candidate/);
  await preview.getByRole('button', { name: /^Start: send to \d+/ }).click();

  await expect(page).toHaveURL(/\/bulk\/\d+$/);
  await hydrated(page);
  await expect(page.getByRole('progressbar', { name: 'Progress' })).toBeVisible();
  // The job is the server's: a reload shows the same job, which finishes on its own.
  await page.reload();
  await hydrated(page);
  await expect(page.locator('.bulk-state')).toHaveText('Finished', { timeout: 30_000 });
  const rows = page.getByRole('table').getByRole('row');
  await expect(rows).toHaveCount(11);
  await expect(page.getByRole('table')).toContainText('Verification requested');
  await expect(page.getByText(/10 of 10 reached/)).toBeVisible();
  const jobId = page.url().split('/').pop();
  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download results (CSV)' }).click();
  const csv = fs.readFileSync(await (await download).path(), 'utf8').trim().split('\n');
  expect(csv[0]).toBe('candidate_id,name,outcome,detail');
  expect(csv.length).toBe(11);

  // Each candidate's own audit timeline shows the request as part of the bulk job.
  await page.getByRole('table').getByRole('link', { name: 'Ada Liskov' }).click();
  await hydrated(page);
  const timeline = page.getByRole('region', { name: 'Audit timeline' });
  await expect(timeline).toContainText(`Part of bulk job ${jobId}`);

  // The audit log links the bulk job's entries to its page (security reviewers see both).
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, users.security);
  await page.goto('/audit');
  await hydrated(page);
  await page.getByRole('link', { name: `bulk_job ${jobId}` }).first().click();
  await expect(page).toHaveURL(new RegExp(`/bulk/${jobId}$`));
  await expect(page.getByRole('heading', { level: 1, name: `Bulk job ${jobId}` })).toBeVisible();
});

test('a recruiter orders one package for every match at the exact total, then moves them in bulk, with the gates applied', async ({ page }) => {
  await signIn(page, users.recruiter);
  await page.goto('/candidates?q=Liskov');
  await hydrated(page);
  const bar = page.getByRole('region', { name: 'Bulk actions' });
  await bar.getByRole('button', { name: 'Select all matching' }).click();

  // The order: one package and an add-on from the partner's catalog, for the whole selection.
  await bar.getByRole('button', { name: 'Order background check' }).click();
  const form = page.getByRole('region', { name: 'Order for the selection' });
  await form.getByRole('radio', { name: /Basic Package/ }).check();
  await form.getByRole('checkbox', { name: /Basic Drug Screening/ }).check();
  await expect(form.locator('output')).toHaveText('$59.98');
  await form.getByRole('button', { name: 'Preview order' }).click();
  const preview = page.getByRole('region', { name: 'Preview of the bulk action' });
  await expect(preview).toContainText(/A background check will be ordered for \d+ of 10 selected candidate/);
  const proceed = Number((await preview.textContent())!.match(/ordered for (\d+) of/)![1]);
  // The exact total for everyone it goes ahead for.
  const total = (59.98 * proceed).toFixed(2);
  await expect(preview).toContainText(`$59.98 each; total $${total} for ${proceed} candidate(s)`);
  await preview.getByRole('button', { name: `Start: order for ${proceed}` }).click();
  await expect(page).toHaveURL(/\/bulk\/\d+$/);
  await hydrated(page);
  await expect(page.locator('.bulk-state')).toHaveText('Finished', { timeout: 30_000 });
  await expect(page.getByRole('table')).toContainText('Background check ordered');
  await expect(page.getByText(`${proceed} done`)).toBeVisible();

  await page.goto('/candidates?q=Liskov');
  await hydrated(page);
  await bar.getByRole('button', { name: 'Select all matching' }).click();

  // The move: to Rejected (no gate), those already closed are skipped with the reason.
  await bar.getByRole('button', { name: 'Move to stage' }).click();
  const move = page.getByRole('region', { name: 'Move the selection' });
  await move.getByLabel('Stage to move to').selectOption({ label: 'Rejected' });
  await move.getByRole('button', { name: 'Preview move' }).click();
  await expect(preview).toContainText(/\d+ of \d+ selected application\(s\) will move to Rejected\./);
  const moving = Number((await preview.textContent())!.match(/(\d+) of \d+ selected application/)![1]);
  await preview.getByRole('button', { name: `Start: move ${moving}` }).click();
  await expect(page).toHaveURL(/\/bulk\/\d+$/);
  await hydrated(page);
  await expect(page.locator('.bulk-state')).toHaveText('Finished', { timeout: 30_000 });
  await expect(page.getByText('Move to stage: Rejected')).toBeVisible();
  await expect(page.getByRole('table')).toContainText('Moved to Rejected');
  // None of them is left in an open stage.
  for (const stage of ['applied', 'phone_screen', 'offer']) {
    await page.goto(`/candidates?q=Liskov&stage=${stage}`);
    await expect(page.locator('.count')).toHaveText('0 candidate application(s)');
  }
});
