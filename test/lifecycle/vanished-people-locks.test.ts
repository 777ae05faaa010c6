// The end of a full read removes the events Zendesk no longer lists, and the people only they
// named. It held every person those events named FOR UPDATE from its first statement to its
// commit, through the refresh of the ticket's analyst rows: a page of any other ticket naming
// such a person (an agent on hundreds of tickets), and serve's store of a ticket side-loading
// them, waited all that time. A third session holding the ticket's summary row stops the run's
// end in its refresh, as a long ticket's refresh takes that long. The people only the vanished
// events named still go: at the end of the run's end when no one holds them, else once whoever
// holds them has let go.
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tickets } from '../../src/db/schema.ts';
import { storeTicketContext } from '../../src/db/tickets.ts';
import { silentLogger } from '../../src/log.ts';
import { syncTicket, type SyncDeps } from '../../src/sync/sync-ticket.ts';
import { readMissingTickets } from '../../src/sync/ticket-context.ts';
import { createZendeskHttp, localBudget } from '../../src/zendesk/index.ts';
import { holdRows, sessionsWaitingForLocks, settled } from '../helpers/lock-waits.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';
import { startProxy, type ZendeskProxy } from './zendesk-proxy.ts';

const TICKETS = [1, 2, 3, 4, 5, 6, 7, 8, 9];
// Tickets 7, 8 and 9 each have one event by an agent no other event or ticket names.
const LONE = { 7: 990_007, 8: 990_008, 9: 990_009 } as const;
let fixture: Fixture;
let proxy: ZendeskProxy;
let deps: SyncDeps;

beforeAll(async () => {
  fixture = await createFixture({ tickets: TICKETS.length, ticketSizes: Object.fromEntries(TICKETS.map((id) => [id, 6])), accountRateLimit: 0 });
  proxy = await startProxy(fixture.sim.url);
  const http = createZendeskHttp({ baseUrl: proxy.url, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs: 10_000 });
  deps = { db: fixture.database.db, http, budget: localBudget(), log: silentLogger, redactSystemMetadata: false };
  for (const [ticketId, userId] of Object.entries(LONE)) {
    fixture.sim.editEvent(Number(ticketId), fixture.sim.events(Number(ticketId))[2].reference, (event) => {
      event.author = { 'zen:support:user_id': userId, display_name: `Lone Agent ${userId}`, type: 'agent' };
    });
  }
  for (const id of TICKETS) expect((await syncTicket(deps, id)).status).toBe('synced');
  await readMissingTickets({ db: deps.db, http, budget: localBudget(), log: silentLogger }, TICKETS);
});
afterAll(async () => {
  await proxy?.close();
  await fixture?.close();
});

const query = async <T extends object>(text: string, values: unknown[] = []) => (await fixture.database.pool.query<T>(text, values)).rows;

it("the end of a full read removing a shared agent's event does not hold up another ticket's page or serve's store naming that agent", async () => {
  // An agent with events in two tickets; in the first, one of theirs (not its first event) vanishes.
  const [shared] = await query<{ author_key: string; vanishing: string; other: string; reference: string }>(`
    select e.author_key, e.ticket_id::text as vanishing, o.ticket_id::text as other, e.reference
      from zendesk.conversation_events e
      join zendesk.authors a on a.author_key = e.author_key and a.type = 'agent' and a.support_user_id is not null
      join zendesk.conversation_events o on o.author_key = e.author_key and o.ticket_id <> e.ticket_id
     where e.position > 1 and e.ticket_id < 7 and o.ticket_id < 7
     order by e.ticket_id, e.position, o.ticket_id
     limit 1`);
  expect(shared).toBeDefined();
  const [vanishing, other] = [Number(shared.vanishing), Number(shared.other)];
  proxy.plan.dropReferences.add(shared.reference);
  const [ticketRow] = await fixture.database.db.select().from(tickets).where(eq(tickets.id, other));
  expect(ticketRow).toBeDefined();
  const [person] = await query<{ supportUserId: string; displayName: string }>(
    `select support_user_id::text as "supportUserId", display_name as "displayName" from zendesk.authors where author_key = $1`,
    [shared.author_key],
  );

  const blocker = await holdRows(fixture.database.pool, 'select from zendesk.ticket_summaries where ticket_id = $1 for update', [vanishing]);
  try {
    let runEnded = false;
    const run = settled(syncTicket(deps, vanishing, { full: true })).finally(() => (runEnded = true));
    await sessionsWaitingForLocks(fixture.database.pool, 1);
    // The run's end is in its refresh now: the vanished event is deleted, uncommitted.
    let othersDone = 0;
    const page = settled(syncTicket(deps, other, { full: true })).finally(() => othersDone++);
    const byId = settled(
      storeTicketContext(fixture.database.db, {
        authors: [{ authorKey: shared.author_key, supportUserId: Number(person.supportUserId), suncoUserId: null, type: 'agent', displayName: `${person.displayName} renamed`, avatarUrl: null, userUpdatedAt: null }],
        tickets: [{ ...ticketRow, raw: { ...(ticketRow.raw as object), subject: 'renamed' }, updatedAt: new Date(Date.now() + 60_000) }],
      }),
    ).finally(() => othersDone++);
    // Both commit while the run's end still waits, or one of them comes to wait for it.
    await sessionsWaitingForLocks(fixture.database.pool, 2, { done: () => othersDone === 2 });
    expect({ othersDone, runEnded }).toEqual({ othersDone: 2, runEnded: false });
    expect({ page: await page, byId: await byId }).toEqual({ page: 'ok', byId: 'ok' });
    await blocker.release();
    expect(await run).toBe('ok');
  } finally {
    await blocker.release();
    proxy.plan.dropReferences.clear();
  }
  expect(await query('select 1 from zendesk.conversation_events where reference = $1', [shared.reference])).toEqual([]);
  // Still named by the other ticket's events, the agent stays.
  expect(await query('select 1 from zendesk.authors where author_key = $1', [shared.author_key])).toHaveLength(1);
});

/** Ticket `ticketId`'s event by its lone agent, left out of every page from now on. */
function dropLoneAgentEvent(ticketId: keyof typeof LONE): { reference: string; authorKey: string } {
  const { reference } = fixture.sim.events(ticketId)[2];
  proxy.plan.dropReferences.add(reference);
  return { reference, authorKey: `support:${LONE[ticketId]}` };
}
const inAuthors = async (authorKey: string) => (await query('select 1 from zendesk.authors where author_key = $1', [authorKey])).length;

it('a person only the vanished event named leaves authors in the same transaction', async () => {
  const { reference, authorKey } = dropLoneAgentEvent(7);
  try {
    expect(await inAuthors(authorKey)).toBe(1);
    expect((await syncTicket(deps, 7, { full: true })).status).toBe('synced');
  } finally {
    proxy.plan.dropReferences.clear();
  }
  expect(await query('select 1 from zendesk.conversation_events where reference = $1', [reference])).toEqual([]);
  expect(await inAuthors(authorKey)).toBe(0);
});

it('a person another transaction holds at the end of the run is removed once it lets go, after the run has ended', async () => {
  const { authorKey } = dropLoneAgentEvent(8);
  // As a page naming the person holds them (and as one that fails then leaves them to nobody).
  const holder = await holdRows(fixture.database.pool, 'select from zendesk.authors where author_key = $1 for key share', [authorKey]);
  try {
    let ended = false;
    const run = settled(syncTicket(deps, 8, { full: true })).finally(() => (ended = true));
    await sessionsWaitingForLocks(fixture.database.pool, 1, { done: () => ended });
    // The run's end committed without waiting for the person; what waits is the removal after it.
    expect({ ended, status: (await query('select status from zendesk.ticket_sync where ticket_id = 8'))[0] }).toEqual({ ended: false, status: { status: 'synced' } });
    expect(await inAuthors(authorKey)).toBe(1);
    await holder.release();
    expect(await run).toBe('ok');
  } finally {
    await holder.release();
    proxy.plan.dropReferences.clear();
  }
  expect(await inAuthors(authorKey)).toBe(0);
});

it('a removal after the commit that fails leaves the run synced, with one warning, not a failed run to retry', async () => {
  const { authorKey } = dropLoneAgentEvent(9);
  const warnings: { msg: string; people: number }[] = [];
  const log = pino({ level: 'warn', base: undefined }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
  const holder = await holdRows(fixture.database.pool, 'select from zendesk.authors where author_key = $1 for key share', [authorKey]);
  try {
    const run = settled(syncTicket({ ...deps, log }, 9, { full: true }));
    await sessionsWaitingForLocks(fixture.database.pool, 1);
    // The removal's connection goes while it waits (a failover, a restart, a killed backend).
    await query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
    expect(await run).toBe('ok');
  } finally {
    await holder.release();
    proxy.plan.dropReferences.clear();
  }
  expect(await query('select status, last_error from zendesk.ticket_sync where ticket_id = 9')).toEqual([{ status: 'synced', last_error: null }]);
  expect(warnings).toMatchObject([{ people: 1, msg: expect.stringContaining('1 author only its removed events named could not be removed afterwards') }]);
  expect(await inAuthors(authorKey)).toBe(1);
});
