// A 404 for a ticket convlog stored nothing of (a typo'd id, `sync 99999`) logged "the ticket is
// gone; its stored rows were removed", a removal that never happened. The log line says so only
// when the purge found rows, and so does the tombstone's last_error ("; nothing of it was stored").
import { afterEach, expect, it } from 'vitest';
import { ticketStates } from '../../src/db/ticket-status.ts';
import { runCli } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

/** The messages of the JSON log lines about Zendesk's 404. */
const notFoundLines = (stderr: string) =>
  stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { msg: string }).msg)
    .filter((msg) => msg.startsWith('Zendesk answered 404'));

it('says nothing was stored of a ticket Zendesk never had, and that the rows were removed of one it stored', { timeout: 60_000 }, async () => {
  fixture = await createFixture({ tickets: 5 }, { queue: [] });
  const env = { ...fixture.env, LOG_LEVEL: 'info' };

  const typo = await runCli(['sync', '99999'], { env });
  expect(typo.code, typo.stderr).toBe(0);
  expect(typo.stdout).toMatch(/^synced 0, not_found 1,/);
  expect(notFoundLines(typo.stderr)).toEqual(['Zendesk answered 404: no such ticket (nothing of it was stored)']);

  // A ticket synced, then deleted in Zendesk: its rows were there, and are gone.
  expect((await runCli(['sync', '3'], { env })).stdout).toMatch(/^synced 1,/);
  fixture.sim.deleteTicket(3);
  const deleted = await runCli(['sync', '3'], { env });
  expect(notFoundLines(deleted.stderr)).toEqual(['Zendesk answered 404: the ticket is gone; its stored rows were removed']);

  // The tombstones say what became of the rows: none were stored of the mistyped id.
  const states = await ticketStates(fixture.database.db, [3, 99999]);
  expect(Object.fromEntries(states.map((s) => [s.ticketId, s.lastError]))).toEqual({
    3: 'Zendesk answered 404: the ticket was deleted or never existed; its stored rows were removed',
    99999: 'Zendesk answered 404: the ticket was deleted or never existed; nothing of it was stored',
  });
});
