import http from 'node:http';
import { test, expect, users, signIn, hydrated, verifyAtProvider } from './helpers';

const port = Number(process.env.E2E_PORT ?? 3100);
const base = `http://127.0.0.1:${port}`;
// The ATS's page lives on another origin: a small server the test starts on port+6.
const host = `http://127.0.0.1:${port + 6}`;

test('an ATS page on another origin embeds the badge; it follows a status change without a reload; an expired or broken token shows Badge unavailable', async ({ page, browser, request }) => {
  test.setTimeout(120_000);
  // The admin creates the integration for the ATS's origin on the Settings page.
  await signIn(page, users.admin);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByRole('heading', { name: 'Settings', level: 1 })).toBeVisible();
  await hydrated(page);
  await page.getByLabel('Integration name').fill('Host ATS');
  await page.getByLabel('Allowed origins (one per line)').fill(host);
  await page.getByRole('button', { name: 'Create integration' }).click();
  const shown = page.getByRole('status').filter({ hasText: 'API key' });
  await expect(shown).toBeVisible();
  const key = (await shown.locator('code').textContent())!.trim();
  expect(key).toMatch(/^cik_/);
  await expect(page.getByRole('cell', { name: 'Host ATS', exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Revoke Host ATS' })).toBeVisible();

  await page.goto('/candidates?q=Dennis%20Dijkstra');
  const link = page.getByRole('link', { name: 'Dennis Dijkstra' }).first();
  const profilePath = (await link.getAttribute('href'))!;
  const candidateId = profilePath.split('/').pop()!;

  // The ATS asks for the candidate's token server to server and templates the iframe.
  const issued = await request.post(`${base}/api/v1/embed-tokens`, {
    headers: { Authorization: `Bearer ${key}` },
    data: { candidate_id: Number(candidateId) },
  });
  expect(issued.status()).toBe(201);
  const { iframe_url, token } = await issued.json();
  // A token the ATS asked to last one second: expired by the time the page shows it.
  const brief = await request.post(`${base}/api/v1/embed-tokens`, {
    headers: { Authorization: `Bearer ${key}` },
    data: { candidate_id: Number(candidateId), ttl_seconds: 1 },
  });
  expect(brief.status()).toBe(201);
  const expired = (await brief.json()).iframe_url;

  const ats = await browser.newContext();
  const hostPage = await ats.newPage();
  // The host's own CSS is aggressive; the badge lives in its own document and keeps its look.
  const hostHtml = `<!doctype html><html><head><title>ATS</title><style>* { color: red !important; font-size: 40px !important; }</style></head>
    <body><h1>Candidate profile</h1>
    <iframe title="Verification badge" src="${iframe_url}" width="360" height="140"></iframe>
    <iframe title="Broken badge" src="${base}/widget/badge?t=${token}x" width="360" height="80"></iframe>
    <iframe title="Expired badge" src="${expired}" width="360" height="80"></iframe>
    <script type="module" src="${base}/widget/clearance-badge.js"></script>
    <div id="component"><clearance-badge token="${token}"></clearance-badge></div>
    <div id="broken-component"><clearance-badge token="${token}x"></clearance-badge></div></body></html>`;
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(hostHtml);
  });
  await new Promise<void>((resolve) => server.listen(port + 6, '127.0.0.1', () => resolve()));
  try {
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    await hostPage.goto(`${host}/profile`);
    const badge = hostPage.frameLocator('iframe[title="Verification badge"]');
    await expect(badge.getByText('Dennis D.')).toBeVisible();
    await expect(badge.getByText('Not started')).toBeVisible();
    await expect(badge.getByText('Dijkstra')).toHaveCount(0);
    const color = await badge.getByText('Not started').evaluate((e) => getComputedStyle(e).color);
    expect(color).not.toBe('rgb(255, 0, 0)');
    await expect(hostPage.frameLocator('iframe[title="Broken badge"]').getByText('Badge unavailable')).toBeVisible();
    await expect(hostPage.frameLocator('iframe[title="Expired badge"]').getByText('Badge unavailable')).toBeVisible();
    await expect(hostPage.frameLocator('iframe[title="Expired badge"]').getByText('Dennis D.')).toHaveCount(0);

    // The web component: the same badge in a shadow root on the host's own page; the host's
    // aggressive CSS reaches neither its colour nor its size.
    const component = hostPage.locator('#component clearance-badge');
    await expect(component.getByText('Dennis D.')).toBeVisible();
    await expect(component.getByRole('status')).toContainText('Not started');
    const look = await component.getByText('Not started').evaluate((e) => [getComputedStyle(e).color, getComputedStyle(e).fontSize]);
    expect(look[0]).not.toBe('rgb(255, 0, 0)');
    expect(look[1]).toBe('14px');
    await expect(component.getByRole('link', { name: 'Open in Clearance' })).toHaveCount(0);
    await expect(hostPage.locator('#broken-component clearance-badge').getByText('Badge unavailable')).toBeVisible();

    // A signed-in admin looking at the same ATS page gets "Open in Clearance" (nobody else does).
    const adminHost = await page.context().newPage();
    await adminHost.goto(`${host}/profile`);
    const open = adminHost.frameLocator('iframe[title="Verification badge"]').getByRole('link', { name: 'Open in Clearance' });
    await expect(open).toHaveAttribute('href', profilePath);
    await expect(adminHost.locator('#component clearance-badge').getByRole('link', { name: 'Open in Clearance' })).toHaveAttribute('href', `${base}${profilePath}`);
    await adminHost.close();

    // A recruiter sends verification; the candidate finishes at the provider as verified.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, users.recruiter);
    await page.goto(profilePath);
    await hydrated(page);
    await verifyAtProvider(page, request, { outcome: 'verified', risk_tier: 'low', reason_codes: [] });

    // The embedded badge follows by itself: no reload of the host page.
    await hostPage.evaluate(() => ((window as any).__noReload = true));
    await expect(badge.getByText('Verified')).toBeVisible({ timeout: 45_000 });
    await expect(badge.getByText('Next: Cleared')).toBeVisible();
    await expect(component.getByRole('status')).toContainText('Verified');
    expect(await hostPage.evaluate(() => (window as any).__noReload)).toBe(true);
  } finally {
    await ats.close();
    server.close();
  }
});
