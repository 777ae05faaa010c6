// A service worker (`work`) waits out a Postgres that stores nothing more, where `sync` and
// `work --until-idle` stop for it (database-cannot-store.test.ts): a disk filled by a passing
// query's temporary files, or a failover's moment of read-only, ends by itself, and a worker that
// exited would stay down (deploy/'s systemd unit restarts none that exits 2). It holds its tickets
// with their attempts unspent, pauses, says so once, and syncs them once Postgres stores again.
import { afterEach, expect, it, vi } from 'vitest';
import pino from 'pino';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker, type WorkerSummary } from '../../src/queue/worker.ts';
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
