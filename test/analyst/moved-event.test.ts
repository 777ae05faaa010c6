// An event Zendesk serves in a second ticket's log moves to that ticket (the page upsert rewrites
// its ticket_id). The ticket it left must stop counting it in its analyst answers at once, not
// at its next sync, which for a closed ticket may never come.
import { describe, expect, it } from 'vitest';
import { preparePage } from '../../src/db/prepare-page.ts';
import { storePage } from '../../src/db/store-page.ts';
import { finishRun, startRun } from '../../src/db/ticket-status.ts';
import { inTransaction } from '../../src/db/transaction.ts';
import { mapPage } from '../../src/sync/map-page.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { comment, storeTicket, supportUser } from './hand-written.ts';

const database = useTestDatabase();
const q = async (text: string, values: unknown[] = []) => (await database.pool.query(text, values)).rows;
const ALEX = supportUser('agent', 99, 'Alex');

async function expectMovedOnce(from: number, to: number, day: string) {
  expect(await q(`select ticket_id::int, count(*)::int as n from zendesk.conversation_events where ticket_id in ($1, $2) group by 1 order by 1`, [from, to])).toEqual([
    { ticket_id: from, n: 1 },
    { ticket_id: to, n: 2 },
  ]);
  // Three events on the day, one of them the customer's.
  expect(await q(`select events, end_user_messages from zendesk.daily_activity where day = $1`, [day])).toEqual([{ events: 3, end_user_messages: 1 }]);
  expect(await q(`select sum(events)::int as events, sum(end_user_messages)::int as customer from zendesk.ticket_hours where ticket_id in ($1, $2)`, [from, to])).toEqual([{ events: 3, customer: 1 }]);
  // The ticket left holds only its answer: one event, no customer message, numbered from 1.
  expect(await q(`select position from zendesk.conversation_timeline where ticket_id = $1`, [from])).toEqual([{ position: 1 }]);
  expect(await q(`select events, end_user_messages, agent_messages from zendesk.ticket_conversations where ticket_id = $1`, [from])).toEqual([
    { events: 1, end_user_messages: 0, agent_messages: 1 },
  ]);
}

describe('an event that moves to another ticket is counted once, in the ticket that holds it', () => {
  it('rows carrying raw', async () => {
    const question = comment('2024-09-01T10:00:00Z', supportUser('user', 7001, 'Cleo'), { text: 'Where is my parcel?' });
    await storeTicket(database.db, 301, [question, comment('2024-09-01T10:05:00Z', ALEX)]);
    await storeTicket(database.db, 302, [question, comment('2024-09-01T10:07:00Z', ALEX)]);
    await expectMovedOnce(301, 302, '2024-09-01');
  });

  it('rows reading raw from the response body', async () => {
    const question = comment('2024-09-02T10:00:00Z', supportUser('user', 7002, 'Dana'), { text: 'And mine?' });
    await storeTicket(database.db, 401, [question, comment('2024-09-02T10:05:00Z', ALEX)]);
    const bytes = Buffer.from(JSON.stringify({ events: [question, comment('2024-09-02T10:07:00Z', ALEX)] }));
    const events = (JSON.parse(bytes.toString()) as { events: typeof question[] }).events;
    const { run } = await startRun(database.db, 402, { full: true });
    await storePage(database.db, preparePage(mapPage(events, { ticketId: 402 }), { ticketId: 402, run, afterCursor: 'end', requests: 1 }, { events, bytes }));
    await inTransaction(database.db, (tx) => finishRun(tx, 402, { run, fullRead: true }));
    await expectMovedOnce(401, 402, '2024-09-02');
  });
});
