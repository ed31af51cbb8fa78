import { test, expect, users, signIn, hydrated } from './helpers';

const port = Number(process.env.E2E_PORT ?? 3100);
const partnerSim = `http://127.0.0.1:${port + 2}`;

test('recruiter orders Standard + Comprehensive Drug Screening; the result arrives; the hiring manager sees status only', async ({ page, request }) => {
  await signIn(page, users.recruiter);
  await page.getByLabel('Search').fill('Alan Hopper');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.getByRole('link', { name: 'Alan Hopper' }).first().click();
  const checks = page.getByRole('region', { name: 'Background checks' });
  await expect(checks.getByText('No background check ordered yet.')).toBeVisible();
  await hydrated(page);
  const profileUrl = page.url();

  await checks.getByRole('button', { name: 'Order background check' }).click();
  const picker = checks.getByRole('group', { name: 'Order background check' });
  await expect(picker.getByRole('img', { name: 'Acme Screening (simulator) logo' })).toBeVisible();
  await expect(picker.getByRole('radio')).toHaveCount(3);
  await expect(picker.getByText('Social Security Address/Alias Trace').first()).toBeVisible();
  await expect(picker.getByRole('button', { name: 'Place order' })).toBeDisabled();

  // Keyboard: choose the package and the add-on without the mouse.
  await picker.getByRole('radio', { name: /Standard Package/ }).focus();
  await page.keyboard.press('Space');
  await expect(picker.locator('output')).toHaveText('$49.99');
  await picker.getByRole('checkbox', { name: /Comprehensive Drug Screening/ }).focus();
  await page.keyboard.press('Space');
  await expect(picker.locator('output')).toHaveText('$89.98');
  await picker.getByRole('button', { name: 'Place order' }).click();

  await expect(checks.getByText('Order placed; it is on its way to the partner.')).toBeVisible();
  await expect(checks.getByText('Standard Package')).toBeVisible();
  await expect(checks.getByText('+ Comprehensive Drug Screening')).toBeVisible();
  await expect(checks.getByText(/\$89\.98 · ordered by Riley Recruiter/)).toBeVisible();

  // The partner received exactly the seed's payload and completes it by itself; the open page polls.
  const atPartner = async () => {
    const orders = await (await request.get(`${partnerSim}/control/orders`)).json();
    return orders.orders.find((o: any) => o.order.applicant.first_name === 'Alan' && o.order.applicant.last_name === 'Hopper');
  };
  await expect.poll(atPartner, { timeout: 15_000 }).toBeTruthy();
  const mine = await atPartner();
  expect(mine.order.package_id).toBe('PKG002');
  expect(mine.order.add_on_package_ids).toEqual(['DRG02']);
  expect(mine.order.hiring_manager.email).toBe(users.manager.email);
  await expect(checks.getByText('Complete')).toBeVisible({ timeout: 20_000 });
  await expect(checks.getByText('Pass')).toBeVisible();
  const link = checks.getByRole('link', { name: 'View result at the partner' });
  await expect(link).toHaveAttribute('href', `${partnerSim}/results/${mine.order.background_check_id}`);

  // Alan Hopper applied to Senior Backend Engineer, managed by Morgan Manager: status, nothing more.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, users.manager);
  await page.goto(profileUrl);
  const hmChecks = page.getByRole('region', { name: 'Background checks' });
  await expect(hmChecks.getByText('Complete')).toBeVisible();
  await expect(hmChecks.getByText('Pass')).toHaveCount(0);
  await expect(hmChecks.getByRole('link', { name: 'View result at the partner' })).toHaveCount(0);
  await expect(hmChecks.getByRole('button', { name: 'Order background check' })).toHaveCount(0);
});

test('admin connects a partner once and tests the connection in plain words', async ({ page }) => {
  await signIn(page, users.admin);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Partners' }).click();
  await expect(page.getByRole('heading', { name: 'Partners', level: 1 })).toBeVisible();
  await hydrated(page);
  await page.getByRole('button', { name: 'Test connection to Acme Screening (simulator)' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toHaveText(
    'Connected: the catalog lists 3 package(s) and 2 add-on(s).',
  );

  // A wrong secret and a file that is not a PNG are named plainly.
  await page.getByLabel('Name').fill('Wrong Secret Screening');
  await page.getByLabel('Catalog URL').fill(`${partnerSim}/catalog`);
  await page.getByLabel('Orders URL').fill(`${partnerSim}/orders`);
  await page.getByLabel('Account ID').fill('ACCT123');
  await page.getByLabel('API secret').fill('not-the-secret');
  await page.getByLabel('Logo (PNG)').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: Buffer.from('GIF89a not really') });
  await page.getByRole('button', { name: 'Connect partner' }).click();
  await expect(page.getByRole('alert')).toHaveText('Logo: the logo is not a PNG image');
  await page.getByLabel('Logo (PNG)').setInputFiles('../scripts/sim-partner-logo.png');
  await page.getByRole('button', { name: 'Connect partner' }).click();
  await expect(page.getByText('Partner connected. Use Test connection to check it.')).toBeVisible();
  await expect(page.getByLabel('API secret')).toHaveValue('');
  await expect(page.getByRole('row', { name: /Wrong Secret Screening/ })).toBeVisible();
  expect(await page.content()).not.toContain('not-the-secret');
  await page.getByRole('button', { name: 'Test connection to Wrong Secret Screening' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'refused' })).toHaveText(
    'The partner refused our credentials (401): check the account ID and API secret.',
  );
});
