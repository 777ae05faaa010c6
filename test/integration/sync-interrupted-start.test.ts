// Ctrl-C while `convlog sync` (or the demo, which syncs through it) is still starting: Postgres,
// migrations and the credential check take seconds, and a stop that comes then must queue
// nothing, rather than leave the tickets in the queue for the next `work`.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { syncTickets } from '../../src/commands/sync.ts';
import { Interrupted } from '../../src/errors/convlog-errors.ts';
import { exitCodeFor } from '../../src/errors/outcome.ts';
import { createFixtureWithBoss, syncRuntimeFor, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let f: FixtureWithBoss;
beforeAll(async () => {
  f = await createFixtureWithBoss({ tickets: 3 });
});
afterAll(async () => {
  await f?.close();
});

it('a stop that came while sync was starting queues nothing and says so', async () => {
  const { runtime, ctx } = syncRuntimeFor(f, f.boss);
  const stop = new AbortController();
  stop.abort();
  const failure = await syncTickets(runtime, { ...ctx, signal: stop.signal }, [1, 2, 3], { full: false, concurrency: 2 }).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(Interrupted);
  expect((failure as Error).message).toBe('interrupted while starting; nothing was queued');
  expect(exitCodeFor(failure)).toBe(1);
  expect((await f.database.pool.query('select ticket_id from zendesk.ticket_sync')).rows).toEqual([]);
  expect((await f.database.pool.query(`select id from pgboss.job where name = 'ticket-sync'`)).rows).toEqual([]);
});
