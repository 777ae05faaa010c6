// Forcing an interleaving of transactions: the test goes on once Postgres shows that sessions of
// its database wait for a lock another holds, rather than after a sleep that a busy machine outlasts.
import type pg from 'pg';
import { vi } from 'vitest';

/**
 * Resolves once at least `count` sessions of the pool's database wait for a lock, or as soon as
 * `done()` says the awaited work has finished without waiting; fails after `timeoutMs`.
 */
export async function sessionsWaitingForLocks(pool: pg.Pool, count: number, options: { done?: () => boolean; timeoutMs?: number } = {}): Promise<void> {
  const waiting = async () =>
    (await pool.query<{ n: number }>(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`)).rows[0].n;
  await vi.waitUntil(async () => options.done?.() || (await waiting()) >= count, {
    timeout: options.timeoutMs ?? 10_000,
    interval: 25,
    message: `fewer than ${count} sessions came to wait for a lock`,
  });
}

/** 'ok', or what Postgres said (drizzle wraps its error as "Failed query: …", its cause). */
export function settled(work: Promise<unknown>): Promise<string> {
  return work.then(
    () => 'ok',
    (error: unknown) => String(((error as Error).cause as Error | undefined)?.message ?? (error as Error)?.message ?? error),
  );
}

/**
 * A third session's transaction that holds the rows `text` locks (or inserts, uncommitted), and
 * fails unless that is at least one row: a test holding none would interleave nothing. `release`
 * rolls it back, so that an inserted row leaves nothing behind, and may be called again (in a
 * `finally`) once it has.
 */
export async function holdRows(pool: pg.Pool, text: string, values: unknown[] = []): Promise<{ release(): Promise<void> }> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const { rowCount } = await client.query(text, values);
    if (!rowCount) throw new Error(`held no row: ${text}`);
  } catch (error) {
    // Closing the connection ends its transaction too.
    client.release(true);
    throw error;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      try {
        await client.query('rollback');
      } catch (error) {
        client.release(true);
        throw error;
      }
      client.release();
    },
  };
}
