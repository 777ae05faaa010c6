// A ticket asked for again during its run is queued again as the run ends (after-run.ts), at the
// higher of the priority its job had and the request's: a ticket `sync` (or a webhook) queued
// above the backlog must not go back behind it because it changed while it synced, nor wait
// behind it because a backlog job of it was running when the webhook came.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enqueueTickets, SYNC_PRIORITY, WEBHOOK_PRIORITY } from '../../src/queue/enqueue.ts';
import { runEnqueuedDuringRun } from '../helpers/sync-again-run.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

const TICKET = 1;
let fixture: FixtureWithBoss;

beforeAll(async () => {
  fixture = await createFixtureWithBoss({ tickets: 2, ticketSizes: { [TICKET]: 10 } });
});
afterAll(async () => {
  await fixture?.close();
});

it('queues the ticket again at the priority of the run that was asked for it again', { timeout: 60_000 }, async () => {
  const { db, pool } = fixture.database;
  await enqueueTickets(fixture.boss, db, [TICKET], { priority: SYNC_PRIORITY });
  // A plain enqueue (a backfill's page) during the run: the ticket's second run is still the sync's.
  const { summary } = await runEnqueuedDuringRun(fixture, TICKET, 5);
  expect(summary.synced).toBe(2);
  const { rows } = await pool.query(`select priority, state::text from pgboss.job where name = 'ticket-sync' order by created_on`);
  expect(rows).toEqual([
    { priority: SYNC_PRIORITY, state: 'completed' },
    { priority: SYNC_PRIORITY, state: 'completed' },
  ]);
});

it('queues the ticket again at the priority of a webhook that asked for it during a backlog run', { timeout: 60_000 }, async () => {
  const { db, pool } = fixture.database;
  await pool.query(`delete from pgboss.job where name = 'ticket-sync'`);
  // The backfill's job (priority 0) is running when the webhook's enqueue comes.
  await enqueueTickets(fixture.boss, db, [TICKET]);
  const { summary } = await runEnqueuedDuringRun(fixture, TICKET, 5, WEBHOOK_PRIORITY);
  expect(summary.synced).toBe(2);
  const { rows } = await pool.query(`select priority, state::text from pgboss.job where name = 'ticket-sync' order by created_on`);
  // The running backlog job took the webhook's priority too (for a retry, had the run failed).
  expect(rows).toEqual([
    { priority: WEBHOOK_PRIORITY, state: 'completed' },
    { priority: WEBHOOK_PRIORITY, state: 'completed' },
  ]);
  const { rows: mark } = await pool.query(`select sync_again_at, sync_again_priority from zendesk.ticket_sync where ticket_id = $1`, [TICKET]);
  expect(mark).toEqual([{ sync_again_at: null, sync_again_priority: 0 }]);
});
