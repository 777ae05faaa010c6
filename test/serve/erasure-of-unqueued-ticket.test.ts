// A permanently_deleted webhook about a ticket convlog holds a row of but has no status row for:
// a backfill stored its row and queued it, and `convlog dequeue` took it back before its first
// sync. The webhook queues it, and its sync meets the 404: under CONVLOG_ON_DELETE=keep that must
// erase the ticket's row (its description, its requester), not only mark it, as for any ticket a
// permanently_deleted webhook names. Real serve, real simulator sending the signed webhook.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { runBackfill } from '../../src/queue/backfill.ts';
import { dequeueTickets } from '../../src/queue/dequeue.ts';
import { enqueueTickets, WEBHOOK_PRIORITY } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { DAY, nowSec } from '../backfill/helpers.ts';
import { rowsOfTicket } from '../helpers/ticket-rows.ts';
import { startServeWithSimulator, type ServeWithSimulator } from './serve-fixture.ts';

let all: ServeWithSimulator;
beforeAll(async () => {
  all = await startServeWithSimulator({ tickets: 2, accountRateLimit: 0 }, { onDelete: 'keep' });
});
afterAll(async () => {
  await all?.close();
});

it('under keep, the 404 of its sync erases the row of a ticket a backfill stored and a dequeue took back', async () => {
  const { f, sim, deps } = all;
  const ticketId = 1;
  await runBackfill(
    { db: f.database.db, pool: f.database.pool, boss: f.boss, http: deps.http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger, onDelete: 'keep' },
    { since: nowSec() - 400 * DAY },
  );
  expect((await dequeueTickets(f.database.db, { ticketIds: [ticketId] })).removed).toBe(1);
  expect(await rowsOfTicket(f.database.pool, ticketId)).toEqual({ tickets: 1 });

  sim.deleteTicket(ticketId, { permanently: true });
  await sim.webhooks.settled();
  expect(sim.webhooks.deliveries.filter((d) => d.ticketId === ticketId).at(-1)).toMatchObject({ type: 'zen:event-type:ticket.permanently_deleted', status: 200 });
  const stop = new AbortController();
  await runWorker(f.boss, f.database.pool, deps, { concurrency: 1, signal: stop.signal, untilIdle: true, idleCheckMs: 100 }).finally(() => stop.abort());

  expect(await rowsOfTicket(f.database.pool, ticketId)).toEqual({ ticket_sync: 1 });
  const { rows } = await f.database.pool.query('select status, deleted_how from zendesk.ticket_sync where ticket_id = $1', [ticketId]);
  expect(rows).toEqual([{ status: 'not_found', deleted_how: '404: permanently deleted' }]);
});

it("the status row serve's enqueue makes for such a ticket carries the report in the transaction that queues its job", async () => {
  const { f } = all;
  const ticketId = 2;
  await f.database.pool.query('delete from zendesk.ticket_sync where ticket_id = $1', [ticketId]);
  // What a worker taking the job at once would see: the job and the report, committed together.
  await enqueueTickets(f.boss, f.database.db, [ticketId], { priority: WEBHOOK_PRIORITY, permanentlyDeleted: [ticketId] });
  const { rows } = await f.database.pool.query(
    `select s.status, s.permanent_deletion_reported_at is not null as reported,
            (select count(*)::int from pgboss.job j where j.name = 'ticket-sync' and j.singleton_key = $2 and j.state = 'created') as jobs
       from zendesk.ticket_sync s where s.ticket_id = $1`,
    [ticketId, String(ticketId)],
  );
  expect(rows).toEqual([{ status: 'queued', reported: true, jobs: 1 }]);
  // Any other enqueue leaves a report where it is, and makes none.
  await enqueueTickets(f.boss, f.database.db, [ticketId]);
  expect((await f.database.pool.query('select permanent_deletion_reported_at is not null as reported from zendesk.ticket_sync where ticket_id = $1', [ticketId])).rows).toEqual([{ reported: true }]);
});
