// A ticket of exactly one full page (100 events) is not read whole by its syncs (a full page
// stored may be the first of several), so the periodic full read must include it: otherwise a
// redaction in it would never reach Postgres.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ticketsDueForFullRead } from '../../src/db/full-read.ts';
import { syncTicket } from '../../src/sync/sync-ticket.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;
beforeAll(async () => {
  // Zendesk's page size, 100 (no pageSize option).
  fixture = await createFixture({ tickets: 3, ticketSizes: { 1: 99, 2: 100, 3: 101 } });
});
afterAll(async () => {
  await fixture?.close();
});

it('a ticket of exactly one full page is due for the periodic full read, which brings its redaction', async () => {
  const { db, pool } = fixture.database;
  for (const id of [1, 2, 3]) expect((await syncTicket(fixture.deps, id)).status).toBe('synced');
  await pool.query(`update zendesk.ticket_sync set last_full_read_at = now() - interval '40 days'`);
  const redacted = fixture.sim.events(2)[0];
  fixture.sim.editEvent(2, redacted.reference, (event) => {
    event.content.body = 'REDACTED';
  });
  const body = async () => (await pool.query(`select raw->'content'->>'body' as body from zendesk.conversation_events where reference = $1`, [redacted.reference])).rows[0].body;

  // Its plain sync resumes from the cursor: the redaction is not read.
  expect((await syncTicket(fixture.deps, 2)).fullRead).toBe(false);
  expect(await body()).not.toBe('REDACTED');
  // The 99-event ticket is read whole by every sync, so never due; 100 and 101 are.
  expect(await ticketsDueForFullRead(db, 30, 10)).toEqual([
    { ticketId: 2, requests: 2 },
    { ticketId: 3, requests: 2 },
  ]);
  await syncTicket(fixture.deps, 2, { full: true });
  expect(await body()).toBe('REDACTED');
});
