// A full read (the whole log from its first event) is the only moment convlog can tell that
// Zendesk dropped something: an event that vanished from the log, an attachment or thumbnail no
// longer listed. What the read saw is collected as it goes (the ticket's reference strings and
// file ids: small next to its events) and the rest is removed, or marked under
// CONVLOG_ON_DELETE=keep, when it ends.
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './connection.ts';
import { removeUnusedAuthors, type OnDelete } from './purge.ts';
import { lockPeople, lockTicketRows } from './lock-order.ts';
import { notAmong, type Executor } from './sql-values.ts';

/** Zendesk's largest conversation log page, the size production reads. */
const MAX_PAGE_SIZE = 100;

/** What one full read of a ticket returned. */
export class SeenRows {
  readonly references = new Set<string>();
  readonly attachments = new Set<number>();
  readonly thumbnails = new Set<number>();
}

export interface Vanished {
  events: number;
  attachments: number;
  thumbnails: number;
}

export interface StoredLog {
  /**
   * The ticket's stored log fits in one page: then reading it from the first event costs the
   * same single request as resuming from the cursor, and picks up edits and redactions too.
   */
  fitsInOnePage: boolean;
  /**
   * Nothing of the ticket is stored, not even rows marked deleted (attachments and thumbnails
   * hang on events): a read from the first event then has nothing to remove at its end.
   */
  empty: boolean;
}

export async function storedLog(db: Db, ticketId: number, pageSize: number): Promise<StoredLog> {
  const { rows } = await db.execute<{ live: number; empty: boolean }>(sql`
    select (select count(*)::int from (
              select 1 from zendesk.conversation_events where ticket_id = ${ticketId} and deleted_at is null limit ${pageSize + 1}
            ) stored) as live,
           not exists (select 1 from zendesk.conversation_events where ticket_id = ${ticketId}) as empty`);
  // A full page stored may be the first of several (a run that stopped after it): only a shorter
  // one is known to be the whole log.
  return { fitsInOnePage: rows[0].live < pageSize, empty: rows[0].empty };
}

/**
 * Synced tickets of a full page or more whose last full read is older than `olderThanDays` (or
 * never happened), oldest first: what the scheduled backfill queues with `full` so that edits and
 * redactions in old events reach Postgres. Shorter tickets are never due: every sync reads them
 * whole (storedLog). A ticket of exactly one full page is due: its syncs resume from the cursor.
 */
export async function ticketsDueForFullRead(db: Db, olderThanDays: number, limit: number, pageSize = MAX_PAGE_SIZE): Promise<DueTicket[]> {
  const { rows } = await db.execute<{ ticket_id: string; requests: number }>(sql`
    select ticket_id, events_synced / ${pageSize} + 1 as requests from zendesk.ticket_sync
     where ${dueForFullRead(olderThanDays, pageSize)}
     order by last_full_read_at nulls first, ticket_id
     limit ${limit}`);
  return rows.map((r) => ({ ticketId: Number(r.ticket_id), requests: Number(r.requests) }));
}

export interface DueTicket {
  ticketId: number;
  /** What its full read will cost: a request per page, and one more for a last page that is full. */
  requests: number;
}

/**
 * How many tickets are overdue for a full read (for `convlog status`), and of those, how many were
 * never read from their first event in one run (last_full_read_at is null: every run so far
 * resumed from a saved cursor), which `status` must not call "not for N days".
 */
export async function fullReadsOverdue(db: Db, olderThanDays: number, pageSize = MAX_PAGE_SIZE): Promise<{ tickets: number; neverReadWhole: number }> {
  const { rows } = await db.execute<{ tickets: number; never: number }>(sql`
    select count(*)::int as tickets, count(*) filter (where last_full_read_at is null)::int as never
      from zendesk.ticket_sync where ${dueForFullRead(olderThanDays, pageSize)}`);
  return { tickets: rows[0].tickets, neverReadWhole: rows[0].never };
}

/** The ticket_sync rows due for a full read: the one rule the sweep and `status` both count by. */
function dueForFullRead(olderThanDays: number, pageSize: number): SQL {
  return sql`status = 'synced' and events_synced >= ${pageSize}
       and (last_full_read_at is null or last_full_read_at < now() - make_interval(days => ${olderThanDays}))`;
}

/** Removes (or marks) the ticket's rows a full read did not return. Run it in the transaction that ends the run. */
export async function removeVanished(db: Executor, ticketId: number, seen: SeenRows, mode: OnDelete): Promise<Vanished> {
  const references = [...seen.references];
  const attachments = [...seen.attachments];
  const thumbnails = [...seen.thumbnails];
  const count = async (statement: ReturnType<typeof sql>) => (await db.execute(statement)).rowCount ?? 0;
  // A purge of the ticket (an export page's, say) takes the people its rows name, then its
  // tickets and ticket_sync rows, then its files and events: taken in that order here too, the
  // run's end waits for such a purge instead of deadlocking with it.
  if (mode === 'keep') {
    await lockTicketRows(db, [ticketId]);
    return {
      thumbnails: await count(sql`update zendesk.attachment_thumbnails set deleted_at = now(), updated_at = now()
        where ticket_id = ${ticketId} and deleted_at is null and ${notAmong(sql`id`, thumbnails, 'bigint')}`),
      attachments: await count(sql`update zendesk.attachments set deleted_at = now(), updated_at = now()
        where ticket_id = ${ticketId} and deleted_at is null and ${notAmong(sql`id`, attachments, 'bigint')}`),
      events: await count(sql`update zendesk.conversation_events set deleted_at = now(), updated_at = now()
        where ticket_id = ${ticketId} and deleted_at is null and ${notAmong(sql`reference`, references, 'text')}`),
    };
  }
  const { rows } = await db.execute<{ author_key: string }>(sql`
    select distinct author_key from zendesk.conversation_events
     where ticket_id = ${ticketId} and author_key is not null and ${notAmong(sql`reference`, references, 'text')}`);
  const people = rows.map((r) => r.author_key).sort();
  await lockPeople(db, people);
  await lockTicketRows(db, [ticketId]);
  const vanished = {
    thumbnails: await count(sql`delete from zendesk.attachment_thumbnails where ticket_id = ${ticketId} and ${notAmong(sql`id`, thumbnails, 'bigint')}`),
    attachments: await count(sql`delete from zendesk.attachments where ticket_id = ${ticketId} and ${notAmong(sql`id`, attachments, 'bigint')}`),
    events: await count(sql`delete from zendesk.conversation_events where ticket_id = ${ticketId} and ${notAmong(sql`reference`, references, 'text')}`),
  };
  await removeUnusedAuthors(db, people);
  return vanished;
}
