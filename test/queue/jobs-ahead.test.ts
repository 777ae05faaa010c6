// What a `sync`'s progress line counts as ahead of its tickets (jobsAhead): other tickets' jobs
// that workers hold, and those due that pg-boss hands out before the first of its own still
// waiting (a higher priority, or the same and queued earlier); none once its own are all taken.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SYNC_QUEUE } from '../../src/queue/boss.ts';
import { enqueueTickets, SYNC_PRIORITY, WEBHOOK_PRIORITY } from '../../src/queue/enqueue.ts';
import { jobsAhead } from '../../src/queue/queue-stats.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let fixture: FixtureWithBoss;
beforeAll(async () => {
  fixture = await createFixtureWithBoss({ tickets: 5 });
});
afterAll(async () => {
  await fixture?.close();
});

it('counts the running jobs and those taken first, and stops at the first of its own', { timeout: 60_000 }, async () => {
  const { boss } = fixture;
  const { db, pool } = fixture.database;
  const backlog = Array.from({ length: 50 }, (_, i) => 1_000 + i);
  await enqueueTickets(boss, db, backlog);
  await enqueueTickets(boss, db, [21, 22, 23], { priority: WEBHOOK_PRIORITY });
  // An earlier sync's ticket: the same priority, queued before these.
  await enqueueTickets(boss, db, [31], { priority: SYNC_PRIORITY });
  const own = new Set([41, 42]);
  await enqueueTickets(boss, db, [...own], { priority: SYNC_PRIORITY });
  // A worker holds the first webhook ticket.
  const [held] = await boss.fetch(SYNC_QUEUE, { batchSize: 1 });
  expect(held?.data).toEqual({ ticketId: 21 });

  // 1 running, 2 webhook tickets waiting, and ticket 31.
  expect(await jobsAhead(pool, own)).toEqual({ count: 4, atLeast: false });
  // Its first waiting ticket is beyond the look's limit: at least the due ones it saw.
  expect(await jobsAhead(pool, own, 1)).toEqual({ count: 2, atLeast: true });
  // A ticket of the backlog alone waits behind everything above it and the backlog's older jobs.
  expect((await jobsAhead(pool, new Set([1_049]))).count).toBeGreaterThanOrEqual(1 + 2 + 3);
  // Raised by a sync, it keeps its age: it goes before the sync tickets queued after it.
  await enqueueTickets(boss, db, [1_049], { priority: SYNC_PRIORITY });
  expect(await jobsAhead(pool, new Set([1_049]))).toEqual({ count: 3, atLeast: false });

  // Its own all taken by workers: nothing is ahead of them any more.
  await pool.query(`update pgboss.job set state = 'active', started_on = now() where name = $1 and singleton_key = any($2::text[])`, [SYNC_QUEUE, [...own].map(String)]);
  expect(await jobsAhead(pool, own)).toEqual({ count: 0, atLeast: false });
  // So too when the backlog waiting is longer than the look (a sync after a large backfill).
  expect(await jobsAhead(pool, own, 10)).toEqual({ count: 0, atLeast: false });
});
