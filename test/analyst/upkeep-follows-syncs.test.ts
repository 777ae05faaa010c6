// A ticket's row in ticket_summaries follows each later sync of it: every column the upkeep writes
// on a ticket it already had a row for is what a first computation of the ticket as it now stands
// gives. Each test elsewhere syncs a ticket once, so a column left out of the upkeep's update (a
// waiting customer answered since, still shown waiting) went unseen.
import { expect, it } from 'vitest';
import { refreshTicketAnalytics } from '../../src/db/analytics.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { BOT, comment, message, storeTicket, supportUser, transferToAgent, visitor } from './hand-written.ts';

const database = useTestDatabase();
const TICKET = 501;
const ALEX = supportUser('agent', 99, 'Alex');
const V = visitor('v-501', 'Vic');

async function summary(): Promise<Record<string, unknown>> {
  const { rows } = await database.pool.query(`select * from zendesk.ticket_summaries where ticket_id = $1`, [TICKET]);
  const { refreshed_at: _, ...row } = rows[0];
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));
}

/** The row a first computation gives: the ticket's row removed, then the upkeep run on it alone. */
async function computedAfresh(): Promise<Record<string, unknown>> {
  await database.pool.query(`delete from zendesk.ticket_summaries where ticket_id = $1`, [TICKET]);
  await refreshTicketAnalytics(database.db, [TICKET]);
  return summary();
}

it('keeps every column of a ticket summary current across syncs that change each answer', async () => {
  // Sync 1: a visitor asks, the bot answers and offers a human: contained so far, no agent yet.
  const events = [message('2024-05-01T10:00:00Z', V, { text: 'Where is my parcel?' }), message('2024-05-01T10:00:05Z', BOT)];
  // Sync 2: handed over; Alex answers. Sync 3: Vic writes again, with a file, and waits.
  const steps = [
    [],
    [transferToAgent('2024-05-01T10:01:00Z'), message('2024-05-01T10:03:00Z', ALEX, { text: 'It ships today' })],
    [message('2024-05-01T11:00:00Z', V, { text: 'Still nothing' }), comment('2024-05-01T11:05:00Z', ALEX, { public: false, text: 'chase the carrier' })],
  ];
  const rows: Record<string, unknown>[] = [];
  for (const step of steps) {
    events.push(...step);
    await storeTicket(database.db, TICKET, events);
    const kept = await summary();
    expect(kept, `after sync ${rows.length + 1}`).toEqual(await computedAfresh());
    rows.push(kept);
  }
  // The answers did change between the syncs, so a column the update left out would show above.
  expect(rows.map((r) => r.unanswered_since)).toEqual(['2024-05-01T10:00:00.000Z', null, '2024-05-01T11:00:00.000Z']);
  expect(rows.map((r) => r.first_agent_reply_at)).toEqual([null, '2024-05-01T10:03:00.000Z', '2024-05-01T10:03:00.000Z']);
  // Requested with the transfer, taken when Alex first wrote after it.
  expect(rows.map((r) => r.handover_requested_at)).toEqual([null, '2024-05-01T10:01:00.000Z', '2024-05-01T10:01:00.000Z']);
  expect(rows.map((r) => r.handed_over_at)).toEqual([null, '2024-05-01T10:03:00.000Z', '2024-05-01T10:03:00.000Z']);
  expect(rows.map((r) => r.last_message_author_type)).toEqual(['bot', 'agent', 'user']);
  expect(rows.map((r) => r.events)).toEqual([2, 4, 6]);
  expect(rows.map((r) => r.internal_notes)).toEqual([0, 0, 1]);
  expect(new Set(rows.map((r) => r.bot_outcome)).size).toBeGreaterThan(1);
});
