// Enqueueing while workers run. A batch's jobs are inserted in the same transaction that marks
// its tickets queued, so no worker can take a job (and finish its ticket) before the mark, and no
// stop between the two can leave a job without its queued row or a queued row without its job.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PgBoss } from 'pg-boss';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { createFixtureWithBoss, range, ticketSync, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let fixture: FixtureWithBoss;

beforeAll(async () => {
  fixture = await createFixtureWithBoss({ tickets: 5 });
});
afterAll(async () => {
  await fixture?.close();
});

it("a batch's jobs are seen by workers only with their tickets marked queued, and every ticket then syncs", { timeout: 60_000 }, async () => {
  const { boss } = fixture;
  const stop = new AbortController();
  const working = runWorker(boss, fixture.database.pool, fixture.deps, { concurrency: 5, signal: stop.signal });
  // pg-boss as enqueue sees it, except that once its insert has run it looks, from another
  // connection as a worker would, for the jobs it inserted.
  const seenAtInsert: number[] = [];
  const watchedBoss = new Proxy(boss, {
    get(target, key, receiver) {
      if (key !== 'insert') return Reflect.get(target, key, receiver);
      return async (...args: Parameters<PgBoss['insert']>) => {
        const ids = await target.insert(...args);
        const { rows } = await fixture.database.pool.query(`select count(*)::int as n from pgboss.job where name = 'ticket-sync'`);
        seenAtInsert.push(rows[0].n);
        return ids;
      };
    },
  });
  try {
    const result = await enqueueTickets(watchedBoss, fixture.database.db, range(1, 5));
    expect(result).toEqual({ queued: 5, alreadyQueued: 0, duplicates: 0 });
    expect(seenAtInsert).toEqual([0]);
    const { rows: marked } = await fixture.database.pool.query(`select count(*)::int as n from zendesk.ticket_sync`);
    expect(marked[0].n).toBe(5);
    const deadline = Date.now() + 30_000;
    while ((await Promise.all(range(1, 5).map((id) => ticketSync(fixture.database, id)))).some((row) => row?.status !== 'synced')) {
      if (Date.now() > deadline) throw new Error('the tickets were not synced within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    stop.abort();
  }
  expect((await working).synced).toBe(5);

  const { rows } = await fixture.database.pool.query(`select ticket_id::int as id, status from zendesk.ticket_sync order by ticket_id`);
  expect(rows).toEqual(range(1, 5).map((id) => ({ id, status: 'synced' })));

  // And a ticket not yet taken by a worker is marked queued as before.
  const idle = await enqueueTickets(boss, fixture.database.db, [3]);
  expect(idle.queued).toBe(1);
  expect((await ticketSync(fixture.database, 3))?.status).toBe('queued');
});
