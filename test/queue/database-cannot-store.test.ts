// A Postgres that stores nothing more (its disk full, or read-only after a failover) used to be
// each ticket's own failure: the sync retried it with backoff for about 25 minutes, spending all
// nine attempts, then recorded it failed, and a worker went on taking ticket after ticket to
// fail the same way. Now the first ticket that meets it stops the run in one line, exit 2, with
// every ticket still queued and its retries unspent. Postgres's own errors, raised by a trigger
// with their SQLSTATEs (53100 disk_full, 25006 read_only_sql_transaction).
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import type { TestDatabase } from '../helpers/database.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

async function refuseEvents(db: TestDatabase, errcode: string, message: string, table = 'conversation_events') {
  await db.pool.query(`
    create function test_refuse_events() returns trigger language plpgsql as $$
    begin raise exception '${message}' using errcode = '${errcode}'; end $$;
    create trigger test_refuse_events before insert on zendesk.${table}
      for each statement execute function test_refuse_events()`);
}

const cases = [
  { code: 'disk_full', message: 'could not extend file "base/16384/16500": No space left on device', line: /^convlog (sync|work): Postgres has no disk space left \(could not extend file "base\/16384\/16500": No space left on device\): nothing more can be stored until room is made on the database server; the tickets stay queued, their retries unspent$/ },
  { code: 'read_only_sql_transaction', message: 'cannot execute INSERT in a read-only transaction', line: /^convlog (sync|work): the database takes no writes any more \(cannot execute INSERT in a read-only transaction\): a standby after a failover, .*; the tickets stay queued, their retries unspent$/ },
];

describe.each(cases)('Postgres refusing to store ($code)', ({ code, message, line }) => {
  it('stops sync and work in one line, exit 2, every ticket queued with its attempts unspent; they sync once it stores again', { timeout: 120_000 }, async () => {
    fixture = await createFixture({ tickets: 8 });
    const { database, env } = fixture;
    await refuseEvents(database, code, message);

    for (const args of [['sync', '--range', '1..8'], ['work', '--until-idle']]) {
      const started = Date.now();
      const run = await runCli(args, { env, timeoutMs: 60_000 });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr.trim().split('\n').at(-1)).toMatch(line);
      // At once, not after the queue's backoff (5 s, doubling).
      expect(Date.now() - started).toBeLessThan(20_000);
    }
    const { rows } = await database.pool.query<{ status: string; n: number; why: string }>(
      `select status, count(*)::int as n, min(coalesce(last_error, '')) as why from zendesk.ticket_sync group by 1`,
    );
    // Tickets without an event (none to insert) sync; every other one waits, none failed.
    expect(rows.map((r) => r.status).sort()).toEqual(rows.some((r) => r.status === 'synced') ? ['queued', 'synced'] : ['queued']);
    const queued = rows.find((r) => r.status === 'queued')!;
    expect(queued.n).toBeGreaterThan(0);
    const reasons = await database.pool.query<{ last_error: string }>(`select last_error from zendesk.ticket_sync where status = 'queued'`);
    for (const { last_error } of reasons.rows) expect(last_error).toMatch(/the tickets stay queued, their retries unspent|stopped before this run ended: /);
    const jobs = await database.pool.query<{ state: string; retries: number }>(
      `select state::text as state, max(retry_count - coalesce((data->>'holds')::int, 0))::int as retries from pgboss.job where name = 'ticket-sync' and state <> 'completed' group by 1`,
    );
    expect(jobs.rows).toEqual([{ state: 'created', retries: 0 }]);

    await database.pool.query('drop trigger test_refuse_events on zendesk.conversation_events');
    const again = await runCli(['work', '--until-idle'], { env, timeoutMs: 60_000 });
    expect(again.code, again.stderr).toBe(0);
    const after = await database.pool.query(`select count(*)::int as n from zendesk.ticket_sync where status <> 'synced'`);
    expect(after.rows[0].n).toBe(0);
  });
});

it('a backfill that meets a full disk ends in one line, exit 2', { timeout: 60_000 }, async () => {
  fixture = await createFixture({ tickets: 8 });
  await refuseEvents(fixture.database, 'disk_full', 'could not extend file "base/1/2": No space left on device', 'tickets');
  const run = await runCli(['backfill', '--since', '2025-01-01'], { env: fixture.env, timeoutMs: 60_000 });
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr.trim().split('\n').at(-1)).toMatch(
    /^convlog backfill: Postgres has no disk space left \(could not extend file "base\/1\/2": No space left on device\): nothing more can be stored until room is made on the database server; run it again once there is room$/,
  );
});
