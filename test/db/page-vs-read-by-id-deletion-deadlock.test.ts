// A page of a ticket (a worker's run) and serve's read by id of the same ticket, which finds it
// deleted and so records the deletion in ticket_sync (deleted_recorded), both naming its agent.
// serve locks the agent (people_held), updates it (a newer user record), then comes to
// ticket_sync. The page held the agent KEY SHARE, updated ticket_sync (cursor_saved), then waited
// for serve's transaction on the agent (authors_kept, or authors_written when it renames them):
// Postgres aborted the page (40P01). Now the page locks the people it changes before ticket_sync
// (authors_locked) and waits for those it leaves (authors_kept) before it too.
// A third session holding group 801 stops serve after its authors upsert, before ticket_sync.
import { expect, it } from 'vitest';
import { preparePage } from '../../src/db/prepare-page.ts';
import { storePage } from '../../src/db/store-page.ts';
import { startRun } from '../../src/db/ticket-status.ts';
import { storeTicketContext } from '../../src/db/tickets.ts';
import { mapPage } from '../../src/sync/map-page.ts';
import { mapTicketContext } from '../../src/sync/map-ticket.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { holdRows, sessionsWaitingForLocks } from '../helpers/lock-waits.ts';
import { messagingEvent } from '../sync/events.ts';
import { exportedTicket, sideLoadedGroup, sideLoadedUser } from '../sync/tickets.ts';

/** 'ok', or what Postgres said (deadlock detected). */
const settled = (work: Promise<unknown>): Promise<string> =>
  work.then(
    () => 'ok',
    (error: unknown) => (((error as Error).cause ?? error) as { message: string }).message,
  );

const database = useTestDatabase();

async function race(id: number, agentId: number, serveName: string, pageName: string) {
  const agent = (name: string) => ({ display_name: name, type: 'agent', 'zen:support:user_id': agentId });
  await storeTicketContext(database.db, mapTicketContext({
    tickets: [exportedTicket({ id, assignee_id: agentId })],
    users: [sideLoadedUser(501), sideLoadedUser(agentId, { role: 'agent', name: `Agent ${agentId}` })],
    groups: [sideLoadedGroup(801)],
  }));
  const { run } = await startRun(database.db, id, { full: false });
  await storePage(database.db, preparePage(mapPage([messagingEvent({ author: agent(`Agent ${agentId}`) })], { ticketId: id }), { ticketId: id, run, afterCursor: 'c1', requests: 1 }));
  const page2 = preparePage(mapPage([messagingEvent({ author: agent(pageName) })], { ticketId: id }), { ticketId: id, run, afterCursor: 'c2', requests: 1 });

  const blocker = await holdRows(database.pool, 'select from zendesk.groups where id = 801 for update');
  try {
    const deletion = mapTicketContext({
      tickets: [exportedTicket({ id, status: 'deleted', assignee_id: agentId, updated_at: new Date().toISOString(), generated_timestamp: Math.floor(Date.now() / 1000) })],
      users: [sideLoadedUser(agentId, { role: 'agent', name: serveName, updated_at: new Date().toISOString() })],
      groups: [sideLoadedGroup(801, { name: `changed ${Date.now()}`, updated_at: new Date().toISOString() })],
    });
    let readDone = false;
    const byId = settled(storeTicketContext(database.db, deletion)).finally(() => (readDone = true));
    await sessionsWaitingForLocks(database.pool, 1, { done: () => readDone });
    let pageDone = false;
    const stored = settled(storePage(database.db, page2)).finally(() => (pageDone = true));
    await sessionsWaitingForLocks(database.pool, 2, { done: () => pageDone || readDone });
    await blocker.release();
    return { page: await stored, byId: await byId };
  } finally {
    await blocker.release();
  }
}

it('serve renames the agent while recording the deletion; the page names the agent as it was', { timeout: 60_000 }, async () => {
  expect(await race(101, 601, 'Agent 601 (renamed)', 'Agent 601')).toEqual({ page: 'ok', byId: 'ok' });
});

it('control: nobody changes the agent', { timeout: 60_000 }, async () => {
  expect(await race(102, 602, 'Agent 602', 'Agent 602')).toEqual({ page: 'ok', byId: 'ok' });
});

it('the page renames the agent while serve records the deletion', { timeout: 60_000 }, async () => {
  expect(await race(103, 603, 'Agent 603', 'Agent 603 (renamed)')).toEqual({ page: 'ok', byId: 'ok' });
});
