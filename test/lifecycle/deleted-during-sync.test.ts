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
import { syncTicket } from '../../src/sync/sync-ticket.ts';
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

/** A budget under which, once the run's last page has come back and before it is stored, the ticket is deleted and a backfill reports it. */
function deletingBudget(ticketId: number, onDelete: OnDelete): RequestBudget {
  const backfill = () =>
    runBackfill(
      { db: f.database.db, pool: f.database.pool, boss: f.boss, http: f.deps.http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger, onDelete },
      { since: nowSec() - 400 * DAY },
    );
  let responses = 0;
  return {
    take: async () => {},
    observe: async () => {
      if (++responses !== 2) return;
      f.sim.deleteTicket(ticketId);
      const result = await backfill();
      expect(result.deleted).toBe(1);
    },
  };
}

/** Syncs `ticketId` in a worker, the ticket deleted and reported so (deletingBudget). */
async function deletedWhileStoringLastPage(ticketId: number, onDelete: OnDelete): Promise<void> {
  const budget = deletingBudget(ticketId, onDelete);
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

it.each<OnDelete>(['purge', 'keep'])('the run itself ends as the 404 would end it (%s): the ticket is in no view before any run queued again', async (onDelete) => {
  const result = await syncTicket({ ...f.deps, budget: deletingBudget(TICKET, onDelete), onDelete }, TICKET);
  expect(result.status).toBe('not_found');
  const { rows } = await f.database.pool.query(
    `select s.status, s.deleted_at is not null as dead, s.deleted_how,
            (select count(*)::int from zendesk.conversation_events e where e.ticket_id = $1 and e.deleted_at is null) as live_events,
            (select count(*)::int from zendesk.conversation_timeline t where t.ticket_id = $1) as timeline,
            (select count(*)::int from zendesk.ticket_conversations c where c.ticket_id = $1) as conversations,
            (select count(*)::int from zendesk.ticket_summaries m where m.ticket_id = $1) as summaries
       from zendesk.ticket_sync s where s.ticket_id = $1`,
    [TICKET],
  );
  expect(rows).toEqual([{ status: 'not_found', dead: true, deleted_how: 'export', live_events: 0, timeline: 0, conversations: 0, summaries: 0 }]);
  const ticketRows = await f.database.pool.query('select deleted from zendesk.tickets where id = $1', [TICKET]);
  expect(ticketRows.rows).toEqual(onDelete === 'keep' ? [{ deleted: true }] : []);
});
