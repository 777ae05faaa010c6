// A page leaves a person Postgres has, and whose row says all the page says, unlocked
// (authors_kept, src/db/store-page.ts). A purge of the only other ticket naming them may remove
// them while the page waits for it (authors_held): the page, whose statement began when they were
// there, writes them again, or its events would name no one (a foreign key violation).
import { expect, it } from 'vitest';
import { preparePage } from '../../src/db/prepare-page.ts';
import { purgeTicketsIn } from '../../src/db/purge.ts';
import { storePage } from '../../src/db/store-page.ts';
import { startRun } from '../../src/db/ticket-status.ts';
import { inTransaction } from '../../src/db/transaction.ts';
import { mapPage, type ApiEvent } from '../../src/sync/map-page.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { sessionsWaitingForLocks, settled } from '../helpers/lock-waits.ts';
import { messagingEvent } from '../sync/events.ts';

const database = useTestDatabase();

async function page(ticketId: number, events: ApiEvent[]) {
  const { run } = await startRun(database.db, ticketId, { full: false });
  return preparePage(mapPage(events, { ticketId }), { ticketId, run, afterCursor: `c-${ticketId}`, requests: 1 });
}

it('a page naming a person a purge removes while the page waits for it writes the person again', { timeout: 60_000 }, async () => {
  const agent = { display_name: 'Agent 71', type: 'agent', 'zen:support:user_id': 71 };
  await storePage(database.db, await page(1, [messagingEvent({ author: agent })]));
  await database.pool.query(`update zendesk.ticket_sync set status = 'synced' where ticket_id = 1`);
  const other = await page(2, [messagingEvent({ author: agent })]);

  let commit!: () => void;
  const committing = new Promise<void>((resolve) => (commit = resolve));
  let purged!: () => void;
  const purgedYet = new Promise<void>((resolve) => (purged = resolve));
  const purge = inTransaction(database.db, async (tx) => {
    const outcome = await purgeTicketsIn(tx, [1], { how: 'purge command', mode: 'purge' });
    purged();
    await committing;
    return outcome;
  });
  await purgedYet;
  const stored = settled(storePage(database.db, other));
  await sessionsWaitingForLocks(database.pool, 1);
  commit();
  expect((await purge).removed).toMatchObject({ events: 1, authors: 1 });
  expect(await stored).toBe('ok');
  const { rows } = await database.pool.query(
    `select a.display_name, (select count(*)::int from zendesk.conversation_events e where e.author_key = a.author_key) as events
       from zendesk.authors a where a.author_key = 'support:71'`,
  );
  expect(rows).toEqual([{ display_name: 'Agent 71', events: 1 }]);
});
