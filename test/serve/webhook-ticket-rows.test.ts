// The tickets rows of the tickets webhooks name, end to end: the simulator changes a ticket and
// POSTs its signed webhook to a real `serve`, which reads the ticket back with show_many in the
// background, so a new ticket has its row, and a solved one its status, without a backfill.
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { pino } from 'pino';
import { freePort } from '../../src/db/embedded.ts';
import { silentLogger } from '../../src/log.ts';
import { createTicketRowReader } from '../../src/serve/ticket-rows.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { createZendeskHttp, localBudget } from '../../src/zendesk/index.ts';
import { queuedState, sendWebhook, startServeWithSimulator, within, type ServeFixture, type ServeWithSimulator } from './serve-fixture.ts';

const EVERY_MS = 300;

let f: ServeFixture;
let sim: Simulator;
let all: ServeWithSimulator;

beforeAll(async () => {
  all = await startServeWithSimulator({ tickets: 40 }, {}, { ticketRowsEveryMs: EVERY_MS });
  ({ f, sim } = all);
});
afterAll(async () => {
  await all?.close();
});
beforeEach(async () => {
  await f.database.pool.query('delete from zendesk.tickets');
  sim.resetRequests();
});

const showManyRequests = () => sim.requests.filter((r) => r.kind === 'show_many');

async function ticketRow(ticketId: number): Promise<{ status: string; group_id: string | null } | undefined> {
  const { rows } = await f.database.pool.query<{ status: string; group_id: string | null }>('select status, group_id from zendesk.tickets where id = $1', [ticketId]);
  return rows[0];
}

/** Reads until `check` holds, for up to 5 s; returns what it last read (the caller's expectation says what is wrong). */
async function readUntil<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  let value!: T;
  await within(5_000, async () => check((value = await read())));
  return value;
}

it('a ticket created in Zendesk has its tickets row, as show_many serves it, seconds after its webhook', async () => {
  const id = sim.createTicket();
  await sim.webhooks.settled();
  expect(sim.webhooks.deliveries.filter((d) => d.ticketId === id).at(-1)).toMatchObject({ status: 200 });
  const row = await readUntil(() => ticketRow(id), (r) => r !== undefined);
  expect(row).toEqual({ status: sim.ticket(id).status, group_id: sim.ticket(id).group_id === null ? null : String(sim.ticket(id).group_id) });
  // In the analysts' view too: the ticket serve queued shows its Zendesk status.
  const { rows } = await f.database.pool.query('select ticket_status from zendesk.ticket_conversations where ticket_id = $1', [id]);
  expect(rows).toEqual([{ ticket_status: sim.ticket(id).status }]);
});

it('a ticket solved in Zendesk is solved in its tickets row without a backfill', async () => {
  const id = 7;
  sim.updateTicket(id, { status: 'open' });
  await sim.webhooks.settled();
  expect(await readUntil(() => ticketRow(id), (r) => r?.status === 'open')).toMatchObject({ status: 'open' });
  sim.updateTicket(id, { status: 'solved' });
  await sim.webhooks.settled();
  expect(await readUntil(() => ticketRow(id), (r) => r?.status === 'solved')).toMatchObject({ status: 'solved' });
});

it('a ticket whose priority and tags change has them in its row within seconds, with no sync queued and no conversation-log request', async () => {
  const id = 11;
  sim.updateTicket(id, { status: 'open' });
  await sim.webhooks.settled();
  await readUntil(() => ticketRow(id), (r) => r?.status === 'open');
  const before = await queuedState(f.database);
  sim.resetRequests();
  const priority = sim.ticket(id).priority === 'urgent' ? 'low' : 'urgent';
  sim.updateTicket(id, { priority, tags: ['vip', 'escalated'] });
  await sim.webhooks.settled();
  const sent = sim.webhooks.deliveries.filter((d) => d.ticketId === id).slice(-2);
  expect(sent.map((d) => [d.type, d.status]).sort()).toEqual([
    ['zen:event-type:ticket.priority_changed', 200],
    ['zen:event-type:ticket.tags_changed', 200],
  ]);
  const row = async () => (await f.database.pool.query('select priority, tags from zendesk.tickets where id = $1', [id])).rows[0];
  expect(await readUntil(row, (r) => r?.priority === priority)).toEqual({ priority, tags: ['vip', 'escalated'] });
  // A change of the ticket's fields is not in its conversation log: nothing is read from it.
  expect(await queuedState(f.database)).toEqual(before);
  expect(sim.requests.filter((r) => r.kind === 'conversation_log')).toEqual([]);
  expect(await (await fetch(`${f.server.url}/metrics`)).text()).toMatch(/^convlog_webhooks_accepted_total\{action="row"\} [1-9]/m);
});

it('a field change of a ticket convlog never synced queues it: its conversation is read too', async () => {
  const id = 31;
  await f.database.pool.query('delete from zendesk.ticket_sync where ticket_id = $1', [id]);
  await f.database.pool.query(`delete from pgboss.job where name = 'ticket-sync' and singleton_key = $1`, [String(id)]);
  sim.updateTicket(id, { priority: sim.ticket(id).priority === 'high' ? 'low' : 'high' });
  await sim.webhooks.settled();
  expect(sim.webhooks.deliveries.filter((d) => d.ticketId === id).at(-1)).toMatchObject({ type: 'zen:event-type:ticket.priority_changed', status: 200 });
  expect((await queuedState(f.database)).jobs).toContainEqual({ ticketId: id, full: false });
});

it('a replay has its ticket row read too: the first delivery may have been answered 503 and recorded after', async () => {
  const id = 13;
  // The delivery was recorded (its batch finished after the 503) but its row never read.
  const event = { type: 'zen:event-type:ticket.priority_changed', account_id: 1, id: 'evt-replayed-13', time: new Date().toISOString(), subject: `zen:ticket:${id}`, detail: { id: String(id) } };
  await f.database.pool.query(`insert into convlog.webhook_deliveries (delivery_key, ticket_id) values ($1, $2)`, [`event:${event.id}`, id]);
  expect(await ticketRow(id)).toBeUndefined();
  const answer = await sendWebhook(f.server, event);
  expect(JSON.parse(answer.body)).toEqual({ replay: true });
  expect(await readUntil(() => ticketRow(id), (r) => r !== undefined)).toMatchObject({ status: sim.ticket(id).status });
});

it('a redacted first comment leaves the ticket row: its webhook has serve read the row, with Zendesk’s redacted description', async () => {
  // Zendesk's description is its copy of the first comment; no sync runs here.
  const id = [1, 2, 5, 6, 9, 10].find((n) => sim.eventCount(n) > 0 && sim.events(n)[0].type === 'Comment')!;
  expect(id).toBeDefined();
  const secret = '4111 1111 1111 1111';
  const { reference } = sim.events(id)[0];
  const description = async () => (await f.database.pool.query<{ d: string }>(`select raw->>'description' as d from zendesk.tickets where id = $1`, [id])).rows[0]?.d;
  sim.editEvent(id, reference, (event) => void (event.content = { type: 'html', body: `<div class="zd-comment" dir="auto"><p dir="auto">My card is ${secret}.</p></div>` }));
  await sim.webhooks.settled();
  expect(await readUntil(description, (d) => d?.includes(secret) === true)).toContain(secret);
  sim.editEvent(id, reference, (event) => {
    const content = event.content as { type: string; body: string };
    content.body = content.body.replace(secret, '▇'.repeat(secret.length));
  });
  await sim.webhooks.settled();
  expect(sim.webhooks.deliveries.filter((d) => d.ticketId === id).at(-1)).toMatchObject({ type: 'zen:event-type:ticket.comment_redacted', status: 200 });
  expect(await readUntil(description, (d) => d !== undefined && !d.includes(secret))).toBe(sim.ticket(id).description);
  expect(sim.ticket(id).description).toContain('▇');
});

it('a burst of webhooks about many tickets costs a request per round, not one per ticket', async () => {
  const ids = Array.from({ length: 20 }, (_, i) => i + 11);
  for (const id of ids) sim.updateTicket(id, { tags: [`burst-${id}`] });
  await sim.webhooks.settled();
  const stored = await readUntil(
    async () => (await f.database.pool.query<{ n: number }>('select count(*)::int as n from zendesk.tickets where id = any($1)', [ids])).rows[0].n,
    (n) => n === ids.length,
  );
  expect(stored).toBe(ids.length);
  // Read once the webhooks pause: one round, three at most should the simulator's deliveries
  // pause mid-burst.
  expect(showManyRequests().length).toBeGreaterThanOrEqual(1);
  expect(showManyRequests().length).toBeLessThanOrEqual(3);
  const asked = showManyRequests().flatMap((r) => r.query.ids.split(',').map(Number));
  expect(new Set(asked)).toEqual(new Set(ids));
});

/** Adds ids 31..40 in turn, one every `gapMs`, for `forMs`. */
async function addSteadily(reader: { add(id: number): void }, gapMs: number, forMs: number): Promise<void> {
  for (let i = 0; i * gapMs < forMs; i++) {
    reader.add(31 + (i % 10));
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
}

// A round's parsing and storing took the CPU that answers webhooks: in `npm run bench -- burst`,
// serve's p99 answer went from about 50 ms to 66–108 ms while rounds ran during the burst.
it('webhooks coming without a pause are read once they pause, not while they keep coming', async () => {
  const reader = createTicketRowReader({ db: f.database.db, http: all.deps.http, budget: localBudget(), log: silentLogger, everyMs: 50, pause: { ms: 400, readWithinMs: 60_000 } });
  try {
    await addSteadily(reader, 20, 1_000);
    expect(showManyRequests()).toEqual([]);
    const stored = await readUntil(
      async () => (await f.database.pool.query<{ n: number }>('select count(*)::int as n from zendesk.tickets where id between 31 and 40')).rows[0].n,
      (n) => n === 10,
    );
    expect(stored).toBe(10);
    expect(showManyRequests()).toHaveLength(1);
  } finally {
    await reader.close();
  }
});

it('webhooks that never pause are read all the same, once the first has waited its longest', async () => {
  const reader = createTicketRowReader({ db: f.database.db, http: all.deps.http, budget: localBudget(), log: silentLogger, everyMs: 50, pause: { ms: 1_000, readWithinMs: 400 } });
  try {
    await addSteadily(reader, 20, 1_500);
    // Read at 0.4 s and again 0.4 s after the next webhook the round left waiting: not after the stream.
    expect(showManyRequests().length).toBeGreaterThanOrEqual(2);
    expect(showManyRequests().length).toBeLessThanOrEqual(4);
  } finally {
    await reader.close();
  }
});

it('a deletion webhook reads nothing: the sync it queues settles the ticket', async () => {
  sim.deleteTicket(3);
  await sim.webhooks.settled();
  expect(sim.webhooks.deliveries.filter((d) => d.ticketId === 3).at(-1)).toMatchObject({ status: 200 });
  await new Promise((resolve) => setTimeout(resolve, 3 * EVERY_MS));
  // Only those naming ticket 3: a request a reader of the tests above sent just before its
  // close() abandoned it may reach the simulator, in this process, after this test began.
  expect(showManyRequests().filter((r) => r.query.ids.split(',').map(Number).includes(3))).toEqual([]);
  expect(await ticketRow(3)).toBeUndefined();
});

it('a ticket naming a brand the brands list lacks has the list read once, not at every webhook', async () => {
  // A serve of its own: the one above may have read the brands list already.
  const own = await startServeWithSimulator({ tickets: 10 }, {}, { ticketRowsEveryMs: EVERY_MS });
  try {
    const requests = (kind: string) => own.sim.requests.filter((r) => r.kind === kind).length;
    const row = async () => (await own.f.database.pool.query('select brand_id from zendesk.tickets where id = 8')).rows[0];
    // A brand deleted since: the list will never hold it, so reading it again would find nothing.
    own.sim.updateTicket(8, { brand_id: 987_654 });
    await own.sim.webhooks.settled();
    expect(await readUntil(row, (r) => r !== undefined)).toEqual({ brand_id: '987654' });
    expect(await readUntil(async () => requests('brands'), (n) => n > 0)).toBe(1);
    for (const [i, tag] of ['again-1', 'again-2'].entries()) {
      own.sim.updateTicket(8, { tags: [tag] });
      await own.sim.webhooks.settled();
      expect(await readUntil(async () => requests('show_many'), (n) => n >= i + 2)).toBe(i + 2);
    }
    await new Promise((resolve) => setTimeout(resolve, 2 * EVERY_MS));
    expect(requests('brands')).toBe(1);
  } finally {
    await own.close();
  }
});

it('a read that fails for a moment is tried again at the next round', async () => {
  const own = await startServeWithSimulator({ tickets: 10, failRate: 1 }, {}, { ticketRowsEveryMs: 100, ticketRowsRetries: { maxAttempts: 1 } });
  try {
    const shown = () => own.sim.requests.filter((r) => r.kind === 'show_many');
    own.sim.updateTicket(4, { status: 'solved' });
    await own.sim.webhooks.settled();
    // The first round meets a 5xx; Zendesk answers again before the next.
    expect(await readUntil(async () => shown().length, (n) => n >= 1)).toBeGreaterThanOrEqual(1);
    expect(shown()[0].status).toBeGreaterThanOrEqual(500);
    own.sim.setOptions({ failRate: 0 });
    const row = await readUntil(async () => (await own.f.database.pool.query('select status from zendesk.tickets where id = 4')).rows[0], (r) => r !== undefined);
    expect(row).toEqual({ status: 'solved' });
    expect(shown().at(-1)?.status).toBe(200);
  } finally {
    await own.close();
  }
});

it('a Zendesk that cannot be reached is one warning, then a summary, not a line per round', async () => {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug', base: undefined }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const closed = await freePort();
  const http = createZendeskHttp({ baseUrl: `http://127.0.0.1:${closed}`, auth: { kind: 'token', email: 'agent@example.com', token: 'secret-token-1234' }, requestTimeoutMs: 2_000 });
  const reader = createTicketRowReader({ db: f.database.db, http, budget: localBudget(), log, everyMs: 20, retries: { maxAttempts: 2, retryBaseMs: 0 } });
  for (let id = 1; id <= 10; id++) {
    reader.add(id);
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  await reader.close();
  const said = lines.filter((line) => (line.level as number) >= 30).map((line) => String(line.msg));
  expect(said[0]).toMatch(/^could not read the ticket rows of tickets named by webhooks \(.+\); their conversations are queued as usual/);
  expect(said.slice(1)).toEqual([expect.stringMatching(/^ticket rows for webhooks: \d+ more reads? failed in the last \d+ s: /)]);
  expect(JSON.stringify(lines)).not.toContain('secret-token-1234');
});
