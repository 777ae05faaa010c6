// Reads that find what is missing: tickets without a row (or never queued), and rows naming a
// group, brand or organization without one, which the callers then read from Zendesk (and those
// still missing after); and which of many ids convlog holds anything of at all. The writes are in
// src/db/tickets.ts and src/db/ticket-status.ts.
import { clientOf, type Db } from './connection.ts';
import { hasId, uniqueAscending } from '../ids.ts';
import { CONTEXT_KINDS, contextIds, type ContextIds, type ContextKind } from './sync-state.ts';

/** The tickets column naming a record of each kind (its table is zendesk.<kind>). */
const NAMED_BY: Record<ContextKind, string> = { groups: 'group_id', brands: 'brand_id', organizations: 'organization_id' };

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

/**
 * The brands without a row that a ticket among `ticketIds` names, but those in `gone` (the brands
 * list, read after a ticket named them, lacked them: deleted in Zendesk, and no read would find them).
 */
export async function unlistedBrands(db: Db, ticketIds: readonly number[], gone: readonly number[]): Promise<number[]> {
  if (ticketIds.length === 0) return [];
  const { rows } = await clientOf(db).query<{ id: string }>(
    `select distinct t.brand_id as id from zendesk.tickets t
      where t.id = any($1::bigint[]) and t.brand_id is not null and t.brand_id <> all($2::bigint[])
        and not exists (select from zendesk.brands b where b.id = t.brand_id)
      order by 1`,
    [ticketIds, gone],
  );
  return rows.map((row) => Number(row.id));
}

/**
 * The groups, brands and organizations without a row that a ticket among `ticketIds` whose state
 * is newer than `since` names, but those in `gone`. A ticket that changed since the lists were
 * read may name one created since (brands come from their list only); an older one names one the
 * lists lacked then, deleted, which reading them again would not find, and so does one in `gone`
 * (named before, and missing from the read after).
 */
export async function unlistedNamedSince(db: Db, ticketIds: readonly number[], since: string, gone: ContextIds): Promise<ContextIds> {
  const found = contextIds();
  if (ticketIds.length === 0) return found;
  const named = CONTEXT_KINDS.map(
    (kind, i) => `select distinct '${kind}' as kind, ${NAMED_BY[kind]} as id from changed c
      where ${NAMED_BY[kind]} is not null and ${NAMED_BY[kind]} <> all($${i + 3}::bigint[])
        and not exists (select from zendesk.${kind} x where x.id = c.${NAMED_BY[kind]})`,
  );
  const { rows } = await clientOf(db).query<{ kind: ContextKind; id: string }>(
    `with changed as (
       select ${CONTEXT_KINDS.map((kind) => `t.${NAMED_BY[kind]}`).join(', ')} from zendesk.tickets t
        where t.id = any($1::bigint[]) and coalesce(t.generated_timestamp, t.updated_at) >= date_trunc('second', $2::timestamptz))
     ${named.join('\n     union all\n     ')}`,
    [ticketIds, since, ...CONTEXT_KINDS.map((kind) => gone[kind])],
  );
  for (const row of rows) found[row.kind].push(Number(row.id));
  return found;
}

/** Those of `ids` that still have no row (after the lists were read: deleted in Zendesk). */
export async function stillUnlisted(db: Db, ids: ContextIds): Promise<ContextIds> {
  const columns = CONTEXT_KINDS.map((kind, i) => `array(select u.id from unnest($${i + 1}::bigint[]) as u(id) where not exists (select from zendesk.${kind} x where x.id = u.id)) as ${kind}`);
  const { rows } = await clientOf(db).query<Record<ContextKind, string[]>>(`select ${columns.join(',\n            ')}`, CONTEXT_KINDS.map((kind) => ids[kind]));
  return contextIds((kind) => rows[0][kind].map(Number));
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
