// serve's batch of webhooks updates several tickets' ticket_sync rows in one statement each: a
// permanent deletion reported (reportPermanentDeletion), a redaction's time (recordRedactions), a
// ticket whose job is running marked to sync again (requestSyncAgain, in enqueueTickets). Each
// locked the rows in the order Postgres met them, not by ticket id (here: the rows laid out 9, 7,
// 5, as updates leave them), while an enqueue of new jobs (a backfill's page) marks them queued
// in ascending order: 5, 7, 9. Each held a row the other waited for, and Postgres aborted one as
// a deadlock. A third session holding ticket 7's row keeps the enqueue between 5 and 9 until the
// webhooks' statement has come to wait.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { recordRedactions } from '../../src/db/pending-comments.ts';
import { reportPermanentDeletion } from '../../src/db/purge.ts';
import { markQueued, recordStatus } from '../../src/db/ticket-status.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { holdRows, sessionsWaitingForLocks, settled } from '../helpers/lock-waits.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let f: FixtureWithBoss;
beforeEach(async () => {
  f = await createFixtureWithBoss({ tickets: 9, accountRateLimit: 0 });
  // Failed earlier, in this order: the rows lie 9, 7, 5 in the table.
  for (const ticketId of [9, 7, 5]) await recordStatus(f.database.db, ticketId, { status: 'failed', reason: 'earlier failure' });
  const { rows } = await f.database.pool.query('select ticket_id::int as id from zendesk.ticket_sync order by ctid');
  expect(rows.map((r) => r.id)).toEqual([9, 7, 5]);
});
afterEach(async () => {
  await f?.close();
});

/** Runs `webhooks` while an enqueue of 5, 7 and 9 marks them queued, and returns how each ended. */
async function besideEnqueue(webhooks: () => Promise<unknown>, enqueueOf: () => Promise<unknown> = () => enqueueTickets(f.boss, f.database.db, [5, 7, 9])): Promise<{ enqueue: string; webhooks: string }> {
  const blocker = await holdRows(f.database.pool, 'select from zendesk.ticket_sync where ticket_id = 7 for update');
  try {
    const enqueue = settled(enqueueOf());
    await sessionsWaitingForLocks(f.database.pool, 1);
    const batch = settled(webhooks());
    await sessionsWaitingForLocks(f.database.pool, 2);
    await blocker.release();
    return { enqueue: await enqueue, webhooks: await batch };
  } finally {
    await blocker.release();
  }
}

const ticketSync = async () =>
  (
    await f.database.pool.query(
      `select ticket_id::int as id, status, permanent_deletion_reported_at is not null as reported, redacted_at is not null as redacted,
              sync_again_at is not null as again
         from zendesk.ticket_sync order by ticket_id`,
    )
  ).rows;

it('a batch reporting permanent deletions of tickets 5 and 9 and an enqueue of 5, 7 and 9 both commit', async () => {
  expect(await besideEnqueue(() => reportPermanentDeletion(f.database.db, [5, 9]))).toEqual({ enqueue: 'ok', webhooks: 'ok' });
  expect((await ticketSync()).map(({ id, status, reported }) => ({ id, status, reported }))).toEqual([
    { id: 5, status: 'queued', reported: true },
    { id: 7, status: 'queued', reported: false },
    { id: 9, status: 'queued', reported: true },
  ]);
});

it('a batch recording redactions of tickets 5 and 9 and an enqueue of 5, 7 and 9 both commit', async () => {
  const at = new Date().toISOString();
  const redactions = [{ ticketId: 9, at }, { ticketId: 5, at }];
  expect(await besideEnqueue(() => recordRedactions(f.database.db, redactions))).toEqual({ enqueue: 'ok', webhooks: 'ok' });
  expect((await ticketSync()).map(({ id, redacted }) => ({ id, redacted }))).toEqual([
    { id: 5, redacted: true },
    { id: 7, redacted: false },
    { id: 9, redacted: true },
  ]);
});

it('a batch asking for full re-reads of tickets 5 and 9, whose jobs the enqueue just inserted, and that enqueue both commit', async () => {
  // The webhooks' enqueue finds the jobs there and marks the tickets to be synced again.
  expect(await besideEnqueue(() => enqueueTickets(f.boss, f.database.db, [9, 5], { full: true }))).toEqual({ enqueue: 'ok', webhooks: 'ok' });
  expect((await ticketSync()).map(({ id, status, again }) => ({ id, status, again }))).toEqual([
    { id: 5, status: 'queued', again: true },
    { id: 7, status: 'queued', again: false },
    { id: 9, status: 'queued', again: true },
  ]);
});

it('marks of tickets queued, given as 9, 7 and 5, and a batch reporting permanent deletions of 5 and 9 both commit', async () => {
  // markQueued takes the tickets in ascending order whatever order it is given them in.
  expect(await besideEnqueue(() => reportPermanentDeletion(f.database.db, [5, 9]), () => markQueued(f.database.db, [9, 7, 5]))).toEqual({ enqueue: 'ok', webhooks: 'ok' });
  expect((await ticketSync()).map(({ status, reported }) => ({ status, reported }))).toEqual([
    { status: 'queued', reported: true },
    { status: 'queued', reported: false },
    { status: 'queued', reported: true },
  ]);
});
