// Reads of the ticket-context tables that find what is missing: tickets without a row, and rows
// naming a group, brand or organization without one, which the callers then read from Zendesk;
// and which of many ids convlog holds anything of at all. The writes are in src/db/tickets.ts.
import { clientOf, type Db } from './connection.ts';
import { hasId, uniqueAscending } from '../ids.ts';

/**
 * The ids among `ticketIds` that have no tickets row yet (no export or read by id stored one), or
 * only one recording the ticket's deletion (kept under CONVLOG_ON_DELETE=keep): a ticket restored
 * since needs its current row, and one still deleted is left out of Zendesk's answer, at no cost.
 */
export async function ticketIdsWithoutRow(db: Db, ticketIds: readonly number[]): Promise<number[]> {
  if (ticketIds.length === 0) return [];
  const client = clientOf(db);
  const { rows } = await client.query<{ id: string }>(
    `select q.id from unnest($1::bigint[]) as q(id)
      where not exists (select from zendesk.tickets t where t.id = q.id and not t.deleted)
      group by q.id order by q.id`,
    [ticketIds],
  );
  return rows.map((row) => Number(row.id));
}

/**
 * The ids among `ticketIds` with no ticket_sync row: tickets no sync or enqueue has touched, whose
 * conversation convlog does not hold (a webhook about their fields alone must still queue them).
 */
export async function ticketIdsNeverQueued(db: Db, ticketIds: readonly number[]): Promise<number[]> {
  if (ticketIds.length === 0) return [];
  const client = clientOf(db);
  const { rows } = await client.query<{ id: string }>(
    `select q.id from unnest($1::bigint[]) as q(id)
      where not exists (select from zendesk.ticket_sync s where s.ticket_id = q.id)
      group by q.id order by q.id`,
    [ticketIds],
  );
  return rows.map((row) => Number(row.id));
}

/** Whether a ticket among `ticketIds` names a brand that has no brands row. */
export async function namesUnlistedBrand(db: Db, ticketIds: readonly number[]): Promise<boolean> {
  if (ticketIds.length === 0) return false;
  const client = clientOf(db);
  const { rows } = await client.query<{ found: boolean }>(
    `select exists (
       select from zendesk.tickets t
        where t.id = any($1::bigint[]) and t.brand_id is not null
          and not exists (select from zendesk.brands b where b.id = t.brand_id)
     ) as found`,
    [ticketIds],
  );
  return rows[0].found;
}

/**
 * Whether a ticket among `ticketIds` whose state is newer than `since` names a group, brand or
 * organization that has no row. A ticket that changed since the lists were read may name one
 * created since (brands come from their list only); an older one names one the lists lacked
 * then, deleted, which reading them again would not find.
 */
export async function namesUnlistedSince(db: Db, ticketIds: readonly number[], since: string): Promise<boolean> {
  if (ticketIds.length === 0) return false;
  const client = clientOf(db);
  const { rows } = await client.query<{ found: boolean }>(
    `select exists (
       select from zendesk.tickets t
        where t.id = any($1::bigint[]) and coalesce(t.generated_timestamp, t.updated_at) >= date_trunc('second', $2::timestamptz)
          and ((t.brand_id is not null and not exists (select from zendesk.brands b where b.id = t.brand_id))
            or (t.group_id is not null and not exists (select from zendesk.groups g where g.id = t.group_id))
            or (t.organization_id is not null and not exists (select from zendesk.organizations o where o.id = t.organization_id)))
     ) as found`,
    [ticketIds, since],
  );
  return rows[0].found;
}

/**
 * The ids among `ticketIds` convlog may hold rows of: those with a ticket_sync row (every ticket a
 * sync or an enqueue touched, tombstones included; events and files come only from a sync), a
 * tickets row or a pending comment. Read as the rows between the lowest and highest id asked for,
 * so that a range of millions of ids (`purge --range`) costs what the database holds there, not
 * a look-up per id: asked one by one, ten million ids took minutes.
 */
export async function ticketIdsKnownAmong(db: Db, ticketIds: readonly number[]): Promise<number[]> {
  if (ticketIds.length === 0) return [];
  const asked = uniqueAscending(ticketIds);
  const [low, high] = [asked[0], asked[asked.length - 1]];
  const client = clientOf(db);
  const { rows } = await client.query<{ id: string }>(
    `select ticket_id as id from zendesk.ticket_sync where ticket_id between $1 and $2
     union select id from zendesk.tickets where id between $1 and $2
     union select ticket_id from zendesk.pending_comments where ticket_id between $1 and $2`,
    [low, high],
  );
  return rows.map((row) => Number(row.id)).filter((id) => hasId(asked, id)).sort((a, b) => a - b);
}
