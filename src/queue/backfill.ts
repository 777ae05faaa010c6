// The backfill: ask the incremental ticket export which tickets changed (since a time, or since
// the saved position) and queue a sync for each, page by page. Each page is mapped first (a
// malformed ticket fails it before anything is queued), then queued, then its tickets and
// side-loads are stored in the statement that saves its cursor: an interruption at worst queues
// a page again and never skips one. Deleted tickets are recorded as not_found in that statement
// without spending conversation-log requests. After the last page, the groups, brands and
// organizations lists are read again under the account-wide budget when they are due
// (listsAtStart, refreshAccountLists: backfill-lists.ts).
import type pg from 'pg';
import type { PgBoss } from 'pg-boss';
import type { Db } from '../db/connection.ts';
import {
  CONTEXT_KINDS,
  contextIds,
  forgetLegacyResync,
  hasContextIds,
  loadExportPosition,
  type ExportPosition,
  loadLegacyResync,
  saveExportStart,
  saveLastBackfill,
  type BackfillRun,
  type BackfillTotals,
} from '../db/sync-state.ts';
import { unlistedNamedSince } from '../db/missing-context.ts';
import { tryRunLock } from '../db/run-locks.ts';
import { saveExportPage } from '../db/tickets.ts';
import { purgeTicketsIn } from '../db/purge.ts';
import { inTransaction } from '../db/transaction.ts';
import type { OnDelete } from '../config.ts';
import { asDatabaseCannotStore, BackfillBusy, BackfillFailed, UsageError } from '../errors/convlog-errors.ts';
import { errorMessage } from '../errors/messages.ts';
import type { Logger } from '../log.ts';
import { isScrubbed, mapTicketContext } from '../sync/map-ticket.ts';
import type { ListsResult } from '../sync/ticket-context.ts';
import type { ZendeskHttp } from '../zendesk/http.ts';
import { pageIncrementalExport, type ExportStart, type PageExportOptions } from '../zendesk/incremental-export.ts';
import type { RequestBudget } from '../zendesk/rate-limit.ts';
import { keepListsDue, listsAtStart, refreshAccountLists } from './backfill-lists.ts';
import { enqueueTickets } from './enqueue.ts';
import { queueDueFullReads, sweepNow, type FullReadPolicy } from './full-read-sweep.ts';
import { counted } from '../text.ts';

export type { BackfillTotals };

export interface BackfillDeps {
  db: Db;
  pool: pg.Pool;
  boss: PgBoss;
  http: ZendeskHttp;
  /** The export's budget (exportBudget), not the conversation log's. */
  budget: RequestBudget;
  /** The account-wide budget, for the groups, brands and organizations lists. */
  accountBudget: RequestBudget;
  log: Logger;
  /** What happens to the rows of tickets the export says are deleted (CONVLOG_ON_DELETE). */
  onDelete?: OnDelete;
  /** Tickets due for their periodic full read are queued for one (src/queue/full-read-sweep.ts). */
  fullReads?: FullReadPolicy;
}

export interface BackfillOptions {
  /** Start from this time (unix seconds) instead of the saved position. */
  since?: number;
  /** Without a saved position, start from this time (a schedule's --since). */
  fallbackSince?: number;
  trigger?: BackfillRun['trigger'];
  /** Aborting stops after the page in flight (its position is saved if it was queued), or the lists' read. */
  signal?: AbortSignal;
  /** Where the run starts, once known: before its first request (a page may be a minute away). */
  onStart?: (start: { from: string; position: Date | null }) => void;
  onPage?: (progress: BackfillProgress) => void;
  /** Tuning for tests: page size and retries of the export requests. */
  exportOptions?: Pick<PageExportOptions, 'pageSize' | 'maxAttempts' | 'retryBaseMs'>;
}

export interface BackfillProgress extends BackfillTotals {
  page: { tickets: number; queued: number; alreadyQueued: number; deleted: number; deletedBefore: number };
}

export interface BackfillResult extends BackfillTotals {
  /** `since 2024-05-01T00:00:00.000Z` or `saved position`. */
  from: string;
  /** Stopped by the signal before the end of the stream; the position of the pages done is saved. */
  interrupted: boolean;
  /** The groups, brands and organizations lists as read; why they could not be; or, not due, when they were last read (by Postgres's clock); null when interrupted. */
  accountLists: ListsResult | { error: string } | { notDue: { readAt: string } } | null;
}

/** UsageError when a run without --since would have nowhere to start: before any request is made. */
export async function requireStartingPoint(db: Db): Promise<void> {
  if (!chooseStart(await loadExportPosition(db), {})) throw new UsageError(NO_POSITION_MESSAGE);
}

/** Where a run starts: --since, else the saved cursor, else the saved start, else a schedule's --since; null when nowhere. */
function chooseStart(saved: ExportPosition | null, options: Pick<BackfillOptions, 'since' | 'fallbackSince'>): { start: ExportStart; from: string } | null {
  const since = (startTime: number) => `since ${new Date(startTime * 1000).toISOString()}`;
  if (options.since !== undefined) return { start: { startTime: options.since }, from: since(options.since) };
  if (saved?.cursor) return { start: { cursor: saved.cursor }, from: 'saved position' };
  if (saved?.startTime !== undefined) {
    return { start: { startTime: saved.startTime }, from: `${since(saved.startTime)} (saved before any page came back)` };
  }
  if (options.fallbackSince !== undefined) return { start: { startTime: options.fallbackSince }, from: since(options.fallbackSince) };
  return null;
}

const NO_POSITION_MESSAGE =
  'no saved export position yet: run "convlog backfill --since DATE" once (for example --since 30d); later runs continue from where it stopped';

export async function runBackfill(deps: BackfillDeps, options: BackfillOptions = {}): Promise<BackfillResult> {
  const { db, log } = deps;
  const lock = await tryRunLock(deps.pool, 'backfill');
  if (!lock) {
    throw new BackfillBusy('another backfill is running (a "convlog backfill" or a scheduled one in a worker); it continues from the same position, so try again once it ends');
  }
  const startedAt = new Date();
  const totals: BackfillTotals = { pages: 0, seen: 0, queued: 0, alreadyQueued: 0, deleted: 0, deletedBefore: 0, requests: 0, position: null };
  let from = 'saved position';
  const record = (outcome: BackfillRun['outcome'], error?: string) =>
    saveLastBackfill(db, {
      trigger: options.trigger ?? 'cli',
      outcome,
      from,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      ...totals,
      position: totals.position?.toISOString() ?? null,
      ...(error !== undefined ? { error } : {}),
    }).catch((e) => log.warn({ err: errorMessage(e) }, 'could not record the backfill run'));

  // Whether this run must read the lists, and what made it so: kept for the next run when this one
  // ends without reading them (stopped, or failed), which would otherwise not know.
  let listsDue = false;
  const named = contextIds();
  let listsRead = false;
  try {
    const saved = await loadExportPosition(db);
    const chosen = chooseStart(saved, options);
    if (!chosen) throw new UsageError(NO_POSITION_MESSAGE);
    const { start } = chosen;
    from = chosen.from;
    // The latest change seen stays known when this run starts at or after it: one from --since
    // that finds no change must not leave `status` with no position. A run that starts earlier
    // reads those changes again, and its position grows from its start with its pages.
    const known = saved?.position ? new Date(saved.position) : null;
    totals.position = known && !('startTime' in start && start.startTime * 1000 < known.getTime()) ? known : null;
    log.debug({ from, cursor: 'cursor' in start }, 'backfill starting');
    options.onStart?.({ from, position: totals.position });
    // A start from --since (or a schedule's) replaces the saved cursor now, not at the first
    // page: otherwise a run stopped before that page left nothing to continue from.
    if ('startTime' in start && saved?.startTime !== start.startTime) await saveExportStart(db, start.startTime, totals.position?.toISOString() ?? null);
    // `convlog status` shows this run, and its totals as they grow, while the lock says it runs.
    await record('running');

    // Left by an older release, which remembered tickets that changed during their sync here.
    const legacy = await loadLegacyResync(db);
    if (legacy.length > 0) {
      const again = await enqueueTickets(deps.boss, db, legacy);
      totals.queued += again.queued;
      await forgetLegacyResync(db);
      log.debug({ queued: again.queued }, 'backfill: queued tickets that changed during their sync');
    }

    const { lists, dueByAge } = await listsAtStart(db);
    listsDue = dueByAge;

    const pages = pageIncrementalExport(deps.http, start, {
      ...options.exportOptions,
      budget: deps.budget,
      signal: options.signal,
      log,
    });
    let interrupted = false;
    try {
      for await (const page of pages) {
        // Checked before anything is queued: a malformed ticket fails the page, naming ticket and
        // field, and the position stays before it. The rows keep each ticket's latest state.
        const rows = mapTicketContext(page, { cursor: page.cursorBefore });
        const scrubbed = new Set(rows.tickets.filter(isScrubbed).map((t) => t.id));
        const live = rows.tickets.filter((t) => !t.deleted).map((t) => t.id);

        // A ticket whose sync is running cannot get a second job, and that run may already have
        // read past this change: enqueueTickets marks it, and the run queues it again as it ends.
        const queued = await enqueueTickets(deps.boss, db, live);
        // Only now that the page is queued does the position move past it, with its rows.
        if (page.position && (!totals.position || page.position > totals.position)) totals.position = page.position;
        // Zendesk deleted them: their conversation rows go too (or are marked, under keep, unless
        // Zendesk erased the ticket for good), in the transaction that moves the position past
        // them, so a crash cannot skip the purge. Only the deletions the page's statement recorded
        // (newer than what is stored: an older page read again, a ticket restored since, says
        // nothing); a run of one going on is marked there to queue it again as it ends.
        const recorded = await inTransaction(db, async (tx) => {
          const stored = await saveExportPage(tx, rows, {
            cursor: page.afterCursor,
            ...(page.afterCursor === null && 'startTime' in start ? { startTime: start.startTime } : {}),
            position: totals.position?.toISOString() ?? null,
          });
          const binned = stored.deletedIds.filter((id) => !scrubbed.has(id));
          const erased = stored.deletedIds.filter((id) => scrubbed.has(id));
          const { formerPeople } = stored;
          if (binned.length > 0) await purgeTicketsIn(tx, binned, { how: 'export', mode: deps.onDelete ?? 'purge', formerPeople });
          if (erased.length > 0) await purgeTicketsIn(tx, erased, { how: 'export: permanently deleted', formerPeople });
          return stored.deletedIds.length;
        });

        // Looked for on every page, even with the lists due already: those the read then does not
        // find are gone, and are not reasons to read the lists again. The change times are
        // Zendesk's, and so is the read time they are compared with (without one, all are newer).
        const found = await unlistedNamedSince(db, rows.tickets.map((t) => t.id), (!dueByAge && lists.zendeskReadAt) || '-infinity', lists.gone);
        if (hasContextIds(found)) {
          listsDue = true;
          for (const kind of CONTEXT_KINDS) named[kind].push(...found[kind]);
        }

        totals.pages += 1;
        totals.seen += page.tickets.length;
        totals.queued += queued.queued;
        totals.alreadyQueued += queued.alreadyQueued;
        totals.deleted += recorded;
        const deletedBefore = rows.tickets.filter((t) => t.deleted).length - recorded;
        totals.deletedBefore = (totals.deletedBefore ?? 0) + deletedBefore;
        totals.requests += page.requests;
        await record('running');
        options.onPage?.({ ...totals, page: { tickets: page.tickets.length, queued: queued.queued, alreadyQueued: queued.alreadyQueued, deleted: recorded, deletedBefore } });
        if (options.signal?.aborted && !page.endOfStream) {
          interrupted = true;
          break;
        }
      }
    } catch (error) {
      if (!options.signal?.aborted) throw error;
      interrupted = true;
    }
    let accountLists: BackfillResult['accountLists'] = null;
    if (!interrupted) {
      accountLists = listsDue ? await refreshAccountLists(deps, options, named) : { notDue: { readAt: lists.readAt! } };
      listsRead = accountLists !== null && !('error' in accountLists) && !('notDue' in accountLists);
      // Stopped while the lists were read (Ctrl-C, a shutdown): the run is interrupted, not done,
      // and the next one reads them, as their read time was not saved.
      interrupted = accountLists === null;
    }
    if (listsDue && !listsRead) await keepListsDue(db);
    // Not counted in `queued`, which is the changed tickets the export showed.
    if (!interrupted && deps.fullReads && deps.fullReads.share > 0) totals.fullReads = (await queueDueFullReads(db, deps.boss, await sweepNow(deps.pool, deps.fullReads))).queued;
    await record(interrupted ? 'interrupted' : 'done');
    return { ...totals, from, interrupted, accountLists };
  } catch (thrown) {
    // A full disk is no failure of the export: one line and exit 2; a scheduled run waits for the next.
    const error = asDatabaseCannotStore(thrown, 'run it again once there is room') ?? thrown;
    if (error instanceof UsageError) {
      // Told at once to whoever typed the command, which changes nothing; a scheduled run's
      // failure is recorded, for `status` to show.
      if ((options.trigger ?? 'cli') !== 'cli') await record('failed', error.message);
      throw error;
    }
    await record('failed', errorMessage(error));
    if (listsDue && !listsRead) await keepListsDue(db).catch((e: unknown) => log.warn({ err: errorMessage(e) }, 'could not keep the lists due for the next backfill'));
    if (totals.pages === 0) throw error;
    throw new BackfillFailed(
      `${errorMessage(error)} (after ${counted(totals.pages, 'page')}: their ${counted(totals.queued, 'ticket')} ${totals.queued === 1 ? 'is' : 'are'} queued and the export position is saved, so "convlog backfill" continues from there)`,
      { cause: error },
    );
  } finally {
    await lock.release();
  }
}
