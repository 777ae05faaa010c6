// CONVLOG_FULL_RESYNC_PERCENT's share accrues between backfills, and scheduled backfills run on
// whichever worker takes them. Measured with each process's own clock, two machines whose clocks
// differ by 30 minutes gave a share of half an hour at every other backfill. The time between
// backfills is Postgres's, which both share: here it is moved on by shifting the saved allowance
// back, and the process's clock (Date) is set to each machine's.
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { queueDueFullReads } from '../../src/queue/full-read-sweep.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let f: FixtureWithBoss;
beforeAll(async () => {
  f = await createFixtureWithBoss({ tickets: 1 });
});
afterEach(() => {
  vi.useRealTimers();
});
afterAll(async () => {
  await f?.close();
});

it('queues no more than the share of the time that passed, whatever the clocks of the processes', async () => {
  const { db, pool } = f.database;
  await pool.query('delete from pgboss.job');
  // Plenty of due tickets: 2 requests each (100 events).
  await pool.query(`insert into zendesk.ticket_sync (ticket_id, status, events_synced, last_full_read_at)
                    select id, 'synced', 100, now() - interval '40 days' from generate_series(1000, 5000) id`);
  const sweep = { days: 30, requestsPerMinute: 10 }; // 10 % of CONVLOG_RATE_LIMIT=100
  const MIN = 60_000;
  const skew = { a: 30 * MIN, b: 0 }; // machine a's clock runs 30 min ahead
  let requests = 0;
  // A backfill every 5 minutes for an hour, alternately on machine a and machine b.
  for (let i = 0; i <= 12; i++) {
    const machine = i % 2 === 0 ? 'a' : 'b';
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 5 * MIN * i + skew[machine] });
    const result = await queueDueFullReads(db, f.boss, sweep);
    vi.useRealTimers();
    requests += result.requests;
    // The queued tickets run and are read in full; then 5 minutes pass.
    await pool.query(`update zendesk.ticket_sync set last_full_read_at = now()
                       where ticket_id in (select (data->>'ticketId')::bigint from pgboss.job where name = 'ticket-sync')`);
    await pool.query('delete from pgboss.job');
    await pool.query(`update convlog.sync_state
                         set value = jsonb_set(value, '{at}', to_jsonb((value->>'at')::timestamptz - interval '5 minutes'))
                       where key = 'full_read_allowance'`);
  }
  // An hour of 10 requests a minute, plus the first backfill's minute: 610, and about that.
  expect(requests, `full reads queued in one hour: ${requests} requests`).toBeLessThanOrEqual(610);
  expect(requests).toBeGreaterThanOrEqual(600);
});
