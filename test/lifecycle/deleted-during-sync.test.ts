// A ticket deleted in Zendesk while a worker syncs it, and reported deleted by a backfill before
// that run ends: the run has read its last page already (no 404 to meet), stores it and would
// end `synced`, with rows of a deleted ticket that no later export lists again. Real simulator,
// real Postgres, real pg-boss and an in-process worker.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { runBackfill } from '../../src/queue/backfill.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { localBudget, type RequestBudget } from '../../src/zendesk/rate-limit.ts';
import { DAY, nowSec } from '../backfill/helpers.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

const TICKET = 1;
let f: FixtureWithBoss;
beforeAll(async () => {
  // Two pages at the production page size.
  f = await createFixtureWithBoss({ tickets: 2, ticketSizes: { 1: 150, 2: 5 }, accountRateLimit: 0 });
});
afterAll(async () => {
  await f?.close();
});

const count = async (sql: string) => (await f.database.pool.query<{ n: number }>(sql, [TICKET])).rows[0].n;

it('a ticket the export reports deleted while its run stores the last page is queued again, and its rows go', async () => {
  const backfill = () =>
    runBackfill(
      { db: f.database.db, pool: f.database.pool, boss: f.boss, http: f.deps.http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger },
      { since: nowSec() - 400 * DAY },
    );
  let responses = 0;
  const budget: RequestBudget = {
    take: async () => {},
    // The last page has come back; before the run stores it, the ticket is deleted and a
    // backfill reports it.
    observe: async () => {
      if (++responses !== 2) return;
      f.sim.deleteTicket(TICKET);
      const result = await backfill();
      expect(result.deleted).toBe(1);
    },
  };
  await enqueueTickets(f.boss, f.database.db, [TICKET]);
  const stop = new AbortController();
  await runWorker(f.boss, f.database.pool, { ...f.deps, budget }, { concurrency: 1, signal: stop.signal, untilIdle: true, idleCheckMs: 100 }).finally(() => stop.abort());

  // The run queued again met the 404.
  expect(f.sim.requests.filter((r) => r.kind === 'conversation_log' && r.ticketId === TICKET).map((r) => r.status)).toEqual([200, 200, 404]);
  expect(await count('select count(*)::int as n from zendesk.conversation_events where ticket_id = $1')).toBe(0);
  const { rows } = await f.database.pool.query('select status, deleted_at is not null as dead from zendesk.ticket_sync where ticket_id = $1', [TICKET]);
  expect(rows).toEqual([{ status: 'not_found', dead: true }]);
  expect(await count('select count(*)::int as n from zendesk.conversation_timeline where ticket_id = $1')).toBe(0);
});
