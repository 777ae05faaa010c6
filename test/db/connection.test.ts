// A Postgres restart ends every idle connection of a pool at once; the pool says so in one
// warning with their count, not a line per connection.
import pg from 'pg';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { connect, type Database } from '../../src/db/connection.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { capturedLog } from '../helpers/captured-log.ts';

let database: TestDatabase;
let pooled: Database | undefined;
beforeEach(async () => {
  database = await createTestDatabase();
});
afterEach(async () => {
  await pooled?.close();
  await database.close();
});


/** Opens `n` connections in `pool` at once and returns them to it idle; their backend pids. */
async function idleConnections(pool: pg.Pool, n: number): Promise<number[]> {
  const clients = await Promise.all(Array.from({ length: n }, () => pool.connect()));
  const pids = await Promise.all(clients.map(async (c) => (await c.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0].pid));
  for (const c of clients) c.release();
  return pids;
}

it('warns once, with the count, when several idle connections are lost together', { timeout: 30_000 }, async () => {
  const { log, lines } = capturedLog();
  pooled = await connect(database.url, log, 4);
  const pids = await idleConnections(pooled.pool, 4);
  expect(pooled.pool.idleCount).toBe(4);

  // As a restart does: every backend ended, from a connection outside the pool.
  const admin = new pg.Client({ connectionString: database.url });
  await admin.connect();
  try {
    const ended = await admin.query('select pg_terminate_backend(pid) as ended from unnest($1::int[]) as pid', [pids]);
    expect(ended.rows.every((r) => r.ended)).toBe(true);
  } finally {
    await admin.end();
  }
  await vi.waitUntil(() => pooled!.pool.totalCount === 0, { timeout: 10_000 });
  await vi.waitUntil(() => lines().some((l) => /idle Postgres connection/.test(String(l.msg))), { timeout: 10_000 });
  // Nothing more comes after the first warning's window.
  await new Promise((resolve) => setTimeout(resolve, 2_500));

  const warnings = lines().filter((l) => /idle Postgres connection/.test(String(l.msg)));
  expect(warnings).toEqual([expect.objectContaining({ level: 40, connections: 4, msg: '4 idle Postgres connections lost' })]);
  // The pool still works: the next query opens a fresh connection.
  expect((await pooled.pool.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
});
