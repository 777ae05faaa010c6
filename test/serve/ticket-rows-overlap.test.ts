// Two of serve's ticket-row reads at once, the older answered last: it must not undo what the
// newer stored. Ticket rows keep the newer state by their updated_at (src/db/tickets.ts); the
// side-loaded users did not, and a late answer put back a name changed since. Nor do the two
// reads each read the brands list. Real simulator (its `latency` delays an answer computed when
// the request arrives), real Postgres.
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createTicketRowReader } from '../../src/serve/ticket-rows.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createZendeskHttp, localBudget } from '../../src/zendesk/index.ts';
import { SHOW_MANY_PATH } from '../../src/zendesk/ticket-context.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { within } from './serve-fixture.ts';

const EVERY_MS = 100;
/** How late the first read's answer comes: long after the second read's. */
const LATE_MS = 1_500;

let sim: Simulator;

const database = useTestDatabase();
beforeAll(async () => {
  sim = await startSimulator({ tickets: 10, rateLimit: 0, exportRateLimit: 0 });
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(async () => {
  sim.setOptions({ latency: 0 });
  sim.resetRequests();
  await database.pool.query('truncate zendesk.tickets, zendesk.brands');
  await database.pool.query('delete from zendesk.authors');
});

/** A reader on the simulator, counting the requests it sends and the reads it finishes. */
function reader() {
  const sent: string[] = [];
  const recording: typeof fetch = (input, init) => {
    sent.push(new URL(input instanceof Request ? input.url : String(input)).pathname);
    return fetch(input, init);
  };
  const http = createZendeskHttp({ baseUrl: sim.url, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs: 10_000 }, { fetch: recording });
  let finished = 0;
  const log = pino({ level: 'debug', base: undefined }, { write: (line: string) => void (finished += line.includes('ticket rows read for webhooks') ? 1 : 0) });
  const rows = createTicketRowReader({ db: database.db, http, budget: localBudget(), log, everyMs: EVERY_MS, pause: { ms: 10, readWithinMs: 1_000 } });
  return { rows, sent: (path: string) => sent.filter((p) => p.endsWith(path)).length, finished: () => finished };
}

/**
 * Starts a read of `first` whose answer, computed as the request arrives, comes LATE_MS later;
 * then, once `between` has changed the account, a read of `second` answered at once.
 */
async function overlappingReads(r: ReturnType<typeof reader>, first: number, second: number, between: () => void): Promise<void> {
  sim.resetRequests();
  sim.setOptions({ latency: LATE_MS });
  r.rows.add(first);
  // The simulator computes the answer, and its latency, as the request arrives.
  expect(await within(10_000, () => sim.received.filter((q) => q.kind === 'show_many').length === 1), 'the first read received').toBe(true);
  between();
  sim.setOptions({ latency: 0 });
  r.rows.add(second);
  expect(await within(10_000, () => r.finished() === 2), 'both reads finished').toBe(true);
  // The older read was answered last.
  const answered = sim.requests.filter((q) => q.kind === 'show_many');
  expect(answered).toHaveLength(2);
  expect(answered[1].at).toBeLessThan(answered[0].at);
}

it('a user renamed between two reads keeps the new name when the older read is answered last', async () => {
  const r = reader();
  try {
    const userId = sim.ticket(1).requester_id!;
    const before = (await sideloadedName(userId)) ?? '';
    await overlappingReads(r, 1, 1, () => sim.renameUser(userId, 'Renamed Requester'));
    expect(before).not.toBe('Renamed Requester');
    const { rows } = await database.pool.query<{ display_name: string }>('select display_name from zendesk.authors where author_key = $1', [`support:${userId}`]);
    expect(rows).toEqual([{ display_name: 'Renamed Requester' }]);
  } finally {
    await r.rows.close();
  }
});

it('two reads at once, each naming a brand without a row, read the brands list once', async () => {
  const r = reader();
  try {
    // Every answer comes late: the second read has stored its tickets, and needs the list, while
    // the first is still reading it. No brand has a row yet: each read needs the list.
    sim.setOptions({ latency: LATE_MS });
    r.rows.add(2);
    expect(await within(5_000, () => r.sent(SHOW_MANY_PATH) === 1)).toBe(true);
    r.rows.add(3);
    expect(await within(5_000, () => r.sent(SHOW_MANY_PATH) === 2)).toBe(true);
    expect(await within(10_000, () => r.finished() === 2), 'both reads finished').toBe(true);
    expect(r.sent('/api/v2/brands')).toBe(1);
    expect(Number((await database.pool.query<{ n: string }>('select count(*) as n from zendesk.brands')).rows[0].n)).toBeGreaterThan(0);
  } finally {
    await r.rows.close();
  }
});

/** The user's name as show_many side-loads it now. */
async function sideloadedName(userId: number): Promise<string | undefined> {
  const response = await fetch(`${sim.url}/api/v2/tickets/show_many.json?ids=1&include=users`, { headers: { authorization: 'Bearer sim-token' } });
  const body = (await response.json()) as { users: { id: number; name: string }[] };
  return body.users.find((u) => u.id === userId)?.name;
}
