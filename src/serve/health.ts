// GET /healthz and GET /metrics, mountable in any server (serve) or on their own port
// (startHealthServer: for `work --health-port N`).
import type http from 'node:http';
import type pg from 'pg';
import type { Logger } from '../log.ts';
import { listen, send, sendJson, type Handler, type RunningServer } from './http.ts';
import { withinTime } from '../timing.ts';
import { createMetrics, type Metrics } from './metrics.ts';

/** A load balancer or Docker gives up long before this; a hung Postgres must answer 503, not hang. */
const HEALTH_QUERY_TIMEOUT_MS = 2_000;

/**
 * The answer is bounded by a timer, which also covers waiting for a connection; the query by its
 * own query_timeout, the same 2 s. Without it a `select 1` sent on a connection gone silent (a
 * network dropping packets, a frozen server) waited for good after the 503, holding its pool client,
 * and every later /healthz took another. Past its limit the query fails and the pool drops that
 * connection. No statement_timeout: `select 1` takes no lock and does no work, so only the link or a
 * frozen server can hold it, and neither would hear one.
 */
async function databaseAnswers(pool: pg.Pool, timeoutMs = HEALTH_QUERY_TIMEOUT_MS): Promise<boolean> {
  const answered = pool.query({ text: 'select 1', query_timeout: timeoutMs } as pg.QueryConfig).then(
    () => true,
    () => false,
  );
  return (await withinTime(answered, timeoutMs)) ?? false;
}

/** Answers /healthz and /metrics; returns false for any other request, for the caller to route. */
export function healthRoutes(pool: pg.Pool, metrics: Metrics) {
  // One look at a time, shared by the requests that come meanwhile, as /metrics shares its read: a
  // flood of /healthz would otherwise queue a query each for the pool the work itself uses, and
  // each one given up after the time limit would still wait its turn for a connection.
  let looking: Promise<boolean> | undefined;
  const answers = () => (looking ??= databaseAnswers(pool).finally(() => (looking = undefined)));
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz' && path !== '/metrics') return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendJson(res, 405, { error: 'method_not_allowed' });
      return true;
    }
    if (path === '/healthz') {
      const ok = await answers();
      sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : 'database unreachable' });
      return true;
    }
    // Served even when Postgres is down: convlog_database_up says so and the process series stay useful.
    await metrics.refresh();
    send(res, 200, await metrics.registry.metrics(), metrics.registry.contentType);
    return true;
  };
}

export interface HealthServerOptions {
  pool: pg.Pool;
  port: number;
  host?: string;
  log: Logger;
  /** This process's limit for each budget, by row name (ownLimits, src/db/budgets.ts). */
  ownLimits: Record<string, number>;
  /** How long Zendesk has not answered this worker, 0 while it does (convlog_zendesk_unreachable_seconds). */
  zendeskAwayMs?: () => number;
}

/** A server with /healthz and /metrics only: a worker's, which has no webhook series. */
export async function startHealthServer(options: HealthServerOptions): Promise<RunningServer> {
  const routes = healthRoutes(options.pool, createMetrics(options.pool, options.ownLimits, { zendeskAwayMs: options.zendeskAwayMs }));
  const handler: Handler = async (req, res) => {
    if (!(await routes(req, res))) sendJson(res, 404, { error: 'not found' });
  };
  const server = await listen(handler, {
    port: options.port,
    host: options.host,
    onError: (error) => options.log.error({ err: error instanceof Error ? error.message : String(error) }, 'health request failed'),
  });
  return server;
}
