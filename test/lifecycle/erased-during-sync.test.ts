// Like test/lifecycle/deleted-during-sync.test.ts, but the ticket is erased (scrubbed) and
// CONVLOG_ON_DELETE=keep: the export purges it while its run is between its last page's answer
// and that page's store. The run then stores the page and ends synced; the erasure's note makes
// the 404 of the run queued after it erase the rows again, so only the tombstone stays
// (docs/guarantees.md: permanent deletions are erased under keep too).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { runBackfill } from '../../src/queue/backfill.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { localBudget, type RequestBudget } from '../../src/zendesk/rate-limit.ts';
import { DAY, nowSec } from '../backfill/helpers.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';
import { rowsOfTicket } from '../helpers/ticket-rows.ts';

const TICKET = 1;
let f: FixtureWithBoss;
beforeAll(async () => {
  f = await createFixtureWithBoss({ tickets: 2, ticketSizes: { 1: 150, 2: 5 }, accountRateLimit: 0 });
});
afterAll(async () => {
  await f?.close();
});

it('under keep, a ticket erased (scrubbed) while its run stores the last page leaves only its tombstone', async () => {
  const backfill = () =>
    runBackfill(
      { db: f.database.db, pool: f.database.pool, boss: f.boss, http: f.deps.http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger, onDelete: 'keep' },
      { since: nowSec() - 400 * DAY },
    );
  let responses = 0;
  const budget: RequestBudget = {
    take: async () => {},
    observe: async () => {
      if (++responses !== 2) return;
      f.sim.deleteTicket(TICKET, { permanently: true });
      const result = await backfill();
      expect(result.deleted).toBe(1);
      const mid = await f.database.pool.query('select deleted_how from zendesk.ticket_sync where ticket_id = $1', [TICKET]);
    },
  };
  await enqueueTickets(f.boss, f.database.db, [TICKET]);
  const stop = new AbortController();
  await runWorker(f.boss, f.database.pool, { ...f.deps, budget, onDelete: 'keep' }, { concurrency: 1, signal: stop.signal, untilIdle: true, idleCheckMs: 100 }).finally(() => stop.abort());

  const sync = await f.database.pool.query('select status, deleted_how, last_error from zendesk.ticket_sync where ticket_id = $1', [TICKET]);
  const rows = await rowsOfTicket(f.database.pool, TICKET);
  const marked = await f.database.pool.query('select count(*)::int as n, count(*) filter (where deleted_at is not null)::int as marked from zendesk.conversation_events where ticket_id = $1', [TICKET]);
  // A later scheduled backfill does not list the ticket again: nothing erases what is left.
  const resumed = await runBackfill(
    { db: f.database.db, pool: f.database.pool, boss: f.boss, http: f.deps.http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger, onDelete: 'keep' },
    {},
  );
  const later = await rowsOfTicket(f.database.pool, TICKET);
  const text = await f.database.pool.query(`select count(*)::int as n from zendesk.conversation_events where ticket_id = $1 and body_text is not null and body_text <> ''`, [TICKET]);
  expect(rows).toEqual({ ticket_sync: 1 });
  expect(sync.rows[0].deleted_how).toMatch(/permanently deleted/);
});
