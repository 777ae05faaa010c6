import { runWorker } from '../queue/worker.ts';
import { startBackfillWorker, type BackfillWorker } from '../queue/backfill-job.ts';
import { waitForDatabase } from '../db/wait-for-database.ts';
import { concurrencyFlag } from './args.ts';
import { logZendeskProblems } from '../zendesk/credentials.ts';
import { openSyncRuntime } from './runtime.ts';
import type { Command } from './types.ts';

export const work: Command = {
  name: 'work',
  summary: 'run sync workers until SIGINT/SIGTERM (or, with --until-idle, until the queue is empty)',
  usage: 'convlog work [--concurrency N] [--until-idle]',
  options: { concurrency: { type: 'string' }, 'until-idle': { type: 'boolean' } },
  async run(values, _positionals, ctx) {
    const config = ctx.config({ needZendesk: true });
    const concurrency = concurrencyFlag(values.concurrency, config.concurrency);
    // A worker outlives Postgres restarts; at start-up it waits for a server that is down.
    if (config.databaseUrl && !(await waitForDatabase(config.databaseUrl, ctx.log, { signal: ctx.signal }))) return 0;
    const runtime = await openSyncRuntime(ctx, { supervise: true, schedule: true });
    let backfills: BackfillWorker | undefined;
    try {
      // Scheduled backfills (convlog schedule) run here too, one at a time, beside the ticket syncs.
      backfills = await startBackfillWorker(runtime, ctx.log, ctx.signal);
      ctx.log.info({ concurrency, untilIdle: Boolean(values['until-idle']) }, 'worker started');
      // Not awaited: a host that does not answer must not hold the worker back, only be named.
      // Refused credentials stop the worker as a 401 on a ticket would.
      const refused = new AbortController();
      void logZendeskProblems({ http: runtime.deps.http, log: ctx.log, signal: ctx.signal, onRefused: (error) => refused.abort(error) });
      const summary = await runWorker(runtime.boss, runtime.database.pool, runtime.deps, {
        concurrency,
        untilIdle: Boolean(values['until-idle']),
        signal: AbortSignal.any([ctx.signal, refused.signal]),
      });
      ctx.log.info({ ...summary, fatal: summary.fatal?.message }, 'worker stopped');
      if (summary.fatal) throw summary.fatal;
      if (refused.signal.aborted) throw refused.signal.reason;
      return summary.failed > 0 && values['until-idle'] ? 1 : 0;
    } finally {
      await backfills?.stop();
      await runtime.close();
    }
  },
};
