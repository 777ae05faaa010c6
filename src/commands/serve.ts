import { DEFAULT_SERVE_PORT, fetchBlockedPort, type Config } from '../config.ts';
import { budgetFor, ownLimits } from '../db/budgets.ts';
import type { Database } from '../db/connection.ts';
import type { Logger } from '../log.ts';
import { createTicketRowReader, type TicketRowReader } from '../serve/ticket-rows.ts';
import { createZendeskHttp } from '../zendesk/index.ts';
import { logRateWaits } from './rate-waits.ts';
import { UsageError } from '../errors/convlog-errors.ts';
import { createServeMetrics } from '../serve/webhook-metrics.ts';
import { startWebhookServer, WEBHOOK_PATH } from '../serve/webhook-server.ts';
import { listenFailure, portFlag } from './args.ts';
import { openWaitingForPostgres, openZendeskRuntime, stopGaveUpError } from './runtime.ts';
import { unlessSilentAfterStop } from '../queue/stop-watch.ts';
import type { Command } from './types.ts';

export const serve: Command = {
  usage: `convlog serve [--port N] (default CONVLOG_SERVE_PORT or ${DEFAULT_SERVE_PORT}; CONVLOG_WEBHOOK_SECRET must be set)`,
  options: { port: { type: 'string' } },
  async run(values, _positionals, ctx) {
    const flagPort = values.port === undefined ? undefined : servePortFlag(values.port);
    // Checked before anything opens: without a secret every webhook would be refused.
    const config = ctx.config({ needWebhookSecret: true });
    const port = flagPort ?? config.serve.port;
    // As a worker does: started before Postgres (a reboot, a deploy), it waits rather than exits,
    // since Zendesk's deliveries meanwhile are refused either way and retried.
    const runtime = await openWaitingForPostgres(ctx, config.databaseUrl, () => openZendeskRuntime(ctx, { config, worksQueue: true }), {
      who: 'serve',
      stoppedFirst: 'serve stopped before listening',
    });
    if (!runtime) return 0;
    const ticketRows = ticketRowReader(config, runtime.database, ctx.log);
    const closeAll = async () => {
      await ticketRows?.close();
      await runtime.close();
    };
    try {
      const metrics = createServeMetrics(runtime.database.pool, ownLimits(config));
      const server = await startWebhookServer({
        database: runtime.database,
        boss: runtime.boss,
        config: config.serve,
        metrics,
        log: ctx.log,
        port,
        host: config.serve.host,
        ticketRows,
      }).catch((error: unknown) => {
        const from = flagPort !== undefined ? '--port' : ctx.env.CONVLOG_SERVE_PORT?.trim() ? 'CONVLOG_SERVE_PORT' : '--port or CONVLOG_SERVE_PORT';
        throw listenFailure(error, { port: from, host: 'CONVLOG_SERVE_HOST' });
      });
      // Says what it binds, not only the local url: an operator must not take a public port for a local one.
      const url = `${server.url}${WEBHOOK_PATH}`;
      ctx.log.info({ url, secrets: config.serve.secrets.length }, `serve: listening for Zendesk webhooks on ${server.bound} (${url} from this machine)`);
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await server.close();
    } catch (error) {
      await closeAll();
      throw error;
    }
    // Closing still writes to Postgres (the account budget's release, pg-boss's stop), which on a
    // Postgres gone silent would wait for ever: a service manager would kill serve at its stop
    // timeout without a word of why. Only those writes are watched: the embedded server serve
    // stops after them, answering "shutting down", then nothing, is no silence to warn of.
    const writesDone = async () => {
      await ticketRows?.close();
      await runtime.boss.stop({ graceful: true, timeout: 20_000 }).catch(() => {});
    };
    const closed = await unlessSilentAfterStop(writesDone(), runtime.database.pool, ctx.signal, ctx.log);
    if ('lost' in closed) throw stopGaveUpError(runtime.database, closed.lost, 'every delivery answered 200 has its ticket queued');
    await runtime.close();
    ctx.log.info('serve stopped');
    return 0;
  },
};

/**
 * With Zendesk credentials, the tickets webhooks name get their rows read again in the background
 * (src/serve/ticket-rows.ts); without them serve still queues every ticket, and says once where
 * their rows will come from instead.
 */
function ticketRowReader(config: Config, database: Database, log: Logger): TicketRowReader | undefined {
  if (!config.zendesk) {
    const why = config.zendeskProblems.length > 0 ? config.zendeskProblems.join('; ') : 'no Zendesk credentials';
    log.info(`tickets named by webhooks are queued (a change of their fields alone too), but their ticket rows wait for the next backfill: ${why}`);
    return undefined;
  }
  const budget = budgetFor('account', database.pool, config.accountRateLimit, log);
  const unwatch = logRateWaits([budget], log);
  const reader = createTicketRowReader({ db: database.db, http: createZendeskHttp(config.zendesk, { log }), budget, log });
  return {
    add: reader.add,
    close: async () => {
      await reader.close();
      unwatch();
      await budget.release();
    },
  };
}

/** `--port`, refused where CONVLOG_SERVE_PORT would be: `webhook test`'s fetch never reaches some ports. */
function servePortFlag(value: unknown): number {
  const port = portFlag('--port', value, { anyFree: true });
  const blocked = fetchBlockedPort(port);
  if (blocked) throw new UsageError(`--port ${blocked}`);
  return port;
}
