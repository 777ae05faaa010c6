// A run taken over that has not noticed yet (it is between pages) may still meet an answer that
// ends it: a 404, a 403, a failure. Written then, its outcome would replace the status of the
// newer run that is syncing the ticket, and a 404's purge would remove that run's rows. Real
// Postgres, a real simulator, and a real HTTP proxy in front of it that holds the old run's
// second page until the newer run has started.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRun } from '../../src/db/ticket-status.ts';
import { RunTakenOver } from '../../src/errors/convlog-errors.ts';
import { Forbidden, TicketNotFound } from '../../src/errors/zendesk-errors.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { createZendeskHttp } from '../../src/zendesk/index.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let f: FixtureWithBoss;

beforeAll(async () => {
  f = await createFixtureWithBoss({ tickets: 3, ticketSizes: { 1: 6, 2: 6, 3: 6 } }, { pageSize: 3 });
});
afterAll(async () => {
  await f?.close();
});

const query = async (text: string, values: unknown[] = []) => (await f.database.pool.query(text, values)).rows;

/** The second page is asked for as the first arrives: the first is stored a moment later. */
const firstPageStored = (ticketId: number) =>
  expect.poll(async () => (await query(`select pages_synced from zendesk.ticket_sync where ticket_id = $1`, [ticketId]))[0]?.pages_synced, { timeout: 10_000 }).toBe(1);

/**
 * A proxy to the simulator that holds the ticket's second page (its first request with a
 * cursor) until released, then sends it on: the answer is the simulator's as it is then, or,
 * with `answer`, that status for it and every later request of the ticket.
 */
async function holdingProxy(ticketId: number, answer?: number) {
  let fetched!: () => void;
  const secondPageAsked = new Promise<void>((resolve) => (fetched = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let held = false;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, f.sim.url);
    const ofTicket = url.pathname === `/api/v2/tickets/${ticketId}/conversation_log`;
    if (ofTicket && url.searchParams.has('page[after]') && !held) {
      held = true;
      fetched();
      await released;
    }
    if (ofTicket && held && answer !== undefined) {
      res.writeHead(answer, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'InternalServerError', description: 'Something went wrong. Please try again later.' }));
      return;
    }
    const upstream = await fetch(url, { headers: { authorization: req.headers.authorization ?? '' } });
    const body = Buffer.from(await upstream.arrayBuffer());
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const zendesk = createZendeskHttp({ baseUrl: proxyUrl, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs: 10_000 });
  return { http: zendesk, secondPageAsked, release, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The ticket's status row, and whether it is still the run `run`'s. */
const statusOf = async (ticketId: number, run: string) =>
  query(
    `select status, started_at = $2::timestamptz as newer_run, last_error, deleted_at is not null as tombstone
       from zendesk.ticket_sync where ticket_id = $1`,
    [ticketId, run],
  );

for (const { answer, ticketId, meet, error } of [
  { answer: '404', ticketId: 1, meet: () => f.sim.deleteTicket(1), error: TicketNotFound },
  { answer: '403', ticketId: 2, meet: () => f.sim.setOptions({ forbidden: [2] }), error: Forbidden },
]) {
  it(`a run taken over that then meets a ${answer} records nothing: the newer run's syncing stands, and the rows stay`, async () => {
    const proxy = await holdingProxy(ticketId);
    try {
      const old = syncTicket({ ...f.deps, http: proxy.http }, ticketId);
      old.catch(() => {});
      await proxy.secondPageAsked;
      await firstPageStored(ticketId);
      // The old run stored its first page; another worker takes the ticket over and starts its run.
      const { run: newer } = await startRun(f.database.db, ticketId, { full: false });
      meet();
      proxy.release();

      // Refused on Zendesk's answer, not on a page.
      await expect(old).rejects.toSatisfy((e) => e instanceof RunTakenOver && e.cause instanceof error);
      expect(await statusOf(ticketId, newer)).toEqual([{ status: 'syncing', newer_run: true, last_error: null, tombstone: false }]);
      // The newer run meets the same answer if it still holds; until then the rows it resumes from stay.
      expect(await query(`select count(*)::int as n from zendesk.conversation_events where ticket_id = $1`, [ticketId])).toEqual([{ n: 3 }]);
    } finally {
      proxy.release();
      await proxy.close();
    }
  });
}

it("a worker whose run was taken over and then fails (a 500) records no failure: the newer run's syncing stands", { timeout: 60_000 }, async () => {
  const ticketId = 3;
  const proxy = await holdingProxy(ticketId, 500);
  const stop = new AbortController();
  try {
    await enqueueTickets(f.boss, f.database.db, [ticketId]);
    let newer: string | undefined;
    const worker = runWorker(f.boss, f.database.pool, { ...f.deps, http: proxy.http }, {
      concurrency: 1,
      signal: stop.signal,
      idleCheckMs: 100,
      // Once the newer run has started: until the old run's job has ended, or the ticket's status changed.
      stopWhen: async () => {
        if (newer === undefined) return false;
        const [job] = await query(`select state::text from pgboss.job where name = 'ticket-sync' and singleton_key = $1`, [String(ticketId)]);
        const [row] = await query(`select status from zendesk.ticket_sync where ticket_id = $1`, [ticketId]);
        return job.state !== 'active' || row.status !== 'syncing';
      },
    });
    await proxy.secondPageAsked;
    await firstPageStored(ticketId);
    ({ run: newer } = await startRun(f.database.db, ticketId, { full: false }));
    proxy.release();
    await worker;

    expect(await statusOf(ticketId, newer)).toEqual([{ status: 'syncing', newer_run: true, last_error: null, tombstone: false }]);
    // Ended as a lost claim: pg-boss does not run it again.
    expect(await query(`select state::text from pgboss.job where name = 'ticket-sync' and singleton_key = $1`, [String(ticketId)])).toEqual([
      { state: 'completed' },
    ]);
  } finally {
    stop.abort();
    proxy.release();
    await proxy.close();
  }
});
