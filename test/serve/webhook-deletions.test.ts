// Deletions reported by webhook, end to end under CONVLOG_ON_DELETE=keep: the simulator deletes a
// ticket and POSTs its signed webhook to a real `serve`, and an in-process `work` syncs what serve
// queued, meeting Zendesk's 404. A 404 cannot tell the bin from an erasure; the webhook can. An
// erased ticket must leave nothing but its tombstone, a binned one keeps its rows, marked.
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { reportPermanentDeletion } from '../../src/db/purge.ts';
import { finishRun, startRun } from '../../src/db/ticket-status.ts';
import { inTransaction } from '../../src/db/transaction.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { syncTicket, type SyncDeps } from '../../src/sync/sync-ticket.ts';
import { authorsOnlyOf, rowsOfTicket } from '../helpers/ticket-rows.ts';
import { sendWebhook, startServeWithSimulator, ticketEvent, type ServeFixture, type ServeWithSimulator } from './serve-fixture.ts';

let f: ServeFixture;
let sim: Simulator;
let deps: SyncDeps;

let all: ServeWithSimulator;

beforeAll(async () => {
  all = await startServeWithSimulator({ tickets: 8, ticketSizes: { 1: 12, 2: 12, 3: 12, 4: 12 } }, { onDelete: 'keep' });
  ({ f, sim, deps } = all);
  for (let id = 1; id <= 8; id++) await syncTicket(deps, id);
});
afterAll(async () => {
  await all?.close();
});
beforeEach(async () => {
  await f.database.pool.query(`delete from pgboss.job where name = 'ticket-sync'`);
});

const query = async <T extends object = Record<string, unknown>>(text: string, values: unknown[] = []) => (await f.database.pool.query<T>(text, values)).rows;
const rowsOf = (ticketId: number) => rowsOfTicket(f.database.pool, ticketId);
const tombstone = async (ticketId: number) =>
  (await query('select status, deleted_how, last_error, permanent_deletion_reported_at is not null as reported from zendesk.ticket_sync where ticket_id = $1', [ticketId]))[0];
const unmarkedEvents = async (ticketId: number) => (await query('select 1 from zendesk.conversation_events where ticket_id = $1 and deleted_at is null', [ticketId])).length;

/** Runs an in-process worker (under keep) until the queue is empty, as `work --until-idle` does. */
async function work() {
  const stop = new AbortController();
  return runWorker(f.boss, f.database.pool, deps, { concurrency: 2, signal: stop.signal, untilIdle: true, idleCheckMs: 100 }).finally(() => stop.abort());
}

/** Deletes the ticket in the simulator and waits until serve has accepted its webhook. */
async function deleteInZendesk(ticketId: number, permanently: boolean) {
  sim.deleteTicket(ticketId, { permanently });
  await sim.webhooks.settled();
  const type = `zen:event-type:ticket.${permanently ? 'permanently' : 'soft'}_deleted`;
  expect(sim.webhooks.deliveries.filter((d) => d.ticketId === ticketId && d.type === type).at(-1)).toMatchObject({ status: 200 });
}

it('under keep, a permanently_deleted webhook gets the ticket erased by the 404 of its sync; a soft_deleted one only marked', async () => {
  const [erased, binned] = [1, 2];
  const before = { erased: await rowsOf(erased), binned: await rowsOf(binned) };
  expect(before.erased).toMatchObject({ conversation_events: 12, ticket_summaries: 1 });
  expect(before.binned).toMatchObject({ conversation_events: 12 });
  const people = await authorsOnlyOf(f.database.pool, erased);
  expect(people.length).toBeGreaterThan(0);
  // A backfill queued the erased ticket earlier, and its job still waits: the webhook's
  // enqueue is skipped, and that job's run must erase all the same.
  await enqueueTickets(f.boss, f.database.db, [erased]);

  await deleteInZendesk(erased, true);
  await deleteInZendesk(binned, false);
  expect(await work()).toMatchObject({ failed: 0 });

  expect(await rowsOf(erased)).toEqual({ ticket_sync: 1 });
  expect(await query('select author_key from zendesk.authors where author_key = any($1)', [people])).toEqual([]);
  expect(await tombstone(erased)).toEqual({
    status: 'not_found',
    deleted_how: '404: permanently deleted',
    last_error: 'Zendesk answered 404 after a permanently_deleted webhook: the ticket was erased; its stored rows were removed, whatever CONVLOG_ON_DELETE says',
    // An erasure keeps its note: a run that began before it and stores a page after it then
    // meets the 404 of the run queued after it, which erases again.
    reported: true,
  });

  expect(await rowsOf(binned)).toMatchObject({ conversation_events: before.binned.conversation_events });
  expect(await unmarkedEvents(binned)).toBe(0);
  expect(await tombstone(binned)).toMatchObject({ status: 'not_found', deleted_how: '404' });
});

it('under keep, a ticket in the bin, its rows marked, is erased when its permanently_deleted webhook comes', async () => {
  const ticketId = 3;
  await deleteInZendesk(ticketId, false);
  await work();
  expect(await rowsOf(ticketId)).toMatchObject({ conversation_events: expect.any(Number) });
  expect(await unmarkedEvents(ticketId)).toBe(0);

  await deleteInZendesk(ticketId, true);
  await work();
  expect(await rowsOf(ticketId)).toEqual({ ticket_sync: 1 });
  expect(await tombstone(ticketId)).toMatchObject({ status: 'not_found', deleted_how: '404: permanently deleted' });
});

it('a permanently_deleted webhook about a ticket Zendesk still serves erases nothing, and a later move to the bin only marks', async () => {
  const ticketId = 4;
  const before = await rowsOf(ticketId);
  // Signed, but mistaken: the ticket is live. Its sync is served the log and forgets the report.
  expect((await sendWebhook(f.server, ticketEvent(ticketId, 'permanently_deleted'))).status).toBe(200);
  expect(await tombstone(ticketId)).toMatchObject({ reported: true });
  expect(await work()).toMatchObject({ synced: 1, failed: 0 });
  expect(await rowsOf(ticketId)).toEqual(before);
  expect(await tombstone(ticketId)).toMatchObject({ status: 'synced', reported: false });

  await deleteInZendesk(ticketId, false);
  await work();
  expect(await rowsOf(ticketId)).toMatchObject({ conversation_events: before.conversation_events });
  expect(await tombstone(ticketId)).toMatchObject({ status: 'not_found', deleted_how: '404' });
});

it('a report that comes while a sync runs outlives that run: the run read the log before the deletion', async () => {
  const ticketId = 5;
  const run = async (during?: () => Promise<void>) => {
    const { run } = await startRun(f.database.db, ticketId, { full: false });
    await during?.();
    await inTransaction(f.database.db, (tx) => finishRun(tx, ticketId, { run }));
  };
  await run(() => reportPermanentDeletion(f.database.db, [ticketId]));
  expect(await tombstone(ticketId)).toMatchObject({ status: 'synced', reported: true });
  // The run that report asked for begins after it, and a log served to it proves the report wrong.
  await run();
  expect(await tombstone(ticketId)).toMatchObject({ status: 'synced', reported: false });
});
