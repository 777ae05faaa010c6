// A show_many that Zendesk accepts and never answers lasts until the request's timeout (30 s by
// default, on each attempt). serve's ticket-row reader waited for it before its next round, so
// every ticket named meanwhile had its row half a minute late or more (measured: 30.7 s for a
// ticket named 0.5 s after the hung read, with the default timeout and attempts). The next round
// now starts on time beside the stuck read; beside two, once they are two rounds old; never more
// than four reads at once.
// The reader runs against the real simulator, which leaves requests unanswered with `hangRate`;
// hung requests are never answered, so a recording fetch counts those sent, and the simulator's
// `received` tells when one has arrived (and been left hung).
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { createTicketRowReader, type TicketRowReaderDeps } from '../../src/serve/ticket-rows.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createZendeskHttp, localBudget } from '../../src/zendesk/index.ts';
import { SHOW_MANY_PATH } from '../../src/zendesk/ticket-context.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { within } from './serve-fixture.ts';

/** CONVLOG_REQUEST_TIMEOUT's default: what a hung read lasts in production. */
const PRODUCTION_TIMEOUT_MS = 30_000;
const EVERY_MS = 300;

let sim: Simulator;

const database = useTestDatabase();
beforeAll(async () => {
  sim = await startSimulator({ tickets: 10, rateLimit: 0, exportRateLimit: 0 });
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(async () => {
  sim.setOptions({ hangRate: 0 });
  sim.resetRequests();
  await database.pool.query('delete from zendesk.tickets');
});

/** A reader on the simulator whose show_many requests, answered or not, are counted as sent. */
function reader(requestTimeoutMs: number, retries?: TicketRowReaderDeps['retries']) {
  const sent: string[] = [];
  const recording: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.includes(SHOW_MANY_PATH)) sent.push(new URL(url).searchParams.get('ids') ?? '');
    return fetch(input, init);
  };
  const http = createZendeskHttp({ baseUrl: sim.url, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs }, { fetch: recording });
  return { sent, rows: createTicketRowReader({ db: database.db, http, budget: localBudget(), log: silentLogger, everyMs: EVERY_MS, retries }) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function hasRow(ticketId: number): Promise<boolean> {
  return (await database.pool.query('select 1 from zendesk.tickets where id = $1', [ticketId])).rowCount === 1;
}

/** Whether the simulator has received `n` show_many requests; each is left hung or not as it arrives. */
const showManyReceived = (n: number) => sim.received.filter((q) => q.kind === 'show_many').length === n;

/** Leaves the next show_many unanswered: the fault is lifted once the simulator has received it. */
async function hangFirstRead(r: ReturnType<typeof reader>, ticketId: number): Promise<void> {
  sim.setOptions({ hangRate: 1 });
  r.rows.add(ticketId);
  expect(await within(10_000, () => showManyReceived(1)), 'the read received').toBe(true);
  sim.setOptions({ hangRate: 0 });
}

it('a ticket named while a read hangs has its row at the next round, not after the timeout', async () => {
  const r = reader(PRODUCTION_TIMEOUT_MS);
  try {
    await hangFirstRead(r, 1);
    const named = Date.now();
    r.rows.add(2);
    // Well under the read's 30 s timeout, which is what a round waiting for the hung read would
    // take, with room for a busy machine over the few 300 ms rounds it takes.
    expect(await within(10_000, () => hasRow(2)), "ticket 2's row within 10 s").toBe(true);
    expect(Date.now() - named).toBeLessThan(10_000);
    // Ticket 1's read is still waiting for its answer: the hang was real.
    expect(await hasRow(1)).toBe(false);
    expect(r.sent).toEqual(['1', '2']);
  } finally {
    const closing = Date.now();
    await r.rows.close();
    // close() abandons the hung read instead of waiting out its 30 s timeout.
    expect(Date.now() - closing).toBeLessThan(10_000);
  }
});

it('a ticket named after two hung reads has its row once they have run two rounds, not after their timeout', async () => {
  const r = reader(PRODUCTION_TIMEOUT_MS);
  try {
    sim.setOptions({ hangRate: 1 });
    r.rows.add(1);
    expect(await within(10_000, () => showManyReceived(1)), 'read 1 received').toBe(true);
    r.rows.add(2);
    expect(await within(10_000, () => showManyReceived(2)), 'read 2 received').toBe(true);
    sim.setOptions({ hangRate: 0 });
    r.rows.add(3);
    // Both places are taken by reads Zendesk will not answer for 30 s: the round starts once the
    // first of them is two rounds old (0.6 s here), beside them.
    expect(await within(10_000, () => hasRow(3)), "ticket 3's row within 10 s").toBe(true);
    expect(await hasRow(1)).toBe(false);
    expect(await hasRow(2)).toBe(false);
    expect(r.sent).toEqual(['1', '2', '3']);
  } finally {
    await r.rows.close();
  }
});

it('never more than four reads at once: with all of them hung, later tickets wait', async () => {
  const r = reader(PRODUCTION_TIMEOUT_MS);
  sim.setOptions({ hangRate: 1 });
  try {
    // Each of the first four named once the read before it was sent, so that a late round does
    // not read two tickets at once; the next three get a few rounds in which no fifth read goes.
    for (let id = 1; id <= 4; id++) {
      r.rows.add(id);
      expect(await within(10_000, () => r.sent.length === id), `read ${id} sent`).toBe(true);
    }
    for (let id = 5; id <= 7; id++) {
      r.rows.add(id);
      await sleep(2 * EVERY_MS);
    }
    await sleep(4 * EVERY_MS);
    expect(r.sent).toEqual(['1', '2', '3', '4']);
  } finally {
    await r.rows.close();
  }
});

it('a hung read that times out has its tickets read again at a later round', async () => {
  const r = reader(1_000, { maxAttempts: 1, retryBaseMs: 0 });
  try {
    await hangFirstRead(r, 1);
    expect(await within(5_000, () => hasRow(1)), "ticket 1's row after its read timed out").toBe(true);
    expect(r.sent).toEqual(['1', '1']);
  } finally {
    await r.rows.close();
  }
});
