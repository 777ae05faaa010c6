// `convlog rebuild-analytics`: derives every ticket's analyst rows (ticket_summaries, reply_waits,
// ticket_days, event positions) again from the stored events, without a request to Zendesk.
// Migrations do this themselves; this is for after a restore, a manual edit of the tables, or to
// check that the kept rows match what the events imply. Interrupted, it resumes where it stopped.
import { rebuildAnalytics } from '../db/analytics.ts';
import { tryRunLock } from '../db/run-locks.ts';
import { RebuildBusy } from '../errors/convlog-errors.ts';
import { openCommandDatabase } from './runtime.ts';
import { integerFlag } from './args.ts';
import { createProgress } from './progress.ts';
import type { Command } from './types.ts';
import { counted } from '../text.ts';

export const rebuildAnalyticsCommand: Command = {
  usage: 'convlog rebuild-analytics [--restart] [--batch N]',
  options: { restart: { type: 'boolean' }, batch: { type: 'string' } },
  async run(values, _positionals, ctx) {
    const batchSize = integerFlag('--batch', values.batch, 2_000, 100_000);
    const database = await openCommandDatabase(ctx, ctx.config());
    // Alone: a second run took the first's saved position for an interrupted rebuild's and
    // repeated the rest beside it.
    const lock = await tryRunLock(database.pool, 'rebuild-analytics').catch(async (error: unknown) => {
      await database.close();
      throw error;
    });
    if (!lock) {
      await database.close();
      throw new RebuildBusy('another rebuild-analytics is running on this database (in another process); nothing was changed: it saves where it is, so run this again only if it stops before the end');
    }
    const progress = createProgress('rebuild-analytics', ctx.stderr, { counts: false, stopping: ctx.signal });
    try {
      const result = await rebuildAnalytics(database.db, {
        batchSize,
        restart: values.restart === true,
        signal: ctx.signal,
        onProgress: (p) => progress.update({ done: p.done, total: p.total, events: 0, requests: 0, doneBefore: p.skipped }),
      });
      progress.stop();
      const resumed = result.skipped > 0 ? ` (resumed after ${result.skipped} done before)` : '';
      if (!result.finished) {
        ctx.out(`stopped after ${result.done} of ${counted(result.total, 'ticket')}${resumed}; run it again to resume`);
        return 1;
      }
      ctx.out(`rebuilt the analyst tables of ${counted(result.total, 'ticket')}${resumed}`);
      return 0;
    } finally {
      // Also on a failure: the bar hides the terminal's cursor until it stops.
      progress.stop();
      await lock.release();
      await database.close();
    }
  },
};
