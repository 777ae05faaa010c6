import { DEFAULT_SERVE_PORT } from '../config.ts';
import { UsageError } from '../errors.ts';
import { quoted } from '../ids.ts';
import { createMetrics } from '../serve/metrics.ts';
import { startWebhookServer, WEBHOOK_PATH } from '../serve/webhook-server.ts';
import { listenFailure } from './args.ts';
import { openRuntime } from './runtime.ts';
import type { Command } from './types.ts';

export const serve: Command = {
  usage: `convlog serve [--port N] (default CONVLOG_SERVE_PORT or ${DEFAULT_SERVE_PORT}; CONVLOG_WEBHOOK_SECRET must be set)`,
  options: { port: { type: 'string' } },
  async run(values, _positionals, ctx) {
    const flagPort = values.port === undefined ? undefined : portFrom(values.port);
    // Checked before anything opens: without a secret every webhook would be refused.
    const config = ctx.config({ needWebhookSecret: true });
    const port = flagPort ?? config.serve.port;
    const runtime = await openRuntime(ctx, { config });
    try {
      const metrics = createMetrics(runtime.database.pool);
      const server = await startWebhookServer({
        database: runtime.database,
        boss: runtime.boss,
        config: config.serve,
        metrics,
        log: ctx.log,
        port,
        host: config.serve.host,
      }).catch((error: unknown) => {
        const from = flagPort !== undefined ? '--port' : ctx.env.CONVLOG_SERVE_PORT?.trim() ? 'CONVLOG_SERVE_PORT' : '--port or CONVLOG_SERVE_PORT';
        throw listenFailure(error, { port: from, host: 'CONVLOG_SERVE_HOST' });
      });
      ctx.log.info({ url: `${server.url}${WEBHOOK_PATH}`, secrets: config.serve.secrets.length }, 'serve: listening for Zendesk webhooks');
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      await server.close();
      ctx.log.info('serve stopped');
      return 0;
    } finally {
      await runtime.close();
    }
  },
};

/** `--port N` (1–65535; 0 asks the system for a free one, for tests). */
function portFrom(value: unknown): number {
  const n = Number(value);
  if (!/^\d+$/.test(String(value)) || n > 65_535) {
    throw new UsageError(`--port must be an integer from 0 to 65535, got ${quoted(value)}`);
  }
  return n;
}
