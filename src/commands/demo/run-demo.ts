// `convlog demo`: the whole pipeline on one machine with nothing to set up. A simulator plays
// Zendesk, the embedded Postgres holds the data, and the tickets go through the same queue,
// workers and storage as a real sync. Then a summary and example SQL with its results.
import fs from 'node:fs';
import path from 'node:path';
import { demoDataDir, projectFolder, type Config } from '../../config.ts';
import { openRuntime, type SyncRuntime } from '../runtime.ts';
import { requireZendeskAccount } from '../zendesk-account.ts';
import { silentLogger } from '../../log.ts';
import { syncTickets } from '../sync.ts';
import type { CommandContext } from '../types.ts';
import type { Db } from '../../db/connection.ts';
import { eventsStoredSince, statusReport } from '../../db/status-report.ts';
import { loadDemoRun, saveDemoRun, type DemoRun } from '../../db/sync-state.ts';
import { databaseNow, ticketCount, unmarkQueued } from '../../db/ticket-status.ts';
import { dropSyncJobsAbove } from '../../queue/queue-stats.ts';
import { counted, grouped, shownFolder } from '../../text.ts';
import { FolderClosedToPostgres, Interrupted, SET_DATABASE_URL, UsageError } from '../../errors/convlog-errors.ts';
import { NOTHING_QUEUED } from '../ticket-ids.ts';
import { naturalHistoryEndSec, startSimulator } from '../../simulator/index.ts';
import { createZendeskHttp, localBudget } from '../../zendesk/index.ts';
import { DEMO_QUERIES } from './queries.ts';
import { formatTable } from '../table.ts';

export interface DemoOptions {
  tickets: number;
  concurrency: number;
}

const SEED = 1;
/** --tickets when not given. */
export const DEFAULT_TICKETS = 300;

export async function runDemo(ctx: CommandContext, options: DemoOptions): Promise<number> {
  const started = Date.now();
  const loaded = ctx.config();
  // Always the embedded Postgres: a DATABASE_URL in .env may well be the real database.
  const dbConfig: Config = { ...loaded, databaseUrl: undefined, dataDir: demoDataDir(loaded), zendesk: undefined };
  ctx.out('convlog demo: a simulated Zendesk synced into an embedded Postgres through the real queue and workers');
  if (loaded.databaseUrl) ctx.out('  (DATABASE_URL is ignored: the demo keeps its simulated tickets in the embedded Postgres)');
  const base = await openRuntime(ctx, { config: dbConfig, supervise: true }).catch((error: unknown) => {
    // Setting DATABASE_URL is no way out of a folder the embedded Postgres cannot enter: the line above says it is ignored.
    throw error instanceof FolderClosedToPostgres ? error.without(SET_DATABASE_URL) : error;
  });
  try {
    // Ctrl-C while the embedded Postgres started: one line says so (syncTickets's), nothing is
    // recorded, and no header names a database and a simulator that will not be used.
    if (ctx.signal.aborted) throw new Interrupted(`interrupted while starting; ${NOTHING_QUEUED}`);
    // The database first: where the simulated histories end is kept with it (see claimDatabase).
    const { run, first } = await claimDatabase(base.database.db, options.tickets, base.database.where, dbConfig.dataDir);
    // CONVLOG_DATA_DIR set since (in .env, for the simulator's syncs, say) moves the demo: a new
    // one, its 300 tickets synced again, while the one run before sits in the default folder.
    const usual = demoDataDir({ dataDir: path.join(projectFolder(), '.convlog') });
    if (first && path.resolve(dbConfig.dataDir) !== usual && fs.existsSync(path.join(usual, 'pg', 'PG_VERSION'))) {
      ctx.out(`  (a new demo in ${shownFolder(dbConfig.dataDir, process.cwd())}, as CONVLOG_DATA_DIR says; the one run before is in ${shownFolder(usual, process.cwd())}: CONVLOG_DATA_DIR=.convlog npm run demo goes on with it)`);
    }
    const historyEnd = historyEndOf(run, options.tickets);
    const sim = await startSimulator({ port: 0, tickets: options.tickets, seed: SEED, rateLimit: 0, exportRateLimit: 0, historyEnd });
    try {
      const config: Config = {
        ...dbConfig,
        zendesk: { baseUrl: sim.url, auth: { kind: 'token', email: 'demo@example.com', token: 'demo' }, requestTimeoutMs: 30_000 },
      };
      // Marks the folder as the simulator's: a real sync pointed at it is then refused. Quietly:
      // the demo's own lines say where its tickets come from.
      await requireZendeskAccount(base.database, config, silentLogger, { demo: true });
      const runtime: SyncRuntime = {
        ...base,
        config,
        deps: {
          db: base.database.db,
          http: createZendeskHttp(config.zendesk!, { log: ctx.log }),
          // The simulator has no limit, and the account budget in Postgres belongs to real syncs.
          budget: localBudget(),
          log: ctx.log,
          redactSystemMetadata: config.redactSystemMetadata,
        },
      };
      const pool = base.database.pool;
      ctx.out(`  database   ${base.database.where} (embedded, data in ${config.dataDir})`);
      const dates = historyEnd
        ? `conversations up to ${historyEnd.slice(0, 16).replace('T', ' ')} UTC`
        : 'the fixed dates from June 2025 (this folder was filled before the demo moved them to its first run; delete it to start over)';
      ctx.out(`  zendesk    simulator at ${sim.url}: tickets 1..${options.tickets}, seed ${SEED}, ${dates}`);
      ctx.out('');

      // An interrupted run with more tickets leaves them queued: this simulator would answer 404
      // for them, and they would be recorded as deleted tickets.
      const leftover = await dropSyncJobsAbove(pool, options.tickets);
      if (leftover.length > 0) {
        await unmarkQueued(base.database.db, leftover);
        const most = leftover.reduce((a, b) => Math.max(a, b));
        ctx.out(`  left out   ${counted(leftover.length, 'ticket', grouped)} above ${options.tickets} that an interrupted run with more tickets queued; a run with --tickets ${most} syncs them`);
        ctx.out('');
      }
      const syncStart = await databaseNow(base.database.db);
      const syncStarted = Date.now();
      const ids = Array.from({ length: options.tickets }, (_, i) => i + 1);
      // The ticket rows too: the account-wide budget's limit is the real account's (a low one in
      // .env held a 1,000-ticket demo for a silent minute and a half after its last ticket).
      // Another demo on this folder at once runs some of these tickets: their events are its own.
      const ranHere = new Set<number>();
      // The user's shell is where npm was run (INIT_CWD), which `npm run` leaves for the package's root.
      const shell = ctx.env.INIT_CWD || process.cwd();
      // A relative CONVLOG_DATA_DIR is read from the project folder wherever below it convlog runs
      // (src/config.ts): given so when the shell is in this project, whole otherwise. `rm -rf` is
      // the shell's own, relative to where it is.
      const project = projectFolder();
      const setting = (folder: string) => (projectFolder(shell) === project ? shownFolder(folder, project) : folder);
      // What repeats this run: a plain `npm run demo` would use the default count or folder.
      const again = [
        ctx.env.CONVLOG_DATA_DIR ? `CONVLOG_DATA_DIR=${setting(loaded.dataDir)} ` : '',
        'npm run demo',
        options.tickets === DEFAULT_TICKETS ? '' : ` -- --tickets ${options.tickets}`,
      ].join('');
      const finishWith = `${again} finishes them`;
      const code = await syncTickets(runtime, ctx, ids, { full: false, concurrency: options.concurrency, label: 'demo', accountBudget: localBudget(), onRunHere: (id) => ranHere.add(id), finishWith });
      const syncSeconds = (Date.now() - syncStarted) / 1000;
      if (ctx.signal.aborted) return code;

      const report = await statusReport(pool);
      const newEvents = await eventsStoredSince(pool, syncStart, [...ranHere]);
      const requests = sim.requests.filter((r) => r.kind === 'conversation_log').length;
      ctx.out('');
      ctx.out('Summary');
      ctx.out(`  tickets    ${Object.entries(report.tickets).filter(([, v]) => v > 0).map(([k, v]) => `${grouped(v)} ${k}`).join(', ')}`);
      ctx.out(
        `  stored     ${counted(report.stored.events, 'event', grouped)}, ${counted(report.stored.authors, 'author', grouped)}, ` +
          `${counted(report.stored.attachments, 'attachment', grouped)}, ${counted(report.stored.thumbnails, 'thumbnail', grouped)}`,
      );
      const rate = newEvents > 0 ? ` (${grouped(Math.round(newEvents / Math.max(syncSeconds, 0.001)))} events/s)` : '';
      ctx.out(
        `  this run   ${counted(newEvents, 'new event', grouped)} with ${counted(requests, 'request', grouped)} in ${syncSeconds.toFixed(1)} s${rate}; ` +
          `elapsed ${((Date.now() - started) / 1000).toFixed(1)} s in all`,
      );
      // The sync's line above counts the events read: each synced ticket's last page, read again.
      if (newEvents === 0) ctx.out('             nothing new: each ticket already synced cost one request (its last page, read again: the events read above), and no row was rewritten');

      ctx.out('');
      ctx.out('Example queries');
      for (const query of DEMO_QUERIES) {
        const result = await pool.query(query.sql);
        ctx.out('');
        ctx.out(`-- ${query.title}`);
        for (const line of query.sql.split('\n')) ctx.out(`  ${line}`);
        ctx.out('');
        for (const line of formatTable(result.fields.map((f) => f.name), result.rows)) ctx.out(`  ${line}`);
      }

      ctx.out('');
      ctx.out('Explore further');
      ctx.out(`  The embedded Postgres stops with the demo; its data stays in ${config.dataDir}.`);
      const dir = shownFolder(config.dataDir, shell);
      // The demo's own folder, and no DATABASE_URL from .env: these commands must open the demo's database.
      const demoEnv = `${loaded.databaseUrl ? 'DATABASE_URL= ' : ''}CONVLOG_DATA_DIR=${setting(config.dataDir)}`;
      ctx.out(`  ${demoEnv} npx convlog status   the demo's tickets by status, the queue`);
      ctx.out(`  ${demoEnv} npx convlog query "select type, count(*) from zendesk.conversation_events group by 1" [--csv]`);
      ctx.out('      one read-only query, printed as a table (or CSV with --csv)');
      ctx.out(`  ${demoEnv} npx convlog db-server`);
      ctx.out("      keeps the demo's Postgres up and prints a URL for psql or a BI tool, until Ctrl-C");
      ctx.out(`  rm -rf ${dir}   starts the demo over; your own syncs are kept apart, in ${loaded.databaseUrl ? 'DATABASE_URL' : loaded.dataDir}`);
      ctx.out(`  ${again}   runs it again: already synced tickets cost one request each`);
      ctx.out('  npx convlog simulator        a local Zendesk to point ZENDESK_BASE_URL at, for sync, enqueue and work');
      ctx.out('  The queries above are in src/commands/demo/queries.ts; the tables and columns are described in README.md.');
      return code;
    } finally {
      await sim.close();
    }
  } finally {
    await base.close();
  }
}

/**
 * The demo's tickets 1..N are simulated: refuse a database that holds tickets it did not put
 * there, and mark one it fills, so that a later run knows it is its own.
 *
 * A new folder's histories end at its first run, so that "last week" and "waiting for" mean
 * something in the example queries; the time is kept, and every later run serves the same
 * events (their references and ids hold their times), so it costs one request a ticket and
 * rewrites no row. A folder filled before the demo kept that time has no `history` and keeps the
 * simulator's fixed dates of 2025, which its rows hold. `first`: no demo had run in the folder.
 */
async function claimDatabase(db: Db, tickets: number, where: string, dataDir: string): Promise<{ run: DemoRun; first: boolean }> {
  const known = await ticketCount(db);
  const previous = await loadDemoRun(db);
  if (known > 0 && !previous) {
    throw new UsageError(
      `the embedded database ${where} in ${dataDir} already holds ${counted(known, 'ticket')} the demo did not sync; ` +
        'it will not mix simulated tickets into them: run it with another data directory, e.g. CONVLOG_DATA_DIR=.convlog-demo npm run demo',
    );
  }
  const now = new Date().toISOString();
  const history = previous ? previous.history : { end: now, tickets };
  const run: DemoRun = { seed: SEED, tickets, lastRunAt: now, ...(history ? { history } : {}) };
  await saveDemoRun(db, run);
  return { run, first: previous === null };
}

/**
 * The simulator's historyEnd for this run: undefined (the fixed dates) for a folder without a
 * saved end. Otherwise the dates move by the same amount as on the first run, whatever --tickets
 * says now: the simulator ends the histories of the tickets it serves at historyEnd, so a run
 * with more or fewer tickets moves historyEnd by as much as their unmoved end differs.
 */
function historyEndOf(run: DemoRun, tickets: number): string | undefined {
  if (!run.history) return undefined;
  const { end, tickets: anchored } = run.history;
  const moveSec = anchored === tickets ? 0 : naturalHistoryEndSec(SEED, tickets) - naturalHistoryEndSec(SEED, anchored);
  return new Date(Date.parse(end) + moveSec * 1000).toISOString();
}
