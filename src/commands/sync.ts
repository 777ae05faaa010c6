import type pg from 'pg';
import { DatabaseUnavailable, Interrupted } from '../errors/convlog-errors.ts';
import { errorMessage } from '../errors/messages.ts';
import type { Database } from '../db/connection.ts';
import { counted, grouped } from '../text.ts';
import { LOOK_TIMEOUT_MS, openLookPool } from '../db/look-pool.ts';
import { askedAgainNotQueued, ticketStates, waitingOrRunning, type TicketState } from '../db/sync-again.ts';
import type { RequestBudget } from '../zendesk/rate-limit.ts';
import { enqueueTickets, SYNC_PRIORITY } from '../queue/enqueue.ts';
import { queueMarkedWithoutJob } from '../queue/marked-without-job.ts';
import { jobsAhead, lowerWaitingJobs } from '../queue/queue-stats.ts';
import { otherQueueWorkers } from '../queue/queue-workers.ts';
import { NOTHING_QUEUED, readTicketIds } from './ticket-ids.ts';
import { runWorker, UNTIL_IDLE_UNREACHABLE_MS } from '../queue/worker.ts';
import { createProgress } from './progress.ts';
import { watchWaits } from './rate-waits.ts';
import { closeRuntime, logGaveUpOnZendesk, STOPPING_WORKER, lostDatabaseError, openSyncRuntime } from './runtime.ts';
import { readRowsOfQueued } from './ticket-rows.ts';
import type { Command, CommandContext } from './types.ts';
import { concurrencyFlag, integerFlag } from './args.ts';
import type { SyncRuntime } from './runtime.ts';

/**
 * Not done yet: waiting or running, or asked for again after its last run began (`sync` found it
 * running), so that run, ending, counts for nothing until the one after it ends.
 */
const pending = (s: TicketState) => waitingOrRunning(s) || s.askedAgain;
/** How often the bar looks for other tickets ahead of these. */
const AHEAD_CHECK_MS = 2_000;

export const sync: Command = {
  usage: 'convlog sync IDS... [--file PATH | -] [--range A..B] [--full] [--concurrency N] [--give-up-after SECONDS (Zendesk lost halfway; default 600)]',
  stopping: STOPPING_WORKER,
  nothingDone: NOTHING_QUEUED,
  options: {
    file: { type: 'string' },
    range: { type: 'string' },
    full: { type: 'boolean' },
    concurrency: { type: 'string' },
    'give-up-after': { type: 'string' },
  },
  allowPositionals: true,
  async run(values, positionals, ctx) {
    // What was typed first: `convlog sync` with no ids is a usage error, whatever the environment.
    const ids = await readTicketIds({ args: positionals, file: values.file as string | undefined, range: values.range as string | undefined, stdin: ctx.stdin });
    // The flags before the settings: what was typed on this line is the first thing to fix.
    const concurrencyGiven = concurrencyFlag(values.concurrency);
    const giveUpUnreachableMs = integerFlag('--give-up-after', values['give-up-after'], UNTIL_IDLE_UNREACHABLE_MS / 1000, 86_400) * 1000;
    const config = ctx.config({ needZendesk: true });
    const concurrency = concurrencyGiven ?? config.concurrency;
    const runtime = await openSyncRuntime(ctx, { supervise: true, checkCredentials: { whatWaits: NOTHING_QUEUED } });
    let lostDatabase = false;
    try {
      return await syncTickets(runtime, ctx, [...new Set(ids)], { full: Boolean(values.full), concurrency, giveUpUnreachableMs });
    } catch (error) {
      lostDatabase = error instanceof DatabaseUnavailable;
      throw error;
    } finally {
      await closeRuntime(runtime.close, lostDatabase);
    }
  },
};

/** What the summary says of the tickets still pending when the run stopped: why, and what becomes of them. */
function unfinishedWhy(unfinished: number, notQueued: number, lowered: number): string {
  const marked = 'changed during a run and not queued again yet: sync them again';
  const stayQueued = unfinished - notQueued;
  const behind = lowered === 0 ? '' : `, ${lowered >= stayQueued ? '' : `${lowered} of them `}behind what a later sync queues`;
  if (notQueued === 0) return `interrupted; they stay queued${behind}`;
  if (notQueued === unfinished) return `interrupted; ${marked}`;
  return `interrupted; ${stayQueued} stay queued${behind}, ${notQueued} ${marked}`;
}

/**
 * A sync that stopped (Ctrl-C, or given up on Zendesk) leaves its tickets queued, and nobody
 * waits for them any more: at sync's priority they would hold back every later sync until worked
 * off, so they go back to the backlog's. Only while no other process works the queue: one job
 * serves every request for its ticket, and another `sync` may be waiting for the same one.
 * Returns how many were put back.
 */
async function backToBacklog(pool: pg.Pool, ids: readonly number[]): Promise<number> {
  return (await otherQueueWorkers(pool)).length > 0 ? 0 : (await lowerWaitingJobs(pool, ids, SYNC_PRIORITY)).length;
}

/** What became of a queued ticket, not one of those given, that the run took. */
type OtherOutcome = 'synced' | 'not_found' | 'forbidden' | 'failed' | 'left queued';

/** One line: how many other queued tickets the run worked while its own were pending, and how each ended. */
function describeOthers(others: Map<number, OtherOutcome>): string {
  const order: OtherOutcome[] = ['synced', 'not_found', 'forbidden', 'failed', 'left queued'];
  const outcomes = [...others.values()];
  const parts = order.map((o) => [o, outcomes.filter((x) => x === o).length] as const).filter(([, count]) => count > 0);
  return `also worked ${counted(others.size, 'other queued ticket')} it took while these were pending: ${parts.map(([o, count]) => `${o} ${count}`).join(', ')}`;
}

export async function syncTickets(
  runtime: SyncRuntime,
  ctx: CommandContext,
  ids: number[],
  options: {
    full: boolean;
    concurrency: number;
    label?: string;
    /**
     * The ticket rows' budget when the runtime has no shared ones (the demo's, for its simulator
     * without a limit); without either, readRowsOfQueued takes the account-wide one in Postgres.
     */
    accountBudget?: RequestBudget;
    /** How long a Zendesk lost halfway is waited for before the run ends, its tickets queued (default 10 min). */
    giveUpUnreachableMs?: number;
    /** Told each ticket this process ran (another process working the queue may run some). */
    onRunHere?: (ticketId: number) => void;
    /** What finishes the tickets an interrupted run leaves, said after them (the demo: running it again). */
    finishWith?: string;
  },
): Promise<number> {
  const { boss, database, deps, budgets } = runtime;
  // Ctrl-C while the command started (Postgres, migrations, the credential check) queues nothing: the
  // tickets would wait in the queue for the next `work`, which is not what was asked.
  if (ctx.signal.aborted) throw new Interrupted(`interrupted while starting; ${NOTHING_QUEUED}`);
  // Above the backlog (a backfill's, an enqueue's), so that a worker takes these next: someone
  // is waiting for them. Webhook tickets still go first (SYNC_PRIORITY in src/queue/enqueue.ts).
  const queued = await enqueueTickets(boss, database.db, ids, { full: options.full, priority: SYNC_PRIORITY });
  ctx.log.debug({ ...queued }, 'tickets queued');

  const progress = createProgress(options.label ?? 'sync', ctx.stderr, { log: ctx.log, stopping: ctx.signal });
  // Both budgets this run spends hold it back: the worker's (conversation log) and the ticket
  // rows' (account-wide), which the run waits for once its tickets are done.
  const unwatch = budgets && watchWaits([budgets.conversationLog, budgets.account], (wait, budget) => progress.waiting(wait, budget));
  // Beside the worker: it spends the account-wide budget, the worker the conversation log's.
  const ticketRows = readRowsOfQueued(
    { db: database.db, pool: database.pool, config: runtime.config, http: deps.http, log: ctx.log, signal: ctx.signal, budget: budgets?.account ?? options.accountBudget },
    ids,
    { current: true },
  );
  const totals = { done: 0, total: ids.length, events: 0, requests: 0, ahead: { count: 0, atLeast: false } };
  const given = new Set(ids);
  let aheadCheckedAt = 0;
  // Asked for again while their run was in flight, and never queued again by its worker: waited for, they would hold the run for ever.
  const markedWithoutJob = queueMarkedWithoutJob(boss, { full: options.full, priority: SYNC_PRIORITY, log: ctx.log });
  // In the worker's wait, through its look (each query bounded, src/db/look-pool.ts); once more at the end.
  const refresh = async (look: Pick<Database, 'db' | 'pool'>) => {
    const states = await ticketStates(look.db, ids);
    await markedWithoutJob.check(look.db, states);
    // Every id has a row once queued: one without was taken out of the queue (`convlog dequeue`,
    // which forgets a ticket never synced) and is not waited for.
    totals.done = ids.length - states.filter(pending).length;
    // Tickets worked before these (running, or webhooks' above them) would leave the count
    // standing still with requests going up: the bar says how many.
    if (totals.done === ids.length) totals.ahead = { count: 0, atLeast: false };
    else if (Date.now() - aheadCheckedAt >= AHEAD_CHECK_MS) {
      aheadCheckedAt = Date.now();
      totals.ahead = await jobsAhead(look.pool, given);
    }
    progress.update(totals);
    return totals.done === ids.length;
  };
  // Requests are counted as they take their permit: every one is counted, a request that failed
  // or was retried too (it spent budget), not only those of the pages stored.
  const budget: RequestBudget = {
    take: async (signal) => {
      await deps.budget.take(signal);
      totals.requests += 1;
      progress.update(totals);
    },
    observe: (info) => deps.budget.observe(info),
  };
  // The worker takes whatever is queued, not only these tickets: tickets left by an interrupted
  // run, a backfill or enqueue. Each one's last outcome here, so the summary can say so.
  const others = new Map<number, OtherOutcome>();
  // Its own tickets this process ran: the rest of those done were run by another process working the queue.
  const ranHere = new Set<number>();
  let summary: Awaited<ReturnType<typeof runWorker>>;
  let states: TicketState[] = [];
  let lowered = 0;
  try {
    summary = await runWorker(boss, database.pool, { ...deps, budget }, {
      concurrency: options.concurrency,
      signal: ctx.signal,
      stopWhen: refresh,
      giveUpUnreachableMs: options.giveUpUnreachableMs,
      waiter: options.label ?? 'sync',
      idleCheckMs: 250,
      serverGone: database.serverGone,
      // Waited for, and Postgres watched meanwhile, as the tickets in flight are: its statements
      // run on the command's pool, unbounded, and one on a connection gone silent would never end.
      alongside: ticketRows,
      beforeExitAtOnce: ctx.beforeExitAtOnce,
      onResult: (result) => {
        options.onRunHere?.(result.ticketId);
        if (!given.has(result.ticketId)) others.set(result.ticketId, result.status);
        else ranHere.add(result.ticketId);
      },
      onFailure: (ticketId, _reason, final) => {
        options.onRunHere?.(ticketId);
        if (!given.has(ticketId)) others.set(ticketId, final ? 'failed' : 'left queued');
        else ranHere.add(ticketId);
      },
      onPage: (page) => {
        totals.events += page.events;
        progress.update(totals);
      },
    });
    // Postgres did not answer a look: one line, exit 2, as for `work --until-idle`. What is left
    // (the last count, the ticket rows being read) would wait on it too.
    if (summary.lostDatabase) throw lostDatabaseError(database, summary.lostDatabase, `sync gave up after ${Math.round(summary.lostDatabase.ms / 1000)} s without an answer`);
    // The last looks are bounded as the worker's were: a Postgres gone silent as the run ended
    // would otherwise hold it for ever. One unanswered ends it in the same one line, and the
    // runtime's close is then bounded too (closeRuntime).
    const last = openLookPool(database.pool, LOOK_TIMEOUT_MS);
    const unanswered = (error: unknown): never => {
      throw lostDatabaseError(database, { error }, 'sync gave up on its last look at its tickets');
    };
    try {
      await refresh(last).catch(unanswered);
      if (!summary.fatal) states = await ticketStates(last.db, ids).catch(unanswered);
      if ((ctx.signal.aborted || summary.gaveUp) && !summary.fatal) {
        lowered = await backToBacklog(last.pool, ids).catch((error: unknown) => {
          ctx.log.warn({ err: errorMessage(error) }, 'the tickets left queued keep the priority of sync: a later sync waits behind them');
          return 0;
        });
      }
    } finally {
      await last.close();
    }
  } finally {
    unwatch?.();
    progress.stop();
  }
  if (summary.fatal) throw summary.fatal;
  if (summary.gaveUp) logGaveUpOnZendesk(ctx.log, options.label ?? 'sync', summary.gaveUp);

  // A ticket whose run ended but which another run is to read again is unfinished, whatever that run said.
  const settled = states.filter((s) => !pending(s));
  const count = (status: string) => settled.filter((s) => s.status === status).length;
  const failed = settled.filter((s) => s.status === 'failed');
  const unfinished = states.length - settled.length;
  // Its run ended (maybe in another process) and nothing has queued it again yet.
  const notQueued = states.filter(askedAgainNotQueued).length;
  const dequeued = ids.length - states.length;
  // "synced 4 | 0 events read with 0 requests" read as a contradiction when a running `work` took them.
  const elsewhere = settled.filter((s) => !ranHere.has(s.ticketId)).length;
  ctx.out(
    `synced ${count('synced')}, not_found ${count('not_found')}, forbidden ${count('forbidden')}, failed ${failed.length}` +
      (elsewhere > 0 ? ` (${elsewhere} of them by another process working the queue)` : '') +
      (dequeued > 0 ? `, dequeued ${dequeued} (taken out of the queue before their first sync)` : '') +
      (unfinished > 0 ? `, unfinished ${unfinished} (${unfinishedWhy(unfinished, notQueued, lowered)}${options.finishWith ? `; ${options.finishWith}` : ''})` : '') +
      ` | ${counted(totals.events, 'event', grouped)} read with ${counted(totals.requests, 'request', grouped)}` +
      (others.size > 0 ? `, ${others.size === 1 ? 'the other queued ticket' : `the ${others.size} other queued tickets`} below included` : ''),
  );
  if (others.size > 0) ctx.out(describeOthers(others));
  for (const f of failed.slice(0, 20)) ctx.out(`  ticket ${f.ticketId} failed: ${f.lastError}`);
  if (failed.length > 20) ctx.out(`  … and ${failed.length - 20} more: select * from zendesk.ticket_sync where status = 'failed'`);
  // An interrupted run is not done: 1 tells a script to run it again, as the README says.
  return failed.length > 0 || unfinished > 0 ? 1 : 0;
}
