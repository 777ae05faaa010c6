// A ticket asked for again during its run is queued again as the run ends (after-run.ts), at the
// priority its job had: a ticket `sync` (or a webhook) queued above the backlog must not go back
// behind it because it changed while it synced.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enqueueTickets, SYNC_PRIORITY } from '../../src/queue/enqueue.ts';
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
