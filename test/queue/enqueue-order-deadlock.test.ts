// Two enqueues of the same new tickets at once: a backfill's page (in the export's order) and a
// batch of webhooks (in the order they came), or `convlog enqueue --file` beside either. Each
// inserted its jobs in the order it was given, and a job waits for another transaction's
// uncommitted job of the same ticket (one job per ticket): given 9 then 5, and 5 then 9, each
// waited for the other, and Postgres aborted one enqueue as a deadlock (the backfill failed, or
// the webhooks were answered 503). A third session's uncommitted job of ticket 7 keeps the first
// enqueue between its tickets until the second has come to wait.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SYNC_QUEUE } from '../../src/queue/boss.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { sessionsWaitingForLocks, settled } from '../helpers/lock-waits.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let f: FixtureWithBoss;
beforeAll(async () => {
  f = await createFixtureWithBoss({ tickets: 9, accountRateLimit: 0 });
});
afterAll(async () => {
  await f?.close();
});

it('two enqueues naming the same new tickets in opposite orders both queue them, once each', async () => {
  const blocker = await f.database.pool.connect();
  try {
    await blocker.query('begin');
    const db = { executeSql: (text: string, values?: unknown[]) => blocker.query(text, values) };
    await f.boss.insert(SYNC_QUEUE, [{ singletonKey: '7', data: { ticketId: 7 } }], { db });
    const first = settled(enqueueTickets(f.boss, f.database.db, [9, 7, 5]));
    await sessionsWaitingForLocks(f.database.pool, 1);
    const second = settled(enqueueTickets(f.boss, f.database.db, [5, 9]));
    await sessionsWaitingForLocks(f.database.pool, 2);
    await blocker.query('rollback');
    expect({ first: await first, second: await second }).toEqual({ first: 'ok', second: 'ok' });
  } finally {
    blocker.release();
  }
  const { rows } = await f.database.pool.query(
    `select singleton_key as ticket, count(*)::int as jobs from pgboss.job where name = $1 group by 1 order by 1`,
    [SYNC_QUEUE],
  );
  expect(rows).toEqual([
    { ticket: '5', jobs: 1 },
    { ticket: '7', jobs: 1 },
    { ticket: '9', jobs: 1 },
  ]);
  const { rows: statuses } = await f.database.pool.query(`select ticket_id::int as ticket, status from zendesk.ticket_sync order by 1`);
  expect(statuses).toEqual([5, 7, 9].map((ticket) => ({ ticket, status: 'queued' })));
});
