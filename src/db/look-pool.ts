// The looks a long-running command takes every fraction of a second (is the queue idle? are
// sync's tickets done?) go through a pool of their own, one connection whose every statement is
// bounded twice, at the same limit. On the client (pg's query_timeout): a connection that stopped
// answering (a network dropping packets, a frozen server) would otherwise hold a look, and the run
// waiting on it, for ever. On the server (statement_timeout): a look the client gave up on is not
// ended by that; pg drops the connection, which its backend notices only once its statement is
// done. A look that is slow rather than unheard (waiting behind a lock, say) would go on running,
// and every look after it would add one more beside it. When the network is what went silent the
// server cannot be told anything, but it still ends its statement at the limit instead of holding
// locks and a snapshot.
// A pool that writes where a lock may never be released (a worker handing its jobs back after
// giving up on Postgres) also bounds its waits for a lock, so one such write does not hold up the
// others queued behind it on the one connection.
// The server's limits are set in each look's own transaction (set_config(…, true), SET LOCAL),
// not when the connection logs in nor for its session: PgBouncer refuses a start-up parameter it
// does not keep track of ("unsupported startup parameter: statement_timeout"), and under its
// transaction pooling a session's setting stays with a server connection other clients get next,
// while the next look may get another. The transaction's idle time is bounded too: a network gone
// silent between its statements would otherwise leave it open, holding what the look locked.
import pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { withinTime } from '../timing.ts';
import type { Db } from './connection.ts';
import * as schema from './schema.ts';

export interface LookPool {
  pool: pg.Pool;
  db: Db;
  close(): Promise<void>;
}

/** How long one query of a look at the queue may wait for its answer. */
export const LOOK_TIMEOUT_MS = 10_000;

/** How long closing waits for the connection to end: on a silent network it never would. */
const CLOSE_TIMEOUT_MS = 2_000;

/** The server's limits, local to the transaction: statement, idle in it, and wait for a lock (0: none). */
const BOUNDS_SQL = `select set_config('statement_timeout', $1, true), set_config('idle_in_transaction_session_timeout', $1, true),
  set_config('lock_timeout', $2, true)`;

/**
 * A pool beside `pool` (the same server and login) for looks, each statement bounded at
 * `timeoutMs`, and each wait for a lock at `lockWaitMs` when given. Its `query` (which drizzle
 * uses too) runs each statement in a transaction of its own that sets those bounds first; a client
 * taken with `connect` is not bounded on the server.
 */
export function openLookPool(pool: pg.Pool, timeoutMs: number, lockWaitMs?: number): LookPool {
  const looks = new pg.Pool({ ...(pool.options as pg.PoolConfig), max: 1, query_timeout: timeoutMs });
  const bounds = [String(Math.max(1, Math.floor(timeoutMs))), String(lockWaitMs === undefined ? 0 : Math.max(1, Math.floor(lockWaitMs)))];
  const bounded = async (config: string | pg.QueryConfig, values?: unknown[]): Promise<pg.QueryResult> => {
    const client = await looks.connect();
    try {
      await client.query('begin');
      await client.query(BOUNDS_SQL, bounds);
      const result = await client.query(config, values);
      await client.query('commit');
      client.release();
      return result;
    } catch (error) {
      // As pg's own pool.query does: the connection is dropped, and with it the transaction.
      client.release(error instanceof Error ? error : true);
      throw error;
    }
  };
  // Looks pass a statement (text or config) and its values, and await the answer: pg's other
  // forms of query (a callback, a stream) are not used on this pool.
  looks.query = bounded as pg.Pool['query'];
  // A lost connection fails the look that meets it, which its caller reports; the event unheard
  // would end the process.
  looks.on('error', () => {});
  looks.on('connect', (client) => client.on('error', () => {}));
  return {
    pool: looks,
    db: drizzle(looks, { schema }),
    close: async () => {
      await withinTime(looks.end().catch(() => {}), CLOSE_TIMEOUT_MS);
    },
  };
}
