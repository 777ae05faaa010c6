import { BUDGET_NAMES, BUDGET_SETTINGS, ownLimits } from '../db/budgets.ts';
import { readBudgets, type BudgetRow } from '../db/budget-report.ts';
import { statusReport, type StoredTable } from '../db/status-report.ts';
import { scheduleStatus } from '../queue/backfill-schedule.ts';
import { backfillStatus, describeBackfillStatus } from '../queue/backfill-status.ts';
import { jobsByState, runningWithoutHeartbeat, STOPPED_AFTER_SECONDS } from '../queue/queue-stats.ts';
import { endedHere, liveQueueWorkers, workersNamed, type QueueWorker } from '../queue/queue-workers.ts';
import { openRuntime } from './runtime.ts';
import type { Command } from './types.ts';
import { counted, grouped, namedApart } from '../text.ts';
import { demoDataElsewhere } from './demo-elsewhere.ts';
import { fullReadsOverdue } from '../db/full-read.ts';
import { loadDemoRun } from '../db/sync-state.ts';
import { loadZendeskAccount } from '../db/zendesk-account.ts';

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
      const withoutHeartbeat = await runningWithoutHeartbeat(pool);
      const listed = await liveQueueWorkers(pool);
      const processes = listed.filter((w) => !endedHere(w));
      const rateBudgets = await readBudgets(pool);
      const report = {
        database: runtime.database.shownAs,
        // The account whose tickets the database holds (src/commands/zendesk-account.ts): null before any.
        zendeskAccount: await loadZendeskAccount(runtime.database.db),
        // The words the text below uses, not pg-boss's state names (created, retry, active).
        queue: {
          queued: jobs.created,
          waiting_to_retry: jobs.retry,
          running: jobs.active,
          // Of those, the ones whose worker stopped: the next supervising worker takes them over.
          running_without_heartbeat: withoutHeartbeat,
          completed: jobs.completed,
          dead,
          // The same count, under the name earlier releases gave it.
          failed: dead,
          cancelled: jobs.cancelled,
        },
        // Whether anything is syncing: the processes working the queue (pg-boss's registry), the
        // tickets whose jobs a live worker holds, and when a conversation-log request last went.
        workers: {
          processes,
          // Still in pg-boss's registry, but ended on this host without stopping (endedHere).
          endedWithoutStopping: listed.filter(endedHere),
          // With no process working, none holds a job: a killed one's wait for supervision.
          ticketsBeingSynced: processes.length === 0 ? 0 : jobs.active - withoutHeartbeat,
          lastConversationLogRequestAt: rateBudgets.find((b) => b.name === BUDGET_NAMES.conversationLog)?.lastSentAt ?? null,
        },
        ...figures,
        rateBudgets,
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
      const account = report.zendeskAccount;
      const demo = (await loadDemoRun(runtime.database.db)) !== null;
      const whose = demo ? "the demo's simulator, " : '';
      ctx.out(`zendesk    ${account ? `${account.address} (${whose}since ${account.since})` : 'no account recorded yet (the first command that reaches Zendesk records it)'}`);
      ctx.out(`queue      ${grouped(q.queued)} queued, ${grouped(q.waiting_to_retry)} waiting to retry, ${grouped(q.running)} running${runningNote(q, report.workers)}, ${grouped(q.dead)} dead (failed tickets: their sync gave up, or a dequeue took them out after an attempt; "last errors" says why)`);
      ctx.out(workersLine(report.workers, report.at, demo));
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
      ctx.out(pendingLine(report.pendingComments));
      ctx.out(`last sync  ${report.lastSyncedAt ?? 'never'}`);
      const overdue = report.fullReadsOverdue;
      if (overdue.tickets > 0) {
        const queuedBy =
          overdue.percent > 0
            ? `backfills queue them within ${overdue.percent}% of the conversation-log budget`
            : 'off: CONVLOG_FULL_RESYNC_PERCENT is 0, so nothing queues them; "convlog sync --full IDS" reads some';
        ctx.out(`full reads ${counted(overdue.tickets, 'ticket', grouped)} longer than a page ${dueWhy(overdue.tickets, overdue.neverReadWhole, overdue.days)} (${queuedBy})`);
      }
      if (report.oldestUnsynced) ctx.out(`waiting    ticket ${report.oldestUnsynced.ticketId} has waited longest for its sync, since ${report.oldestUnsynced.since}`);
      for (const line of budgetLines(report.rateBudgets, ownLimits(runtime.config), demo)) ctx.out(line);
      for (const line of describeBackfillStatus(report.schedules, report.backfill)) ctx.out(line);
      if (report.interrupted.count > 0) {
        const i = report.interrupted;
        ctx.out(`stopped    ${counted(i.count, 'ticket', grouped)} interrupted by a shutdown, not failed: each resumes from its saved cursor when a worker takes it`);
        for (const t of i.latest) ctx.out(`  ticket ${t.ticketId} (${t.at}): ${t.reason}`);
        if (i.count > i.latest.length) ctx.out(`  and ${grouped(i.count - i.latest.length)} more`);
      }
      if (report.lastErrors.length > 0) {
        ctx.out('last errors');
        for (const e of report.lastErrors) ctx.out(`  ticket ${e.ticketId} (${e.status}, ${e.at}): ${e.error}`);
      }
      const elsewhere = await demoDataElsewhere(runtime.config, () => Object.values(report.tickets).every((count) => count === 0), 'status');
      if (elsewhere) ctx.out(elsewhere);
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

/**
 * Whether anything syncs: "2 processes working the queue (pid 11 on a, pid 12 on b), 3 tickets
 * being synced; last conversation-log request 4 s ago", or that no process works it; `demo`: the
 * database is the demo's.
 */
function workersLine(w: { processes: QueueWorker[]; endedWithoutStopping: QueueWorker[]; ticketsBeingSynced: number; lastConversationLogRequestAt: string | null }, now: string, demo: boolean): string {
  // The demo's requests take no permit, so they leave no time on the budget (budgetLines).
  const last = w.lastConversationLogRequestAt
    ? `last conversation-log request ${ago(Date.parse(now) - Date.parse(w.lastConversationLogRequestAt))}`
    : demo
      ? "no conversation-log request recorded (the demo's, to its simulator, are not)"
      : 'no conversation-log request yet';
  const n = w.processes.length;
  const ended = w.endedWithoutStopping.length === 0 ? '' : `; ${workersNamed(w.endedWithoutStopping)} ended without stopping (killed or crashed)`;
  if (n === 0) {
    // Not "heard from in the last 90 s": one stopped a second ago was. A stopped process leaves
    // the registry at once; a killed one is listed until WORKER_QUIET_SECONDS without a heartbeat,
    // unless this host shows it ended (endedHere).
    return `workers    no process is working the queue (no "convlog work" or "convlog sync" running${ended}); ${last}`;
  }
  const syncing = w.ticketsBeingSynced === 0 ? 'no ticket being synced' : `${counted(w.ticketsBeingSynced, 'ticket', grouped)} being synced`;
  return `workers    ${n === 1 ? '1 process' : `${grouped(n)} processes`} working the queue (${workersNamed(w.processes, Date.parse(now))}${ended}), ${syncing}; ${last}`;
}

/** "4 s ago", "3 min ago", "3 h ago", "2 days ago". */
function ago(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h ago` : `${grouped(Math.round(hours / 24))} days ago`;
}

function pendingLine(p: { count: number; estimated: boolean }): string {
  const count = counted(p.count, 'comment', (n) => (p.estimated ? `about ${(n / 1e6).toFixed(1)} million` : grouped(n)));
  return `pending    ${count} from webhooks waiting for their ticket's next sync (serve stored them as they came; the sync stores them as events and clears them)`;
}


/**
 * What holds the running jobs, when not a live worker. With no process working the queue and one
 * ended here without stopping, none has a worker, however recent its heartbeat (the ended one's
 * lapses within seconds); otherwise those silent for STOPPED_AFTER_SECONDS are a stopped worker's.
 */
function runningNote(q: { running: number; running_without_heartbeat: number }, w: { processes: QueueWorker[]; endedWithoutStopping: QueueWorker[] }): string {
  if (w.processes.length === 0 && w.endedWithoutStopping.length > 0 && q.running > 0) {
    return q.running === 1
      ? ' (no process holds it: its worker ended or was cut off; the next "convlog work" or "convlog sync" hands it back)'
      : ' (no process holds them: their workers ended or were cut off; the next "convlog work" or "convlog sync" hands them back)';
  }
  const silent = q.running_without_heartbeat;
  return silent === 0 ? '' : ` (${grouped(silent)} without a heartbeat for ${STOPPED_AFTER_SECONDS} s: their worker stopped; the next "convlog work" takes them over)`;
}

/**
 * The conversation log's budget first, and always: with no row yet, the limit that will apply, or,
 * in the demo's database, why it has none. The demo reads a simulator without a rate limit and
 * takes no permits: status listed no budget at all, as if the conversation log had none. Then the
 * other budgets that have a row. `own`: this process's limit
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
  if (b.serverRemaining !== null) {
    // Its count and window are not the budget's: with the spent figure above they need not add up.
    const notes = ["its own count of every client's requests, in its own window"];
    // The budget keeps to Zendesk's figure when it is the lower (src/db/rate-budget-sql.ts): the
    // setting alone would not explain a sync slower than it allows.
    if (b.serverTotal !== null && limit !== undefined && b.serverTotal < limit) {
      notes.push(`below ${setting}'s ${grouped(limit)}: requests are paced to Zendesk's ${grouped(b.serverTotal)}`);
    }
    parts[1] += ` (${notes.join('; ')})`;
  }
  if (b.others > 0) parts.push(`${grouped(b.others)} spent outside this budget (other clients, convlog's credential checks)`);
  parts.push(b.pausedUntil ? `paused until ${b.pausedUntil}` : 'not paused');
  parts.push(`${grouped(b.totalRateLimited)} 429s seen`);
  parts.push(`${counted(b.totalTaken, 'request', grouped)}, ${counted(b.totalWaits, 'wait', grouped)} totalling ${(b.totalWaitMs / 1000).toFixed(1)} s`);
  return `budget     ${b.name}: ${parts.join('; ')}`;
}

/**
 * "7 in pid 42 on a, 100 in 3 processes": the limits in force, lowest first, with who asks for
 * each. A taker is a process (its key): two of the same pid and host are two, named apart.
 */
function takersByLimit(takers: BudgetRow['takers']): string {
  const name = namedApart(takers, (t) => t.process);
  const byLimit = new Map<number, string[]>();
  for (const t of takers) byLimit.set(t.limit, [...(byLimit.get(t.limit) ?? []), name(t)]);
  return [...byLimit]
    .sort(([a], [b]) => a - b)
    .map(([limit, processes]) => `${grouped(limit)} in ${processes.length <= 2 ? processes.join(' and ') : `${grouped(processes.length)} processes`}`)
    .join(', ');
}
