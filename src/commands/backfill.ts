import { backfillDeps } from '../queue/backfill-job.ts';
import { otherQueueWorkers, workersNamed } from '../queue/queue-workers.ts';
import { requireStartingPoint, runBackfill, type BackfillProgress } from '../queue/backfill.ts';
import { LATEST_START_AGE_SECONDS, parseSince } from './args.ts';
import { logRateWaits } from './rate-waits.ts';
import { closeRuntime, openSyncRuntime, stopGaveUpError } from './runtime.ts';
import { unlessSilentAfterStop } from '../queue/stop-watch.ts';
import type { Command } from './types.ts';
import { counted } from '../text.ts';

const at = (date: Date | null) => (date ? date.toISOString().replace('.000Z', 'Z') : 'none yet');
/** " (2 more recorded before or restored since)": deletions listed that told nothing new, when there were any. */
const beforeText = (n: number | undefined) => (n ? ` (${n} more recorded before or restored since)` : '');
/** "3 queued", or "0 queued (100 already queued)" when tickets had a job waiting already. */
const queuedText = (queued: number, already: number) => `${queued} queued${already > 0 ? ` (${already} already queued)` : ''}`;

export const backfill: Command = {
  usage: 'convlog backfill [--since DATE | DURATION]   (2024-05-01, 2024-05-01T08:00:00Z, 7d, 12h, 90m, 2w)',
  options: { since: { type: 'string' } },
  usageOnError: false,
  async run(values, _positionals, ctx) {
    const since = typeof values.since === 'string' ? parseSince(values.since) : undefined;
    // The time the summary gives is the time waited: starting the database and checking the
    // credentials (seconds on a first run, or with a slow Zendesk) count too.
    const started = Date.now();
    const runtime = await openSyncRuntime(ctx, {
      checkCredentials: { whatWaits: 'nothing was queued', usageFirst: since ? undefined : (database) => requireStartingPoint(database.db) },
    });
    // The export's budget (10 a minute by default) and the lists' account-wide one: a page that
    // waits beyond the budget's pacing says so in a log line (pacedWaitMs, rate-waits.ts), between the page lines.
    const unwatch = runtime.budgets && logRateWaits([runtime.budgets.export, runtime.budgets.account], ctx.log);
    let lostDatabase = false;
    try {
      if (since?.clamped) {
        ctx.log.info(`--since is less than ${LATEST_START_AGE_SECONDS} s ago; Zendesk needs a start a minute in the past by its own clock, so starting ${LATEST_START_AGE_SECONDS} s ago`);
      }
      // The first page may wait for the export's budget: say at once where this run starts.
      const onStart = ({ from, position }: { from: string; position: Date | null }) =>
        ctx.stderr.write(
          from === 'saved position'
            ? `backfill: continuing from the saved position (${position ? `changes up to ${at(position)}` : 'no change seen yet'})\n`
            : `backfill: reading changes ${from}\n`,
        );
      const onPage = (p: BackfillProgress) =>
        ctx.stderr.write(
          `backfill: page ${p.pages}: ${counted(p.page.tickets, 'changed ticket')}, ${queuedText(p.page.queued, p.page.alreadyQueued)}, ${p.page.deleted} deleted${beforeText(p.page.deletedBefore)} | ` +
            `total ${p.seen} seen, ${queuedText(p.queued, p.alreadyQueued)}, ${p.deleted} deleted${beforeText(p.deletedBefore)} | changes up to ${at(p.position)}\n`,
        );
      const run = runBackfill(backfillDeps(runtime, ctx.log), {
        ...(since ? { since: since.startTime } : {}),
        trigger: 'cli',
        signal: ctx.signal,
        onStart,
        onPage,
      });
      // Stopped, it stores the page in hand and its position: not on a Postgres that went silent.
      const outcome = await unlessSilentAfterStop(run, runtime.database.pool, ctx.signal, ctx.log);
      if ('lost' in outcome) {
        lostDatabase = true;
        throw stopGaveUpError(runtime.database, outcome.lost, 'the next backfill continues from the saved position');
      }
      const result = outcome.value;
      const summary =
        `${counted(result.seen, 'changed ticket')} ${result.from === 'saved position' ? 'since the saved position' : result.from}: ` +
        `${queuedText(result.queued, result.alreadyQueued)}, ${result.deleted} deleted (recorded as not_found)${beforeText(result.deletedBefore)}${fullReadsText(result.fullReads)} | ` +
        `position saved: ${result.position ? `changes up to ${at(result.position)}` : 'no change seen yet'} | ${counted(result.pages, 'page')}, ${counted(result.requests, 'request')}, ${((Date.now() - started) / 1000).toFixed(1)} s`;
      if (result.interrupted) {
        ctx.out(`backfill interrupted: ${summary}; run "convlog backfill" to continue`);
        return 1;
      }
      ctx.out(`backfill done: ${summary}`);
      const lists = result.accountLists;
      if (lists && 'error' in lists) ctx.out(`groups, brands and organizations lists not read (views show their ids until the next backfill): ${lists.error}`);
      else if (lists && 'notDue' in lists) ctx.out(`lists not read: read at ${lists.notDue.readAt}, under an hour ago, and no changed ticket names a group, brand or organization without a row`);
      else if (lists) ctx.out(`lists read: ${counted(lists.groups, 'group')}, ${counted(lists.brands, 'brand')}, ${counted(lists.organizations, 'organization')} stored or changed (${counted(lists.requests, 'request')})`);
      // With a worker up, "when workers run" read as if none were.
      const workers = await otherQueueWorkers(runtime.database.pool).catch(() => []);
      ctx.out(
        workers.length > 0
          ? `the tickets sync as ${workers.length === 1 ? 'the process' : `the ${workers.length} processes`} working the queue take them (${workersNamed(workers)})`
          : 'the tickets sync when workers run: convlog work (or convlog work --until-idle)',
      );
      return 0;
    } finally {
      unwatch?.();
      await closeRuntime(runtime.close, lostDatabase);
    }
  },
};

/** The periodic full reads queued besides the changed tickets, when there were any. */
function fullReadsText(fullReads: number | undefined): string {
  return fullReads ? `; ${counted(fullReads, 'long ticket')} queued for ${fullReads === 1 ? 'its' : 'their'} periodic full read` : '';
}
