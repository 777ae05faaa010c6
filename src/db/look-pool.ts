// The looks a long-running command takes every fraction of a second (is the queue idle? are
// sync's tickets done?) go through a pool of their own, one connection whose every statement is
// bounded twice, at the same limit. On the client (pg's query_timeout): a connection that stopped
// answering (a network dropping packets, a frozen server) would otherwise hold a look, and the run
// waiting on it, for ever. On the server (statement_timeout, a setting of these connections only,
// sent when they log in): a look the client gave up on is not ended by that; pg drops the
// connection, which its backend notices only once its statement is done. A look that is slow
// rather than unheard (waiting behind a lock, say) would go on running, and every look after it
// would add one more beside it. When the network is what went silent the server cannot be told
// anything, but it still ends its statement at the limit instead of holding locks and a snapshot.
// A pool that writes where a lock may never be released (a worker handing its jobs back after
// giving up on Postgres) also bounds its waits for a lock, so one such write does not hold up the
// others queued behind it on the one connection.
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

/** How long closing waits for the connection to end: on a silent network it never would. */
const CLOSE_TIMEOUT_MS = 2_000;

/**
 * A pool beside `pool` (the same server and login) for looks, each statement bounded at
 * `timeoutMs`, and each wait for a lock at `lockWaitMs` when given.
 */
export function openLookPool(pool: pg.Pool, timeoutMs: number, lockWaitMs?: number): LookPool {
  const looks = new pg.Pool({
    ...(pool.options as pg.PoolConfig),
    max: 1,
    query_timeout: timeoutMs,
    statement_timeout: timeoutMs,
    ...(lockWaitMs === undefined ? {} : { lock_timeout: lockWaitMs }),
  });
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
