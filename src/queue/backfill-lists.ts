// The groups, brands and organizations lists as a backfill (src/queue/backfill.ts) reads them
// again after its last page: whether they are due by age (an hour since their last read, by
// Postgres's clock; a changed ticket naming an id without a row makes them due sooner, which the
// backfill looks for on every page), their read under the account-wide budget with the ids still
// missing after it remembered as gone, and, when a run that found them due did not read them,
// kept due for the next one.
import type { Db } from '../db/connection.ts';
import { stillUnlisted } from '../db/missing-context.ts';
import { contextIds, loadAccountListsRead, saveAccountListsRead, type AccountListsRead, type ContextIds } from '../db/sync-state.ts';
import { databaseNow } from '../db/ticket-status.ts';
import { errorMessage } from '../errors/messages.ts';
import type { Logger } from '../log.ts';
import { readAccountLists, type ListsResult } from '../sync/ticket-context.ts';
import type { ZendeskHttp } from '../zendesk/http.ts';
import type { PageExportOptions } from '../zendesk/incremental-export.ts';
import type { RequestBudget } from '../zendesk/rate-limit.ts';

/** What the read takes of the backfill's deps (BackfillDeps). */
interface ListsDeps {
  db: Db;
  http: ZendeskHttp;
  /** The account-wide budget. */
  accountBudget: RequestBudget;
  log: Logger;
}

/** What the read takes of the backfill's options (BackfillOptions): its stop, and the retries of its requests. */
interface ListsOptions {
  signal?: AbortSignal;
  exportOptions?: Pick<PageExportOptions, 'maxAttempts' | 'retryBaseMs'>;
}

/**
 * The lists are read again after this long, for renamed groups and those no changed ticket
 * named; sooner only when a ticket changed since they were read names an id without a row.
 */
const LISTS_MAX_AGE_MS = 60 * 60 * 1000;

/** The lists' last read, and whether it is old enough that this run reads them whatever its pages say. */
export async function listsAtStart(db: Db): Promise<{ lists: AccountListsRead; dueByAge: boolean }> {
  // A tick that finds nothing new spends no account-wide request (a schedule may tick each minute).
  // Their age is by Postgres's clock, as their read time: workers whose clocks differ agree on it.
  const lists = await loadAccountListsRead(db);
  const dueByAge = lists.readAt === null || Date.parse(await databaseNow(db)) - Date.parse(lists.readAt) >= LISTS_MAX_AGE_MS;
  return { lists, dueByAge };
}

/**
 * Brands come only from their list, and the lists name groups and organizations no changed ticket
 * named. A failure here leaves the export's work done: it is logged and reported, not thrown.
 * Null when the signal stopped the read: not a failure of the lists. The ids that made the lists
 * due (`named`) and are still missing once they are read are gone from Zendesk, and are kept with
 * the read's time, so that no later run reads the lists again for them.
 */
export async function refreshAccountLists(deps: ListsDeps, options: ListsOptions, named: ContextIds): Promise<ListsResult | { error: string } | null> {
  const tuning = { maxAttempts: options.exportOptions?.maxAttempts, retryBaseMs: options.exportOptions?.retryBaseMs };
  // Its start, for the lists' age; their start by Zendesk's clock comes with the read.
  const readAt = await databaseNow(deps.db);
  try {
    const lists = await readAccountLists({ db: deps.db, http: deps.http, budget: deps.accountBudget, log: deps.log, signal: options.signal }, tuning);
    // Added to those remembered before (saveAccountListsRead keeps them).
    await saveAccountListsRead(deps.db, { readAt, zendeskReadAt: lists.zendeskReadAt, gone: await stillUnlisted(deps.db, named) });
    deps.log.debug({ ...lists }, 'backfill: groups, brands and organizations lists read');
    return lists;
  } catch (error) {
    if (options.signal?.aborted) return null;
    deps.log.warn({ err: errorMessage(error) }, 'backfill: could not read the groups, brands and organizations lists; views show their ids until the next backfill');
    return { error: errorMessage(error) };
  }
}

/** The lists were due and this run did not read them: the next run reads them, whatever its pages say. */
export function keepListsDue(db: Db): Promise<void> {
  return saveAccountListsRead(db, { readAt: null, zendeskReadAt: null, gone: contextIds() });
}
