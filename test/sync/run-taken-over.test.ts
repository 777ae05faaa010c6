// A worker whose job was taken over (cut off from Postgres, or frozen, past its heartbeat) may
// still hold a page it fetched before the newer run began. Stored after that run's pages, it
// would put back what the newer run read since, a redaction among it. Real Postgres, a real
// simulator, and a real HTTP proxy in front of it that holds the old run's second page.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Db } from '../../src/db/connection.ts';
import * as schema from '../../src/db/schema.ts';
import { preparePage } from '../../src/db/prepare-page.ts';
import { storePage } from '../../src/db/store-page.ts';
import { finishRun, startRun } from '../../src/db/ticket-status.ts';
import { inTransaction } from '../../src/db/transaction.ts';
import { RunTakenOver } from '../../src/errors/convlog-errors.ts';
import { mapPage } from '../../src/sync/map-page.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { createZendeskHttp } from '../../src/zendesk/index.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';
import { messagingEvent } from './events.ts';

const TICKET = 1;
const MARK = 'redacted while the old run was frozen';
let f: Fixture;

beforeAll(async () => {
  f = await createFixture({ tickets: 1, ticketSizes: { [TICKET]: 6 } }, { pageSize: 3 });
});
afterAll(async () => {
  await f?.close();
});

const query = async (text: string, values: unknown[] = []) => (await f.database.pool.query(text, values)).rows;

/**
 * A proxy to the simulator that answers the ticket's second page (the first request with a
 * cursor) only when released: it fetches it at once, so the page holds the log as it was then.
 */
async function holdingProxy() {
  let fetched!: () => void;
  const secondPageFetched = new Promise<void>((resolve) => (fetched = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const server = http.createServer(async (req, res) => {
    const upstream = await fetch(new URL(req.url!, f.sim.url), { headers: { authorization: req.headers.authorization ?? '' } });
    const body = Buffer.from(await upstream.arrayBuffer());
    if (req.url!.includes('page%5Bafter%5D') || req.url!.includes('page[after]')) {
      fetched();
      await released;
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, secondPageFetched, release, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

it("a run taken over stores nothing more: the newer run's redaction stays", async () => {
  const proxy = await holdingProxy();
  try {
    const http = createZendeskHttp({ baseUrl: proxy.url, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs: 10_000 });
    const old = syncTicket({ ...f.deps, http }, TICKET);
    old.catch(() => {});
    await proxy.secondPageFetched;

    // While the old run is frozen with the second page in hand, an agent redacts an event on it,
    // and another worker runs the ticket again and stores the redacted log.
    const redacted = f.sim.events(TICKET)[4];
    f.sim.editEvent(TICKET, redacted.reference, (event) => {
      event.content = { ...(event.content as { type: string }), body: MARK };
    });
    await expect(syncTicket(f.deps, TICKET, { full: true })).resolves.toMatchObject({ status: 'synced', events: 6 });

    proxy.release();
    await expect(old).rejects.toBeInstanceOf(RunTakenOver);
    const [stored] = await query(`select raw->'content'->>'body' as body from zendesk.conversation_events where reference = $1`, [redacted.reference]);
    expect(stored).toEqual({ body: MARK });
    expect(await query(`select status, after_cursor is not null as resumable from zendesk.ticket_sync where ticket_id = $1`, [TICKET])).toEqual([
      { status: 'synced', resumable: true },
    ]);
  } finally {
    proxy.release();
    await proxy.close();
  }
});

it('a page the old run sends while the newer run is starting waits for that start, then is refused whole, and so is its end', async () => {
  const ticketId = 9001;
  const { run: old } = await startRun(f.database.db, ticketId, { full: true });
  const events = [messagingEvent({ created_at: '2024-03-01T10:00:00Z' }), messagingEvent({ created_at: '2024-03-01T10:01:00Z' })];
  const page = preparePage(mapPage(events, { ticketId }), { ticketId, run: old, afterCursor: 'old-cursor', requests: 1 });

  let started!: () => void;
  const newerStarted = new Promise<void>((resolve) => (started = resolve));
  let commit!: () => void;
  const committed = new Promise<void>((resolve) => (commit = resolve));
  const newer = inTransaction(f.database.db, async (tx) => {
    await startRun(tx, ticketId, { full: true });
    started();
    await committed;
  });
  await newerStarted;
  const storing = storePage(f.database.db, page);
  storing.catch(() => {});
  // The old run's statement waits on the ticket_sync row the newer run's start holds.
  await expect.poll(async () => (await query(`select count(*)::int as n from pg_locks where not granted`))[0].n, { timeout: 5_000 }).toBeGreaterThan(0);
  commit();
  await newer;

  await expect(storing).rejects.toBeInstanceOf(RunTakenOver);
  expect(await query(`select count(*)::int as n from zendesk.conversation_events where ticket_id = $1`, [ticketId])).toEqual([{ n: 0 }]);
  await expect(inTransaction(f.database.db, (tx) => finishRun(tx, ticketId, { run: old }))).rejects.toBeInstanceOf(RunTakenOver);
  expect(await query(`select status, after_cursor, pages_synced from zendesk.ticket_sync where ticket_id = $1`, [ticketId])).toEqual([
    { status: 'syncing', after_cursor: null, pages_synced: 0 },
  ]);
});

it("a run's token reads back as its start on connections of any DateStyle and time zone", async () => {
  const ticketId = 9002;
  // Postgres writes Asia/Shanghai's zone as CST under a non-ISO DateStyle, and reads CST back as
  // US Central: a token written as `started_at::text` matched no run, and every page was refused.
  const sessions = await Promise.all(
    [
      ['Postgres, MDY', 'Asia/Shanghai'],
      ['SQL, DMY', 'Asia/Kolkata'],
      ['ISO, MDY', 'UTC'],
    ].map(async ([dateStyle, timeZone]) => {
      const client = new pg.Client({ connectionString: f.database.url });
      await client.connect();
      await client.query(`set datestyle = '${dateStyle}'`);
      await client.query(`set timezone = '${timeZone}'`);
      return client;
    }),
  );
  try {
    const [starter, ...others] = sessions;
    const { run } = await startRun(drizzle(starter, { schema }) as unknown as Db, ticketId, { full: true });
    for (const [i, session] of [starter, ...others].entries()) {
      const events = [messagingEvent({ created_at: `2024-03-0${i + 2}T10:00:00Z` })];
      const page = preparePage(mapPage(events, { ticketId }), { ticketId, run, afterCursor: `c${i}`, requests: 1 });
      await expect(storePage(drizzle(session, { schema }) as unknown as Db, page)).resolves.toEqual({ eventsWritten: 1 });
    }
    await expect(inTransaction(f.database.db, (tx) => finishRun(tx, ticketId, { run }))).resolves.toEqual({ eventsSynced: 3 });
  } finally {
    await Promise.all(sessions.map((s) => s.end()));
  }
});
