// Pages of two tickets that name the same agent (or bot) are written side by side: the page
// statement holds the people it names in the mode a foreign key check takes, which pages share,
// and a purge's FOR UPDATE does not. A page held at its events (a third session holds one of
// them) must not hold up the other ticket's page.
import { expect, it } from 'vitest';
import { preparePage } from '../../src/db/prepare-page.ts';
import { storePage } from '../../src/db/store-page.ts';
import { startRun } from '../../src/db/ticket-status.ts';
import { mapPage } from '../../src/sync/map-page.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { holdRows, sessionsWaitingForLocks } from '../helpers/lock-waits.ts';
import { messagingEvent } from '../sync/events.ts';

const database = useTestDatabase();

const agent = { display_name: 'Shared Agent', type: 'agent', 'zen:support:user_id': 42 };

it("a page held at its events does not hold up another ticket's page naming the same agent", async () => {
  const events = [messagingEvent({ author: agent }), messagingEvent({ author: agent })];
  const { run: first } = await startRun(database.db, 1, { full: true });
  const pageOf = (ticketId: number, run: string, page: typeof events, cursor: string) =>
    preparePage(mapPage(page, { ticketId }), { ticketId, run, afterCursor: cursor, requests: 1 });
  await storePage(database.db, pageOf(1, first, events, 'a1'));

  const blocker = await holdRows(database.pool, 'select from zendesk.conversation_events where ticket_id = 1 order by reference limit 1 for update');
  try {
    // The same page again (a re-read): it waits for the event the blocker holds.
    let heldDone = false;
    const held = storePage(database.db, pageOf(1, first, events, 'a2')).finally(() => (heldDone = true));
    await sessionsWaitingForLocks(database.pool, 1);

    const { run: second } = await startRun(database.db, 2, { full: true });
    const other = storePage(database.db, pageOf(2, second, [messagingEvent({ author: agent })], 'b1'));
    // Blocked, it would wait for good (the blocker holds its rows until released below): 15 s is
    // room for a busy machine to write one page.
    await expect(Promise.race([other, new Promise((resolve) => setTimeout(() => resolve('still waiting after 15 s'), 15_000))])).resolves.toEqual({ eventsWritten: 1 });
    expect(heldDone).toBe(false);
    await blocker.release();
    await expect(held).resolves.toEqual({ eventsWritten: 0 });
  } finally {
    await blocker.release();
  }
});
