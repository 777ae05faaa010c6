// `convlog demo` from nothing: no DATABASE_URL, no ZENDESK_* variables, a fresh data directory.
// Then, in the same data directory, a real sync (issue 17, finding 1): the demo's simulated
// tickets never land where real syncs go, though both use the embedded default of one checkout
// (one CONVLOG_DATA_DIR), as a newcomer's would.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO_QUERIES } from '../../src/commands/demo/queries.ts';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/connection.ts';
import { saveDemoRun } from '../../src/db/sync-state.ts';
import { silentLogger } from '../../src/log.ts';
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

/** One value from the demo's database, through `convlog query --csv` (read-only). */
async function demoValue(sql: string, folder = path.join(dataDir, 'demo')): Promise<string> {
  const result = await runCli(['query', sql, '--csv'], { cwd: dir, env: { CONVLOG_DATA_DIR: folder }, timeoutMs: 150_000 });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.trim().split('\n')[1];
}
const LATEST_EVENT = 'select extract(epoch from max(created_at))::bigint from zendesk.conversation_events';
/** Changes when any event row is written again (a new row version has a new xmin), or is added or removed. */
const ROW_VERSIONS = "select md5(string_agg(reference || ':' || xmin::text, ',' order by reference)) from zendesk.conversation_events";

it('runs with nothing set up, prints a summary and the example queries with results, and runs again', { timeout: 300_000 }, async () => {
  const startedSec = Date.now() / 1000;
  const first = await demo();
  expect(first.code, first.stderr).toBe(0);
  // The histories end at the folder's first run, not in 2025: the latest event is of the last
  // day (tickets 1..100 end with the creation of ticket 2, which has no events, 21 hours after
  // their last event).
  const latest = Number(await demoValue(LATEST_EVENT));
  expect(latest).toBeGreaterThan(startedSec - 86_400);
  expect(latest).toBeLessThan(Date.now() / 1000);
  expect(first.stdout).toMatch(/^ {2}zendesk {4}simulator at \S+: tickets 1\.\.100, seed 1, conversations up to \d{4}-\d\d-\d\d \d\d:\d\d UTC$/m);
  const versions = await demoValue(ROW_VERSIONS);
  // Grouped, as the summary's: 10,792, not 10792 beside it.
  expect(first.stdout).toMatch(/^synced 100, not_found 0, forbidden 0, failed 0 \| (\d{1,3}(,\d{3})+) events read with \d+ requests$/m);
  const events = Number(/\| ([\d,]+) events read/.exec(first.stdout)![1].replaceAll(',', ''));
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
  expect(second.stdout).toMatch(/^synced 100, not_found 0, forbidden 0, failed 0 \| [\d,]+ events read with 100 requests$/m);
  expect(second.stdout).toContain('nothing new');
  expect(second.stdout).toMatch(new RegExp(`^  stored     ${events.toLocaleString('en')} events`, 'm'));
  // The same dates as the first run, and not one event row written again.
  expect(Number(await demoValue(LATEST_EVENT))).toBe(latest);
  expect(await demoValue(ROW_VERSIONS)).toBe(versions);
});

it('run again with fewer tickets, the demo keeps the dates of those it synced: nothing written again', { timeout: 300_000 }, async () => {
  const folder = path.join(dir, 'fewer');
  const run = (tickets: number) => runCli(['demo', '--tickets', String(tickets)], { cwd: dir, env: { CONVLOG_DATA_DIR: folder }, timeoutMs: 150_000 });
  const ticket1 = (sql: string) => demoValue(sql.replace('from zendesk.conversation_events', 'from zendesk.conversation_events where ticket_id = 1'), path.join(folder, 'demo'));
  // Ticket 2 has no events and is created 14 days after ticket 1's last event: with both, the
  // histories end with ticket 2; with ticket 1 alone, they would end with its last event.
  const first = await run(2);
  expect(first.code, first.stderr).toBe(0);
  const [latest, versions] = [await ticket1(LATEST_EVENT), await ticket1(ROW_VERSIONS)];
  expect(Number(latest)).toBeLessThan(Date.now() / 1000 - 13 * 86_400);
  const second = await run(1);
  expect(second.code, second.stderr).toBe(0);
  expect(second.stdout).toContain('nothing new');
  expect(await ticket1(LATEST_EVENT)).toBe(latest);
  expect(await ticket1(ROW_VERSIONS)).toBe(versions);
});

it('a demo folder filled before the demo kept where its histories end keeps the fixed dates of 2025, so its next run writes nothing again', { timeout: 300_000 }, async () => {
  const folder = path.join(dir, 'before');
  const demoFolder = path.join(folder, 'demo');
  // What the demo left before it kept the end of its histories: its mark without one.
  const database = await openDatabase(loadConfig({ CONVLOG_DATA_DIR: demoFolder }), silentLogger);
  try {
    await saveDemoRun(database.db, { seed: 1, tickets: 10, lastRunAt: '2026-11-01T00:00:00.000Z' });
  } finally {
    await database.close();
  }
  const run = () => runCli(['demo', '--tickets', '10'], { cwd: dir, env: { CONVLOG_DATA_DIR: folder }, timeoutMs: 150_000 });
  const first = await run();
  expect(first.code, first.stderr).toBe(0);
  const latest = await demoValue(LATEST_EVENT, demoFolder);
  expect(Number(latest)).toBeLessThan(Date.UTC(2026, 0, 1) / 1000);
  expect(first.stdout).toContain('the fixed dates from June 2025 (this folder was filled before the demo moved them to its first run; delete it to start over)');
  const versions = await demoValue(ROW_VERSIONS, demoFolder);
  const second = await run();
  expect(second.code, second.stderr).toBe(0);
  expect(second.stdout).toContain('nothing new');
  expect(await demoValue(LATEST_EVENT, demoFolder)).toBe(latest);
  expect(await demoValue(ROW_VERSIONS, demoFolder)).toBe(versions);
});

// Runs after the first test above, in the data directory its demo left.
it('after the demo, a sync into the default database reads every event and sees none of the demo tickets', { timeout: 300_000 }, async () => {
  expect(fs.existsSync(path.join(dataDir, 'demo', 'pg', 'PG_VERSION')), 'the demo ran first').toBe(true);
  const realEnv = { CONVLOG_DATA_DIR: dataDir, ZENDESK_BASE_URL: zendesk.url, ZENDESK_EMAIL: 'agent@example.com', ZENDESK_API_TOKEN: 'token' };

  const sync = await runCli(['sync', '1', '2', '3'], { env: realEnv, timeoutMs: 150_000 });
  expect(sync.code, sync.stderr).toBe(0);
  const read = Number(/\| ([\d,]+) events read/.exec(sync.stdout)?.[1].replaceAll(',', ''));
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
