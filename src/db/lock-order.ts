// The one order in which convlog's writers lock a ticket's rows, so that two of them touching
// the same tickets at once wait for each other instead of Postgres aborting one as a deadlock
// (40P01): the people its rows name (authors), its `tickets` row, its `ticket_sync` row, then,
// holding that, its events, files, pending comments and analyst rows. Rows of several tickets (or
// people) are taken in ascending key order, whatever order the caller named them in: a batch of
// webhooks naming 9 and 5 and an enqueue of 5 and 9 would each hold one the other waits for.
// A purge takes the whole order (src/db/purge.ts), the end of a run its tickets and ticket_sync
// rows (lockTicketRows), and that of a full read, last, the people only its removed events named,
// those no other transaction holds (SKIP LOCKED: waiting for them there would invert the order),
// then the others after its commit, in a transaction of their own (src/db/full-read.ts).
// A person new to Postgres has no row to lock before it is written (an insert of its key only
// makes another inserter wait), so every writer inserts new people after the ticket's rows, and
// upserts the people Postgres has before the new ones. A page's statement takes its authors
// (KEY SHARE, which pages share), locks for the upsert those it changes (all of them when it
// changes the ticket's first event, before the tickets row, its description:
// src/db/description-redaction.ts) and waits for any transaction changing the others, then takes
// ticket_sync, then inserts the new ones, before its events and files (src/db/store-page.ts):
// a read by id recording the ticket's deletion holds the people it updates while it comes to
// ticket_sync. So a person a purge removed while the page waited for them (authors_held) is
// inserted again there, before ticket_sync: the one new row a page writes before the ticket's
// rows. A read by id or an export page locks its side-loaded authors, then the tickets rows,
// then inserts the new people (src/db/tickets.ts);
// an export page listing deleted tickets locks their people and rows before its statement.
import { sql, type SQL } from 'drizzle-orm';
import { asArray, idArray, type Executor } from './sql-values.ts';

/**
 * Locks the tickets' rows in `tickets`, then in `ticket_sync`. A transaction that ends a run
 * takes them before it changes anything else of the ticket, so that it waits for a purge of the
 * ticket rather than deadlocks with it.
 */
export async function lockTicketRows(db: Executor, ticketIds: readonly number[]): Promise<void> {
  const ids = idArray(ticketIds);
  // FOR UPDATE: finishRun deletes a ticket row recording a deletion; NO KEY UPDATE is what its
  // update of ticket_sync takes, so neither lock is strengthened later in the transaction.
  // One round trip: the select list runs its subqueries in order, the tickets rows first.
  await db.execute(sql`
    with tickets_held as (select 1 from zendesk.tickets where id = any(${ids}) order by id for update),
         sync_held as (select 1 from zendesk.ticket_sync where ticket_id = any(${ids}) order by ticket_id for no key update)
    select (select count(*) from tickets_held) as tickets, (select count(*) from sync_held) as sync`);
}

/** Locks the authors, in key order, before the rows that name them: they may be deleted (FOR UPDATE). */
export async function lockPeople(db: Executor, authorKeys: readonly string[]): Promise<void> {
  if (authorKeys.length === 0) return;
  await db.execute(sql`select from zendesk.authors where author_key = any(${asArray([...authorKeys], 'text')}) order by author_key for update`);
}

/** The authors the tickets' rows name: who wrote their events, and their requester, submitter and assignee. */
export async function peopleNamedBy(db: Executor, ids: SQL): Promise<string[]> {
  const { rows } = await db.execute<{ author_key: string }>(sql`
    select author_key from zendesk.conversation_events where ticket_id = any(${ids}) and author_key is not null
    union
    select 'support:' || person from zendesk.tickets t, unnest(array[t.requester_id, t.submitter_id, t.assignee_id]) as person
     where t.id = any(${ids}) and person is not null`);
  return rows.map((r) => r.author_key);
}

/**
 * A CTE `locked (ticket_id)`: the tickets' ticket_sync rows that match `where`, locked in
 * ascending order, for a statement that updates several tickets' rows to join with. An update
 * alone locks them in the order its plan meets them (by place in the table, for a long list),
 * and an upsert from a list in the list's order. `where` is checked again on a row that another
 * transaction changed while this one waited, as an update's own condition is.
 */
export function lockedTicketSync(ids: SQL, where: SQL = sql`true`): SQL {
  return sql`locked as materialized (
    select ticket_id from zendesk.ticket_sync where ticket_id = any(${ids}) and ${where} order by ticket_id for no key update)`;
}
