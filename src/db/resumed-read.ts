// What a resumed read (from a saved cursor) is checked against. Whether Zendesk's saved
// after_cursor returns events appended after it is not documented: resuming is an optimisation,
// and a read from the first event the safe fallback (src/sync/sync-ticket.ts decides).
import { sql } from 'drizzle-orm';
import type { Executor } from './sql-values.ts';

/**
 * Whether the ticket's row (from the export, show_many or enqueue's read) says Zendesk changed the
 * ticket after its newest stored event (a comment added makes the ticket's updated_at at least its
 * own created_at: both Zendesk's clock), and not long before its last sync or since. A ticket last
 * changed long before its last sync read it then: a closed ticket, whose closing came after its
 * last comment, would otherwise cost a request more at every sync. The margin covers a change
 * made while the last run was finishing, after its last page, and a Zendesk clock ahead of ours.
 * False when either is missing (no row read yet, or nothing stored).
 */
export async function changedAfterNewestEvent(db: Executor, ticketId: number): Promise<boolean> {
  const { rows } = await db.execute<{ changed: boolean }>(sql`
    select exists (
      select 1 from zendesk.tickets t
        join zendesk.ticket_summaries s on s.ticket_id = t.id
        join zendesk.ticket_sync r on r.ticket_id = t.id
       where t.id = ${ticketId} and t.updated_at > s.last_event_at
         and (r.last_synced_at is null or t.updated_at > r.last_synced_at - ${LAST_SYNC_MARGIN}::interval)) as changed`);
  return rows[0]?.changed === true;
}

const LAST_SYNC_MARGIN = '5 minutes';

/** Whether the event of this `reference` is stored for the ticket (and not marked deleted). */
export async function holdsEvent(db: Executor, ticketId: number, reference: string): Promise<boolean> {
  const { rows } = await db.execute<{ held: boolean }>(sql`
    select exists (
      select 1 from zendesk.conversation_events
       where reference = ${reference} and ticket_id = ${ticketId} and deleted_at is null) as held`);
  return rows[0]?.held === true;
}
