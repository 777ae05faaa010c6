// Comments from webhooks, end to end: the simulator appends a message and POSTs its signed
// comment_added webhook to a real `serve`; the comment is in conversation_timeline (pending)
// once serve has answered, and the sync that reads it (in-process `work`) replaces it with the
// stored event. Real Postgres, real pg-boss, real simulator.
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { purgeTickets } from '../../src/db/purge.ts';
import { runWorker } from '../../src/queue/worker.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { syncTicket, type SyncDeps } from '../../src/sync/sync-ticket.ts';
import type { RequestBudget } from '../../src/zendesk/index.ts';
import { eventually, startServeWithSimulator, type ServeFixture, type ServeWithSimulator } from './serve-fixture.ts';

const EVENTS = 5;
let f: ServeFixture;
let sim: Simulator;
let deps: SyncDeps;

let all: ServeWithSimulator;

beforeAll(async () => {
  all = await startServeWithSimulator({ tickets: 6, ticketSizes: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [i + 1, EVENTS])) });
  ({ f, sim, deps } = all);
});
afterAll(async () => {
  await all?.close();
});
beforeEach(async () => {
  // Each test queues its own ticket; jobs left by another test must not reach its worker.
  await f.database.pool.query(`delete from pgboss.job where name = 'ticket-sync'`);
  sim.webhooks.setFault(null);
});

/** Appends one message to the ticket in the simulator and waits for serve's answer to its webhook. */
async function addComment(ticketId: number) {
  const [event] = sim.appendEvents(ticketId, 1);
  await sim.webhooks.settled();
  const delivery = sim.webhooks.deliveries.at(-1)!;
  return { event, delivery, body: JSON.parse(delivery.body) as { time: string; event: { comment: Record<string, any> } } };
}

const query = async <T extends object = Record<string, unknown>>(text: string, values: unknown[] = []) => (await f.database.pool.query<T>(text, values)).rows;
const pendingIds = async (ticketId: number) =>
  (await query<{ id: string }>(`select comment_id as id from zendesk.pending_comments where ticket_id = $1 order by received_at`, [ticketId])).map((r) => r.id);
const storedIds = async (ticketId: number) =>
  (await query<{ id: string }>(`select event_id as id from zendesk.conversation_events where ticket_id = $1 order by position`, [ticketId])).map((r) => r.id);
const timeline = (ticketId: number) =>
  query<{ position: number; event_id: string; pending: boolean }>(
    `select position, event_id, pending from zendesk.conversation_timeline where ticket_id = $1 order by position`,
    [ticketId],
  );

it('a signed comment_added is in conversation_timeline, pending, once serve has answered', async () => {
  await syncTicket(deps, 1);
  const { event, delivery, body } = await addComment(1);
  expect(delivery.status).toBe(200);
  const comment = body.event.comment;
  const rows = await query(
    `select position, created_at, event_kind, author_key, author_type, is_public, body_text, event_id, event_type, channel, pending
       from zendesk.conversation_timeline where ticket_id = 1 order by position`,
  );
  expect(rows).toHaveLength(EVENTS + 1);
  expect(rows.slice(0, EVENTS).every((r) => r.pending === false)).toBe(true);
  expect(rows[EVENTS]).toEqual({
    position: EVENTS + 1,
    created_at: new Date(body.time),
    event_kind: comment.is_public ? 'message' : 'internal_note',
    author_key: comment.author.id ? `support:${comment.author.id}` : null,
    author_type: comment.author.is_staff ? 'agent' : 'user',
    is_public: comment.is_public,
    body_text: comment.body,
    event_id: event.id,
    event_type: null,
    channel: null,
    pending: true,
  });
  const [row] = await query(`select webhook_event_id, raw from zendesk.pending_comments where ticket_id = 1`);
  expect(row).toEqual({ webhook_event_id: delivery.eventId, raw: comment });
  // The ticket is queued as before: the sync confirms the comment.
  expect(await query(`select (data->>'ticketId')::int as ticket from pgboss.job where name = 'ticket-sync'`)).toEqual([{ ticket: 1 }]);
  // The metric views count stored events only.
  expect(await query(`select events from zendesk.ticket_conversations where ticket_id = 1`)).toEqual([{ events: EVENTS }]);
  const [counts] = await query(
    `select (select count(*)::int from zendesk.conversation_events) as stored,
            (select sum(events)::int from zendesk.author_activity) as by_author,
            (select sum(events)::int from zendesk.daily_activity) as by_day,
            (select count(*)::int from zendesk.conversation_timeline where not pending) as timeline_stored`,
  );
  expect(counts).toEqual({ stored: EVENTS, by_author: EVENTS, by_day: EVENTS, timeline_stored: EVENTS });
});

it('a replay of the delivery adds nothing, before or after the sync cleared the comment', async () => {
  const { event, delivery } = await addComment(2);
  const [{ received_at: receivedAt }] = await query(`select received_at from zendesk.pending_comments where ticket_id = 2`);
  sim.webhooks.replay(delivery);
  await sim.webhooks.settled();
  expect(sim.webhooks.deliveries.at(-1)).toMatchObject({ fault: 'replay', status: 200 });
  expect(await query(`select comment_id, received_at from zendesk.pending_comments where ticket_id = 2`)).toEqual([{ comment_id: event.id, received_at: receivedAt }]);

  await syncTicket(deps, 2);
  expect(await pendingIds(2)).toEqual([]);
  sim.webhooks.replay(delivery);
  await sim.webhooks.settled();
  expect(await pendingIds(2)).toEqual([]);
  expect((await timeline(2)).filter((r) => r.event_id === event.id)).toEqual([{ position: EVENTS + 1, event_id: event.id, pending: false }]);
});

it('a badly signed comment_added writes nothing; the next, signed, one does', async () => {
  sim.webhooks.setFault('bad-signature');
  const bad = await addComment(3);
  sim.webhooks.setFault(null);
  expect(bad.delivery.status).toBe(401);
  expect(await pendingIds(3)).toEqual([]);
  const good = await addComment(3);
  expect(good.delivery.status).toBe(200);
  expect(await pendingIds(3)).toEqual([good.event.id]);
  expect((await timeline(3)).filter((r) => r.pending).map((r) => r.event_id)).toEqual([good.event.id]);
});

it('work clears the comments its run read and keeps one received after the run started, until the next run', async () => {
  const a = await addComment(4);
  expect(await pendingIds(4)).toEqual([a.event.id]);
  let requests = 0;
  let b: Awaited<ReturnType<typeof addComment>> | undefined;
  let letSecondRunRead!: () => void;
  const secondRunMayRead = new Promise<void>((resolve) => (letSecondRunRead = resolve));
  const budget: RequestBudget = {
    take: async () => {
      if (++requests === 2) await secondRunMayRead;
    },
    // The first run's page has come (without B): B's webhook arrives while that run is going.
    observe: async () => {
      if (requests === 1 && !b) b = await addComment(4);
    },
  };
  const stop = new AbortController();
  const working = runWorker(f.boss, f.database.pool, { ...deps, budget }, { concurrency: 1, signal: stop.signal, untilIdle: true, idleCheckMs: 100 });
  try {
    // B's webhook asked for the ticket during the first run: the worker runs it again.
    await eventually('the second run', () => requests === 2, 20_000);
    expect(b?.delivery.status).toBe(200);
    expect(await storedIds(4)).toContain(a.event.id);
    expect(await storedIds(4)).not.toContain(b!.event.id);
    expect(await pendingIds(4)).toEqual([b!.event.id]);
    expect((await timeline(4)).slice(-2)).toEqual([
      { position: EVENTS + 1, event_id: a.event.id, pending: false },
      { position: EVENTS + 2, event_id: b!.event.id, pending: true },
    ]);
  } finally {
    letSecondRunRead();
  }
  const summary = await working.finally(() => stop.abort());
  expect(summary.synced).toBe(2);
  expect(await pendingIds(4)).toEqual([]);
  expect((await timeline(4)).slice(-2)).toEqual([
    { position: EVENTS + 1, event_id: a.event.id, pending: false },
    { position: EVENTS + 2, event_id: b!.event.id, pending: false },
  ]);
});

it('a purge removes the ticket\'s pending comments, under keep too', async () => {
  for (const [ticketId, mode] of [[5, 'purge'], [6, 'keep']] as const) {
    const { event } = await addComment(ticketId);
    expect(await pendingIds(ticketId)).toEqual([event.id]);
    await purgeTickets(f.database.db, [ticketId], { how: 'purge command', mode });
    expect(await pendingIds(ticketId)).toEqual([]);
    expect(await timeline(ticketId)).toEqual([]);
  }
});
