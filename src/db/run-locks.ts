// One backfill, and one analytics rebuild, at a time across every process: a session advisory
// lock, held on its own connection for the whole run and released when that connection ends,
// crash included.
import type pg from 'pg';

/** convlog's advisory locks (int, int) are in this space: "conv". Key 2 is the enqueue/dequeue fence (src/db/dequeued.ts). */
export const LOCK_SPACE = 0x636f6e76;
const RUN_LOCKS = { backfill: 1, 'rebuild-analytics': 3 } as const;
const LOCK_BACKFILL = RUN_LOCKS.backfill;

export interface HeldLock {
  release(): Promise<void>;
}

/** Whether some session of this database holds the backfill lock: a backfill is running now. */
export async function backfillLockHeld(pool: pg.Pool): Promise<boolean> {
  // Advisory locks are per database; pg_try_advisory_lock(int, int) shows as objsubid 2.
  const { rows } = await pool.query<{ held: boolean }>(
    `select exists (
       select from pg_locks
        where locktype = 'advisory' and granted and objsubid = 2
          and database = (select oid from pg_database where datname = current_database())
          and classid::bigint = $1 and objid::bigint = $2
     ) as held`,
    [LOCK_SPACE, LOCK_BACKFILL],
  );
  return rows[0].held;
}

/** The lock of a run that must be alone (a backfill, an analytics rebuild), or null when another process holds it. */
export async function tryRunLock(pool: pg.Pool, run: keyof typeof RUN_LOCKS): Promise<HeldLock | null> {
  const key = RUN_LOCKS[run];
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1::int, $2::int) as locked', [LOCK_SPACE, key]);
    if (!rows[0].locked) {
      client.release();
      return null;
    }
  } catch (error) {
    client.release(error as Error);
    throw error;
  }
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      try {
        await client.query('select pg_advisory_unlock($1::int, $2::int)', [LOCK_SPACE, key]);
        client.release();
      } catch (error) {
        // A broken connection is dropped from the pool, and its lock with it.
        client.release(error as Error);
      }
    },
  };
}
