// convlog_events_stored follows the events table as it fills and empties, without waiting for
// an ANALYZE. A soak showed it at 0 for its first ten minutes while thousands of events were
// stored: the planner's estimate (pg_class.reltuples) is -1 until autovacuum first analyzes a
// table, and stale between analyzes.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { startHealthServer } from '../../src/serve/health.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';
import { within } from './serve-fixture.ts';

let fixture: FixtureWithBoss;
let server: Awaited<ReturnType<typeof startHealthServer>>;

beforeAll(async () => {
  // With pg-boss's schema: /metrics reads the queue too, and reports nothing without it.
  fixture = await createFixtureWithBoss({ tickets: 6, ticketSizes: { 1: 40, 2: 30, 3: 20, 4: 10, 5: 5, 6: 1 } });
  server = await startHealthServer({ pool: fixture.database.pool, port: 0, host: '127.0.0.1', log: silentLogger, ownLimits: {} });
});
afterAll(async () => {
  await server?.close();
  await fixture?.close();
});

const metric = async () => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('convlog_events_stored '));
  return Number(line?.slice('convlog_events_stored '.length));
};
const stored = async () => (await fixture.database.pool.query(`select count(*)::int as n from zendesk.conversation_events`)).rows[0].n;

/** Postgres publishes a connection's row counts within a second or so of its commits. */
async function settlesAt(expected: number): Promise<number> {
  let seen = NaN;
  await within(15_000, async () => (seen = await metric()) === expected);
  return seen;
}

it('counts the events stored before any ANALYZE, and follows a deleted ticket', { timeout: 60_000 }, async () => {
  for (let id = 1; id <= 6; id++) await syncTicket(fixture.deps, id);
  expect(await stored()).toBe(106);
  const reltuples = await fixture.database.pool.query(`select reltuples from pg_class where oid = 'zendesk.conversation_events'::regclass`);
  expect(reltuples.rows[0].reltuples).toBeLessThan(1); // never analyzed: the planner knows nothing yet
  expect(await settlesAt(106)).toBe(106);

  fixture.sim.deleteTicket(1);
  expect((await syncTicket(fixture.deps, 1)).status).toBe('not_found');
  expect(await stored()).toBe(66);
  expect(await settlesAt(66)).toBe(66);
});
