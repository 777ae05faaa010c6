import { UsageError } from '../errors/convlog-errors.ts';
import { runWorker, UNTIL_IDLE_UNREACHABLE_MS } from '../queue/worker.ts';
import { queueErrorText } from '../queue/error-throttle.ts';
import { startBackfillWorker, type BackfillWorker } from '../queue/backfill-job.ts';
import { ownLimits } from '../db/budgets.ts';
import { startHealthServer } from '../serve/health.ts';
import type { RunningServer } from '../serve/http.ts';
import { concurrencyFlag, integerFlag, listenFailure, portFlag } from './args.ts';
import { logRateWaits } from './rate-waits.ts';
import { closeRuntime, logGaveUpOnZendesk, STOPPING_WORKER, lostDatabaseError, openSyncRuntime, openWaitingForPostgres, stopGaveUpError } from './runtime.ts';
import type { Command } from './types.ts';

export const work: Command = {
  usage:
    'convlog work [--concurrency N] [--until-idle [--give-up-after SECONDS (an unreachable Zendesk or Postgres; default 600)]] ' +
    '[--health-port N (or CONVLOG_HEALTH_PORT): /healthz and /metrics]',
  stopping: STOPPING_WORKER,
  options: { concurrency: { type: 'string' }, 'until-idle': { type: 'boolean' }, 'give-up-after': { type: 'string' }, 'health-port': { type: 'string' } },
  async run(values, _positionals, ctx) {
    // The flags before the settings: what was typed on this line is the first thing to fix.
    const concurrencyGiven = concurrencyFlag(values.concurrency);
    const healthPortGiven = values['health-port'] === undefined ? undefined : portFlag('--health-port', values['health-port'], { anyFree: true });
    const untilIdle = Boolean(values['until-idle']);
    if (values['give-up-after'] !== undefined && !untilIdle) throw new UsageError('--give-up-after applies only with --until-idle: a service waits for as long as an outage lasts');
    // A run from cron must end; a service waits out any outage.
    const giveUpMs = untilIdle ? integerFlag('--give-up-after', values['give-up-after'], UNTIL_IDLE_UNREACHABLE_MS / 1000, 86_400) * 1000 : undefined;
    const config = ctx.config({ needZendesk: true });
    const concurrency = concurrencyGiven ?? config.concurrency;
    const healthPort = healthPortGiven ?? config.healthPort;
    const runtime = await openWaitingForPostgres(ctx, config.databaseUrl, () => openSyncRuntime(ctx, { supervise: true, schedule: true }), {
      who: 'the worker',
      stoppedFirst: 'worker stopped before taking any ticket',
      giveUpMs,
    });
    if (!runtime) return 0;
    let backfills: BackfillWorker | undefined;
    let health: RunningServer | undefined;
    let lostDatabase = false;
    // No bar to show them on: each long wait for a rate budget (the tickets' conversation log, a
    // scheduled backfill's export and account-wide reads) is one log line, not a silent worker.
    const unwatch = runtime.budgets && logRateWaits(Object.values(runtime.budgets), ctx.log);
    try {
      // A stop that came while the runtime opened (the migration lock, the credential check): a
      // worker that never starts must not log that it started, nor open its health port.
      if (ctx.signal.aborted) {
        ctx.log.info('worker stopped before taking any ticket');
        return untilIdle ? 1 : 0;
      }
      // The worker's own gate says how long Zendesk has not answered, once runWorker has made it.
      let zendeskAwayMs = () => 0;
      if (healthPort !== undefined) {
        const host = runtime.config.healthHost;
        const own = { ownLimits: ownLimits(runtime.config), zendeskAwayMs: () => zendeskAwayMs() };
        health = await startHealthServer({ pool: runtime.database.pool, port: healthPort, host, log: ctx.log, ...own }).catch((error: unknown) => {
          throw listenFailure(error, { port: values['health-port'] !== undefined ? '--health-port' : 'CONVLOG_HEALTH_PORT', host: 'CONVLOG_HEALTH_HOST' });
        });
        ctx.log.info({ url: `${health.url}/healthz` }, `health and metrics listening on ${health.bound} (${health.url}/healthz from this machine)`);
      }
      // Scheduled backfills (convlog schedule) run here too, one at a time, beside the ticket syncs.
      backfills = await startBackfillWorker(runtime, ctx.log, ctx.signal);
      ctx.log.info({ concurrency, untilIdle }, 'worker started');
      const summary = await runWorker(runtime.boss, runtime.database.pool, runtime.deps, {
        concurrency,
        untilIdle,
        giveUpUnreachableMs: giveUpMs,
        serverGone: runtime.database.serverGone,
        signal: ctx.signal,
        probeAtStart: true,
        onZendeskAway: (awayMs) => (zendeskAwayMs = awayMs),
        beforeExitAtOnce: ctx.beforeExitAtOnce,
        alsoBusy: () => backfills?.busy() ?? false,
      });
      // A fatal error is the command's own line, next: the log line does not say it twice.
      const { fatal, ...counts } = summary;
      ctx.log.info({ ...counts, fatal: fatal ? true : undefined, gaveUp: summary.gaveUp?.reason, lostDatabase: summary.lostDatabase && queueErrorText(summary.lostDatabase.error) }, 'worker stopped');
      if (summary.fatal) throw summary.fatal;
      if (summary.lostDatabase) {
        lostDatabase = true;
        if (summary.lostDatabase.stopping) throw stopGaveUpError(runtime.database, summary.lostDatabase);
        const seconds = Math.round(summary.lostDatabase.ms / 1000);
        throw lostDatabaseError(runtime.database, summary.lostDatabase, `--until-idle gave up after ${seconds} s without it (--give-up-after)`);
      }
      if (summary.gaveUp) {
        logGaveUpOnZendesk(ctx.log, '--until-idle', summary.gaveUp);
        return 1;
      }
      if (!untilIdle) return 0;
      // Stopped (a signal, a scheduler's timeout) before the queue was idle: its tickets stay
      // queued, and a scheduler must not read the run as done.
      if (!summary.done) {
        ctx.log.warn('stopped before the queue was idle: the tickets left stay queued; run it again to go on');
        return 1;
      }
      return summary.failed > 0 ? 1 : 0;
    } finally {
      unwatch?.();
      await health?.close();
      await closeRuntime(async () => {
        await backfills?.stop();
        await runtime.close();
      }, lostDatabase);
    }
  },
};
