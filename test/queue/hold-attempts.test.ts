// holdJob (src/queue/queue-stats.ts) moves retry_count and retry_limit up one per hold, so a held
// job's retry_count does not count attempts alone; the job's data counts the holds. A ticket held
// while Zendesk was unreachable (a hold about every probe: hundreds in an outage of hours) and
// then abandoned on all its 9 attempts is reported with 9, not with the holds added.
import { afterEach, expect, it } from 'vitest';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { holdJob } from '../../src/queue/queue-stats.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { SYNC_QUEUE } from '../../src/queue/boss.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let fixture: FixtureWithBoss | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

/** The queue's next job of ticket-sync, its retry delay skipped: pg-boss's next attempt at once. */
async function takeNow(f: FixtureWithBoss) {
  await f.database.pool.query(`update pgboss.job set start_after = now() where name = $1 and state in ('created', 'retry')`, [SYNC_QUEUE]);
  const [job] = await f.boss.fetch<{ ticketId: number }>(SYNC_QUEUE, { includeMetadata: true });
  return job;
}

it('a dead-lettered ticket that was held before is reported with its real number of attempts', { timeout: 120_000 }, async () => {
  fixture = await createFixtureWithBoss({ tickets: 1 });
  const { pool, db } = fixture.database;
  const boss = fixture.boss;
  await enqueueTickets(boss, db, [1]);

  // Zendesk could not be reached for a while: the worker took the job and held it 5 times.
  for (let i = 0; i < 5; i++) {
    const job = await takeNow(fixture);
    expect(await holdJob(pool, job, 0)).toBe(true);
  }
  // Then every attempt the queue allows (retryLimit 8: 9 runs) was abandoned (worker killed):
  // pg-boss fails each one, the last into the dead letter queue.
  let attempts = 0;
  for (;;) {
    const job = await takeNow(fixture);
    if (!job) break;
    attempts += 1;
    await boss.fail(SYNC_QUEUE, { id: job.id, retryCount: job.retryCount }, { message: 'heartbeat lost' });
  }
  expect(attempts).toBe(9);

  // A worker records the dead-lettered job as failed.
  await runWorker(boss, pool, fixture.deps, { concurrency: 1, signal: new AbortController().signal, untilIdle: true, idleCheckMs: 250 });
  const { rows } = await pool.query(`select status, last_error from zendesk.ticket_sync where ticket_id = 1`);
  expect(rows[0].status).toBe('failed');
  expect(rows[0].last_error).toMatch(/gave up after 9 attempts/);
});

it('a dead-lettered ticket queued again meanwhile (a new job waits) is not marked failed', { timeout: 120_000 }, async () => {
  fixture = await createFixtureWithBoss({ tickets: 1 });
  const { pool, db } = fixture.database;
  const boss = fixture.boss;
  await enqueueTickets(boss, db, [1]);
  for (;;) {
    const job = await takeNow(fixture);
    if (!job) break;
    await boss.fail(SYNC_QUEUE, { id: job.id, retryCount: job.retryCount }, { message: 'heartbeat lost' });
  }
  // A webhook queues the ticket again; its job waits a few seconds, so the dead letter comes first.
  expect((await enqueueTickets(boss, db, [1])).queued).toBe(1);
  await pool.query(`update pgboss.job set start_after = now() + interval '3 seconds' where name = $1 and state = 'created'`, [SYNC_QUEUE]);

  const failures: number[] = [];
  const summary = await runWorker(boss, pool, fixture.deps, {
    concurrency: 1, signal: new AbortController().signal, untilIdle: true, idleCheckMs: 250, onFailure: (ticketId) => void failures.push(ticketId),
  });
  expect(failures).toEqual([]);
  expect(summary).toMatchObject({ synced: 1, failed: 0 });
  const { rows } = await pool.query(`select status from zendesk.ticket_sync where ticket_id = 1`);
  expect(rows[0].status).toBe('synced');
});
