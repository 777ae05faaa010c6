// A look at the queue (work --until-idle asking whether anything is left) is bounded at 10 s on the
// client, and on the server too: a look the client gave up on must not go on running there. Here
// the look is slow, not unheard: it waits behind a lock on pg-boss's job table that the test holds.
import { afterEach, expect, it, vi } from 'vitest';
import { SYNC_QUEUE } from '../../src/queue/boss.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { silentLogger } from '../../src/log.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let fixture: FixtureWithBoss | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

/** The worker's look at the queue (liveJobs in src/queue/queue-stats.ts), as pg_stat_activity shows it. */
const LOOK = 'select count(*)::int as n from pgboss.job where%';

it('leaves no backend running a look at the queue that timed out (the server ends it at the same limit)', { timeout: 60_000 }, async () => {
  fixture = await createFixtureWithBoss({ tickets: 1 });
  const { pool } = fixture.database;
  // A job due in an hour: the queue is never idle, so the worker keeps looking.
  await fixture.boss.send(SYNC_QUEUE, { ticketId: 1 }, { singletonKey: '1', startAfter: 3_600 });
  const stop = new AbortController();
  const working = runWorker(fixture.boss, pool, { ...fixture.deps, log: silentLogger }, { concurrency: 1, signal: stop.signal, untilIdle: true, idleCheckMs: 100 });
  const holder = await pool.connect();
  try {
    await holder.query('begin');
    await holder.query('lock table pgboss.job in access exclusive mode');
    // The next look waits behind the lock.
    const look = await vi.waitUntil(
      async () =>
        (
          await pool.query<{ pid: number; started: Date }>(
            `select pid, query_start as started from pg_stat_activity where datname = current_database() and state = 'active' and wait_event_type = 'Lock' and query like $1`,
            [LOOK],
          )
        ).rows[0],
      { timeout: 10_000, interval: 50 },
    );
    // Past both limits (10 s from the look's start), and no new look after: the worker stops.
    await vi.waitUntil(() => Date.now() - look.started.getTime() > 11_000, { timeout: 15_000, interval: 100 });
    stop.abort();
    const stillRunning = async () =>
      (await pool.query(`select 1 from pg_stat_activity where pid = $1 and state = 'active' and query like $2`, [look.pid, LOOK])).rowCount;
    // A moment for a backend the server cancelled to settle; one left running stays while the lock is held.
    await vi.waitUntil(async () => (await stillRunning()) === 0, { timeout: 10_000, interval: 100 }).catch(() => {});
    expect(await stillRunning()).toBe(0);
  } finally {
    await holder.query('rollback');
    holder.release();
  }
  await working;
});
