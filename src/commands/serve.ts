import { createMetrics } from '../serve/metrics.ts';
import { DEFAULT_SERVE_PORT, loadServeConfig, portFrom } from '../serve/serve-config.ts';
import { startWebhookServer, WEBHOOK_PATH } from '../serve/webhook-server.ts';
import { openRuntime } from './runtime.ts';
import type { Command } from './types.ts';

export const serve: Command = {
  name: 'serve',
  summary: `receive Zendesk webhooks and queue the tickets they name; /healthz, /metrics (port ${DEFAULT_SERVE_PORT})`,
  usage: `convlog serve [--port N] (default ${DEFAULT_SERVE_PORT}; CONVLOG_WEBHOOK_SECRET must be set)`,
  options: { port: { type: 'string' } },
  async run(values, _positionals, ctx) {
    const port = portFrom(values.port);
    const config = ctx.config();
    // Checked before anything opens: without a secret every webhook would be refused.
    const serveConfig = loadServeConfig();
    const runtime = await openRuntime(ctx, { config });
    try {
      const metrics = createMetrics(runtime.database.pool);
      const server = await startWebhookServer({
        database: runtime.database,
        boss: runtime.boss,
        config: serveConfig,
        metrics,
        log: ctx.log,
        port,
        host: serveConfig.host,
      });
      ctx.log.info({ url: `${server.url}${WEBHOOK_PATH}`, secrets: serveConfig.secrets.length }, 'serve: listening for Zendesk webhooks');
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
