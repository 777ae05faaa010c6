// Every write of the ticket-context tables (tickets, groups, brands, organizations) lives here;
// the reads that find what is missing, in src/db/missing-context.ts. A page of rows is written in ONE statement of data-modifying CTEs, each table's rows
// arriving as one jsonb array (jsonb-rows.ts), like store-page.ts; an export page's rows commit in that same
// statement with the export position, so a crash leaves both or neither.
//
// Which state wins: a ticket row is replaced only by a state at least as recent (the export's
// generated_timestamp, else updated_at, for a row read by id) and different, so an older export
// page read again never undoes a newer one; a deleted state, also only by one newer than the
// start of the last run Zendesk served the log to (STALE_DELETION); a read by id stores none
// (SKIPPED_BY_ID). The deletions recorded are the ones the backfill purges: one rule for the row,
// the tombstone and the purge. Groups, brands and organizations are replaced by a
// different record unless it is older by its own updated_at. Side-loaded users fill `authors`
// the way conversation-log pages do: a field the record lacks never erases a known one; and a
// user record older by its own updated_at than the one last stored changes nothing.
import type { PgTable } from 'drizzle-orm/pg-core';
import { clientOf, type Db } from './connection.ts';
import { inputColumns, insertRows, quoted, recordset, setAll } from './jsonb-rows.ts';
import { authors, brands, groups, organizations, tickets, type AuthorRow, type BrandRow, type GroupRow, type OrganizationRow, type TicketRow } from './schema.ts';
import { personAssignments, personChanges } from './author-fields.ts';
import { lockPeople, lockTicketRows, peopleNamedBy } from './lock-order.ts';
import { idArray } from './sql-values.ts';
import { EXPORT_POSITION_KEY, type ExportPosition } from './sync-state.ts';

/** The rows of a page of ticket context (src/sync/map-ticket.ts makes them). */
export interface ContextRows {
  tickets: TicketRow[];
  /** Side-loaded users, as `support:<id>` authors. */
  authors: AuthorRow[];
  groups: GroupRow[];
  organizations: OrganizationRow[];
  brands: BrandRow[];
}

export interface StoredContext {
  /** Rows inserted or replaced by a newer state; unchanged re-reads count nothing. */
  tickets: number;
  authors: number;
  groups: number;
  organizations: number;
  brands: number;
  /** Deleted tickets recorded as not_found in ticket_sync. */
  deleted: number;
  /** Their ids: the deletions newer than anything stored, which the caller purges (or marks). */
  deletedIds: number[];
  /**
   * The people (author keys) their rows named as requester, submitter or assignee before this
   * statement replaced them: a scrubbed state names nobody, and the purge must still find them.
   */
  formerPeople: string[];
}

/** The reason ticket_sync gives for a ticket the export reported deleted. */
export const DELETED_REASON = 'deleted in Zendesk (reported by the incremental ticket export)';

// A deleted state older than a log Zendesk served is stale: the ticket was restored since (the
// row that said so may be gone: finishRun removes a deleted row). The run must have started a
// minute after that state, as generated_timestamp is whole seconds and the clocks differ: a run
// that read the log just before the deletion must not count (the export's deletion wins then).
const STALE_DELETION = `r."deleted" and exists (
      select from zendesk.ticket_sync s
       where s.ticket_id = r."id" and s.status = 'synced'
         and s.started_at > coalesce(r."generatedTimestamp", r."updatedAt") + interval '1 minute')`;

// A read by id asked for before the ticket's tombstone was written, and stored after it: the
// ticket was deleted while the answer was on its way, and putting its row back would leave a
// deleted ticket's row that nothing removes. A read asked for after the tombstone (a restored
// ticket, one queued again after a purge) is stored. $7: when the read was asked for, or null.
// An export page needs no such check: a later page carries the deletion.
const ASKED_BEFORE_TOMBSTONE = `exists (
      select from zendesk.ticket_sync s where s.ticket_id = r."id" and s.deleted_at > $7::timestamptz)`;

// A read by id stores no deleted state: Zendesk's tickets API leaves deleted tickets out, and
// should one come, the sync the read is made for meets the ticket's 404, which removes (or marks)
// its rows and leaves its tombstone. Stored here, it marked the row and the tombstone and removed
// nothing: the ticket left ticket_conversations while every other view still counted it.
const SKIPPED_BY_ID = `(r."deleted" or (${ASKED_BEFORE_TOMBSTONE}))`;

// The people a ticket the statement stores no live state of names (requester, submitter,
// assignee: those its purge removed, or removes, when nothing else named them) and no other
// ticket of the read does: the answer's side-loaded users would otherwise bring them back into
// authors, for good. Of a read by id, the tickets SKIPPED_BY_ID skips; of an export page, its
// deleted tickets, whether their deletion is new (the caller purges them), recorded already (a
// page read again after a 404's purge) or stale.
const peopleOfTickets = (dropped: string, whose: boolean) => `
    select 'support:' || person from jsonb_to_recordset($2::jsonb) as r("id" bigint, "deleted" boolean, "requesterId" bigint, "submitterId" bigint, "assigneeId" bigint),
           unnest(array[r."requesterId", r."submitterId", r."assigneeId"]) as person
     where person is not null and ${whose ? '' : 'not '}(${dropped})`;
const peopleOfDroppedTickets = (dropped: string) => `dropped_people (author_key) as (${peopleOfTickets(dropped, true)}
    except${peopleOfTickets(dropped, false)}
),`;

// A deletion the ticket's tombstone already records, read again (a backfill from an earlier
// time, a page read twice): the time Zendesk gives the state is not after the tombstone's. Purged,
// the ticket has no row to compare the page's with: stored, the state was counted, recorded and
// purged again at each re-read, its tombstone's deleted_at moving each time. A ticket restored
// and deleted again since carries a later time, and is recorded; a row kept (keep) is compared
// by the upsert as any other. A scrubbed state (isScrubbed, src/sync/map-ticket.ts) of a ticket
// whose events are still stored is recorded only by an erasure's tombstone: after a 404 that marked
// them under keep (a ticket with no row: queued by id alone), Zendesk's scrub comes before that
// 404, and was skipped by every backfill. One whose rows are gone already changes nothing.
const DELETION_RECORDED = `r."deleted" and not exists (select from zendesk.tickets t0 where t0.id = r."id") and exists (
      select from zendesk.ticket_sync s
       where s.ticket_id = r."id" and s.status = 'not_found' and s.deleted_at is not null
         and coalesce(r."generatedTimestamp", r."updatedAt") <= s.deleted_at
         and (not (r."status" = 'deleted' and r."subject" = 'SCRUBBED') or s.deleted_how in ('404: permanently deleted', 'export: permanently deleted')
           or not exists (select from zendesk.conversation_events e where e.ticket_id = r."id")))`;

function upsertTickets(param: string, byId: boolean): string {
  const fresh = `not (${STALE_DELETION}) and not (${DELETION_RECORDED})`;
  const skipped = byId ? `${fresh} and not ${SKIPPED_BY_ID}` : fresh;
  const { columns, sql } = insertRows(tickets, 'tickets', param, { key: 'id', name: 'id', type: 'bigint' }, skipped);
  return `${sql}
  on conflict (id) do update set ${[...setAll(columns, 'id'), 'synced_at = now()'].join(', ')}
  where t.raw is distinct from excluded.raw
    and (coalesce(t.generated_timestamp, t.updated_at) is null
      or coalesce(excluded.generated_timestamp, excluded.updated_at) >= coalesce(t.generated_timestamp, t.updated_at))
  returning t.id, t.deleted`;
}

function upsertRecords(table: PgTable, tableName: string, param: string): string {
  const { columns, sql } = insertRows(table, tableName, param, { key: 'id', name: 'id', type: 'bigint' });
  return `${sql}
  on conflict (id) do update set ${[...setAll(columns, 'id'), 'synced_at = now()'].join(', ')}
  where t.raw is distinct from excluded.raw
    and coalesce(excluded.updated_at, 'infinity') >= coalesce(t.updated_at, '-infinity')
  returning 1`;
}

const AUTHOR_COLUMNS = inputColumns(authors);
// A record changed (updated_at) before the event the person's type, name and avatar were taken
// from (written_at, src/db/store-page.ts) only fills what the row lacks, whichever of the two was
// stored first (src/db/author-fields.ts).
const RECORD_IS_NEWER = `(a.written_at is null or excluded.user_updated_at is null or excluded.user_updated_at > a.written_at)`;
/** Whether the record tells something new: a field it has that differs from the row's. */
const AUTHOR_CHANGED = `(${personChanges('a', (f) => `excluded.${f}`, RECORD_IS_NEWER).join(' or ')})`;

// $1 authors, $2 tickets, $3 groups, $4 organizations, $5 brands (jsonb arrays), $6 the
// deleted tickets' reason; then, for a read by id, $7 when it was asked for, or for an export
// page $7 and $8, the position's key and value.
function contextStatement(kind: 'byId' | 'export'): string {
  const byId = kind === 'byId';
  return `
with ${peopleOfDroppedTickets(byId ? SKIPPED_BY_ID : 'r."deleted"')}
-- Read before the upsert below replaces the rows (every part of the statement sees the same snapshot).
people_before (ticket_id, author_key) as (
  select t.id, 'support:' || person
    from zendesk.tickets t
    join jsonb_to_recordset($2::jsonb) as r("id" bigint, "deleted" boolean) on r."id" = t.id and r."deleted"
    cross join lateral unnest(array[t.requester_id, t.submitter_id, t.assignee_id]) as person
   where person is not null
),
-- The side-loaded people Postgres has, then the tickets rows, before the people new to it are
-- inserted (src/db/lock-order.ts): a page that lists a ticket deleted holds its rows when it
-- inserts those, so a read by id inserting one first and then waiting for the row deadlocked with
-- it. The modes the upserts below take (neither changes a key); the select list runs these first.
people_held as (
  select 1 from zendesk.authors a
   where a.author_key in (select r."authorKey" from jsonb_to_recordset($1::jsonb) as r("authorKey" text)
     where r."authorKey" not in (select author_key from dropped_people))
   order by a.author_key
   for no key update
),
tickets_held as (
  select 1 from zendesk.tickets t
   where t.id in (select r."id" from jsonb_to_recordset($2::jsonb) as r("id" bigint))
   order by t.id
   for no key update
),
authors_written as (
  insert into zendesk.authors as a (${AUTHOR_COLUMNS.map((c) => quoted(c.name)).join(', ')})
  select ${AUTHOR_COLUMNS.map((c) => `r.${quoted(c.key)}`).join(', ')}
    from ${recordset('$1', AUTHOR_COLUMNS)}
   where r."authorKey" not in (select author_key from dropped_people)
   order by r."authorKey"
  on conflict (author_key) do update set
    ${personAssignments(RECORD_IS_NEWER).join(',\n    ')},
    user_updated_at = coalesce(excluded.user_updated_at, a.user_updated_at),
    updated_at = case when ${AUTHOR_CHANGED} then now() else a.updated_at end
  -- A user record older by its own updated_at than the one stored (a read answered after a newer
  -- one) changes nothing; a newer one is written, if only to record its time.
  where (excluded.user_updated_at is null or a.user_updated_at is null or excluded.user_updated_at >= a.user_updated_at)
    and (${AUTHOR_CHANGED}
      or excluded.user_updated_at > a.user_updated_at
      or (excluded.user_updated_at is not null and a.user_updated_at is null))
  returning 1
),
tickets_written as (
  ${upsertTickets('$2', byId)}
),
groups_written as (
  ${upsertRecords(groups, 'groups', '$3')}
),
organizations_written as (
  ${upsertRecords(organizations, 'organizations', '$4')}
),
brands_written as (
  ${upsertRecords(brands, 'brands', '$5')}
),
-- Only a deletion that is the newest state stored: an older page read again says nothing. The
-- caller purges (or marks) exactly these tickets. A run going on may have read its last page
-- before the deletion: it ends as the deletion's 404 would (DeletedDuringRun, finishRun), and,
-- marked, its worker queues it again (requestSyncAgain).
-- A tombstone already there (a 404 came first, or an earlier backfill) keeps its reason.
deleted_recorded as (
  insert into zendesk.ticket_sync as s (ticket_id, status, last_error, last_error_at, last_synced_at)
  select id, 'not_found', $6, now(), now() from tickets_written where deleted order by id
  on conflict (ticket_id) do update set
    status = 'not_found', last_synced_at = now(), updated_at = now(),
    last_error = case when s.deleted_at is null then excluded.last_error else s.last_error end,
    last_error_at = case when s.deleted_at is null then now() else s.last_error_at end,
    sync_again_at = case when s.status = 'syncing' then clock_timestamp() else s.sync_again_at end
  returning s.ticket_id
)${
    byId
      ? ''
      : `,
position_saved as (
  insert into convlog.sync_state (key, value) values ($7, $8::jsonb)
  on conflict (key) do update set value = excluded.value, updated_at = now()
  returning 1
)`
  }
select (select count(*) from people_held)::int as people_held,
       (select count(*) from tickets_held)::int as tickets_held,
       (select count(*) from authors_written)::int as authors,
       (select count(*) from tickets_written)::int as tickets,
       (select count(*) from groups_written)::int as groups,
       (select count(*) from organizations_written)::int as organizations,
       (select count(*) from brands_written)::int as brands,
       (select count(*) from deleted_recorded)::int as deleted,
       array(select ticket_id::text from deleted_recorded order by 1) as "deletedIds",
       array(select distinct author_key from people_before where ticket_id in (select ticket_id from deleted_recorded) order by 1) as "formerPeople"`;
}

const STORE_CONTEXT = contextStatement('byId');
const SAVE_EXPORT_PAGE = contextStatement('export');

async function run(db: Db, name: string, text: string, rows: Partial<ContextRows>, extra: unknown[]): Promise<StoredContext> {
  const client = clientOf(db);
  const result = await client.query<StoredContext>({
    name,
    text,
    values: [
      JSON.stringify(rows.authors ?? []),
      JSON.stringify(rows.tickets ?? []),
      JSON.stringify(rows.groups ?? []),
      JSON.stringify(rows.organizations ?? []),
      JSON.stringify(rows.brands ?? []),
      DELETED_REASON,
      ...extra,
    ],
  });
  const { people_held: _people, tickets_held: _tickets, ...row } = result.rows[0] as StoredContext & { deletedIds: string[]; people_held: number; tickets_held: number };
  return { ...row, deletedIds: row.deletedIds.map(Number) };
}

/**
 * Stores tickets read by id (show_many) with their side-loads, or a groups/brands/organizations
 * list. `askedAt`, when the read was asked for: a ticket whose tombstone is newer keeps no row.
 */
export function storeTicketContext(db: Db, rows: Partial<ContextRows>, options: { askedAt?: Date | string } = {}): Promise<StoredContext> {
  const { askedAt } = options;
  return run(db, 'convlog_store_ticket_context', STORE_CONTEXT, rows, [askedAt instanceof Date ? askedAt.toISOString() : (askedAt ?? null)]);
}

/**
 * Stores one export page's tickets and side-loads and saves the export position in the same
 * statement: after a crash, the next run resumes from the last page whose rows are stored.
 */
export async function saveExportPage(db: Db, rows: Partial<ContextRows>, position: Omit<ExportPosition, 'savedAt'>): Promise<StoredContext> {
  // The purge of a deleted ticket, later in the caller's transaction, locks the people its rows
  // name: taken with those side-loaded in one pass now, before the tickets rows (src/db/lock-order.ts),
  // not after them, where a run's page naming one of them and a side-loaded agent deadlocked with it.
  // Then its tickets and ticket_sync rows, before the statement inserts the side-loaded people new
  // to Postgres (which cannot be locked before): a run's page of the ticket holds ticket_sync and
  // inserts the people it names after it, and waited for such a person while this statement,
  // holding them, waited for ticket_sync to record the deletion.
  const deleted = (rows.tickets ?? []).filter((t) => t.deleted).map((t) => t.id);
  if (deleted.length > 0) {
    await lockPeople(db, [...(rows.authors ?? []).map((a) => a.authorKey), ...(await peopleNamedBy(db, idArray(deleted)))]);
    await lockTicketRows(db, deleted);
  }
  const value = JSON.stringify({ ...position, savedAt: new Date().toISOString() });
  return run(db, 'convlog_save_export_page', SAVE_EXPORT_PAGE, rows, [EXPORT_POSITION_KEY, value]);
}
