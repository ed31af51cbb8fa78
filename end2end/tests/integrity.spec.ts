import { test, expect, users, signIn, hydrated } from './helpers';

const port = Number(process.env.E2E_PORT ?? 3100);
const monitor = `http://127.0.0.1:${port + 3}`;

test('recruiter schedules an interview; the monitor reports; the score shows, the report downloads, the list finds it', async ({ page, request }) => {
  // Frances Lovelace: no other suite touches her.
  await signIn(page, users.recruiter);
  await page.getByLabel('Search').fill('Frances Lovelace');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByRole('link', { name: 'Frances Lovelace' }).first().click();
  await hydrated(page);
  const section = page.getByRole('region', { name: 'Interview integrity' });
  await expect(section.getByText('No interview scheduled.')).toBeVisible();
  await section.getByLabel('Interview stage').selectOption({ label: 'Onsite / panel interview' });
  await section.getByLabel('Interview time').fill('2026-12-03T14:00');
  await section.getByLabel('Time zone').fill('Europe/Berlin');
  await section.getByLabel('Interviewers (emails)').fill('ana@clearance.test, bo@clearance.test');
  await section.getByRole('button', { name: 'Schedule interview' }).click();
  await expect(section.getByText('Interview scheduled; the monitor is told automatically.')).toBeVisible();
  await expect(section.getByText('Monitored')).toBeVisible();

  // The monitor knows the interview with no per-interview setup; it posts its report.
  const listed = await (await request.get(`${monitor}/control/interviews`)).json();
  const mine = listed.interviews.find((i: any) => i.interview.scheduled_at === '2026-12-03T14:00:00+01:00');
  expect(mine).toBeTruthy();
  expect(mine.interview.interviewers).toEqual(['ana@clearance.test', 'bo@clearance.test']);
  const posted = await request.post(`${monitor}/control/interviews/${mine.interview.interview_id}/report`, {
    data: { score: 41, flags: ['tab_switch', 'second_voice'], summary: 'Two signals during the coding part.' },
  });
  expect(posted.ok()).toBeTruthy();

  await expect(section.getByText('41 / 100')).toBeVisible();
  await expect(section.getByText('Flags: Switched browser tabs; A second voice was heard')).toBeVisible();
  await expect(section.getByText(/^Consent given/)).toBeVisible();
  const download = page.waitForEvent('download');
  await section.getByRole('link', { name: /Download report/ }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^integrity-\d+\.pdf$/);

  // The list filter "Score below 60" finds her, and stays in the URL.
  await page.goto('/candidates');
  await page.getByLabel('Interview integrity').selectOption({ label: 'Score below 60' });
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/integrity=below_60/);
  await expect(page.getByRole('link', { name: 'Frances Lovelace' })).toBeVisible();
  await expect(page.getByRole('row', { name: /Frances Lovelace/ })).toContainText('41');
});
