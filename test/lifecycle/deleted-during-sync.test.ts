// A ticket deleted in Zendesk while a worker syncs it, and reported deleted by a backfill before
// that run ends: the run has read its last page already (no 404 to meet), stores it and would
// end `synced`, with rows of a deleted ticket that no later export lists again. Under
// CONVLOG_ON_DELETE=keep, the ticket's row (its subject, status, requester) must stay, marked.
// Real simulator, real Postgres, real pg-boss and an in-process worker.
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { OnDelete } from '../../src/config.ts';
import { silentLogger } from '../../src/log.ts';
import { runBackfill } from '../../src/queue/backfill.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { localBudget, type RequestBudget } from '../../src/zendesk/rate-limit.ts';
import { DAY, nowSec } from '../backfill/helpers.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

const TICKET = 1;
let f: FixtureWithBoss;
// A database of its own for each case: a backfill queues every ticket it lists, and the worker syncs them.
beforeEach(async () => {
  // Two pages at the production page size.
  f = await createFixtureWithBoss({ tickets: 2, ticketSizes: { 1: 150, 2: 5 }, accountRateLimit: 0 });
});
afterEach(async () => {
  await f?.close();
});

const count = async (sql: string) => (await f.database.pool.query<{ n: number }>(sql, [TICKET])).rows[0].n;

/** Syncs `ticketId`; once its last page has come back, and before the run stores it, the ticket is deleted and a backfill reports it. */
async function deletedWhileStoringLastPage(ticketId: number, onDelete: OnDelete): Promise<void> {
  const backfill = () =>
    runBackfill(
      { db: f.database.db, pool: f.database.pool, boss: f.boss, http: f.deps.http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger, onDelete },
      { since: nowSec() - 400 * DAY },
    );
  let responses = 0;
  const budget: RequestBudget = {
    take: async () => {},
    observe: async () => {
      if (++responses !== 2) return;
      f.sim.deleteTicket(ticketId);
      const result = await backfill();
      expect(result.deleted).toBe(1);
    },
  };
  await enqueueTickets(f.boss, f.database.db, [ticketId]);
  const stop = new AbortController();
  await runWorker(f.boss, f.database.pool, { ...f.deps, budget, onDelete }, { concurrency: 1, signal: stop.signal, untilIdle: true, idleCheckMs: 100 }).finally(() => stop.abort());
}

it('a ticket the export reports deleted while its run stores the last page is queued again, and its rows go', async () => {
  await deletedWhileStoringLastPage(TICKET, 'purge');

  // The run queued again met the 404.
  expect(f.sim.requests.filter((r) => r.kind === 'conversation_log' && r.ticketId === TICKET).map((r) => r.status)).toEqual([200, 200, 404]);
  expect(await count('select count(*)::int as n from zendesk.conversation_events where ticket_id = $1')).toBe(0);
  const { rows } = await f.database.pool.query('select status, deleted_at is not null as dead from zendesk.ticket_sync where ticket_id = $1', [TICKET]);
  expect(rows).toEqual([{ status: 'not_found', dead: true }]);
  expect(await count('select count(*)::int as n from zendesk.conversation_timeline where ticket_id = $1')).toBe(0);
});

it('under keep, that ticket keeps its row, marked deleted: the run that read the log before the deletion does not remove it', async () => {
  await deletedWhileStoringLastPage(TICKET, 'keep');

  expect(f.sim.requests.filter((r) => r.kind === 'conversation_log' && r.ticketId === TICKET).map((r) => r.status)).toEqual([200, 200, 404]);
  const ticketRows = await f.database.pool.query('select status, deleted from zendesk.tickets where id = $1', [TICKET]);
  expect(ticketRows.rows).toEqual([{ status: 'deleted', deleted: true }]);
  expect(await count('select count(*)::int as n from zendesk.conversation_events where ticket_id = $1 and deleted_at is not null')).toBe(150);
  expect(await count('select count(*)::int as n from zendesk.conversation_timeline where ticket_id = $1')).toBe(0);
  const { rows } = await f.database.pool.query('select status, deleted_at is not null as dead from zendesk.ticket_sync where ticket_id = $1', [TICKET]);
  expect(rows).toEqual([{ status: 'not_found', dead: true }]);
});
