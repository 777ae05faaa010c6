// A full read (the whole log from its first event) is the only moment convlog can tell that
// Zendesk dropped something: an event that vanished from the log, an attachment or thumbnail no
// longer listed. What the read saw is collected as it goes (the ticket's reference strings and
// file ids: small next to its events) and the rest is removed when it ends, under
// CONVLOG_ON_DELETE=keep too: that setting keeps a ticket in Zendesk's bin, which can come back,
// while an event or file gone from a live ticket's log (a redaction, a deleted comment) is erased
// in Zendesk for good.
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './connection.ts';
import { removeUnusedAuthors } from './purge.ts';
import { lockPeople, lockTicketRows } from './lock-order.ts';
import { asArray, notAmong, type Executor } from './sql-values.ts';
import { finishRun } from './ticket-status.ts';
import { inTransaction } from './transaction.ts';

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

/**
 * Ends a run that read the ticket from its first event (`run`: startRun's token), in one
 * transaction: locks the ticket's tickets and ticket_sync rows, removes its rows the read did not
 * return, marks the ticket synced (finishRun, told that the rows are locked: a second lock would
 * take a tickets row written meanwhile after ticket_sync), then removes the people only the
 * removed events named.
 *
 * Those people are taken last, and only those no other transaction holds (SKIP LOCKED): held from
 * the start, as a purge takes them, they kept every page of another ticket naming them (an agent
 * of hundreds of tickets) and serve's store of a ticket side-loading them waiting through the
 * refresh of this ticket's analyst rows. Waited for after this ticket's rows, they would deadlock
 * with a purge of the ticket, which holds them and waits for those rows. Whoever holds one
 * instead (a page naming them, another ticket's end removing their events too) is waited for
 * after the commit, in a transaction of the people alone, which then removes those nothing names.
 */
export async function endFullRead(db: Db, ticketId: number, seen: SeenRows, run: string, requests = 0): Promise<FullReadEnd> {
  let held: string[] = [];
  const ended = await inTransaction(db, async (tx) => {
    const { vanished, people } = await removeVanished(tx, ticketId, seen);
    const { eventsSynced } = await finishRun(tx, ticketId, { run, fullRead: true, ticketRowsLocked: true, requests });
    held = await removeFreedPeople(tx, people);
    return { eventsSynced, vanished };
  });
  if (held.length === 0) return ended;
  try {
    await inTransaction(db, async (tx) => {
      await lockPeople(tx, held);
      await removeUnusedAuthors(tx, held);
    });
    return ended;
  } catch (error) {
    // The run is synced and committed: failing it now would retry a finished ticket (and mark
    // it failed on the last attempt) while its retry, seeing nothing vanish, names no one.
    return { ...ended, peopleLeft: { count: held.length, error } };
  }
}

export interface FullReadEnd {
  eventsSynced: number;
  vanished: Vanished;
  /** The people the removal after the commit could not check (its transaction failed): they stay in authors. */
  peopleLeft?: { count: number; error: unknown };
}

/**
 * Removes the ticket's rows a full read did not return, holding its tickets and ticket_sync rows
 * first, as a purge of the ticket does before its files and events: the run's end then waits for
 * such a purge instead of deadlocking with it. Also returns the people the removed events named. The first part of endFullRead, in its transaction.
 */
export async function removeVanished(db: Executor, ticketId: number, seen: SeenRows): Promise<{ vanished: Vanished; people: string[] }> {
  const references = [...seen.references];
  const attachments = [...seen.attachments];
  const thumbnails = [...seen.thumbnails];
  const count = async (statement: ReturnType<typeof sql>) => (await db.execute(statement)).rowCount ?? 0;
  await lockTicketRows(db, [ticketId]);
  const removedThumbnails = await count(sql`delete from zendesk.attachment_thumbnails where ticket_id = ${ticketId} and ${notAmong(sql`id`, thumbnails, 'bigint')}`);
  const removedAttachments = await count(sql`delete from zendesk.attachments where ticket_id = ${ticketId} and ${notAmong(sql`id`, attachments, 'bigint')}`);
  const { rows } = await db.execute<{ author_key: string | null }>(
    sql`delete from zendesk.conversation_events where ticket_id = ${ticketId} and ${notAmong(sql`reference`, references, 'text')} returning author_key`,
  );
  const people = [...new Set(rows.flatMap((r) => (r.author_key === null ? [] : [r.author_key])))].sort();
  return { vanished: { thumbnails: removedThumbnails, attachments: removedAttachments, events: rows.length }, people };
}

/**
 * Of `people`, removes those nothing names any more among the ones no other transaction holds, and
 * returns the others that are still there: a page or a purge holds them, to be waited for later.
 */
async function removeFreedPeople(db: Executor, people: readonly string[]): Promise<string[]> {
  if (people.length === 0) return [];
  const { rows } = await db.execute<{ author_key: string; free: boolean }>(sql`
    with free as materialized (
      select author_key from zendesk.authors where author_key = any(${asArray(people, 'text')}) order by author_key for update skip locked)
    select a.author_key, a.author_key in (select author_key from free) as free
      from zendesk.authors a where a.author_key = any(${asArray(people, 'text')})`);
  // A statement of its own: its snapshot sees what a page that held one of them committed.
  await removeUnusedAuthors(db, rows.filter((r) => r.free).map((r) => r.author_key));
  return rows.filter((r) => !r.free).map((r) => r.author_key).sort();
}
