// A dequeue and an enqueue of the same ticket at once. An enqueue inserts the ticket's job, then
// marks its ticket_sync row queued, in two statements: a dequeue committing between them deleted
// the new job, and the mark then left the ticket `queued` with no job, for ever (a `sync` waiting
// on it never ended). An enqueue holds a shared lock from its insert to its mark, and a dequeue
// takes it alone (src/db/dequeued.ts), so each waits for the other.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fenceEnqueues, whileEnqueueing } from '../../src/db/dequeued.ts';
import { markQueued } from '../../src/db/ticket-status.ts';
import { inTransaction } from '../../src/db/transaction.ts';
import { SYNC_QUEUE } from '../../src/queue/boss.ts';
import { dequeueTickets } from '../../src/queue/dequeue.ts';
import { enqueueTickets, WEBHOOK_PRIORITY } from '../../src/queue/enqueue.ts';
import { holdRows, sessionsWaitingForLocks } from '../helpers/lock-waits.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let fixture: FixtureWithBoss;
beforeAll(async () => {
  fixture = await createFixtureWithBoss({ tickets: 3 });
});
afterAll(async () => {
  await fixture?.close();
});

const state = async (ticketId: number) => {
  const { pool } = fixture.database;
  const rows = (await pool.query(`select status from zendesk.ticket_sync where ticket_id = $1`, [ticketId])).rows;
  const jobs = (await pool.query(`select count(*)::int as n from pgboss.job where name = $1 and singleton_key = $2 and state < 'completed'`, [SYNC_QUEUE, String(ticketId)])).rows[0].n;
  return { status: rows[0]?.status ?? 'none', jobs };
};

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

it('a dequeue arriving between an enqueue’s insert and its mark waits, then takes the ticket out whole', { timeout: 60_000 }, async () => {
  const { boss } = fixture;
  const { db, pool } = fixture.database;
  const inserted = gate();
  const mark = gate();
  const enqueue = whileEnqueueing(db, async (tx) => {
    await boss.insert(SYNC_QUEUE, [{ singletonKey: '7', data: { ticketId: 7 } }]);
    inserted.open();
    await mark.opened;
    await markQueued(tx, [7]);
  });
  await inserted.opened;
  let dequeued = false;
  const dequeue = dequeueTickets(db, { all: true }).finally(() => (dequeued = true));
  await sessionsWaitingForLocks(pool, 1, { done: () => dequeued });
  expect(dequeued).toBe(false);
  mark.open();
  await enqueue;
  expect((await dequeue).removed).toBe(1);
  // Taken out whole: no job, and no `queued` mark left behind.
  expect(await state(7)).toEqual({ status: 'none', jobs: 0 });
});

it('an enqueue waits for a dequeue in flight, and its ticket is then queued with its job', { timeout: 60_000 }, async () => {
  const { boss } = fixture;
  const { db, pool } = fixture.database;
  const release = gate();
  const fenced = gate();
  const dequeue = inTransaction(db, async (tx) => {
    await fenceEnqueues(tx);
    fenced.open();
    await release.opened;
  });
  await fenced.opened;
  let enqueued = false;
  const enqueue = enqueueTickets(boss, db, [8]).finally(() => (enqueued = true));
  await sessionsWaitingForLocks(pool, 1, { done: () => enqueued });
  expect(enqueued).toBe(false);
  release.open();
  await dequeue;
  expect((await enqueue).queued).toBe(1);
  expect(await state(8)).toEqual({ status: 'queued', jobs: 1 });
});

// A webhook's enqueue finds the ticket's job waiting (a backfill queued it) and inserts none: that
// job will read the change. A dequeue then deleting that job, before the enqueue had marked the
// ticket to sync again or after, took the webhook's request out with it: a ticket never synced
// lost its ticket_sync row, so no mark was left to find, and nothing queued it again. A third
// session holding the job's row stops the webhook's enqueue (raising the job's priority) and the
// dequeue there, in that order.
it('a webhook whose job insert a waiting job skipped, while a dequeue deletes that job, leaves its ticket queued', { timeout: 60_000 }, async () => {
  const { boss } = fixture;
  const { db, pool } = fixture.database;
  await enqueueTickets(boss, db, [9]);
  expect(await state(9)).toEqual({ status: 'queued', jobs: 1 });
  const blocker = await holdRows(pool, `select from pgboss.job where name = $1 and singleton_key = '9' for update`, [SYNC_QUEUE]);
  try {
    const webhook = enqueueTickets(boss, db, [9], { priority: WEBHOOK_PRIORITY });
    await sessionsWaitingForLocks(pool, 1);
    const dequeue = dequeueTickets(db, { ticketIds: [9] });
    await sessionsWaitingForLocks(pool, 2);
    await blocker.release();
    expect((await dequeue).removed).toBe(1);
    await webhook;
  } finally {
    await blocker.release();
  }
  expect(await state(9)).toEqual({ status: 'queued', jobs: 1 });
});
