import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// The several-instances suite: scripts/cluster.sh starts three instances (debug build) on a fresh
// PostgreSQL database behind nginx, with the simulators on port+1 … port+7; the browser only
// ever talks to nginx. Needs PostgreSQL (TEST_DATABASE_URL or the local server).
const port = Number(process.env.E2E_CLUSTER_PORT ?? 3200);
// The helpers find the simulators from E2E_PORT.
process.env.E2E_PORT = String(port);

export default defineConfig({
  ...base,
  testDir: './cluster',
  use: { ...base.use, baseURL: `http://127.0.0.1:${port}` },
  webServer: {
    ...base.webServer,
    command: `bash scripts/cluster.sh --debug --fresh --port ${port}`,
    url: `http://127.0.0.1:${port}/healthz`,
  },
});
