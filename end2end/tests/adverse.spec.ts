import { test, expect, users, signIn, hydrated } from './helpers';

const port = Number(process.env.E2E_PORT ?? 3100);
const mailPage = `http://127.0.0.1:${port + 5}`;

// The suite's partner simulator answers "Consider" for applicants named Turing, and the server
// runs with a six-second waiting period (CLEARANCE_ADVERSE_WAIT_SECONDS), so the whole FCRA
// process fits in one test.
test('recruiter runs adverse action on a Consider result; the candidate receives the notices; the hiring manager sees only On hold', async ({ page, browser }) => {
  test.setTimeout(120_000);
  await signIn(page, users.recruiter);
  await page.getByLabel('Search').fill('Barbara Turing');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByRole('link', { name: 'Barbara Turing' }).first().click();
  // The router moves to the profile a tick after the click (it waits for any page code first).
  await expect(page).toHaveURL(/\/candidates\/\d+$/);
  const checks = page.getByRole('region', { name: 'Background checks' });
  await hydrated(page);
  const profileUrl = page.url();

  await checks.getByRole('button', { name: 'Order background check' }).click();
  const picker = checks.getByRole('group', { name: 'Order background check' });
  await picker.getByRole('radio', { name: /Standard Package/ }).check();
  await picker.getByRole('button', { name: 'Place order' }).click();
  await expect(checks.getByText('Consider')).toBeVisible({ timeout: 30_000 });

  await checks.getByRole('button', { name: 'Start adverse action' }).click();
  const process = checks.getByRole('region', { name: /Adverse action/ });
  await expect(process.getByText('Individualized assessment').first()).toBeVisible();
  await expect(process.getByRole('button', { name: 'Send pre-adverse notice' })).toBeDisabled();
  await process.getByLabel('Findings considered').fill('Misdemeanor theft conviction, 2015');
  await process.getByLabel('Nature and gravity of the offense').fill('Minor, non-violent');
  await process.getByLabel('Time elapsed').fill('Eleven years');
  await process.getByLabel('Nature of the job').fill('Handles company credit cards');
  await process.getByLabel('Rationale').fill('Directly related to the duties of the role');
  await process.getByRole('button', { name: 'Save assessment' }).click();
  await expect(process.getByRole('button', { name: 'Send pre-adverse notice' })).toBeEnabled();
  await process.getByRole('button', { name: 'Send pre-adverse notice' }).click();
  await expect(process.getByText(/Waiting period: 7 calendar days/)).toBeVisible();
  // The delivery worker emails it; the profile says so.
  await expect(process.getByText('Emailed')).toBeVisible({ timeout: 20_000 });

  // While the process is open, the application cannot move to Offer.
  await page.getByLabel('New stage').selectOption({ label: 'Offer' });
  await page.getByRole('button', { name: 'Move to stage' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'adverse_action_pending' })).toBeVisible();

  // Barbara Turing applied to Senior Backend Engineer, managed by Morgan Manager: "On hold", and
  // nothing of the process.
  const managerContext = await browser.newContext();
  const manager = await managerContext.newPage();
  await signIn(manager, users.manager);
  await manager.goto(profileUrl);
  const hmChecks = manager.getByRole('region', { name: 'Background checks' });
  await expect(hmChecks.getByText('On hold: background check under review')).toBeVisible();
  await expect(manager.getByText('Misdemeanor theft conviction, 2015')).toHaveCount(0);
  await expect(manager.getByText('Consider')).toHaveCount(0);
  await expect(manager.getByRole('button', { name: 'Start adverse action' })).toHaveCount(0);
  await managerContext.close();

  // The candidate's inbox (the SMTP sink's page) holds the notice with the findings.
  const mail = await page.context().newPage();
  await mail.goto(mailPage);
  const pre = mail.getByRole('article', { name: /Pre-adverse action notice/ });
  await expect(pre).toBeVisible();
  await expect(pre.getByText(/Misdemeanor theft conviction, 2015/)).toBeVisible();
  await expect(pre.getByText(/Summary of Your Rights/).first()).toBeVisible();
  await mail.close();

  // After the (shortened) waiting period the final notice can go; the application is rejected.
  const send = process.getByRole('button', { name: 'Send final notice' });
  await expect(send).toBeEnabled({ timeout: 30_000 });
  await send.click();
  await expect(checks.getByText('Closed: the application was rejected')).toBeVisible();
  await expect(checks.getByText('Final notice sent')).toBeVisible();

  const inbox = await page.context().newPage();
  await inbox.goto(mailPage);
  await expect(async () => {
    await inbox.reload();
    await expect(inbox.getByRole('article', { name: /Final adverse action notice/ })).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(
    inbox.getByRole('article', { name: /Final adverse action notice/ }).getByText(/did not make this decision/),
  ).toBeVisible();
  await inbox.close();

  // The application moved to Rejected with the final notice.
  await page.reload();
  await expect(page.getByText('Stage: Rejected')).toBeVisible();
});
