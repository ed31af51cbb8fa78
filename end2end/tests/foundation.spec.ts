import { test, expect, users, signIn, hydrated, listShowsOnly } from './helpers';

test('every role signs in and sees who they are', async ({ page }) => {
  for (const user of Object.values(users)) {
    await signIn(page, user);
    const header = page.getByRole('banner');
    await expect(header.getByText(user.name)).toBeVisible();
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Candidates' })).toBeVisible();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login$/);
  }
});

test('a wrong password is refused with a message', async ({ page }) => {
  await page.goto('/login');
  await hydrated(page);
  await page.getByLabel('Email').fill(users.recruiter.email);
  await page.getByLabel('Password').fill('definitely-wrong');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong email or password.');
  await expect(page).toHaveURL(/\/login$/);
});

test('recruiter filters the list and opens a profile', async ({ page }) => {
  await signIn(page, users.recruiter);
  await hydrated(page);
  await page.getByLabel('Stage').selectOption({ label: 'Offer' });
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/stage=offer/);
  await listShowsOnly(page, 'Offer');
  const rows = page.getByRole('table').getByRole('row');
  await expect(rows.nth(1)).toBeVisible();
  // The Stage column, wherever it is (recruiters also have a column of checkboxes).
  const headings = await page.locator('table thead th').allTextContents();
  const stageColumn = headings.indexOf('Stage') + 1;
  expect(stageColumn).toBeGreaterThan(0);
  const stages = await page.locator(`table tbody td:nth-child(${stageColumn})`).allTextContents();
  expect(stages.length).toBeGreaterThan(0);
  expect(new Set(stages)).toEqual(new Set(['Offer']));

  await page.getByLabel('Stage').selectOption({ label: 'All stages' });
  await page.getByLabel('Search').fill('Ada Lovelace');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/q=Ada/);
  await page.getByRole('link', { name: 'Ada Lovelace' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Ada Lovelace' })).toBeVisible();
  const panel = page.getByRole('region', { name: 'Verification' });
  await expect(panel).toBeVisible();
  await expect(panel.getByText('Not started')).toBeVisible();
  await expect(panel.locator('.next-action')).toHaveText('Send verification');
  await expect(panel.getByRole('button', { name: 'Send verification' })).toBeVisible();
});

test('the page is hydrated: moving a stage updates it without a full reload', async ({ page }) => {
  await signIn(page, users.recruiter);
  await page.getByLabel('Stage').selectOption({ label: 'Applied' });
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/stage=applied/);
  await listShowsOnly(page, 'Applied');
  await page.locator('table tbody tr').first().getByRole('link').click();
  await expect(page.getByRole('region', { name: 'Verification' })).toBeVisible();
  await hydrated(page);
  // A marker on window survives only if the page is never reloaded.
  await page.evaluate(() => ((window as any).__noReload = true));
  const card = page.locator('.application').first();
  await expect(card.getByText('Stage: Applied')).toBeVisible();
  // Rejected is never gated; gated moves have their own suite (policy.spec.ts).
  await card.getByLabel('New stage').selectOption({ label: 'Rejected' });
  await card.getByRole('button', { name: 'Move to stage' }).click();
  await expect(card.getByText('Stage: Rejected')).toBeVisible();
  await expect(card.getByText(/Applied → Rejected by Riley Recruiter/)).toBeVisible();
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
});

test('a hiring manager cannot open a candidate of another job', async ({ page, browser }) => {
  // Find a Data Analyst candidate (managed by Jordan Lead) as an admin.
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, users.admin);
  await admin.getByLabel('Job').selectOption({ label: 'Data Analyst' });
  await admin.getByRole('button', { name: 'Apply filters' }).click();
  await expect(admin).toHaveURL(/job=/);
  await listShowsOnly(admin, 'Data Analyst');
  const href = await admin.locator('table tbody tr').first().getByRole('link').getAttribute('href');
  expect(href).toMatch(/^\/candidates\/\d+$/);
  await adminContext.close();

  await signIn(page, users.manager);
  await expect(page.getByLabel('Job').locator('option')).toHaveText(['All jobs', 'Frontend Engineer', 'Senior Backend Engineer']);
  // Check results are not for hiring managers: no risk or integrity filters, no score column,
  // and a risk filter typed into the URL changes nothing.
  await expect(page.getByLabel('Risk tier')).toHaveCount(0);
  await expect(page.getByLabel('Interview integrity')).toHaveCount(0);
  await expect(page.getByRole('columnheader', { name: 'Integrity score' })).toHaveCount(0);
  const all = await page.locator('p.count').textContent();
  await page.goto('/candidates?risk=high&integrity=below_60');
  await expect(page.locator('p.count')).toHaveText(all!);
  const response = await page.goto(href!);
  expect(response?.status(), `${response?.url()} ${(await response?.text())?.slice(0, 300)}`).toBe(404);
  await expect(page.getByRole('heading', { name: 'Not found' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Verification' })).toHaveCount(0);
});

test('signing out ends the session', async ({ page }) => {
  await signIn(page, users.security);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto('/candidates');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
});

test('the front end arrives under hashed names, cached for good and compressed, and hydrates', async ({ page }) => {
  const pkg: { url: string; cache: string; encoding: string }[] = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname.startsWith('/pkg/')) {
      const h = r.headers();
      pkg.push({ url: r.url(), cache: h['cache-control'] ?? '', encoding: h['content-encoding'] ?? '' });
    }
  });
  const doc = await page.goto('/login');
  expect(doc?.headers()['content-encoding'] ?? '').toMatch(/^(br|gzip)$/);
  await hydrated(page);
  const names = pkg.map((p) => new URL(p.url).pathname);
  for (const kind of ['js', 'wasm', 'css']) {
    expect(names.some((n) => new RegExp(`^/pkg/clearance\\.[A-Za-z0-9_-]+\\.${kind}$`).test(n)), `${kind} in ${names}`).toBe(true);
  }
  for (const p of pkg) {
    expect(p.cache, p.url).toBe('public, max-age=31536000, immutable');
    expect(p.encoding, p.url).toMatch(/^(br|gzip)$/);
  }
});

test('a profile opened by its address needs only the main file; a page opened later fetches its own code and works', async ({ page }) => {
  const wasm: string[] = [];
  page.on('response', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/pkg/') && path.endsWith('.wasm')) wasm.push(path);
  });
  await signIn(page, users.recruiter);
  await page.locator('table tbody tr').first().getByRole('link').click();
  await expect(page).toHaveURL(/\/candidates\/\d+$/);
  await expect(page.getByRole('region', { name: 'Verification' })).toBeVisible();

  // The profile is in the main file: opened by its address, nothing else is fetched to hydrate it.
  wasm.length = 0;
  await page.goto(page.url());
  await hydrated(page);
  expect(wasm, 'WASM files fetched to open a profile').toHaveLength(1);
  expect(wasm[0]).toMatch(/^\/pkg\/clearance(\.[A-Za-z0-9_-]+)?\.wasm$/);

  // Insights is a lazy route: the header's link fetches its code, then shows it in place (no new
  // document), and the page works (a filter changes the address).
  await page.evaluate(() => ((window as any).stillThisDocument = true));
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Insights' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Insights' })).toBeVisible();
  expect(await page.evaluate(() => (window as any).stillThisDocument)).toBe(true);
  expect(wasm.length, `Insights' own code besides ${wasm[0]}`).toBeGreaterThan(1);
  await page.getByLabel('Risk tier', { exact: true }).selectOption({ label: 'High' });
  await page.getByRole('button', { name: 'Show' }).click();
  await expect(page).toHaveURL(/[?&]tier=high(&|$)/);
  await expect(page.getByLabel('Risk tier', { exact: true })).toHaveValue('high');
});
