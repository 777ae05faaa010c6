// The periodic full reads a backfill queues are paid for in requests, a request a page: the
// share of the conversation log's budget accrues between backfills, each queues the oldest due
// tickets it covers, and a ticket longer than one run's share is read once enough has accrued.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { accrued, oldestWithin, queueDueFullReads } from '../../src/queue/full-read-sweep.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let f: FixtureWithBoss;
beforeAll(async () => {
  f = await createFixtureWithBoss({ tickets: 1 });
});
afterAll(async () => {
  await f?.close();
});

it('takes the oldest due tickets up to the first the allowance does not cover', () => {
  const due = [
    { ticketId: 1, requests: 3 },
    { ticketId: 2, requests: 3 },
    { ticketId: 3, requests: 2 },
  ];
  expect(oldestWithin(due, 7)).toEqual({ ticketIds: [1, 2], requests: 6 });
  expect(oldestWithin(due, 2)).toEqual({ ticketIds: [], requests: 0 });
});

it('accrues the share between backfills, up to an hour of it or the oldest ticket\'s cost', () => {
  expect(accrued(null, 10, 0)).toBe(10);
  expect(accrued({ requests: 4, minutesSince: 2 }, 10, 0)).toBe(24);
  expect(accrued({ requests: 0, minutesSince: 600 }, 10, 0)).toBe(600);
  expect(accrued({ requests: 0, minutesSince: 600 }, 10, 1_000)).toBe(1_000);
  // A share under one request a minute (CONVLOG_RATE_LIMIT 9 at 10 %) still adds up.
  expect(accrued({ requests: 0, minutesSince: 3 }, 0.9, 0)).toBeCloseTo(2.7);
});

it('queues as many full reads as the requests accrued cover, and keeps what is left for the next backfill', async () => {
  const { db, pool } = f.database;
  await pool.query('delete from pgboss.job');
  // Ten tickets of 350 events, due: four requests each.
  for (let id = 101; id <= 110; id++) {
    await pool.query(`insert into zendesk.ticket_sync (ticket_id, status, events_synced, last_full_read_at) values ($1, 'synced', 350, now() - interval '40 days')`, [id]);
  }
  const sweep = { days: 30, requestsPerMinute: 10 };
  const start = { nowMs: Date.now() };
  const queuedFull = async () =>
    (await pool.query<{ id: number }>(`select (data->>'ticketId')::int as id from pgboss.job where name = 'ticket-sync' and (data->>'full')::boolean order by 1`)).rows.map((r) => r.id);

  expect(await queueDueFullReads(db, f.boss, sweep, start)).toEqual({ queued: 2, requests: 8 });
  expect(await queuedFull()).toEqual([101, 102]);
  // Straight after: the 2 requests left cover no ticket.
  expect((await queueDueFullReads(db, f.boss, sweep, start)).queued).toBe(0);
  // A minute later: 12 requests, three tickets. (Those queued are still due: they have not run.)
  await pool.query(`update zendesk.ticket_sync set last_full_read_at = now() where ticket_id in (101, 102)`);
  expect(await queueDueFullReads(db, f.boss, sweep, { nowMs: start.nowMs + 60_000 })).toEqual({ queued: 3, requests: 12 });
  expect(await queuedFull()).toEqual([101, 102, 103, 104, 105]);
});
