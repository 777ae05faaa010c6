// Two tickets' logs carry the same file (a merge: docs/guarantees.md's known limit) and name the
// same agent, Postgres having both. A full read of the first ticket whose page redacts its first
// comment locks its people for update before the tickets row (authors_locked,
// src/db/store-page.ts) and writes the files at its end. An ordinary page of the other ticket
// upserted its people after its files: it wrote the shared file, then waited for the agent the
// redaction page held, which came to wait for the file (40P01). It now leaves a person its page
// changes nothing of unlocked, and upserts the others before its events and files. A third
// session holding the first ticket's tickets row stops the redaction page there (holding the
// agent) until the other page has ended, or come to wait for the agent it renames.
import { expect, it } from 'vitest';
import { preparePage } from '../../src/db/prepare-page.ts';
import { storePage } from '../../src/db/store-page.ts';
import { startRun } from '../../src/db/ticket-status.ts';
import { storeTicketContext } from '../../src/db/tickets.ts';
import { mapPage, type ApiEvent } from '../../src/sync/map-page.ts';
import { mapTicketContext } from '../../src/sync/map-ticket.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { holdRows, sessionsWaitingForLocks, settled } from '../helpers/lock-waits.ts';
import { attachment, messagingEvent, seedEvent } from '../sync/events.ts';
import { exportedTicket, sideLoadedUser } from '../sync/tickets.ts';

const database = useTestDatabase();

async function page(ticketId: number, events: ApiEvent[], full = false) {
  const { run } = await startRun(database.db, ticketId, { full });
  return preparePage(mapPage(events, { ticketId }), { ticketId, run, afterCursor: `c-${ticketId}-${Date.now()}`, requests: 1 });
}

/** Ticket `first` stored with its first comment by agent `agentId`; then its redaction page and `merged`'s page race. */
async function race(first: number, merged: number, agentId: number, mergedAgentName: string) {
  const agent = { display_name: `Agent ${agentId}`, type: 'agent', 'zen:support:user_id': agentId };
  const comment = (body: string): ApiEvent => ({ ...seedEvent(), reference: `zen:event:first-${first}`, id: `FIRST${first}`, author: agent, attachments: [], content: { type: 'html', body } });
  await storeTicketContext(
    database.db,
    mapTicketContext({ tickets: [exportedTicket({ id: first, assignee_id: agentId, description: 'It has not arrived.' })], users: [sideLoadedUser(501), sideLoadedUser(agentId, { role: 'agent', name: `Agent ${agentId}`, updated_at: '2024-01-01T00:00:00Z' })] }),
  );
  await storePage(database.db, await page(first, [comment('It has not arrived.')]));
  const fileId = 777_000 + first;
  // The redaction page (full read): the first comment redacted, and a later event with the file.
  const redaction = await page(first, [comment('It has not XXXXXXX.'), messagingEvent({ author: agent, attachments: [attachment(fileId)], created_at: '2025-05-01T00:00:00Z' })], true);
  // The merged ticket's page: the merge comment carrying the same file, by the same agent.
  const mergedAgent = { ...agent, display_name: mergedAgentName };
  const other = await page(merged, [messagingEvent({ author: mergedAgent, attachments: [attachment(fileId)], created_at: '2025-05-02T00:00:00Z' })]);

  const blocker = await holdRows(database.pool, 'select from zendesk.tickets where id = $1 for update', [first]);
  try {
    const a = settled(storePage(database.db, redaction));
    await sessionsWaitingForLocks(database.pool, 1);
    let bDone = false;
    const b = settled(storePage(database.db, other)).finally(() => (bDone = true));
    await sessionsWaitingForLocks(database.pool, 2, { done: () => bDone });
    const waited = !bDone;
    await blocker.release();
    const outcome = { redaction: await a, merged: await b };
    const { rows } = await database.pool.query('select display_name from zendesk.authors where author_key = $1', [`support:${agentId}`]);
    return { outcome, waited, name: rows[0].display_name };
  } finally {
    await blocker.release();
  }
}

it('a redaction page and a page of a merged ticket sharing its file and agent both commit', { timeout: 60_000 }, async () => {
  const result = await race(101, 202, 601, 'Agent 601');
  // The agent unchanged: the merged ticket's page does not wait for it.
  expect(result).toEqual({ outcome: { redaction: 'ok', merged: 'ok' }, waited: false, name: 'Agent 601' });
});

it('so do they when the merged ticket’s page renames the agent, waiting for it before the file', { timeout: 60_000 }, async () => {
  const result = await race(103, 204, 603, 'Agent 603 (renamed)');
  expect(result).toEqual({ outcome: { redaction: 'ok', merged: 'ok' }, waited: true, name: 'Agent 603 (renamed)' });
});
