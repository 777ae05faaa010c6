// A supervising command (work, sync, the demo) runs pg-boss's pass once as it starts, so that a
// killed worker's lapsed jobs go back to the queue without waiting an interval. That pass stamps
// the queue's claim; a pass hands lapsed jobs back only once the claim is an interval old, so the
// timer's first pass, an interval later, found it a moment short and was refused: a job that
// lapsed after the start waited two intervals, and a `sync` lasting between one and two handed
// it back not at all. The claim's interval is now a second under the timer's.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { SYNC_QUEUE, startBoss } from '../../src/queue/boss.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it("hands back a job that lapsed after the start's pass at the timer's first pass", { timeout: 60_000 }, async () => {
  // A worker took the job, then was killed: its heartbeat will lapse.
  const killed = await startBoss(database, silentLogger);
  await killed.send(SYNC_QUEUE, { ticketId: 1 }, { singletonKey: '1' });
  const [job] = await killed.fetch<{ ticketId: number }>(SYNC_QUEUE);
  await killed.stop({ graceful: false, timeout: 1_000 });

  const supervising = await startBoss(database, silentLogger, { supervise: true, superviseSeconds: 3 });
  try {
    const state = async () => (await database.pool.query<{ state: string }>('select state::text from pgboss.job where id = $1', [job.id])).rows[0].state;
    // The start's pass finds it still beating; it lapses 1.5 s later.
    await pause(500);
    expect(await state()).toBe('active');
    await database.pool.query(`update pgboss.job set heartbeat_on = now() - (heartbeat_seconds - 1.5) * interval '1 second' where id = $1`, [job.id]);
    // The timer's first pass comes 3 s after the start; refused, the next would come at 6 s.
    await pause(4_500);
    expect(await state()).toBe('retry');
  } finally {
    await supervising.stop({ graceful: false, timeout: 2_000 });
  }
});
