// The pipeline for one ticket: page the log from the saved cursor, map each page (pure), and
// store it with its cursor in one statement, page after page. At most three pages are in
// memory: one arriving, one being mapped, one being written. A read from the first event of a
// ticket already stored (--full, a ticket that fits in one page, a rejected cursor, a webhook's
// comment the resumed read did not return) also removes what Zendesk no longer returns; a 404
// with Zendesk's JSON removes the whole ticket (one naming InvalidEndpoint, or not JSON, is
// NotZendeskApi, from src/zendesk/responses.ts, and removes nothing).
import type { OnDelete } from '../config.ts';
import type { Db } from '../db/connection.ts';
import type { DeletedHow } from '../db/schema.ts';
import { endFullRead, SeenRows, storedLog } from '../db/full-read.ts';
import { awaitsUnreadComment } from '../db/pending-comments.ts';
import { changedAfterNewestEvent, holdsEvent } from '../db/resumed-read.ts';
import { purgeTickets } from '../db/purge.ts';
import { preparePage } from '../db/prepare-page.ts';
import { storePage, type PreparedPage } from '../db/store-page.ts';
import { finishRun, forgetCursor, recordStatus, startRun, type RunJob } from '../db/ticket-status.ts';
import { DeletedDuringRun, Interrupted, RunTakenOver } from '../errors/convlog-errors.ts';
import { errorMessage } from '../errors/messages.ts';
import { settledBy } from '../errors/outcome.ts';
import { BadRequest, InvalidCursor } from '../errors/zendesk-errors.ts';
import { counted } from '../text.ts';
import type { Logger } from '../log.ts';
import { MAX_PAGE_SIZE, newestEventReference, pageConversationLog, requestsSpentOn, type RequestBudget, type ZendeskHttp } from '../zendesk/index.ts';
import { mapPage } from './map-page.ts';
import { sanitizeString } from './sanitize.ts';
import { inTransaction } from '../db/transaction.ts';

export interface SyncDeps {
  db: Db;
  http: ZendeskHttp;
  budget: RequestBudget;
  log: Logger;
  redactSystemMetadata: boolean;
  /** Events per request: 100 in production; tests use less to exercise paging. */
  pageSize?: number;
  /** CONVLOG_ON_DELETE: remove (default) or mark the rows of what Zendesk deleted. */
  onDelete?: OnDelete;
}

export interface SyncOptions {
  full?: boolean;
  /** Aborting stops after the page in flight is stored; the run then throws Interrupted. */
  signal?: AbortSignal;
  onPage?: (page: { events: number; requests: number }) => void;
  /** Told the run's token (startRun) once it starts: its failure is recorded under the same fence (recordStatus). */
  onRunStarted?: (run: string) => void;
  /** The job running it: tells the job's first run from its retries (startRun). */
  job?: RunJob;
}

export interface SyncResult {
  ticketId: number;
  status: 'synced' | 'not_found' | 'forbidden';
  pages: number;
  events: number;
  eventsWritten: number;
  requests: number;
  /** The run read the log from its first event, and removed what it no longer holds. */
  fullRead: boolean;
}

export async function syncTicket(deps: SyncDeps, ticketId: number, options: SyncOptions = {}): Promise<SyncResult> {
  // The worker's logger already carries the ticket; a second binding would repeat the key.
  const log = 'ticketId' in deps.log.bindings() ? deps.log : deps.log.child({ ticketId });
  const mode = deps.onDelete ?? 'purge';
  const result: SyncResult = { ticketId, status: 'synced', pages: 0, events: 0, eventsWritten: 0, requests: 0, fullRead: false };
  // A log that fits in one page costs one request from its start as from its cursor: reading it
  // whole picks up redactions, edits and deleted attachments at no cost.
  const stored = await storedLog(deps.db, ticketId, deps.pageSize ?? MAX_PAGE_SIZE);
  const full = options.full === true || stored.fitsInOnePage;
  const { afterCursor: saved, run } = await startRun(deps.db, ticketId, { full, job: options.job });
  options.onRunStarted?.(run);
  let fullRead = saved === null;
  let unstoredRequests = 0;
  // Every row a read from the first event leaves behind came from that read when the ticket had
  // nothing stored before it (a first sync): then there is nothing to look for at its end.
  let seen = fullRead && !stored.empty ? new SeenRows() : undefined;
  // A read from the first event is always safe, and the upserts make the events already stored
  // cost nothing but the requests.
  const readFromFirstEvent = async () => {
    await forgetCursor(deps.db, ticketId, run);
    fullRead = true;
    seen = new SeenRows();
    await readPages(deps, { ticketId, run }, null, result, options, log, seen);
  };
  let finished: Partial<Awaited<ReturnType<typeof endFullRead>>> & { eventsSynced: number };
  try {
    try {
      await readPages(deps, { ticketId, run }, saved, result, options, log, seen);
    } catch (error) {
      // Whether a cursor stays valid is undocumented, and Zendesk may reject one it gave us a
      // page ago. Once: a second rejection is a failure.
      if (!(error instanceof InvalidCursor) || (saved === null && result.pages === 0)) throw error;
      log.warn({ err: error.message, pages: result.pages }, 'Zendesk rejected the page cursor; reading the ticket again from its first event');
      await readFromFirstEvent();
    }
    // Whether a resumed cursor returns events appended after it is undocumented too: a resumed
    // read that stored nothing new goes back to the first event, once, when something says the
    // cursor missed events (missedByCursor).
    const { missed, requests } = !fullRead && result.eventsWritten === 0 ? await missedByCursor(deps, ticketId, options.signal, log) : { requests: 0 };
    // Its request for the newest event is stored with no page: the run's end counts it.
    result.requests += requests;
    unstoredRequests = requests;
    if (missed) {
      log.info({ pages: result.pages }, `${missed}; reading the ticket again from its first event`);
      await readFromFirstEvent();
    }
    // After a read from the first event, what it no longer returned goes in the same transaction.
    // A deletion recorded meanwhile ends it as a 404 would (DeletedDuringRun, below).
    finished = seen
      ? await endFullRead(deps.db, ticketId, seen, run, unstoredRequests)
      : { ...(await inTransaction(deps.db, (tx) => finishRun(tx, ticketId, { run, fullRead, requests: unstoredRequests }))), peopleLeft: undefined };
  } catch (error) {
    // A 404 about the ticket and a 403 end the run as the ticket's status; any other failure is the worker's to handle.
    const settled = settledBy(error);
    if (!settled) throw error;
    // A run taken over writes neither: the newer run owns the ticket's status, and meets the same
    // answer if it still holds (removing rows here would leave that run's cursor resuming past them).
    const deletedDuringRun = error instanceof DeletedDuringRun;
    const leftToNewerRun = () => {
      const answer = deletedDuringRun ? 'deletion' : settled.status === 'not_found' ? '404' : '403';
      const met = deletedDuringRun ? 'The ticket was recorded deleted' : `Zendesk answered ${answer}`;
      log.info({ status: deletedDuringRun ? undefined : Number(answer) }, `${met}, but another run of the ticket started since this one did: it is left to that run`);
      return new RunTakenOver(`another run of ticket ${ticketId} started since this one did; its ${answer} is left to that run`, { cause: error });
    };
    if (settled.status === 'not_found') {
      // A permanently_deleted webhook before this 404 makes it an erasure (src/db/purge.ts). A
      // deletion recorded during the run goes again with the pages stored since, as it was learned.
      const how = deletedDuringRun ? ((error as DeletedDuringRun).how as DeletedHow) : '404';
      const { removed, permanent, held, takenOver: refused } = await purgeTickets(deps.db, [ticketId], { how, mode, run });
      if (refused) throw leftToNewerRun();
      const outcome =
        // A typo'd id, or a ticket deleted before it was ever synced: no row to speak of as removed.
        held.length === 0
          ? undefined
          : permanent.length > 0
            ? `${how === 'export: permanently deleted' ? 'the export' : 'a permanently_deleted webhook'} said it was erased, so its stored rows were removed, whatever CONVLOG_ON_DELETE says`
            : mode === 'keep'
              ? 'its stored rows were kept, marked deleted (CONVLOG_ON_DELETE=keep)'
              : 'its stored rows were removed';
      // A deletion is worth its own line; an id never stored is the worker's `ticket not_found`
      // line, summed up with the rest when many come (src/queue/sync-log.ts).
      const gone = deletedDuringRun ? 'the ticket was recorded deleted while this run read it' : 'Zendesk answered 404: the ticket is gone';
      if (outcome) log.info({ ...removed, mode }, `${gone}; ${outcome}`);
      else log.debug(deletedDuringRun ? `${gone}; nothing of it was stored` : 'Zendesk answered 404: no such ticket (nothing of it was stored)');
    } else if (!(await recordStatus(deps.db, ticketId, settled, run))) {
      throw leftToNewerRun();
    }
    // The answer that settled it cost requests too (it and any retried before it): `work` logs them.
    return { ...result, status: settled.status, requests: result.requests + requestsSpentOn(error) };
  }
  const { peopleLeft, ...counts } = finished;
  if (peopleLeft) {
    log.warn(
      { people: peopleLeft.count, err: errorMessage(peopleLeft.error) },
      `synced; ${counted(peopleLeft.count, 'author')} only its removed events named could not be removed afterwards (they stay in authors)`,
    );
  }
  result.fullRead = fullRead;
  log.debug(
    { pages: result.pages, events: result.events, written: result.eventsWritten, requests: result.requests, ...counts },
    'ticket synced',
  );
  return result;
}

/**
 * Why a resumed read that stored nothing new missed events, if it did: a comment a webhook
 * announced before this run started is matched by no stored event (awaitsUnreadComment); or the
 * ticket's row says it changed after its newest stored event, and the log's newest event (one
 * request, in `requests`) is not stored. A ticket whose change added no event (a status, a tag)
 * costs that one request more; an unchanged one costs nothing more.
 */
async function missedByCursor(deps: SyncDeps, ticketId: number, signal: AbortSignal | undefined, log: Logger): Promise<{ missed?: string; requests: number }> {
  if (await awaitsUnreadComment(deps.db, ticketId)) return { missed: 'a comment a webhook announced is not in what the saved cursor returned', requests: 0 };
  if (!(await changedAfterNewestEvent(deps.db, ticketId))) return { requests: 0 };
  let newest: Awaited<ReturnType<typeof newestEventReference>>;
  try {
    newest = await newestEventReference(deps.http, ticketId, { budget: deps.budget, signal, log });
  } catch (error) {
    // A stop meanwhile: the log was read to its end, so the run ends synced as it did before it asked.
    if (signal?.aborted) return { requests: 0 };
    // A request refused as such (an account that took no `sort`) fails the check, not the sync,
    // which has stored what it read: the periodic read from the first event still comes.
    if (!(error instanceof BadRequest)) throw error;
    log.warn({ err: error.message }, "could not ask Zendesk for the ticket's newest event; the saved cursor's read stands");
    return { requests: requestsSpentOn(error) };
  }
  const { reference, requests } = newest;
  if (reference === null || (await holdsEvent(deps.db, ticketId, sanitizeString(reference)))) return { requests };
  return { missed: "the ticket changed after its newest stored event, and the log's newest event is not in what the saved cursor returned", requests };
}

async function readPages(
  deps: SyncDeps,
  /** The ticket, and the run's token that its pages are stored under (startRun). */
  { ticketId, run }: { ticketId: number; run: string },
  afterCursor: string | null,
  result: SyncResult,
  options: SyncOptions,
  log: Logger,
  /** Collects what a read from the first event returns; absent when there is nothing to remove at its end. */
  seen: SeenRows | undefined,
): Promise<void> {
  // The next page is requested as soon as one arrives, so it travels while this one is mapped
  // and the one before is written. `stopped` cancels that request when we stop early; the
  // shutdown signal cancels it too.
  const stopped = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stopped.signal]) : stopped.signal;
  const pages = pageConversationLog(deps.http, ticketId, {
    afterCursor,
    pageSize: deps.pageSize,
    budget: deps.budget,
    // Aborts a wait for the budget or a request in flight; a page being stored always commits.
    signal,
    log,
  })[Symbol.asyncIterator]();
  let finished = false;
  let next = pages.next();
  // Three stages overlap: page N+2 travels, page N+1 is mapped here, page N is written by
  // Postgres. Pages are still stored one at a time and in order, each with its cursor, so a
  // crash never leaves a cursor ahead of the events before it.
  let storing: Promise<void> | undefined;
  const store = async (page: { events: number; requests: number; hasMore: boolean }, prepared: PreparedPage) => {
    const stored = await storePage(deps.db, prepared);
    result.pages += 1;
    result.events += page.events;
    result.eventsWritten += stored.eventsWritten;
    result.requests += page.requests;
    log.trace({ page: result.pages, events: page.events, written: stored.eventsWritten }, 'page stored');
    options.onPage?.({ events: page.events, requests: page.requests });
    finished = !page.hasMore;
  };
  try {
    for (;;) {
      const item = await next;
      if (item.done) break;
      const page = item.value;
      next = pages.next();
      // Handled where it is awaited; until then a failure must not count as unhandled.
      next.catch(() => {});
      const rows = mapPage(page.events, { ticketId, redactSystemMetadata: deps.redactSystemMetadata });
      if (seen) {
        // As stored: the mapper sanitises references the same way.
        for (const event of page.events) seen.references.add(sanitizeString(event.reference));
        for (const file of rows.attachments) seen.attachments.add(file.id);
        for (const thumbnail of rows.thumbnails) seen.thumbnails.add(thumbnail.id);
      }
      // Under redaction the body never goes to Postgres: an earlier copy of a re-sent event, which
      // the mapper skips, could still carry what was to be redacted.
      const received = deps.redactSystemMetadata ? undefined : page;
      const prepared = preparePage(rows, { ticketId, run, afterCursor: page.afterCursor, requests: page.requests }, received);
      // Only counts outlive this point, so the page's events can be collected during the wait.
      const counts = { events: page.events.length, requests: page.requests, hasMore: page.hasMore };
      await storing;
      if (options.signal?.aborted) break;
      storing = store(counts, prepared);
      // Awaited on the next turn or below; a failure meanwhile must not count as unhandled.
      storing.catch(() => {});
      if (!counts.hasMore) break;
    }
    await storing;
  } catch (error) {
    // The page being written commits or not as a whole; wait for it so the counts are true,
    // and report its failure first, since nothing after it can be stored.
    const storeFailure = await storing?.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    if (!options.signal?.aborted) throw storeFailure ?? error;
  } finally {
    if (!finished) {
      // Stopping early (an error, a shutdown): drop the page on its way, then close the pager.
      stopped.abort(new Interrupted('the sync of this ticket stopped'));
      await next.catch(() => {});
      await pages.return?.(undefined).catch(() => {});
    }
  }
  if (!finished && options.signal?.aborted) {
    // Counted in this run's pages: a resumed run's first page is not the ticket's.
    const stored = result.pages === 0 ? 'before this run stored a page' : `after this run stored ${counted(result.pages, 'page')}`;
    throw new Interrupted(`interrupted by shutdown ${stored}; the next run resumes from the saved cursor`);
  }
}
