import { test, expect, signIn, hydrated, users } from './helpers';

// The alert sink the suite starts beside the server (start-server.sh: port + 7).
const port = Number(process.env.E2E_PORT ?? 3100);
const sink = `http://127.0.0.1:${port + 7}`;
const secret = 'whsec_ZTJlLWFsZXJ0cy1zZWNyZXQta2V5';

test('an admin sends alerts to Support and a test alert reaches both destinations', async ({ page }) => {
  await signIn(page, users.admin);
  await page.goto('/settings');
  await hydrated(page);
  const alerts = page.getByRole('region', { name: 'Alerts to Support' });
  await expect(alerts.getByText('Slack: not set.')).toBeVisible();

  await alerts.getByLabel('Slack-compatible incoming webhook URL').fill(`${sink}/slack`);
  await alerts.getByLabel('JSON webhook URL').fill(`${sink}/webhook`);
  await alerts.getByLabel('JSON webhook signing secret').fill(secret);
  await alerts.getByLabel('Alert when a reconciliation run finds').fill('5');
  await alerts.getByRole('button', { name: 'Save alert destinations' }).click();
  await expect(alerts.getByRole('status')).toHaveText('Alert destinations saved.');
  await expect(alerts.getByText(`Slack: set (the URL is not shown again). JSON webhook: ${sink}/webhook, signed.`)).toBeVisible();
  // Write-only: the secret and the Slack URL are not on the page.
  await expect(page.locator('body')).not.toContainText(secret);
  await expect(alerts.getByLabel('Slack-compatible incoming webhook URL')).toHaveValue('');

  // Keyboard: focus the button and press Enter.
  await alerts.getByRole('button', { name: 'Send test alert' }).focus();
  await page.keyboard.press('Enter');
  await expect(alerts.getByRole('status')).toHaveText('Test alert queued to 2 destinations.');
  await expect(alerts.getByRole('row', { name: /Test alert/ })).toBeVisible();

  // The delivery worker sends it: the sink has it by both ways, the JSON one signed (checked there).
  await expect
    .poll(async () => {
      const received = await (await page.request.get(`${sink}/received`)).json();
      return received.map((a: { via: string }) => a.via).sort().join(',');
    }, { timeout: 20_000 })
    .toBe('slack,webhook');
  await page.goto(sink);
  await expect(page.getByText(/Test alert sent by Avery Admin/).first()).toBeVisible();
});
