// One stop can arrive twice: coreutils `timeout` (without --foreground) signals the process, then
// its whole process group, which holds the process too. The second delivery used to count as
// "send again to exit at once": `timeout 60 convlog sync` ended within milliseconds, with no
// summary and its jobs left `active` in pg-boss until their expiry (and the tickets `syncing`).
// Now the same signal again within DOUBLE_DELIVERY_MS is the same stop; and a real second stop,
// which exits at once, first hands the jobs in flight back to the queue if it can in a moment.
// Through real `convlog` processes against the simulator.
import { afterEach, expect, it, vi } from 'vitest';
import pg from 'pg';
import { DOUBLE_DELIVERY_MS } from '../../src/cli.ts';
import { EXITED_AT_ONCE } from '../../src/queue/jobs-in-flight.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killAll, runCli, startConvlog, type Convlog } from '../helpers/cli.ts';
import { cliEnvFor } from '../helpers/sync-fixture.ts';

let database: TestDatabase | undefined;
let sim: Simulator | undefined;
let locker: pg.Client | undefined;
afterEach(async () => {
  await killAll();
  await locker?.end();
  await sim?.close();
  await database?.close();
  database = sim = locker = undefined;
});

async function setUp(): Promise<Record<string, string>> {
  database = await createTestDatabase();
  // Slow answers: tickets are in flight whenever the signal comes.
  sim = await startSimulator({ tickets: 40, rateLimit: 0, latency: 300 });
  return { ...cliEnvFor(database.url, sim.url), LOG_LEVEL: 'info' };
}

const activeJobs = async () =>
  (await database!.pool.query<{ n: number }>(`select count(*)::int as n from pgboss.job where name = 'ticket-sync' and state = 'active'`)).rows[0].n;

async function untilSaid(child: Convlog, pattern: RegExp): Promise<void> {
  await vi.waitUntil(() => pattern.test(child.stderr()), { timeout: 60_000, interval: 20 });
}

it('SIGTERM delivered twice at once (as `timeout` does) stops `sync` once: its summary, and no job left active', { timeout: 120_000 }, async () => {
  const env = await setUp();
  const child = startConvlog(['sync', '--range', '1..40', '--concurrency', '4'], { env });
  await untilSaid(child, /"msg":"ticket synced"/);
  // The second as soon as the first is seen handled (sent at once, the kernel could merge them
  // into one): on the stderr event itself, not a poll, to stay well inside the double-delivery moment.
  const handled = new Promise<void>((resolve) => {
    const onData = () => {
      if (!/"msg":"stopping: /.test(child.stderr())) return;
      child.process.stderr!.off('data', onData);
      resolve();
    };
    child.process.stderr!.on('data', onData);
  });
  child.kill('SIGTERM');
  await handled;
  child.kill('SIGTERM');
  const exit = await child.exited;
  expect(exit.code, child.stderr().slice(-3000)).toBe(1);
  expect(child.stdout()).toMatch(/unfinished \d+ \(interrupted; they stay queued, behind what a later sync queues\)/);
  expect(child.stderr()).not.toMatch(/exiting at once/);
  expect(child.stderr()).toMatch(/"msg":"SIGTERM again within 500 ms: taken as the same stop/);
  expect(await activeJobs()).toBe(0);
  const syncing = await database!.pool.query(`select count(*)::int as n from zendesk.ticket_sync where status = 'syncing'`);
  expect(syncing.rows[0].n).toBe(0);
});

it('a second SIGTERM later exits at once, and hands the jobs in flight back to the queue first', { timeout: 120_000 }, async () => {
  const env = await setUp();
  expect((await runCli(['enqueue', '--range', '1..40'], { env })).code).toBe(0);
  const child = startConvlog(['work', '--concurrency', '2'], { env });
  await untilSaid(child, /"msg":"ticket synced"/);
  // Every ticket's status row locked: the tickets in flight wait on Postgres to store their next
  // page or their end, which a stop does not cut short, so the first SIGTERM cannot finish.
  locker = new pg.Client({ connectionString: database!.url });
  await locker.connect();
  await locker.query('begin');
  await locker.query('select ticket_id from zendesk.ticket_sync for update');
  const waiting = async () =>
    (await database!.pool.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`)).rows[0].n;
  await vi.waitUntil(async () => (await waiting()) > 0, { timeout: 60_000, interval: 50 });

  child.kill('SIGTERM');
  await untilSaid(child, /"msg":"stopping: /);
  // The one wait on time itself: a second signal counts only once the moment of a double delivery is over.
  await new Promise((resolve) => setTimeout(resolve, DOUBLE_DELIVERY_MS + 200));
  expect(child.process.exitCode).toBeNull();
  expect(await activeJobs()).toBeGreaterThan(0);
  child.kill('SIGTERM');
  const exit = await child.exited;
  expect(exit.code, child.stderr().slice(-3000)).toBe(143);
  expect(child.stderr()).toMatch(/"msg":"exiting at once: handing back the work in flight/);
  // Back in the queue, no attempt spent, for the next worker; not `active` until pg-boss's expiry.
  expect(await activeJobs()).toBe(0);
  await locker.query('rollback');
  // The status waited on the lock; once it is gone, it says why the ticket is queued.
  await vi.waitUntil(
    async () => (await database!.pool.query(`select count(*)::int as n from zendesk.ticket_sync where last_error = $1`, [EXITED_AT_ONCE])).rows[0].n > 0,
    { timeout: 30_000, interval: 100 },
  );
  // Interrupted, which status lists apart from its last errors.
  const marked = await database!.pool.query(`select count(*)::int as n from zendesk.ticket_sync where last_error = $1 and interrupted_at is null`, [EXITED_AT_ONCE]);
  expect(marked.rows[0].n).toBe(0);
});
