// A service worker (`work`) waits out a Postgres that stores nothing more, where `sync` and
// `work --until-idle` stop for it (database-cannot-store.test.ts): a disk filled by a passing
// query's temporary files, or a failover's moment of read-only, ends by itself, and a worker that
// exited would stay down (deploy/'s systemd unit restarts none that exits 2). It holds its tickets
// with their attempts unspent, pauses, says so once, and syncs them once Postgres stores again.
import { afterEach, expect, it, vi } from 'vitest';
import pino from 'pino';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import type { WorkerSummary } from '../../src/queue/worker-options.ts';
import { createFixtureWithBoss, range, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

const TICKETS = range(1, 6);
let fixture: FixtureWithBoss | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

it('holds every ticket while Postgres refuses to store (disk full), spends no retry, keeps running, and syncs them once it stores again', { timeout: 120_000 }, async () => {
  fixture = await createFixtureWithBoss({ tickets: TICKETS.length });
  const { pool } = fixture.database;
  await pool.query(`
    create function test_refuse_events() returns trigger language plpgsql as $$
    begin raise exception 'could not extend file "base/1/2": No space left on device' using errcode = 'disk_full'; end $$;
    create trigger test_refuse_events before insert on zendesk.conversation_events for each statement execute function test_refuse_events()`);
  const lines: { level: number; msg: string; time: number }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  await enqueueTickets(fixture.boss, fixture.database.db, TICKETS);

  const stop = new AbortController();
  let summary: WorkerSummary | undefined;
  let dropped = 0;
  const working = runWorker(fixture.boss, pool, { ...fixture.deps, log }, { concurrency: 2, signal: stop.signal, cannotStorePauseMs: { first: 500, max: 1_000 } }).then((s) => (summary = s));
  try {
    // Tickets with events wait; a ticket without any has nothing to insert and syncs.
    await vi.waitFor(
      async () => {
        const { rows } = await pool.query(`select status, last_error from zendesk.ticket_sync where status <> 'synced'`);
        expect(rows.length).toBeGreaterThan(0);
        for (const row of rows) expect(row).toEqual({ status: 'queued', last_error: expect.stringMatching(/^waiting for Postgres to store again: Postgres has no disk space left \(could not extend file/) });
      },
      { timeout: 45_000, interval: 250 },
    );
    // Several pauses go by: the worker is still running, and no attempt was spent.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(summary).toBeUndefined();
    const jobs = await pool.query(`select retry_count - coalesce((data->>'holds')::int, 0) as spent from pgboss.job where name = 'ticket-sync' and state <> 'completed'`);
    expect(jobs.rows.length).toBeGreaterThan(0);
    for (const job of jobs.rows) expect(job.spent).toBe(0);
    expect(lines.filter((l) => l.level >= 50 && /Postgres has no disk space left/.test(l.msg))).toHaveLength(1);

    dropped = Date.now();
    await pool.query('drop trigger test_refuse_events on zendesk.conversation_events');
    await vi.waitFor(
      async () => {
        const { rows } = await pool.query(`select count(*)::int as n from zendesk.ticket_sync where status = 'synced'`);
        expect(rows[0].n).toBe(TICKETS.length);
      },
      { timeout: 45_000, interval: 250 },
    );
  } finally {
    stop.abort();
    await working;
  }
  expect(summary?.fatal).toBeUndefined();
  // Said once it is so: a ticket without events to write (one does sync meanwhile) proves nothing.
  const again = lines.filter((l) => l.msg === 'Postgres stores again; taking tickets');
  expect(again).toHaveLength(1);
  expect(again[0].time).toBeGreaterThanOrEqual(dropped);
});

it('a hold Postgres refuses as well (pg-boss read-only too, as after a failover) is tried until written: the last attempt stays unspent', { timeout: 120_000 }, async () => {
  fixture = await createFixtureWithBoss({ tickets: 1, ticketSizes: { 1: 150 } });
  const { pool, db } = fixture.database;
  await enqueueTickets(fixture.boss, db, [1]);
  await pool.query(`update pgboss.job set retry_count = retry_limit where name = 'ticket-sync'`);
  await pool.query(`
    create function test_read_only() returns trigger language plpgsql as $$
    begin raise exception 'cannot execute % in a read-only transaction', tg_op using errcode = 'read_only_sql_transaction'; end $$;
    create trigger test_read_only before insert on zendesk.conversation_events for each statement execute function test_read_only()`);
  fixture.sim.setOptions({ latency: 1_500 });
  const stop = new AbortController();
  const working = runWorker(fixture.boss, pool, fixture.deps, { concurrency: 1, signal: stop.signal, idleCheckMs: 200, cannotStorePauseMs: { first: 120_000, max: 120_000 } });
  try {
    await vi.waitUntil(async () => (await pool.query(`select from pgboss.job where name = 'ticket-sync' and state = 'active'`)).rowCount === 1, { timeout: 20_000, interval: 50 });
    // From here the whole database is read-only, pg-boss's table included, until the failover ends.
    await pool.query(`create trigger test_read_only_job before insert or update or delete on pgboss.job for each row execute function test_read_only()`);
    // The page comes 1.5 s after its request: the hold is refused once or twice. Shorter than two
    // of the worker's beats, so that the supervisor, once it can write again, does not fail the job.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    // One table at a time, and again should Postgres pick this drop as a deadlock's victim: the
    // worker's statements, refused, take their locks meanwhile.
    for (const drop of ['drop trigger test_read_only_job on pgboss.job', 'drop trigger test_read_only on zendesk.conversation_events']) {
      await vi.waitUntil(() => pool.query(drop).then(() => true, (error: { code?: string }) => (error.code === '40P01' ? false : Promise.reject(error))), { timeout: 20_000, interval: 100 });
    }
    // The hold goes through: the job waits out the worker's pause (2 min here) in the queue.
    await vi.waitFor(
      async () => {
        const { rows } = await pool.query(`select state::text, retry_count - coalesce((data->>'holds')::int, 0) = retry_limit - coalesce((data->>'holds')::int, 0) as last_attempt_left from pgboss.job where name = 'ticket-sync'`);
        expect(rows).toEqual([{ state: 'created', last_attempt_left: true }]);
      },
      { timeout: 20_000, interval: 250 },
    );
    const { rows } = await pool.query(`select status, last_error from zendesk.ticket_sync where ticket_id = 1`);
    expect(rows).toEqual([{ status: 'queued', last_error: expect.stringMatching(/^waiting for Postgres to store again: the database takes no writes/) }]);
  } finally {
    stop.abort();
    await working;
  }
});
