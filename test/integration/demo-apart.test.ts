// Issue 17, finding 1: the demo's simulated tickets never land where real syncs go. Both use
// the embedded default of one checkout (one CONVLOG_DATA_DIR), as a newcomer's would.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { runCli } from '../helpers/cli.ts';
import { expectedRows } from '../helpers/oracle.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-apart-'));
fs.chmodSync(dir, 0o755); // the embedded Postgres runs as user "postgres" when tests run as root
const dataDir = path.join(dir, 'data');
let zendesk: Simulator;

beforeAll(async () => {
  // Another seed than the demo's: the "real" account's tickets 1..3 differ from the demo's.
  zendesk = await startSimulator({ tickets: 3, seed: 7, rateLimit: 0, exportRateLimit: 0 });
});
afterAll(async () => {
  await zendesk?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const realEnv = () => ({
  CONVLOG_DATA_DIR: dataDir,
  ZENDESK_BASE_URL: zendesk.url,
  ZENDESK_EMAIL: 'agent@example.com',
  ZENDESK_API_TOKEN: 'token',
});

it('after the demo, a sync into the default database reads every event and sees none of the demo tickets', { timeout: 300_000 }, async () => {
  const demo = await runCli(['demo', '--tickets', '5'], { cwd: dir, env: { CONVLOG_DATA_DIR: dataDir }, timeoutMs: 150_000 });
  expect(demo.code, demo.stderr).toBe(0);
  expect(demo.stdout).toMatch(/^synced 5, /m);
  expect(demo.stdout).toContain(`rm -rf data${path.sep}demo`);
  expect(fs.existsSync(path.join(dataDir, 'demo', 'pg', 'PG_VERSION'))).toBe(true);

  const sync = await runCli(['sync', '1', '2', '3'], { env: realEnv(), timeoutMs: 150_000 });
  expect(sync.code, sync.stderr).toBe(0);
  const read = Number(/\| (\d+) events read/.exec(sync.stdout)?.[1]);
  // Tickets 1..3 are new to this database although the demo synced its own 1..5 just before.
  expect(read, sync.stdout).toBeGreaterThan(0);

  const status = await runCli(['status', '--json'], { env: realEnv(), timeoutMs: 150_000 });
  expect(status.code, status.stderr).toBe(0);
  const report = JSON.parse(status.stdout);
  expect(report.tickets).toMatchObject({ synced: 3, queued: 0, failed: 0 });
  expect(report.stored.events).toBe(expectedRows(zendesk, [1, 2, 3]).events.size);

  // The demo's own database still holds its five tickets, and only those.
  const demoStatus = await runCli(['status', '--json'], { env: { CONVLOG_DATA_DIR: path.join(dataDir, 'demo') }, timeoutMs: 150_000 });
  expect(JSON.parse(demoStatus.stdout).tickets).toMatchObject({ synced: 5 });
});
