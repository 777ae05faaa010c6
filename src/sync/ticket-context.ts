// Ticket context outside the export: tickets queued by id that no export has shown yet and
// tickets a webhook said changed, read with show_many and stored batch by batch, and the groups,
// brands and organizations lists. All spend the account-wide budget, never the conversation log's.
import type { Db } from '../db/connection.ts';
import { errorMessage } from '../errors/messages.ts';
import { stillUnlisted, ticketIdsWithoutRow, unlistedBrands } from '../db/missing-context.ts';
import { contextIds, loadAccountListsRead, rememberGoneBrands } from '../db/sync-state.ts';
import { storeTicketContext } from '../db/tickets.ts';
import { databaseNow } from '../db/ticket-status.ts';
import type { Logger } from '../log.ts';
import type { ZendeskHttp } from '../zendesk/http.ts';
import type { RequestBudget } from '../zendesk/rate-limit.ts';
import { listBrands, listGroups, listOrganizations, showManyTickets, SHOW_MANY_BATCH, type ReadOptions } from '../zendesk/ticket-context.ts';
import { mapBrands, mapTicketContext } from './map-ticket.ts';

export interface TicketContextDeps {
  db: Db;
  http: ZendeskHttp;
  /** The account-wide budget (accountBudget). */
  budget: RequestBudget;
  log: Logger;
  signal?: AbortSignal;
}

export interface ReadByIdResult {
  /** Tickets stored (a row inserted or replaced). */
  stored: number;
  /** Asked for but not returned by Zendesk: deleted, or not visible to these credentials. */
  missing: number[];
  /** Brands stored from the brands list, read when a stored ticket named one without a row. */
  brands: number;
  requests: number;
}

type Tuning = Pick<ReadOptions, 'maxAttempts' | 'retryBaseMs'>;

/** How every read here is sent: under the account-wide budget, stopped by the caller's signal. */
const readOptions = (deps: TicketContextDeps, tuning: Tuning): ReadOptions => ({ ...tuning, budget: deps.budget, signal: deps.signal, log: deps.log });

/**
 * Gives each of `ticketIds` that has no tickets row yet its row, from show_many: one request per
 * 100 ids, each batch stored before the next is asked for. Tickets with a row are left to the
 * export, which keeps them current (and to readChangedTickets, when a webhook or `sync` names them).
 * show_many cannot side-load brands, so when a stored ticket names a brand without a row, the
 * brands list is read too (once, usually one request): without it, an account synced only by id
 * would cut its conversations by brand ids, never names.
 */
export async function readMissingTickets(deps: TicketContextDeps, ticketIds: readonly number[], tuning: Tuning = {}): Promise<ReadByIdResult> {
  return readTicketsById(deps, await ticketIdsWithoutRow(deps.db, ticketIds), tuning, true);
}

/**
 * Reads `ticketIds` whatever rows they have, for tickets a webhook said changed (a new one, a
 * status, a comment) and those `sync` is run for: their rows become current now instead of at
 * the next export. A stored row
 * is replaced only by a state at least as recent (src/db/tickets.ts), so a read that crosses a
 * newer export page changes nothing. `brandsList: false` leaves an unlisted brand to a later
 * read: a brand deleted since stays unlisted, and every read would ask for the list again. A
 * function is asked when a stored ticket names a brand without a row, whether to read the list
 * now: reads running side by side read it once.
 */
export async function readChangedTickets(
  deps: TicketContextDeps,
  ticketIds: readonly number[],
  options: { brandsList: boolean | (() => boolean) },
  tuning: Tuning = {},
): Promise<ReadByIdResult> {
  return readTicketsById(deps, [...new Set(ticketIds)].sort((a, b) => a - b), tuning, options.brandsList);
}

/** show_many for `ids` (sorted, unique), each batch stored before the next is asked for. */
async function readTicketsById(deps: TicketContextDeps, ids: readonly number[], tuning: Tuning, brandsList: boolean | (() => boolean)): Promise<ReadByIdResult> {
  const options = readOptions(deps, tuning);
  const result: ReadByIdResult = { stored: 0, missing: [], brands: 0, requests: 0 };
  if (ids.length === 0) return result;
  const requests = Math.ceil(ids.length / SHOW_MANY_BATCH);
  // Thousands of ids (enqueue --sql) take minutes under the account budget: say so up front.
  if (requests > 10) deps.log.info({ tickets: ids.length, requests }, 'reading tickets by id, 100 a request, under the account-wide budget');
  // Each batch is asked for when the loop asks for the next one (or a little later, after the
  // budget's wait): a ticket deleted after that keeps no row from this answer. The time is
  // Postgres's, as the tombstone's is: a worker's clock running ahead of it stored such rows.
  let askedAt = await databaseNow(deps.db);
  for await (const batch of showManyTickets(deps.http, ids, options)) {
    const stored = await storeTicketContext(deps.db, mapTicketContext(batch), { askedAt });
    result.stored += stored.tickets;
    result.missing.push(...batch.missing);
    result.requests += batch.requests;
    askedAt = await databaseNow(deps.db);
  }
  // Brands the tickets name that have no row, but those a list read before showed gone.
  const unlisted = brandsList !== false && result.stored > 0 ? await unlistedBrands(deps.db, ids, (await loadAccountListsRead(deps.db)).gone.brands) : [];
  if (unlisted.length > 0 && (typeof brandsList === 'function' ? brandsList() : brandsList)) {
    try {
      const brands = await readBrands(deps, options);
      result.brands = brands.stored;
      result.requests += brands.requests;
      // Named before the read, and not in it: deleted in Zendesk. The next read by id of these
      // tickets (every `sync` of them, serve's every few minutes) would read the list for nothing.
      // Not a brand first named since (a ticket changed meanwhile, to a brand newer than the list).
      await rememberGoneBrands(deps.db, (await stillUnlisted(deps.db, contextIds((kind) => (kind === 'brands' ? unlisted : [])))).brands);
    } catch (error) {
      // The tickets are stored: a list that cannot be read only leaves brand ids without names.
      if (deps.signal?.aborted) throw error;
      deps.log.warn({ err: errorMessage(error) }, 'could not read the brands list; views show brand ids until a backfill or a later sync by id reads it');
    }
  }
  deps.log.debug({ asked: ids.length, stored: result.stored, missing: result.missing.length, brands: result.brands, requests: result.requests }, 'tickets read by id');
  return result;
}

interface BrandsRead {
  stored: number;
  requests: number;
  /** Its first request's (ListPage.sentAt): when the read started, by Zendesk's clock. */
  sentAt?: Date;
}

/** Reads the brands list and stores each page. */
async function readBrands(deps: TicketContextDeps, options: ReadOptions): Promise<BrandsRead> {
  const read: BrandsRead = { stored: 0, requests: 0 };
  for await (const page of listBrands(deps.http, options)) {
    if (read.requests === 0) read.sentAt = page.sentAt;
    read.stored += (await storeTicketContext(deps.db, { brands: mapBrands(page.records) })).brands;
    read.requests += page.requests;
  }
  return read;
}

export interface ListsResult {
  groups: number;
  brands: number;
  organizations: number;
  requests: number;
  /**
   * When the read started by Zendesk's clock (ISO), from the Date header of its first answer: the
   * time to compare with tickets' change times. Null when that answer carried no Date header.
   */
  zendeskReadAt: string | null;
}

/**
 * Reads the groups, brands and organizations lists and stores each page. Brands come only from
 * their list (neither the export nor show_many side-loads them); groups and organizations also
 * come with every export page, so the lists fill in those no changed ticket has named.
 */
export async function readAccountLists(deps: TicketContextDeps, tuning: Tuning = {}): Promise<ListsResult> {
  const options = readOptions(deps, tuning);
  const brands = await readBrands(deps, options);
  const zendeskReadAt = brands.sentAt?.toISOString() ?? null;
  const result: ListsResult = { groups: 0, brands: brands.stored, organizations: 0, requests: brands.requests, zendeskReadAt };
  for await (const page of listGroups(deps.http, options)) {
    result.groups += (await storeTicketContext(deps.db, mapTicketContext({ tickets: [], groups: page.records }))).groups;
    result.requests += page.requests;
  }
  for await (const page of listOrganizations(deps.http, options)) {
    result.organizations += (await storeTicketContext(deps.db, mapTicketContext({ tickets: [], organizations: page.records }))).organizations;
    result.requests += page.requests;
  }
  return result;
}
