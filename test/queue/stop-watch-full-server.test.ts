// A stop's watch looks at Postgres through a connection of its own, opened as the stop begins. A
// server at max_connections refuses it, yet answers, and the work in hand goes on over the
// connections it already has: the stop must wait for that work, not give up on a Postgres that
// answered. A role's connection limit gets the same refusal (SQLSTATE 53300) without filling a
// server other tests share.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { openLookPool } from '../../src/db/look-pool.ts';
import { silentLogger } from '../../src/log.ts';
import { watchPostgres } from '../../src/queue/stop-watch.ts';
import { createTestDatabase, adminQuery, type TestDatabase } from '../helpers/database.ts';

let database: TestDatabase;
const role = `convlog_full_${randomBytes(4).toString('hex')}`;
const password = 'one-slot-only';

beforeAll(async () => {
  database = await createTestDatabase();
  await adminQuery(inject('pgAdminUrl'), `create role ${role} login password '${password}' connection limit 1`);
});

afterAll(async () => {
  await database.close();
  await adminQuery(inject('pgAdminUrl'), `drop role if exists ${role}`);
});

it('goes on waiting while Postgres refuses the look only for want of a free connection slot', async () => {
  const url = new URL(database.url);
  url.username = role;
  url.password = password;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
  // The role's one slot, held as a run's own connection would be.
  const held = await pool.connect();
  const looks = openLookPool(pool, 2_000);
  try {
    // What each look meets.
    const refused = await looks.pool.query('select 1').catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: '53300' });
    const stopped = new AbortController();
    let unreadable: unknown;
    const watched = watchPostgres(looks, {
      signal: stopped.signal,
      giveUpUnreadableMs: 300,
      onUnreadable: (failure) => (unreadable = failure),
      checkMs: 100,
      log: silentLogger,
    });
    // Several times the bound it would give up after, had the looks counted as unanswered.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    stopped.abort();
    await watched;
    expect(unreadable).toBeUndefined();
    // Still the work's own connection that answers.
    expect((await held.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  } finally {
    held.release();
    await looks.close();
    await pool.end();
  }
});
