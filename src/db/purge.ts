// Removing what Zendesk no longer has. A ticket that is gone (a 404, the export, a webhook, an
// erasure request through `convlog purge`) loses its events, attachments, thumbnails and ticket
// row in one transaction, and ticket_sync keeps a tombstone saying when and how we learned it.
// Under CONVLOG_ON_DELETE=keep the rows stay, marked deleted_at, and the views skip them: but
// not a permanent deletion, which is how Zendesk erases data (GDPR requests and the like), and
// a copy outliving it would be a liability: its rows go under keep as under purge.
// Authors are personal data too: under purge, those the removed rows named and nothing else
// names any more go with them.
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from './connection.ts';
import type { OnDelete } from '../config.ts';
import type { DeletedHow } from './schema.ts';
import { inTransaction } from './transaction.ts';
import { refreshTicketAnalytics } from './analytics.ts';
import { lockedTicketSync, lockPeople, peopleNamedBy } from './lock-order.ts';
import { removePendingComments } from './pending-comments.ts';
import { asArray, idArray, type Executor } from './sql-values.ts';

export type { OnDelete };

export interface PurgeOptions {
  how: DeletedHow;
  /** purge (the default) removes the rows; keep marks them deleted. */
  mode?: OnDelete;
  /**
   * People (author keys) the tickets' rows named before the caller replaced them in the same
   * transaction: an export's deleted state may name nobody, or other people, than the row did.
   */
  formerPeople?: readonly string[];
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
  '404: permanently deleted': 'Zendesk answered 404 after a permanently_deleted webhook: the ticket was erased',
  'export: permanently deleted': 'the incremental export reported the ticket permanently deleted (scrubbed)',
};

/** Zendesk's erasures: their rows are removed whatever CONVLOG_ON_DELETE says. */
const PERMANENT: ReadonlySet<DeletedHow> = new Set(['404: permanently deleted', 'export: permanently deleted']);

// What became of the rows, after the reason: a tombstone under keep must not say they are gone,
// nor one of a ticket convlog stored nothing of (a mistyped id) that anything was removed.
const OUTCOME: Record<OnDelete | 'permanent' | 'none', string> = {
  purge: '; its stored rows were removed',
  keep: '; its stored rows were kept, marked deleted (CONVLOG_ON_DELETE=keep)',
  permanent: '; its stored rows were removed, whatever CONVLOG_ON_DELETE says',
  none: '; nothing of it was stored',
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
  /** The tickets removed as permanently deleted (their how, or a 404 after a permanently_deleted webhook). */
  permanent: number[];
  /** Set when the run given (`run`) is no longer the ticket's latest: then nothing changed. */
  takenOver?: true;
}

export interface PurgeRequest extends PurgeOptions {
  /** A ticket that is queued or syncing refuses the whole request, and nothing changes. */
  refuseActive?: boolean;
  /**
   * The token (startRun in src/db/ticket-status.ts) of the run whose 404 this is, for one
   * ticket: if another run of it has started since, nothing changes (`takenOver`).
   */
  run?: string;
}

/**
 * Removes (or marks) the tickets' rows and leaves their tombstones, all in one transaction.
 * With `refuseActive`, a ticket that is queued or syncing refuses the whole request and nothing
 * changes: its run would write rows back, or record a status over the tombstone. With `run`, a
 * run taken over changes nothing either: the newer run owns the ticket's status, and rows removed
 * without a tombstone would leave its cursor resuming past them, should the ticket be restored
 * before that run read it.
 */
export async function purgeTickets(db: Db, ticketIds: readonly number[], options: PurgeRequest): Promise<PurgeOutcome> {
  return inTransaction(db, (tx) => purgeTicketsIn(tx, ticketIds, options));
}

/** purgeTickets inside the caller's transaction `tx`, for work that must commit with it. */
export async function purgeTicketsIn(tx: Db, ticketIds: readonly number[], options: PurgeRequest): Promise<PurgeOutcome> {
  const unique = [...new Set(ticketIds)];
  const ids = idArray(unique);
  const removed: PurgeResult = { events: 0, attachments: 0, thumbnails: 0, authors: 0 };
  // Refused before any lock is taken, and again below under the locks (a run may start in
  // between): the purge would otherwise wait behind a run's page, which holds the people it
  // names, only to refuse once that page is stored.
  if (options.refuseActive) {
    const active = await activeTickets(tx, ids);
    if (active.length > 0) return { removed, refused: active, held: [], permanent: [] };
  }

  // The people the rows name, then the ticket rows, then ticket_sync, in the order an export
  // page's statement takes them: a page listing a ticket whose 404 was being purged deadlocked
  // with the purge, which took them the other way round.
  const people = [...new Set([...(await peopleNamedBy(tx, ids)), ...(options.formerPeople ?? [])])].sort();
  await lockPeople(tx, people);
  await tx.execute(sql`select from zendesk.tickets where id = any(${ids}) order by id for update`);
  // The row locks make a worker's startRun wait for this transaction, so no run starts in between.
  const { rows: known } = await tx.execute<{ ticket_id: string; status: string; tombstone: boolean; reported: boolean; of_run: boolean | null }>(sql`
    select ticket_id, status, deleted_at is not null as tombstone, permanent_deletion_reported_at is not null as reported,
           started_at = ${options.run ?? null}::timestamptz as of_run
      from zendesk.ticket_sync where ticket_id = any(${ids}) order by ticket_id for update`);
  // Under the row lock: a newer run's start being written is waited for, then seen.
  if (options.run !== undefined && !known.some((r) => r.of_run === true)) return { removed, refused: [], held: [], permanent: [], takenOver: true };
  const active = known.filter((r) => r.status === 'queued' || r.status === 'syncing').map((r) => Number(r.ticket_id));
  if (options.refuseActive && active.length > 0) return { removed, refused: active, held: [], permanent: [] };
  const holding = await ticketsHoldingRows(tx, ids);
  const held = holding.map((r) => r.id);
  const heldSet = new Set(held);
  // A ticket row alone says nothing of the conversation: an export page may have written it just now.
  const conversationHeld = new Set(holding.filter((r) => r.conversation).map((r) => r.id));
  // An id convlog never heard of (no ticket_sync row, no row) gets no tombstone: it would record
  // a removal that never happened, and would not keep a later sync from storing the ticket. Nor
  // is an erasure request that found nothing written over a tombstone already there: it would
  // replace how and when Zendesk's deletion was learned with a removal that never happened.
  const heard = new Set([...known.filter((r) => !(r.tombstone && options.how === 'purge command')).map((r) => Number(r.ticket_id)), ...held]);

  // A 404 does not say which deletion it was; a permanently_deleted webhook before it did
  // (reportPermanentDeletion), and the 404 confirms it: a signed delivery alone removes nothing.
  const reported = new Set(options.how === '404' ? known.filter((r) => r.reported).map((r) => Number(r.ticket_id)) : []);
  const groups = [
    { how: options.how, ids: unique.filter((id) => !reported.has(id)) },
    { how: '404: permanently deleted' as const, ids: unique.filter((id) => reported.has(id)) },
  ].filter((group) => group.ids.length > 0);
  const modeOf = (how: DeletedHow): OnDelete => (PERMANENT.has(how) ? 'purge' : (options.mode ?? 'purge'));
  for (const group of groups) add(removed, await removeRows(tx, idArray(group.ids), modeOf(group.how), people));
  // Under keep too: a pending comment has no deleted_at to mark, and the timeline would show it.
  await removePendingComments(tx, unique);
  // Locked above already, more strongly than the refresh would lock them.
  await refreshTicketAnalytics(tx, unique, { lockTicketRows: false });
  for (const group of groups) {
    const mode = modeOf(group.how);
    // A purge on request's reason ("removed on request") already says what became of the rows.
    const reason = (outcome: string) => REASONS[group.how] + (group.how === 'purge command' ? '' : outcome);
    // Conversation rows this call removed make the tombstone's account of them (and of how) the true one.
    const removedNow = mode === 'purge' ? group.ids.filter((id) => conversationHeld.has(id)) : [];
    const told = group.ids.filter((id) => heard.has(id));
    await tombstone(tx, told.filter((id) => heldSet.has(id)), group.how, reason(OUTCOME[PERMANENT.has(group.how) ? 'permanent' : mode]), removedNow);
    await tombstone(tx, told.filter((id) => !heldSet.has(id)), group.how, reason(OUTCOME.none), []);
  }
  const permanent = groups.filter((group) => PERMANENT.has(group.how)).flatMap((group) => group.ids);
  return { removed, refused: [], held, permanent };
}

/**
 * Removes the tickets' events, files, ticket rows and, of `people`, the authors nothing else
 * names any more; or, under keep, marks the events and files.
 */
async function removeRows(tx: Db, ids: SQL, mode: OnDelete, people: readonly string[]): Promise<PurgeResult> {
  if (mode === 'keep') {
    // The ticket row too, as the export's deleted state would have it: a query of the tickets
    // table (NOT deleted) counted a ticket a 404 had tombstoned as open. Zendesk's own times stay.
    await tx.execute(sql`update zendesk.tickets set status = 'deleted', deleted = true, synced_at = now() where id = any(${ids}) and not deleted`);
    return {
      thumbnails: await affected(tx, sql`update zendesk.attachment_thumbnails set deleted_at = now(), updated_at = now() where ticket_id = any(${ids}) and deleted_at is null`),
      attachments: await affected(tx, sql`update zendesk.attachments set deleted_at = now(), updated_at = now() where ticket_id = any(${ids}) and deleted_at is null`),
      events: await affected(tx, sql`update zendesk.conversation_events set deleted_at = now(), updated_at = now() where ticket_id = any(${ids}) and deleted_at is null`),
      authors: 0,
    };
  }
  const thumbnails = await affected(tx, sql`delete from zendesk.attachment_thumbnails where ticket_id = any(${ids})`);
  const attachments = await affected(tx, sql`delete from zendesk.attachments where ticket_id = any(${ids})`);
  const events = await affected(tx, sql`delete from zendesk.conversation_events where ticket_id = any(${ids})`);
  await tx.execute(sql`delete from zendesk.tickets where id = any(${ids})`);
  return { thumbnails, attachments, events, authors: await removeUnusedAuthors(tx, people) };
}

function add(total: PurgeResult, part: PurgeResult): void {
  total.events += part.events;
  total.attachments += part.attachments;
  total.thumbnails += part.thumbnails;
  total.authors += part.authors;
}

/**
 * not_found, the status a 404 always had: a tombstone is a ticket convlog holds nothing current
 * of. The cursor goes, so a ticket that comes back (undeleted) is read again from its first
 * event.
 *
 * A tombstone already there tells how the deletion was first learned, and a later account of
 * the same deletion (a webhook's job meeting the 404 after the export's purge, a backfill reading
 * the deletion again) keeps that; only rows removed now (`removedNow`) or an erasure learned after
 * a move to the bin rewrite it. `deleted_at` is the latest purge all the same: a read by id asked
 * for before it is not stored (ASKED_BEFORE_TOMBSTONE, src/db/tickets.ts), and a ticket restored
 * and deleted again before any sync must not take a read from between the two.
 *
 * An erasure notes itself (now) as a permanently_deleted webhook would: a run that began before
 * it and stored its last page after the purge ends as that erasure's 404 would (finishRun refuses
 * it, DeletedDuringRun), erasing them again whatever CONVLOG_ON_DELETE says, and the note stays for
 * the 404 of the run queued after it. Other rows removed settle the note; rows only marked leave
 * it for the 404 its sync is still to meet.
 */
async function tombstone(tx: Db, ticketIds: number[], how: DeletedHow, reason: string, removedNow: readonly number[]): Promise<void> {
  if (ticketIds.length === 0) return;
  const permanent = PERMANENT.has(how);
  const permanentHows = asArray([...PERMANENT], 'text');
  const removed = idArray(removedNow);
  const rewrite = sql`(s.deleted_at is null or s.ticket_id = any(${removed})
    or (${permanent} and coalesce(s.deleted_how, '') <> all(${permanentHows})))`;
  await tx.execute(sql`
    insert into zendesk.ticket_sync as s (ticket_id, status, deleted_at, deleted_how, last_error, last_error_at, last_synced_at, permanent_deletion_reported_at)
    select id, 'not_found', now(), ${how}, ${reason}, now(), now(), case when ${permanent} then now() end from unnest(${idArray(ticketIds)}) as id order by id
    on conflict (ticket_id) do update set
      status = 'not_found', after_cursor = null, events_synced = 0, last_synced_at = now(), updated_at = now(),
      deleted_at = now(),
      deleted_how = case when ${rewrite} then excluded.deleted_how else s.deleted_how end,
      last_error = case when ${rewrite} then excluded.last_error else s.last_error end,
      last_error_at = case when ${rewrite} then now() else s.last_error_at end,
      permanent_deletion_reported_at = case
        when ${permanent} then now()
        when s.ticket_id = any(${removed}) then null
        else s.permanent_deletion_reported_at end`);
}

/**
 * Records that a permanently_deleted webhook named these tickets, before their sync is queued:
 * the 404 that sync meets then erases their rows whatever CONVLOG_ON_DELETE says. It removes
 * nothing itself (a signed request is all it takes to get here), and a sync that began after it
 * and was served the log clears it (finishRun). Only tickets with a ticket_sync row are marked:
 * one without (a ticket row a backfill stored, then taken out of the queue before its first sync)
 * gets its row from serve's enqueue, with the report (markQueued), and the intake reports again
 * after it, for a row another process made meanwhile.
 */
export async function reportPermanentDeletion(db: Db, ticketIds: readonly number[], options: { unreportedOnly?: boolean } = {}): Promise<void> {
  if (ticketIds.length === 0) return;
  // unreportedOnly (the intake's second report): a report made a moment ago keeps its time, which
  // a run that began in between must not see as newer than itself.
  const condition = options.unreportedOnly ? sql`permanent_deletion_reported_at is null` : undefined;
  await db.execute(sql`
    with ${lockedTicketSync(idArray([...new Set(ticketIds)]), condition)}
    update zendesk.ticket_sync s set permanent_deletion_reported_at = now(), updated_at = now()
      from locked where s.ticket_id = locked.ticket_id`);
}

/** Of the tickets, those queued or syncing, as committed (no lock taken). */
async function activeTickets(db: Executor, ids: SQL): Promise<number[]> {
  const { rows } = await db.execute<{ ticket_id: string }>(sql`
    select ticket_id from zendesk.ticket_sync where ticket_id = any(${ids}) and status in ('queued', 'syncing') order by ticket_id`);
  return rows.map((r) => Number(r.ticket_id));
}

/**
 * Of the tickets, those with a row in a table of theirs other than ticket_sync; `conversation`:
 * one of them is an event, a file or a pending comment, not only the ticket row.
 */
async function ticketsHoldingRows(db: Executor, ids: SQL): Promise<{ id: number; conversation: boolean }[]> {
  const { rows } = await db.execute<{ id: string; conversation: boolean }>(sql`
    select id, conversation from (
      select asked.id,
             exists (select 1 from zendesk.conversation_events e where e.ticket_id = asked.id)
               or exists (select 1 from zendesk.attachments a where a.ticket_id = asked.id)
               or exists (select 1 from zendesk.attachment_thumbnails th where th.ticket_id = asked.id)
               or exists (select 1 from zendesk.pending_comments p where p.ticket_id = asked.id) as conversation,
             exists (select 1 from zendesk.tickets t where t.id = asked.id) as ticket
        from unnest(${ids}) as asked(id)) held
     where conversation or ticket
     order by id`);
  return rows.map((r) => ({ id: Number(r.id), conversation: r.conversation }));
}

async function affected(db: Executor, statement: SQL): Promise<number> {
  return (await db.execute(statement)).rowCount ?? 0;
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
