// A 404 for a ticket convlog stored nothing of (a typo'd id, `sync 99999`) logged "the ticket is
// gone; its stored rows were removed", a removal that never happened. The log line says so only
// when the purge found rows, and so does the tombstone's last_error ("; nothing of it was stored").
import { afterEach, expect, it } from 'vitest';
import { ticketStates } from '../../src/db/sync-again.ts';
import { runCli } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

/** The JSON log lines. */
const logLines = (stderr: string) =>
  stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { msg: string; not_found?: number });
const messages = (stderr: string) => logLines(stderr).map((line) => line.msg);
/** Those about Zendesk's 404. */
const notFoundLines = (stderr: string) => messages(stderr).filter((msg) => msg.startsWith('Zendesk answered 404'));

it('says nothing was stored of a ticket Zendesk never had, and that the rows were removed of one it stored', { timeout: 60_000 }, async () => {
  fixture = await createFixture({ tickets: 5 }, { queue: [] });
  const env = { ...fixture.env, LOG_LEVEL: 'info' };

  const typo = await runCli(['sync', '99999'], { env });
  expect(typo.code, typo.stderr).toBe(0);
  expect(typo.stdout).toMatch(/^synced 0, not_found 1,/);
  // At info only the worker's line per ticket names it: no removal happened to speak of.
  expect(notFoundLines(typo.stderr)).toEqual([]);
  expect(messages(typo.stderr)).toContain('ticket not_found');
  const debug = await runCli(['sync', '99998'], { env: { ...env, LOG_LEVEL: 'debug' } });
  expect(notFoundLines(debug.stderr)).toEqual(['Zendesk answered 404: no such ticket (nothing of it was stored)']);

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

it('a burst of ids Zendesk never had: a few lines at info, then summaries that count them not_found, not synced', { timeout: 60_000 }, async () => {
  fixture = await createFixture({ tickets: 5 }, { queue: [] });
  const run = await runCli(['sync', '--range', '1001..1030'], { env: { ...fixture.env, LOG_LEVEL: 'info' } });
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toMatch(/^synced 0, not_found 30,/);
  expect(notFoundLines(run.stderr)).toEqual([]);
  // The worker names the first 5 of a 10 s window (src/queue/sync-log.ts), then sums up the rest by outcome.
  const lines = logLines(run.stderr);
  const named = lines.filter((line) => line.msg === 'ticket not_found');
  const summaries = lines.filter((line) => / more tickets? finished /.test(line.msg));
  expect(named.length).toBeLessThan(30);
  expect(named.length + summaries.reduce((sum, line) => sum + line.not_found!, 0)).toBe(30);
  for (const summary of summaries) expect(summary.msg).toMatch(/^\d+ more tickets? finished in the last \d+ s: not_found \d+; 0 events, \d+ requests?$/);
});
