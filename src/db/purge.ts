// Removing what Zendesk no longer has. A ticket that is gone (a 404, the export, a webhook, an
// erasure request through `convlog purge`) loses its events, attachments, thumbnails and ticket
// row in one transaction, and ticket_sync keeps a tombstone saying when and how we learned it.
// Under CONVLOG_ON_DELETE=keep the rows stay, marked deleted_at, and the views skip them.
// Authors are personal data too: under purge, those the removed rows named and nothing else
// names any more go with them.
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './connection.ts';
import type { OnDelete } from '../config.ts';
import type { DeletedHow } from './schema.ts';
import { inTransaction } from './transaction.ts';
import { refreshTicketAnalytics } from './analytics.ts';
import { removePendingComments } from './pending-comments.ts';
import { asArray, idArray, type Executor } from './sql-values.ts';

export type { OnDelete };

export interface PurgeOptions {
  how: DeletedHow;
  /** purge (the default) removes the rows; keep marks them deleted. */
  mode?: OnDelete;
}

export interface PurgeResult {
  events: number;
  attachments: number;
  thumbnails: number;
  authors: number;
}

const REASONS: Record<DeletedHow, string> = {
  '404': 'Zendesk answered 404: the ticket was deleted or never existed',
  export: 'the incremental export reported the ticket deleted',
  'purge command': 'removed on request (convlog purge)',
};

// What became of the rows, after the reason: a tombstone under keep must not say they are gone.
const OUTCOME: Record<OnDelete, string> = {
  purge: '; its stored rows were removed',
  keep: '; its stored rows were kept, marked deleted (CONVLOG_ON_DELETE=keep)',
};

/** Removes (or marks) one ticket's rows and leaves its tombstone, in one transaction. */
export async function purgeTicket(db: Db, ticketId: number, options: PurgeOptions): Promise<PurgeResult> {
  const outcome = await purgeTickets(db, [ticketId], options);
  return outcome.removed;
}

export interface PurgeOutcome {
  removed: PurgeResult;
  /** Tickets queued or syncing, when the request was refused (then nothing changed). */
  refused: number[];
  /** Of the ids asked for, those that held rows (events, files, a ticket row, pending comments). */
  held: number[];
}

/**
 * Removes (or marks) the tickets' rows and leaves their tombstones, all in one transaction.
 * With `refuseActive`, a ticket that is queued or syncing refuses the whole request and nothing
 * changes: its run would write rows back, or record a status over the tombstone.
 */
export async function purgeTickets(
  db: Db,
  ticketIds: readonly number[],
  options: PurgeOptions & { refuseActive?: boolean },
): Promise<PurgeOutcome> {
  return inTransaction(db, (tx) => purgeTicketsIn(tx, ticketIds, options));
}

/** purgeTickets inside the caller's transaction `tx`, for work that must commit with it. */
export async function purgeTicketsIn(
  tx: Db,
  ticketIds: readonly number[],
  options: PurgeOptions & { refuseActive?: boolean },
): Promise<PurgeOutcome> {
  const unique = [...new Set(ticketIds)];
  const ids = idArray(unique);
  const mode = options.mode ?? 'purge';
  const removed: PurgeResult = { events: 0, attachments: 0, thumbnails: 0, authors: 0 };

  // The row locks make a worker's startRun wait for this transaction, so no run starts in between.
  const { rows: known } = await tx.execute<{ ticket_id: string; status: string; tombstone: boolean }>(sql`
    select ticket_id, status, deleted_at is not null as tombstone from zendesk.ticket_sync where ticket_id = any(${ids}) order by ticket_id for update`);
  const active = known.filter((r) => r.status === 'queued' || r.status === 'syncing').map((r) => Number(r.ticket_id));
  if (options.refuseActive && active.length > 0) return { removed, refused: active, held: [] };
  const held = await ticketsHoldingRows(tx, ids);
  // An id convlog never heard of (no ticket_sync row, no row) gets no tombstone: it would record
  // a removal that never happened, and would not keep a later sync from storing the ticket. Nor
  // is an erasure request that found nothing written over a tombstone already there: it would
  // replace how and when Zendesk's deletion was learned with a removal that never happened.
  const heard = new Set([...known.filter((r) => !(r.tombstone && options.how === 'purge command')).map((r) => Number(r.ticket_id)), ...held]);
  const tombstoned = idArray(unique.filter((id) => heard.has(id)));

  if (mode === 'purge') {
    const authors = await authorsOfTickets(tx, ids);
    removed.thumbnails = await affected(tx, sql`delete from zendesk.attachment_thumbnails where ticket_id = any(${ids})`);
    removed.attachments = await affected(tx, sql`delete from zendesk.attachments where ticket_id = any(${ids})`);
    removed.events = await affected(tx, sql`delete from zendesk.conversation_events where ticket_id = any(${ids})`);
    await tx.execute(sql`delete from zendesk.tickets where id = any(${ids})`);
    removed.authors = await removeUnusedAuthors(tx, authors);
  } else {
    removed.thumbnails = await affected(tx, sql`update zendesk.attachment_thumbnails set deleted_at = now(), updated_at = now() where ticket_id = any(${ids}) and deleted_at is null`);
    removed.attachments = await affected(tx, sql`update zendesk.attachments set deleted_at = now(), updated_at = now() where ticket_id = any(${ids}) and deleted_at is null`);
    removed.events = await affected(tx, sql`update zendesk.conversation_events set deleted_at = now(), updated_at = now() where ticket_id = any(${ids}) and deleted_at is null`);
  }
  // Under keep too: a pending comment has no deleted_at to mark, and the timeline would show it.
  await removePendingComments(tx, unique);
  await refreshTicketAnalytics(tx, unique);
  const reason = REASONS[options.how] + (options.how === 'purge command' ? '' : OUTCOME[mode]);
  // not_found, the status a 404 always had: a tombstone is a ticket convlog holds nothing current of.
  // The cursor goes, so a ticket that comes back (undeleted) is read again from its first event.
  await tx.execute(sql`
    insert into zendesk.ticket_sync as s (ticket_id, status, deleted_at, deleted_how, last_error, last_error_at, last_synced_at)
    select id, 'not_found', now(), ${options.how}, ${reason}, now(), now() from unnest(${tombstoned}) as id
    on conflict (ticket_id) do update set
      status = 'not_found', deleted_at = now(), deleted_how = excluded.deleted_how, after_cursor = null,
      events_synced = 0, last_error = excluded.last_error, last_error_at = now(), last_synced_at = now(), updated_at = now()`);
  return { removed, refused: [], held };
}

/** Of the tickets, those with a row in a table of theirs other than ticket_sync. */
async function ticketsHoldingRows(db: Executor, ids: SQL): Promise<number[]> {
  const { rows } = await db.execute<{ id: string }>(sql`
    select asked.id from unnest(${ids}) as asked(id)
     where exists (select 1 from zendesk.conversation_events e where e.ticket_id = asked.id)
        or exists (select 1 from zendesk.attachments a where a.ticket_id = asked.id)
        or exists (select 1 from zendesk.attachment_thumbnails th where th.ticket_id = asked.id)
        or exists (select 1 from zendesk.tickets t where t.id = asked.id)
        or exists (select 1 from zendesk.pending_comments p where p.ticket_id = asked.id)
     order by asked.id`);
  return rows.map((r) => Number(r.id));
}

async function affected(db: Executor, statement: SQL): Promise<number> {
  return (await db.execute(statement)).rowCount ?? 0;
}

/** The authors the tickets' rows name: who wrote their events, and their requester, submitter and assignee. */
async function authorsOfTickets(db: Executor, ids: SQL): Promise<string[]> {
  const { rows } = await db.execute<{ author_key: string }>(sql`
    select author_key from zendesk.conversation_events where ticket_id = any(${ids}) and author_key is not null
    union
    select 'support:' || person from zendesk.tickets t, unnest(array[t.requester_id, t.submitter_id, t.assignee_id]) as person
     where t.id = any(${ids}) and person is not null`);
  return rows.map((r) => r.author_key);
}

/**
 * Of `candidates`, removes the authors no stored event and no stored ticket (as requester,
 * submitter or assignee) names any more. Run after the rows that named them are gone.
 */
export async function removeUnusedAuthors(db: Executor, candidates: readonly string[]): Promise<number> {
  if (candidates.length === 0) return 0;
  return affected(
    db,
    sql`delete from zendesk.authors a
         where a.author_key = any(${asArray(candidates, 'text')})
           and not exists (select 1 from zendesk.conversation_events e where e.author_key = a.author_key)
           and (a.support_user_id is null or not exists (
                 select 1 from zendesk.tickets t
                  where t.requester_id = a.support_user_id or t.submitter_id = a.support_user_id or t.assignee_id = a.support_user_id))`,
  );
}
