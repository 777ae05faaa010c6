// Comments a webhook told us of, kept until the conversation log confirms them. `serve` writes
// them as it accepts a ticket.comment_added webhook, so conversation_timeline shows the comment
// within the request (the log, read under a budget of 100 requests a minute, may take much
// longer); the ticket's next sync clears them in the transaction that marks it synced.
import { sql } from 'drizzle-orm';
import { refusedValue } from '../errors/outcome.ts';
import { lockedTicketSync } from './lock-order.ts';
import { idArray, type Executor } from './sql-values.ts';

export interface PendingComment {
  ticketId: number;
  /** Zendesk's comment id as the webhook gave it. */
  commentId: string;
  body: string;
  isPublic: boolean | null;
  authorZendeskId: number | null;
  authorName: string | null;
  authorIsStaff: boolean | null;
  /** The webhook's `time`, ISO 8601. */
  writtenAt: string;
  webhookEventId: string | null;
  /** event.comment as received (made safe for Postgres). */
  raw: Record<string, unknown>;
}

/**
 * Records comments in one statement. A comment already pending (Zendesk sent the same comment
 * in two events, or a delivery retried after a failed enqueue) keeps its first row: its
 * received_at must stay the earliest, so that the first sync that started after it clears it.
 * A comment written no later than a redaction already recorded for its ticket (recordRedactions)
 * is left out: it may be the text redacted. So is one written no later than its ticket's latest
 * tombstone: a late delivery of a deleted ticket's comment would show until the sync it queues
 * met the 404 (one written after is a restored ticket's, and shown; the sync reads either).
 */
export async function addPendingComments(db: Executor, comments: readonly PendingComment[]): Promise<number> {
  if (comments.length === 0) return 0;
  // One jsonb parameter holds every row, whatever the batch size (no parameter limit to meet).
  const rows = JSON.stringify(comments);
  const result = await db.execute(sql`
    insert into zendesk.pending_comments
      (ticket_id, comment_id, body, is_public, author_zendesk_id, author_name, author_is_staff, written_at, webhook_event_id, raw)
    select "ticketId", "commentId", body, "isPublic", "authorZendeskId", "authorName", "authorIsStaff", "writtenAt", "webhookEventId", raw
      from jsonb_to_recordset(${rows}::jsonb) as r("ticketId" bigint, "commentId" text, body text, "isPublic" boolean, "authorZendeskId" bigint,
           "authorName" text, "authorIsStaff" boolean, "writtenAt" timestamptz, "webhookEventId" text, raw jsonb)
     where not exists (
       select 1 from zendesk.ticket_sync s
        where s.ticket_id = r."ticketId"
          and (s.redacted_at >= r."writtenAt" or s.deleted_at >= r."writtenAt"))
     -- In key order: a row waits for another batch's uncommitted row of the same comment.
     order by "ticketId", "commentId"
    on conflict (ticket_id, comment_id) do nothing`);
  return result.rowCount ?? 0;
}

/** A comment Postgres refused, with its SQLSTATE (never its message: that may quote the comment). */
export interface RefusedComment {
  comment: PendingComment;
  sqlstate: string;
}

/**
 * addPendingComments, except that a comment Postgres refuses a value of (refusedValue: SQLSTATE
 * class 22, a value out of range, say, or 23, a constraint) is left out rather than failing every
 * other comment of the batch with it. Nothing is lost: the caller logs each one left out, and
 * queues its ticket all the same, whose sync stores the comment from the conversation log (a
 * pending comment is only its preview). The table's one key conflict is taken by ON CONFLICT,
 * and commentOfEvent gives every NOT NULL column a value, so no class 23 is expected today.
 * One statement as long as none is refused; then one per comment, to find the refused ones.
 * Any other failure (a lost connection, a missing table) is thrown as it is.
 */
export async function addPendingCommentsSkippingRefused(db: Executor, comments: readonly PendingComment[]): Promise<RefusedComment[]> {
  try {
    await addPendingComments(db, comments);
    return [];
  } catch (error) {
    if (refusedValue(error) === undefined) throw error;
  }
  const refused: RefusedComment[] = [];
  for (const comment of comments) {
    try {
      await addPendingComments(db, [comment]);
    } catch (error) {
      const sqlstate = refusedValue(error);
      if (sqlstate === undefined) throw error;
      refused.push({ comment, sqlstate });
    }
  }
  return refused;
}

// Whether a pending comment `p` is a stored event now: the rule by which conversation_timeline
// hides it (migrations/0012_pending_comments.sql). Which id a webhook gives is not documented, so
// a live event of its ticket with the comment's id, or with zen:ticket_event:<id> as its
// reference, counts.
const storedAsEvent = sql`(exists (
    select 1 from zendesk.conversation_events s
     where s.ticket_id = p.ticket_id and s.event_id = p.comment_id and s.deleted_at is null)
  or exists (
    select 1 from zendesk.conversation_events s
     where s.reference = 'zen:ticket_event:' || p.comment_id and s.ticket_id = p.ticket_id and s.deleted_at is null))`;

/**
 * Deletes the ticket's pending comments that its finishing run has read: those received before
 * the run started. A webhook is sent after its comment exists in Zendesk, and the run's first
 * request is sent after `started_at`, so the read holds every comment received earlier (a run
 * resumed from a cursor that returned nothing new reads from the first event first:
 * awaitsUnreadComment). One received later may or may not be in it; it stays pending (the view
 * hides it if its id is a stored event's) until the next sync, which its webhook asked for. By
 * time, not by id: which id a webhook gives is undocumented, and a comment matched by neither
 * would stay shown for good. Both times are the database's clock (received_at's default,
 * startRun's now()). Call inside the transaction that marks the ticket synced.
 */
export async function clearConfirmedComments(db: Executor, ticketId: number): Promise<number> {
  const result = await db.execute(sql`
    delete from zendesk.pending_comments p
     using zendesk.ticket_sync s
     where p.ticket_id = ${ticketId} and s.ticket_id = p.ticket_id and p.received_at < s.started_at`);
  return result.rowCount ?? 0;
}

/**
 * Whether the ticket has a pending comment its running run should have read, matched by no
 * stored event: received before the run started, and after the ticket's last read from the
 * first event began (finishRun records its run's started_at), since a comment that read missed
 * as well may not be in the log yet, and reading the whole ticket on every sync would not make
 * it appear sooner. Asked only of a resumed run that stored nothing new (src/sync/sync-ticket.ts).
 */
export async function awaitsUnreadComment(db: Executor, ticketId: number): Promise<boolean> {
  const { rows } = await db.execute<{ unread: boolean }>(sql`
    select exists (
      select 1 from zendesk.pending_comments p
        join zendesk.ticket_sync t on t.ticket_id = p.ticket_id
       where p.ticket_id = ${ticketId} and p.received_at < t.started_at
         and (t.last_full_read_at is null or p.received_at >= t.last_full_read_at)
         and not ${storedAsEvent}) as unread`);
  return rows[0]?.unread === true;
}

/**
 * Remembers, per ticket, the latest redaction (or comment made private) a webhook told of, by the
 * webhook's time (Zendesk's clock, as a comment's written_at), or now when it gave none. Only
 * tickets with a status row: the enqueue that precedes this call makes one.
 */
export async function recordRedactions(db: Executor, redactions: readonly { ticketId: number; at: string | null }[]): Promise<void> {
  if (redactions.length === 0) return;
  await db.execute(sql`
    with ${lockedTicketSync(idArray(redactions.map((r) => r.ticketId)))}
    update zendesk.ticket_sync s
       set redacted_at = greatest(s.redacted_at, r.at), updated_at = now()
      from locked
      -- A redaction that gave no time is now: max() alone would skip it for an older one beside it.
      join (select "ticketId" as ticket_id, max(coalesce(at, now())) as at
              from jsonb_to_recordset(${JSON.stringify(redactions)}::jsonb) as x("ticketId" bigint, at timestamptz)
             group by "ticketId") r on r.ticket_id = locked.ticket_id
     where s.ticket_id = locked.ticket_id`);
}

/** Deletes every pending comment of the tickets (a purge: nothing of theirs may stay). */
export async function removePendingComments(db: Executor, ticketIds: readonly number[]): Promise<number> {
  if (ticketIds.length === 0) return 0;
  const result = await db.execute(sql`delete from zendesk.pending_comments where ticket_id = any(${idArray(ticketIds)})`);
  return result.rowCount ?? 0;
}
