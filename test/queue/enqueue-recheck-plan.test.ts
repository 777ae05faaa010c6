// An enqueue's re-check (liveJobIds on every batch with a skipped ticket, under the enqueue lock;
// ticketsWhoseJobIsGone after) once read every live job of the queue, or hashed the whole job
// table: behind a backlog, an enqueue of tickets already queued took twice as long. On a table
// of completed jobs and a backlog of others, both must read about the rows of the tickets asked.
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BOSS_SCHEMA, SYNC_QUEUE } from '../../src/queue/boss.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { liveJobIds, ticketsWhoseJobIsGone } from '../../src/queue/queue-stats.ts';
import { plansOf, rowsTouched } from '../helpers/plans.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

const ASKED = 2_000;
const OTHERS = 100_000;

let fixture: FixtureWithBoss;
beforeAll(async () => {
  fixture = await createFixtureWithBoss({ tickets: 3 });
});
afterAll(async () => {
  await fixture?.close();
});

it('finds the jobs of the tickets asked, and those gone, through indexes', { timeout: 180_000 }, async () => {
  const { boss } = fixture;
  const { db, pool } = fixture.database;
  const ids = Array.from({ length: ASKED }, (_, i) => 1_000_000 + i);
  await enqueueTickets(boss, db, ids);
  const [running] = await boss.fetch(SYNC_QUEUE, { batchSize: 1 });
  expect(running.data).toMatchObject({ ticketId: ids[0] });
  // Other tickets' completed jobs (retention keeps them 7 days), and a backlog waiting.
  await pool.query(
    `insert into ${BOSS_SCHEMA}.job (id, name, singleton_key, state, data, policy, completed_on)
     select gen_random_uuid(), $1, (2000000 + g)::text, 'completed', jsonb_build_object('ticketId', 2000000 + g), 'exclusive', now()
       from generate_series(1, $2::int) g`,
    [SYNC_QUEUE, OTHERS],
  );
  await pool.query(
    `insert into ${BOSS_SCHEMA}.job (id, name, singleton_key, state, data, policy)
     select gen_random_uuid(), $1, (3000000 + g)::text, 'created', jsonb_build_object('ticketId', 3000000 + g), 'exclusive'
       from generate_series(1, $2::int) g`,
    [SYNC_QUEUE, OTHERS],
  );
  // ANALYZE takes each partition in turn, and pg-boss's maintenance in the background may hold
  // one it comes to: Postgres then aborts one of the two (40P01). The statistics are what this
  // test needs, so it asks again.
  for (let attempt = 1; ; attempt++) {
    try {
      await pool.query(`analyze ${BOSS_SCHEMA}.job`);
      break;
    } catch (error) {
      if ((error as { code?: unknown }).code !== '40P01' || attempt === 5) throw error;
    }
  }
  const { rows: tables } = await pool.query<{ table_name: string }>(`select table_name from ${BOSS_SCHEMA}.queue where name = $1`, [SYNC_QUEUE]);

  let live = new Map<number, string>();
  let gone: number[] = [];
  const plans = await plansOf(pool, async (client) => {
    live = await liveJobIds(client as unknown as pg.Pool, ids);
    gone = await ticketsWhoseJobIsGone(client as unknown as pg.Pool, live);
  });
  // Every ticket asked has its job, the running one's too, and none is gone.
  expect(live.size).toBe(ASKED);
  expect(live.get(ids[0])).toBe(running.id);
  expect(gone).toEqual([]);
  // Each statement reads each ticket's row once (twice at most), never the backlog or the table.
  expect(rowsTouched(plans, tables[0].table_name)).toBeLessThanOrEqual(4 * ASKED);

  // A job a dequeue deleted is told gone; the others are not.
  await pool.query(`delete from ${BOSS_SCHEMA}.job where name = $1 and id = $2`, [SYNC_QUEUE, live.get(ids[7])]);
  expect(await ticketsWhoseJobIsGone(pool, live)).toEqual([ids[7]]);
});
