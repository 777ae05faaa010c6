import fs from 'node:fs';
import { demoDataDir, projectFolder } from '../config.ts';
import { BUDGET_NAMES, BUDGET_SETTINGS } from '../db/budgets.ts';
import { readBudgets, type BudgetRow } from '../db/rate-budget.ts';
import { statusReport, type StoredTable } from '../db/status-report.ts';
import { scheduleStatus } from '../queue/backfill-schedule.ts';
import { backfillStatus, describeBackfillStatus } from '../queue/backfill-status.ts';
import { jobsByState, runningWithoutHeartbeat, STOPPED_AFTER_SECONDS } from '../queue/queue-stats.ts';
import { openRuntime } from './runtime.ts';
import type { Command } from './types.ts';
import { counted, grouped, shownFolder } from '../ids.ts';
import { fullReadsOverdue } from '../db/full-read.ts';
import { loadDemoRun } from '../db/sync-state.ts';

export const status: Command = {
  usage: 'convlog status [--json]',
  options: { json: { type: 'boolean' } },
  async run(values, _positionals, ctx) {
    const runtime = await openRuntime(ctx);
    try {
      const pool = runtime.database.pool;
      const jobs = await jobsByState(pool);
      const figures = await statusReport(pool);
      // A ticket whose sync gave up: its retries ran out, a page cannot be read, or every attempt's
      // worker died. pg-boss's own `failed` state holds only the last kind (the handler completes
      // the job it gives up on itself), and each of them ends `failed` in ticket_sync.
      const dead = figures.tickets.failed ?? 0;
      const report = {
        database: runtime.database.shownAs,
        // The words the text below uses, not pg-boss's state names (created, retry, active).
        queue: {
          queued: jobs.created,
          waiting_to_retry: jobs.retry,
          running: jobs.active,
          // Of those, the ones whose worker stopped: the next supervising worker takes them over.
          running_without_heartbeat: await runningWithoutHeartbeat(pool),
          completed: jobs.completed,
          dead,
          // The same count, under the name earlier releases gave it.
          failed: dead,
          cancelled: jobs.cancelled,
        },
        ...figures,
        rateBudgets: await readBudgets(pool),
        schedules: await scheduleStatus(runtime.boss),
        backfill: await backfillStatus(runtime.database.db, pool),
        // Tickets longer than a page whose last read from the first event is older than CONVLOG_FULL_RESYNC_DAYS.
        // percent: CONVLOG_FULL_RESYNC_PERCENT, the budget's share that backfills queue them in (0: none).
        fullReadsOverdue: {
          days: runtime.config.fullResyncDays,
          percent: Math.round(runtime.config.fullResyncShare * 100),
          // neverReadWhole: of those, the ones no run has read whole (each resumed from a saved cursor).
          ...(await fullReadsOverdue(runtime.database.db, runtime.config.fullResyncDays)),
        },
      };
      if (values.json) {
        ctx.out(JSON.stringify(report, null, 2));
        return 0;
      }
      const q = report.queue;
      ctx.out(`database   ${runtime.database.shownAs}`);
      ctx.out(`queue      ${grouped(q.queued)} queued, ${grouped(q.waiting_to_retry)} waiting to retry, ${grouped(q.running)} running${stopped(q.running_without_heartbeat)}, ${grouped(q.dead)} dead (tickets whose sync gave up; "last errors" says why)`);
      ctx.out(`tickets    ${Object.entries(report.tickets).map(([k, v]) => `${grouped(v)} ${k}`).join(', ')}`);
      const stored = report.stored;
      const rows = (key: StoredTable, noun: string) =>
        counted(stored[key], noun, (count) => (stored.estimated.includes(key) ? `about ${(count / 1e6).toFixed(1)} million` : grouped(count)));
      ctx.out(`stored     ${rows('events', 'event')}, ${rows('authors', 'author')}, ${rows('attachments', 'attachment')}, ${rows('thumbnails', 'thumbnail')}`);
      const c = report.context;
      ctx.out(
        `context    ${counted(c.tickets, 'ticket', grouped)} (${grouped(c.deleted)} deleted), ${counted(c.groups, 'group', grouped)}, ${counted(c.brands, 'brand', grouped)}, ${counted(c.organizations, 'organization', grouped)}` +
          (c.withoutRow > 0 ? `; ${counted(c.withoutRow, 'synced or queued ticket', grouped)} without a ticket row yet (the next backfill or sync by id reads them)` : ''),
      );
      ctx.out(`last sync  ${report.lastSyncedAt ?? 'never'}`);
      const overdue = report.fullReadsOverdue;
      if (overdue.tickets > 0) {
        const queuedBy =
          overdue.percent > 0
            ? `backfills queue them within ${overdue.percent}% of the conversation-log budget`
            : 'off: CONVLOG_FULL_RESYNC_PERCENT is 0, so nothing queues them; "convlog sync --full IDS" reads some';
        ctx.out(`full reads ${counted(overdue.tickets, 'ticket', grouped)} longer than a page ${dueWhy(overdue.tickets, overdue.neverReadWhole, overdue.days)} (${queuedBy})`);
      }
      if (report.oldestUnsynced) ctx.out(`oldest unsynced  ticket ${report.oldestUnsynced.ticketId}, waiting since ${report.oldestUnsynced.since}`);
      const demo = (await loadDemoRun(runtime.database.db)) !== null;
      const own = {
        [BUDGET_NAMES.conversationLog]: runtime.config.rateLimit,
        [BUDGET_NAMES.account]: runtime.config.accountRateLimit,
        [BUDGET_NAMES.export]: runtime.config.exportRateLimit,
      };
      for (const line of budgetLines(report.rateBudgets, own, demo)) ctx.out(line);
      for (const line of describeBackfillStatus(report.schedules, report.backfill)) ctx.out(line);
      if (report.lastErrors.length > 0) {
        ctx.out('last errors');
        for (const e of report.lastErrors) ctx.out(`  ticket ${e.ticketId} (${e.status}, ${e.at}): ${e.error}`);
      }
      // Right after `npm run demo`, a plain `status` opens the embedded default, which the demo
      // never writes to: all zeros, and nothing saying where the demo's tickets went.
      const demoDir = demoDataDir(runtime.config);
      const noTickets = Object.values(report.tickets).every((count) => count === 0);
      if (!runtime.config.databaseUrl && noTickets && fs.existsSync(demoDir)) {
        // The setting is read from the project folder wherever below it the shell is (src/config.ts).
        ctx.out(`the demo's data is in ${shownFolder(demoDir, process.cwd())}: CONVLOG_DATA_DIR=${shownFolder(demoDir, projectFolder())} npx convlog status`);
      }
      return 0;
    } finally {
      await runtime.close();
    }
  },
};


/**
 * Why tickets are due a full read. A ticket whose every run resumed from a saved cursor (an
 * interrupted sync, then another) was never read whole in one run, however recently it synced:
 * "not for 30 days" would be false of it.
 */
function dueWhy(tickets: number, never: number, days: number): string {
  if (never === 0) return `not read from their first event for ${days} days`;
  const resumed = 'only resumed from a saved cursor';
  if (never === tickets) return `never read from their first event in one run, ${resumed}`;
  return `due a read from their first event: ${grouped(tickets - never)} not so read for ${days} days, ${grouped(never)} never in one run, ${resumed}`;
}

const stopped = (count: number) =>
  count === 0 ? '' : ` (${grouped(count)} without a heartbeat for ${STOPPED_AFTER_SECONDS} s: their worker stopped; the next "convlog work" takes them over)`;

/**
 * The conversation log's budget first, and always: with no row yet, the limit that will apply, or,
 * in the demo's database, why it has none. The demo reads a simulator without a rate limit and
 * takes no permits: status listed only the account-wide budget of its ticket rows, as if the
 * conversation log had none. Then the other budgets that have a row. `own`: this process's limit
 * for each budget, by row name.
 */
function budgetLines(rows: readonly BudgetRow[], own: Record<string, number>, demo: boolean): string[] {
  const name = BUDGET_NAMES.conversationLog;
  const row = rows.find((r) => r.name === name);
  const limit = `${grouped(own[name])} requests a minute for all processes, CONVLOG_RATE_LIMIT`;
  const first = row
    ? describeBudget(row, own[name])
    : demo
      ? `budget     ${name}: not used by the demo (its simulator has no rate limit); a sync from Zendesk takes a permit for each request (${limit})`
      : `budget     ${name}: no request taken yet (${limit})`;
  return [first, ...rows.filter((r) => r !== row).map((r) => describeBudget(r, own[r.name]))];
}

/**
 * One line per budget: what the window allows, what is spent, what Zendesk says, pauses, waits.
 * The limit is the one in force (the lowest of the processes taking permits, src/db/rate-budget.ts),
 * said to be so when they disagree or `own` (this process's setting) differs; with no process
 * taking permits, `own`, as the limit a process started here would apply.
 */
export function describeBudget(b: BudgetRow, own?: number): string {
  const window = b.windowMs % 1000 === 0 ? `${b.windowMs / 1000} s` : `${b.windowMs} ms`;
  const setting = BUDGET_SETTINGS[b.name] ?? `the ${b.name} budget's limit`;
  const here = own === undefined ? '' : `, ${grouped(own)} here`;
  const limit = b.limitPerWindow ?? own;
  let why = '';
  if (b.limitPerWindow === null) {
    why = ` (no process is taking permits: each applies its own ${setting}${here}, and the lowest applies while several do)`;
  } else if (new Set(b.takers.map((t) => t.limit)).size > 1) {
    why = ` (the processes taking permits disagree on ${setting}: ${takersByLimit(b.takers)}; the lowest applies to all${here})`;
  } else if (own !== undefined && own !== b.limitPerWindow) {
    why = ` (${setting} of the processes taking permits${here})`;
  }
  const parts = [
    limit === undefined ? `${grouped(b.spent)} spent this ${window} window${why}` : `${grouped(b.spent)} of ${grouped(limit)} spent this ${window} window${why}`,
    b.serverRemaining === null ? 'Zendesk remaining unknown' : `Zendesk says ${grouped(b.serverRemaining)} remaining${b.serverTotal !== null ? ` of ${grouped(b.serverTotal)}` : ''}`,
  ];
  if (b.others > 0) parts.push(`${grouped(b.others)} spent outside this budget (other clients, convlog's credential checks)`);
  parts.push(b.pausedUntil ? `paused until ${b.pausedUntil}` : 'not paused');
  parts.push(`${grouped(b.totalRateLimited)} 429s seen`);
  parts.push(`${counted(b.totalTaken, 'request', grouped)}, ${counted(b.totalWaits, 'wait', grouped)} totalling ${(b.totalWaitMs / 1000).toFixed(1)} s`);
  return `budget     ${b.name}: ${parts.join('; ')}`;
}

/** "7 in pid 42 on a, 100 in 3 processes": the limits in force, lowest first, with who asks for each. */
function takersByLimit(takers: BudgetRow['takers']): string {
  const byLimit = new Map<number, Set<string>>();
  for (const t of takers) byLimit.set(t.limit, (byLimit.get(t.limit) ?? new Set()).add(t.process));
  return [...byLimit]
    .sort(([a], [b]) => a - b)
    .map(([limit, processes]) => `${grouped(limit)} in ${processes.size <= 2 ? [...processes].join(' and ') : `${grouped(processes.size)} processes`}`)
    .join(', ');
}
