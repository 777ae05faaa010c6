// An enqueue whose insert a ticket's waiting job skipped queues the ticket again if a dequeue
// deletes that job before it looks (test/queue/dequeue-vs-enqueue.test.ts), but not if a worker
// took the job and finished it meanwhile: that run began after the request, so it read the
// change, and a second job would mark queued a ticket whose run just found it deleted
// (tombstone, not_found). Here the enqueue of 8 and 9 stops in requestSyncAgain, after its
// insert skipped both, behind a third session holding 8's ticket_sync row.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SYNC_QUEUE } from '../../src/queue/boss.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { holdRows, sessionsWaitingForLocks } from '../helpers/lock-waits.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let fixture: FixtureWithBoss;
beforeAll(async () => {
  fixture = await createFixtureWithBoss({ tickets: 3 });
});
afterAll(async () => {
  await fixture?.close();
});

it('a job a worker ran and completed after the enqueue skipped it is not queued again', { timeout: 60_000 }, async () => {
  const { boss } = fixture;
  const { db, pool } = fixture.database;
  // Ticket 8: its job is running (a worker holds it), its row `syncing`.
  await enqueueTickets(boss, db, [8]);
  const [running] = await boss.fetch(SYNC_QUEUE, { batchSize: 1 });
  expect(running.data).toMatchObject({ ticketId: 8 });
  await pool.query(`update zendesk.ticket_sync set status = 'syncing', started_at = now() where ticket_id = 8`);
  // Ticket 9: queued, its job waiting.
  await enqueueTickets(boss, db, [9]);
  const blocker = await holdRows(pool, `select from zendesk.ticket_sync where ticket_id = 8 for update`);
  try {
    const backfill = enqueueTickets(boss, db, [8, 9]);
    await sessionsWaitingForLocks(pool, 1);
    // Meanwhile a worker takes 9's job, runs it and finds the ticket deleted in Zendesk.
    const [job] = await boss.fetch(SYNC_QUEUE, { batchSize: 1 });
    expect(job.data).toMatchObject({ ticketId: 9 });
    await pool.query(`update zendesk.ticket_sync set status = 'syncing', started_at = now() where ticket_id = 9`);
    await pool.query(
      `update zendesk.ticket_sync set status = 'not_found', deleted_at = now(), last_error = 'deleted', last_error_at = now(), last_synced_at = now() where ticket_id = 9`,
    );
    await boss.complete(SYNC_QUEUE, job.id);
    await blocker.release();
    expect(await backfill).toMatchObject({ queued: 0, alreadyQueued: 2 });
  } finally {
    await blocker.release();
  }
  const { rows } = await pool.query(
    `select (select status from zendesk.ticket_sync where ticket_id = 9) as status,
            (select count(*)::int from pgboss.job where name = $1 and singleton_key = '9' and state < 'completed') as live_jobs`,
    [SYNC_QUEUE],
  );
  expect(rows[0]).toEqual({ status: 'not_found', live_jobs: 0 });
});
