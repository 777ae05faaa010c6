// `convlog demo` from nothing: no DATABASE_URL, no ZENDESK_* variables, a fresh data directory.
// Then, in the same data directory, a real sync (issue 17, finding 1): the demo's simulated
// tickets never land where real syncs go, though both use the embedded default of one checkout
// (one CONVLOG_DATA_DIR), as a newcomer's would.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_QUERIES } from '../../src/commands/demo/queries.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { runCli } from '../helpers/cli.ts';
import { expectedRows } from '../helpers/oracle.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-demo-'));
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

// Tickets 1..100 of the default mix include every size, a 2,500-event ticket (97) and every oddity.
const demo = () => runCli(['demo', '--tickets', '100'], { cwd: dir, env: { CONVLOG_DATA_DIR: dataDir }, timeoutMs: 150_000 });

it('runs with nothing set up, prints a summary and the example queries with results, and runs again', { timeout: 300_000 }, async () => {
  const first = await demo();
  expect(first.code, first.stderr).toBe(0);
  expect(first.stdout).toMatch(/^synced 100, not_found 0, forbidden 0, failed 0 \| (\d+) events read with \d+ requests$/m);
  const events = Number(/\| (\d+) events read/.exec(first.stdout)![1]);
  expect(events).toBeGreaterThan(2500);
  expect(first.stdout).toContain('Summary');
  expect(first.stdout).toMatch(/^ {2}tickets {4}100 synced$/m);
  expect(first.stdout).toMatch(new RegExp(`^  stored     ${events.toLocaleString('en')} events, [\\d,]+ authors, [\\d,]+ attachments, [\\d,]+ thumbnails$`, 'm'));
  expect(first.stdout).toMatch(/this run {3}[\d,]+ new events with \d+ requests in [\d.]+ s \([\d,]+ events\/s\)/);
  for (const query of DEMO_QUERIES) expect(first.stdout).toContain(`-- ${query.title}`);
  // Results, not only SQL: the first query's table has a Comment row and a row count.
  expect(first.stdout).toMatch(/^ {3}Comment +\| - +\| +[\d,]+$/m);
  expect(first.stdout.match(/^ {2}\(\d+ rows?\)$/gm)).toHaveLength(DEMO_QUERIES.length);
  expect(first.stdout).toContain('npx convlog status');
  expect(first.stdout).toContain(`rm -rf data${path.sep}demo`);
  // The closing lines open the demo's own database, whatever .env says.
  const demoDir = path.join('data', 'demo');
  const sql = 'select type, count(*) from zendesk.conversation_events group by 1';
  expect(first.stdout).toContain(`CONVLOG_DATA_DIR=${demoDir} npx convlog query "${sql}" [--csv]`);
  expect(first.stdout).toContain(`CONVLOG_DATA_DIR=${demoDir} npx convlog db-server`);
  // And the printed query runs as printed, against the demo's tickets.
  const query = await runCli(['query', sql, '--csv'], { cwd: dir, env: { CONVLOG_DATA_DIR: demoDir }, timeoutMs: 150_000 });
  expect(query.code, query.stderr).toBe(0);
  expect(query.stdout).toMatch(/^Comment,\d+$/m);
  expect(fs.existsSync(path.join(dataDir, 'demo/pg/PG_VERSION'))).toBe(true);
  expect(fs.existsSync(path.join(dataDir, 'demo/pg/postmaster.pid')), 'the embedded Postgres stops with the demo').toBe(false);

  // Re-runnable: every ticket is already synced and costs one request (one-page tickets are read whole, so their events count as read).
  const second = await demo();
  expect(second.code, second.stderr).toBe(0);
  expect(second.stdout).toMatch(/^synced 100, not_found 0, forbidden 0, failed 0 \| \d+ events read with 100 requests$/m);
  expect(second.stdout).toContain('nothing new');
  expect(second.stdout).toMatch(new RegExp(`^  stored     ${events.toLocaleString('en')} events`, 'm'));
});

// Runs after the test above, in the data directory its demo left.
it('after the demo, a sync into the default database reads every event and sees none of the demo tickets', { timeout: 300_000 }, async () => {
  expect(fs.existsSync(path.join(dataDir, 'demo', 'pg', 'PG_VERSION')), 'the demo ran first').toBe(true);
  const realEnv = { CONVLOG_DATA_DIR: dataDir, ZENDESK_BASE_URL: zendesk.url, ZENDESK_EMAIL: 'agent@example.com', ZENDESK_API_TOKEN: 'token' };

  const sync = await runCli(['sync', '1', '2', '3'], { env: realEnv, timeoutMs: 150_000 });
  expect(sync.code, sync.stderr).toBe(0);
  const read = Number(/\| (\d+) events read/.exec(sync.stdout)?.[1]);
  // Tickets 1..3 are new to this database although the demo synced its own 1..100 before.
  expect(read, sync.stdout).toBeGreaterThan(0);

  const status = await runCli(['status', '--json'], { env: realEnv, timeoutMs: 150_000 });
  expect(status.code, status.stderr).toBe(0);
  const report = JSON.parse(status.stdout);
  expect(report.tickets).toMatchObject({ synced: 3, queued: 0, failed: 0 });
  expect(report.stored.events).toBe(expectedRows(zendesk, [1, 2, 3]).events.size);

  // The demo's own database still holds its hundred tickets, and only those.
  const demoStatus = await runCli(['status', '--json'], { env: { CONVLOG_DATA_DIR: path.join(dataDir, 'demo') }, timeoutMs: 150_000 });
  expect(JSON.parse(demoStatus.stdout).tickets).toMatchObject({ synced: 100, queued: 0, failed: 0 });
});
