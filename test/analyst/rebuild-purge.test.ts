// `convlog rebuild-analytics` and a purge of a ticket in its batch: the rebuild must not derive
// the ticket's analyst rows from events the purge is removing and write them back after it.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { rebuildAnalytics } from '../../src/db/analytics.ts';
import { purgeTicketsIn } from '../../src/db/purge.ts';
import { inTransaction } from '../../src/db/transaction.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { sessionsWaitingForLocks } from '../helpers/lock-waits.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;
beforeAll(async () => {
  fixture = await createFixture({ tickets: 2, ticketSizes: { 1: 40, 2: 40 } });
});
afterAll(async () => {
  await fixture?.close();
});

const rowsOf = async (ticketId: number) =>
  (
    await fixture.database.pool.query(
      `select (select count(*)::int from zendesk.ticket_summaries where ticket_id = $1) as summaries,
              (select count(*)::int from zendesk.ticket_days where ticket_id = $1) as days,
              (select count(*)::int from zendesk.conversation_events where ticket_id = $1) as events`,
      [ticketId],
    )
  ).rows[0];

it('a purge that commits during a rebuild leaves no analyst row of the purged ticket', async () => {
  const { db } = fixture.database;
  await syncTicket(fixture.deps, 1);
  await syncTicket(fixture.deps, 2);
  expect((await rowsOf(1)).summaries).toBe(1);

  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let purged!: () => void;
  const purgedYet = new Promise<void>((resolve) => (purged = resolve));
  // A 404's purge of ticket 1, done but not yet committed ...
  const purge = inTransaction(db, async (tx) => {
    await purgeTicketsIn(tx, [1], { how: '404', mode: 'purge' });
    purged();
    await gate;
  });
  await purgedYet;
  // ... while `convlog rebuild-analytics` runs the batch holding it.
  const rebuild = rebuildAnalytics(db);
  // Released once the rebuild waits for the purge's locks, not after 300 ms, by which a busy
  // machine may not have got it that far: the purge then commits before the batch reads.
  await sessionsWaitingForLocks(fixture.database.pool, 1);
  release();
  await purge;
  expect((await rebuild).finished).toBe(true);

  expect(await rowsOf(1)).toEqual({ summaries: 0, days: 0, events: 0 });
  expect(await rowsOf(2)).toMatchObject({ summaries: 1, events: 40 });
});
