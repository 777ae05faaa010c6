// Enqueueing while workers run: a worker may take a new job, and even finish its ticket, before
// enqueue has recorded the ticket as queued. No ticket may be left "queued" without a job.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
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

it('a ticket synced before enqueue has marked it queued stays synced', async () => {
  const { boss } = fixture;
  const stop = new AbortController();
  const working = runWorker(boss, fixture.database.pool, fixture.deps, { concurrency: 5, signal: stop.signal });
  // pg-boss as enqueue sees it, except that its insert returns only once the workers have
  // synced every new ticket: the slowest possible enqueue against the fastest workers.
  const slowBoss = new Proxy(boss, {
    get(target, key, receiver) {
      if (key !== 'insert') return Reflect.get(target, key, receiver);
      return async (...args: Parameters<PgBoss['insert']>) => {
        const ids = await target.insert(...args);
        for (const id of range(1, 5)) {
          await vi.waitUntil(async () => (await ticketSync(fixture.database, id))?.status === 'synced', { message: `ticket ${id} synced`, timeout: 20_000 });
        }
        return ids;
      };
    },
  });
  try {
    const result = await enqueueTickets(slowBoss, fixture.database.db, range(1, 5));
    expect(result).toEqual({ queued: 5, alreadyQueued: 0, duplicates: 0 });
  } finally {
    stop.abort();
  }
  expect((await working).synced).toBe(5);

  const { rows } = await fixture.database.pool.query(`select ticket_id::int as id, status from zendesk.ticket_sync order by ticket_id`);
  expect(rows).toEqual(range(1, 5).map((id) => ({ id, status: 'synced' })));

  // And a ticket not yet taken by a worker is marked queued as before.
  const { rows: jobs } = await fixture.database.pool.query(`select count(*)::int as n from pgboss.job where name = 'ticket-sync' and state = 'completed'`);
  expect(jobs[0].n).toBe(5);
  const idle = await enqueueTickets(boss, fixture.database.db, [3]);
  expect(idle.queued).toBe(1);
  expect((await ticketSync(fixture.database, 3))?.status).toBe('queued');
});
