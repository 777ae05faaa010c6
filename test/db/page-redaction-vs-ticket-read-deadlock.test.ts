// A full read whose page changes the ticket's first comment (a redaction) rewrites the tickets
// row's description, while serve stores the same ticket read by id (the redaction webhook asks
// for both at once). serve's statement upserts the people it side-loads, then the tickets row; the
// page held the people in KEY SHARE only (which serve's upsert does not wait for), took the
// tickets row, and upserted its people at the end: each waited for the other and Postgres aborted
// one (40P01). The page now takes its people for update before the tickets row. A third session
// holding the first event's row stops the page after the tickets row, until serve has come to wait.
// A person new to Postgres, named by the page and side-loaded by serve, has no row either could
// lock first: both insert it only after the tickets row, so whichever holds the row first
// inserts it and the other waits at the row (the third case stops serve's read past the row).
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { authors, tickets } from '../../src/db/schema.ts';
import { storeTicketContext } from '../../src/db/tickets.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { readMissingTickets } from '../../src/sync/ticket-context.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';
import { holdRows, sessionsWaitingForLocks, settled } from '../helpers/lock-waits.ts';

let f: Fixture;
beforeAll(async () => {
  f = await createFixture({ tickets: 8, ticketSizes: { 1: 6, 2: 6, 3: 6, 4: 6, 5: 6, 6: 6, 7: 6, 8: 6 }, accountRateLimit: 0 });
});
afterAll(async () => {
  await f?.close();
});

/** Tickets whose first event is a comment (a redaction of it reaches the ticket row's description). */
const openedByComment = () => [1, 2, 3, 4, 5, 6, 7, 8].filter((id) => f.sim.events(id)[0].type === 'Comment');

/** Zendesk redacts a word of the ticket's first comment. */
function redactFirstComment(ticketId: number): void {
  f.sim.editEvent(ticketId, f.sim.events(ticketId)[0].reference, (event) => {
    const content = event.content as { type: string; body: string };
    content.body = content.body.replace(/[a-z]/, 'X') + ' REDACTED';
  });
}

it("a full read redacting the first comment and serve's read of the ticket by id both commit", async () => {
  const [ticketId] = openedByComment();
  expect(ticketId).toBeDefined();
  const { reference } = f.sim.events(ticketId)[0];
  await readMissingTickets({ db: f.database.db, http: f.deps.http, budget: localBudget(), log: f.deps.log }, [ticketId]);
  await syncTicket(f.deps, ticketId);
  const { rows: named } = await f.database.pool.query<{ author_key: string }>(
    'select distinct author_key from zendesk.conversation_events where ticket_id = $1 and author_key is not null',
    [ticketId],
  );
  const people = await f.database.db.select().from(authors).where(inArray(authors.authorKey, named.map((r) => r.author_key)));
  expect(people.length).toBeGreaterThan(0);

  redactFirstComment(ticketId);
  const [row] = await f.database.db.select().from(tickets).where(eq(tickets.id, ticketId));
  const zendesk = f.sim.ticket(ticketId).description;

  const blocker = await holdRows(f.database.pool, 'select from zendesk.conversation_events where reference = $1 for update', [reference]);
  try {
    const page = settled(syncTicket(f.deps, ticketId, { full: true }));
    await sessionsWaitingForLocks(f.database.pool, 1);
    // What serve stores for the webhook: Zendesk's redacted copy, and the people it side-loads.
    const byId = settled(
      storeTicketContext(f.database.db, {
        tickets: [{ ...row, raw: { ...(row.raw as object), description: zendesk }, updatedAt: new Date(Date.now() + 60_000) }],
        authors: people.map((person) => ({ ...person, displayName: `${person.displayName} renamed` })),
      }),
    );
    await sessionsWaitingForLocks(f.database.pool, 2);
    await blocker.release();
    expect({ page: await page, byId: await byId }).toEqual({ page: 'ok', byId: 'ok' });
  } finally {
    await blocker.release();
  }
  const { rows } = await f.database.pool.query<{ d: string }>(`select raw->>'description' as d from zendesk.tickets where id = $1`, [ticketId]);
  expect(rows[0].d).toBe(zendesk);
});

/** A person new to Postgres as serve's read by id side-loads them. */
const agent = (id: number) => ({ authorKey: `support:${id}`, supportUserId: id, suncoUserId: null, type: 'agent', displayName: 'New Agent', avatarUrl: null, userUpdatedAt: null });

/**
 * The ticket synced, then an agent convlog never stored takes it over (the last event is theirs,
 * and serve's read by id side-loads them as the assignee) and its first comment is redacted.
 * Returns what serve's read stores, given the people it side-loads, and the redacted description.
 */
async function newAgentAndRedaction(ticketId: number, agentId: number) {
  await readMissingTickets({ db: f.database.db, http: f.deps.http, budget: localBudget(), log: f.deps.log }, [ticketId]);
  await syncTicket(f.deps, ticketId);
  const last = f.sim.events(ticketId).at(-1)!;
  f.sim.editEvent(ticketId, last.reference, (event) => {
    event.author = { 'zen:support:user_id': agentId, display_name: 'New Agent', type: 'agent' };
  });
  redactFirstComment(ticketId);
  expect(await f.database.db.select().from(authors).where(eq(authors.authorKey, `support:${agentId}`))).toEqual([]);
  const [row] = await f.database.db.select().from(tickets).where(eq(tickets.id, ticketId));
  const zendesk = f.sim.ticket(ticketId).description;
  const read = (people: ReturnType<typeof agent>[]) =>
    storeTicketContext(f.database.db, {
      tickets: [{ ...row, raw: { ...(row.raw as object), description: zendesk }, assigneeId: agentId, updatedAt: new Date(Date.now() + 60_000) }],
      authors: people,
    });
  return { read, zendesk };
}

/** The row holds the redacted description, and the agent's event names them. */
async function expectRedactedAndNamed(ticketId: number, agentId: number, zendesk: string) {
  const { rows } = await f.database.pool.query<{ d: string; named: number }>(
    `select raw->>'description' as d,
            (select count(*)::int from zendesk.conversation_events where ticket_id = $1 and author_key = $2) as named
       from zendesk.tickets where id = $1`,
    [ticketId, `support:${agentId}`],
  );
  expect(rows[0]).toEqual({ d: zendesk, named: 1 });
}

it("a full read redacting the first comment and serve's read by id, both naming a person new to Postgres, both commit", async () => {
  const [, ticketId] = openedByComment();
  expect(ticketId).toBeDefined();
  const { reference } = f.sim.events(ticketId)[0];
  const { read, zendesk } = await newAgentAndRedaction(ticketId, 990_001);

  const blocker = await holdRows(f.database.pool, 'select from zendesk.conversation_events where reference = $1 for update', [reference]);
  try {
    const page = settled(syncTicket(f.deps, ticketId, { full: true }));
    await sessionsWaitingForLocks(f.database.pool, 1);
    const byId = settled(read([agent(990_001)]));
    await sessionsWaitingForLocks(f.database.pool, 2);
    await blocker.release();
    expect({ page: await page, byId: await byId }).toEqual({ page: 'ok', byId: 'ok' });
  } finally {
    await blocker.release();
  }
  await expectRedactedAndNamed(ticketId, 990_001, zendesk);
});

it("the same, serve's read holding the tickets row before the page comes to it", async () => {
  const [, , ticketId] = openedByComment();
  expect(ticketId).toBeDefined();
  const { read, zendesk } = await newAgentAndRedaction(ticketId, 990_002);

  // Another person new to Postgres that serve side-loads, support:100002, sorting before the
  // agent: a third session inserting it stops serve's read there, past the tickets row.
  const blocker = await holdRows(f.database.pool, `insert into zendesk.authors (author_key, support_user_id) values ('support:100002', 100002)`);
  try {
    let readDone = false;
    const byId = settled(read([agent(100_002), agent(990_002)])).finally(() => (readDone = true));
    await sessionsWaitingForLocks(f.database.pool, 1);
    let pageDone = false;
    const page = settled(syncTicket(f.deps, ticketId, { full: true })).finally(() => (pageDone = true));
    await sessionsWaitingForLocks(f.database.pool, 2, { done: () => pageDone || readDone });
    await blocker.release();
    expect({ page: await page, byId: await byId }).toEqual({ page: 'ok', byId: 'ok' });
  } finally {
    await blocker.release();
  }
  await expectRedactedAndNamed(ticketId, 990_002, zendesk);
});
