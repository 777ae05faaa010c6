// The demo works only its own tickets: an interrupted `demo --tickets 2000` leaves 1..2000 queued,
// and a later plain demo's workers took 301..2000 too, which its 300-ticket simulator answered
// 404, so they were recorded not_found (deleted).
// The demo's closing lines say how to run it again. "npm run demo again" was printed after a run
// with --tickets or CONVLOG_DATA_DIR too, where a plain `npm run demo` syncs another count of
// tickets or into another folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/connection.ts';
import { silentLogger } from '../../src/log.ts';
import { startBoss } from '../../src/queue/boss.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { runCli } from '../helpers/cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-demo-again-'));
fs.chmodSync(dir, 0o755); // the embedded Postgres runs as user "postgres" when tests run as root
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const demo = (tickets: number) =>
  runCli(['demo', '--tickets', String(tickets)], { cwd: dir, env: { CONVLOG_DATA_DIR: path.join(dir, 'data') }, timeoutMs: 150_000 });

it('names the command that repeats this run', { timeout: 300_000 }, async () => {
  const run = await demo(3);
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toMatch(/^ {2}CONVLOG_DATA_DIR=data npm run demo -- --tickets 3 {3}runs it again: already synced tickets cost one request each$/m);
  expect(run.stdout).not.toMatch(/^ {2}npm run demo /m);
});

it('stopped while it starts, says so in one line, with no header for a run that did not happen', { timeout: 150_000 }, async () => {
  // In this process: a signal reaches runCli's command, not a child's.
  const run = await runCli(['demo', '--tickets', '3'], { env: { CONVLOG_DATA_DIR: path.join(dir, 'data') }, signal: AbortSignal.abort(), timeoutMs: 120_000 });
  expect(run.code, run.stderr).toBe(1);
  expect(run.stdout).not.toMatch(/^ {2}(database|zendesk) /m);
  expect(run.stderr).toMatch(/^convlog demo: interrupted while starting; nothing was queued\n$/m);
});

it('drops the tickets an interrupted larger run left queued, rather than recording them not found', { timeout: 300_000 }, async () => {
  // What `demo --tickets 8` interrupted after ticket 3 leaves: 4..8 queued in the demo's database.
  const database = await openDatabase(loadConfig({ CONVLOG_DATA_DIR: path.join(dir, 'data', 'demo') }), silentLogger);
  try {
    const boss = await startBoss(database, silentLogger);
    try {
      await enqueueTickets(boss, database.db, [4, 5, 6, 7, 8]);
    } finally {
      await boss.stop({ graceful: false, timeout: 2_000 });
    }
  } finally {
    await database.close();
  }
  const run = await demo(3);
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toMatch(/^ {2}left out {3}5 tickets above 3 that an interrupted run with more tickets queued; a run with --tickets 8 syncs them$/m);
  expect(run.stdout).toMatch(/^synced 3, not_found 0, forbidden 0, failed 0 /m);
  expect(run.stdout).toMatch(/^ {2}tickets {4}3 synced$/m);
  const status = await runCli(['status', '--json'], { cwd: dir, env: { CONVLOG_DATA_DIR: path.join(dir, 'data', 'demo') }, timeoutMs: 150_000 });
  expect(JSON.parse(status.stdout)).toMatchObject({ queue: { queued: 0 }, tickets: { synced: 3, queued: 0, not_found: 0 } });
});

it("refuses a real account's sync into the demo's folder, whose tickets are the simulator's", { timeout: 150_000 }, async () => {
  const env = { CONVLOG_DATA_DIR: path.join(dir, 'data', 'demo'), ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: 'a@example.com', ZENDESK_API_TOKEN: 'x' };
  const run = await runCli(['sync', '1'], { cwd: dir, env, timeoutMs: 150_000 });
  expect(run.code).toBe(2);
  expect(run.stderr.trim()).toMatch(/^convlog sync: the database \(embedded, data in .*\) holds the tickets of the Zendesk account at 127\.0\.0\.1, a server on this machine such as the simulator \(since .*\), and ZENDESK_SUBDOMAIN names acme\.zendesk\.com: nothing was changed\./);
  // Nor another simulator's, on the same host: its tickets under the same ids are other conversations.
  const sim = await startSimulator({ port: 0, tickets: 3, seed: 99 });
  try {
    const simEnv = { CONVLOG_DATA_DIR: env.CONVLOG_DATA_DIR, ZENDESK_BASE_URL: sim.url, ZENDESK_EMAIL: 'a@example.com', ZENDESK_API_TOKEN: 'x' };
    const other = await runCli(['sync', '1'], { cwd: dir, env: simEnv, timeoutMs: 150_000 });
    expect(other.code, other.stderr).toBe(2);
    expect(other.stderr).toContain(`holds the tickets of the Zendesk account at 127.0.0.1, a server on this machine such as the simulator`);
    expect(other.stderr).toContain(`ZENDESK_BASE_URL names 127.0.0.1:${new URL(sim.url).port}: nothing was changed`);
  } finally {
    await sim.close();
  }
  const status = await runCli(['status'], { cwd: dir, env: { CONVLOG_DATA_DIR: env.CONVLOG_DATA_DIR }, timeoutMs: 150_000 });
  expect(status.stdout).toMatch(/^zendesk {4}127\.0\.0\.1 \(the demo's simulator, since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/m);
});

it('says so when CONVLOG_DATA_DIR, set since, moves the demo to a new folder beside the one that ran before', { timeout: 300_000 }, async () => {
  // Set in .env for the simulator's syncs, it started a new demo, all its tickets synced again,
  // without a word of the one in .convlog/demo.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-demo-moved-'));
  fs.chmodSync(home, 0o755);
  try {
    const usual = await runCli(['demo', '--tickets', '2'], { cwd: home, env: {}, timeoutMs: 150_000 });
    expect(usual.code, usual.stderr).toBe(0);
    expect(usual.stdout).not.toContain('a new demo in');
    const moved = await runCli(['demo', '--tickets', '2'], { cwd: home, env: { CONVLOG_DATA_DIR: path.join(home, 'elsewhere') }, timeoutMs: 150_000 });
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toContain(
      '  (a new demo in elsewhere/demo, as CONVLOG_DATA_DIR says; the one run before is in .convlog/demo: CONVLOG_DATA_DIR=.convlog npm run demo goes on with it)',
    );
    // Said on its first run there only.
    const again = await runCli(['demo', '--tickets', '2'], { cwd: home, env: { CONVLOG_DATA_DIR: path.join(home, 'elsewhere') }, timeoutMs: 150_000 });
    expect(again.stdout).not.toContain('a new demo in');
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
