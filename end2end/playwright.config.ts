import { defineConfig } from '@playwright/test';

// The suite starts its own server (debug build unless E2E_BINARY says otherwise) on a fresh
// SQLite database with the demo data, and drives Debian's Chromium: no browser download.
const port = Number(process.env.E2E_PORT ?? 3100);
const binary = process.env.E2E_BINARY ?? 'target/debug/clearance';

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  // No retries: the tests change shared demo data, and a flaky test is a bug to fix, not to retry.
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'off',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: `bash end2end/start-server.sh ${binary} ${port}`,
    cwd: '..',
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
