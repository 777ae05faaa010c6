// The analyst benchmark's templates: a few thousand simulator tickets stored exactly as convlog
// stores them, so that the rows the SQL clone multiplies (analyst-clone.ts) are production rows.
// The ticket context goes in as a backfill saves an export page (mapTicketContext, then
// saveExportPage); each ticket's log as syncTicket stores it (startRun, pages of 100 through
// mapPage / preparePage / storePage, then finishRun in a transaction), in-process: the HTTP
// path is the ingest benchmark's subject, not this one's.
import type { Database } from '../../src/db/connection.ts';
import { refreshTicketAnalytics } from '../../src/db/analytics.ts';
import { inTransaction } from '../../src/db/transaction.ts';
import { preparePage } from '../../src/db/prepare-page.ts';
import { storePage } from '../../src/db/store-page.ts';
import { finishRun, startRun } from '../../src/db/ticket-status.ts';
import { saveExportPage, storeTicketContext } from '../../src/db/tickets.ts';
import { startSimulator } from '../../src/simulator/index.ts';
// Not part of the simulator's public surface: the side-loads an export page would carry, and
// the brands list, built in-process rather than fetched over HTTP.
import { brands } from '../../src/simulator/catalog.ts';
import { sideloads } from '../../src/simulator/sideloads.ts';
import { mapPage, type ApiEvent } from '../../src/sync/map-page.ts';
import { mapBrands, mapTicketContext } from '../../src/sync/map-ticket.ts';

/** Events per conversation-log page, as production reads them. */
const PAGE_SIZE = 100;
/** Tickets per export page: Zendesk's largest. */
const EXPORT_PAGE = 1000;

export interface TemplateResult {
  tickets: number;
  events: number;
  /** Wall time of storing the logs (context excluded), from the first startRun to the last finishRun. */
  seconds: number;
  /** Of which spent in the transactions that end each run (finishRun and its upkeep). */
  finishSeconds: number;
  contextSeconds: number;
}

const elapsed = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

export async function ingestTemplates(database: Database, options: { tickets: number; say: (line: string) => void }): Promise<TemplateResult> {
  const { db } = database;
  const ids = Array.from({ length: options.tickets }, (_, i) => i + 1);
  // Rate limits off: nothing here goes through HTTP, but the options are the simulator's own.
  const sim = await startSimulator({ tickets: options.tickets, seed: 1, rateLimit: 0, exportRateLimit: 0, accountRateLimit: 0 });
  try {
    const contextStarted = process.hrtime.bigint();
    const seed = sim.options().seed;
    await storeTicketContext(db, { brands: mapBrands(brands(seed)) });
    for (let i = 0; i < ids.length; i += EXPORT_PAGE) {
      // Every ticket, AI-agent ones too: production reads those by id (show_many), into the same rows.
      const tickets = ids.slice(i, i + EXPORT_PAGE).map((id) => sim.ticket(id));
      const rows = mapTicketContext({ tickets, ...sideloads(seed, tickets, ['users', 'groups', 'organizations']) });
      await saveExportPage(db, rows, { cursor: `bench-export-${i / EXPORT_PAGE + 1}`, position: new Date().toISOString() });
    }
    const contextSeconds = elapsed(contextStarted);

    let events = 0;
    let finishNs = 0n;
    const started = process.hrtime.bigint();
    for (const ticketId of ids) {
      const { run } = await startRun(db, ticketId, { full: true });
      const log = sim.events(ticketId) as ApiEvent[];
      // As syncTicket does: the next page is mapped while the previous one is being written.
      let storing: Promise<unknown> | undefined;
      // An empty log is still one (empty) page, as the API serves it.
      for (let from = 0; from === 0 || from < log.length; from += PAGE_SIZE) {
        const rows = mapPage(log.slice(from, from + PAGE_SIZE), { ticketId, redactSystemMetadata: false });
        const hasMore = from + PAGE_SIZE < log.length;
        const prepared = preparePage(rows, { ticketId, run, afterCursor: hasMore ? `bench-${ticketId}-${from + PAGE_SIZE}` : null, requests: 1 });
        await storing;
        storing = storePage(db, prepared);
      }
      await storing;
      events += log.length;
      const finishing = process.hrtime.bigint();
      await inTransaction(db, (tx) => finishRun(tx, ticketId, { run, fullRead: true }));
      finishNs += process.hrtime.bigint() - finishing;
      if (ticketId % 500 === 0) options.say(`    templates: ${ticketId}/${ids.length} tickets, ${events} events`);
    }
    return { tickets: ids.length, events, seconds: elapsed(started), finishSeconds: Number(finishNs) / 1e9, contextSeconds };
  } finally {
    await sim.close();
  }
}

/**
 * What the upkeep costs of finishRun's transaction (whose time also holds its other statements
 * and the commit's wait for the disk): the function once more per ticket, in one transaction,
 * so no commit is timed. It rewrites the same rows; the build's vacuum clears the old versions.
 */
export async function upkeepAlone(database: Database, tickets: number): Promise<number> {
  const ids = Array.from({ length: tickets }, (_, i) => i + 1);
  return inTransaction(database.db, async (tx) => {
    const started = process.hrtime.bigint();
    for (const id of ids) await refreshTicketAnalytics(tx, [id]);
    return elapsed(started);
  });
}
