// A clean stop (Ctrl-C, SIGTERM) of a worker in the middle of its tickets is not a failure, but
// `convlog status` listed those tickets under "last errors" and counted their jobs as "waiting to
// retry" like failed ones. Now they are shown apart, as interrupted, with what their record says,
// their jobs queued again as they were, and a failure that comes later is an error again.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli, startConvlog } from '../helpers/cli.ts';
import { LONG_TICKET_EVENTS, waitForPages } from '../helpers/interrupted-worker.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 2, ticketSizes: { 1: LONG_TICKET_EVENTS, 2: LONG_TICKET_EVENTS }, latency: 100 }, { queue: [1, 2] });
});
afterAll(async () => {
  await fixture?.close();
});

const status = async () => {
  const [text, json] = await Promise.all([runCli(['status'], { env: fixture.env, timeoutMs: 30_000 }), runCli(['status', '--json'], { env: fixture.env, timeoutMs: 30_000 })]);
  expect(text.code, text.stderr).toBe(0);
  return { lines: text.stdout.split('\n'), json: JSON.parse(json.stdout) };
};
const REASON = /^interrupted by shutdown after this run stored \d+ pages?; the next run resumes from the saved cursor$/;

it('tickets a shutdown stopped are interrupted, not errors; a later failure is an error again', { timeout: 120_000 }, async () => {
  const worker = startConvlog(['work'], { env: fixture.env });
  try {
    await waitForPages(fixture, 1, 2);
    await waitForPages(fixture, 2, 2);
  } finally {
    worker.kill('SIGTERM');
  }
  expect(await worker.exited, worker.stderr()).toMatchObject({ code: 0 });

  const stopped = await status();
  expect(stopped.lines).toContain(
    'queue      2 queued, 0 waiting to retry, 0 running, 0 dead (failed tickets: their sync gave up, or a dequeue took them out after an attempt; "last errors" says why)',
  );
  const at = stopped.lines.indexOf('stopped    2 tickets interrupted by a shutdown, not failed: each resumes from its saved cursor when a worker takes it');
  expect(at, stopped.lines.join('\n')).toBeGreaterThan(0);
  expect(stopped.lines.slice(at + 1, at + 3).sort()).toEqual([
    expect.stringMatching(/^ {2}ticket 1 \(\S+\): interrupted by shutdown after this run stored \d+ pages?; /),
    expect.stringMatching(/^ {2}ticket 2 \(\S+\): interrupted by shutdown after this run stored \d+ pages?; /),
  ]);
  expect(stopped.lines).not.toContain('last errors');
  expect(stopped.lines).toContainEqual(expect.stringMatching(/^waiting    ticket [12] has waited longest for its sync, since \S+$/));
  // Every label in one column, as a person reads down it (indented lines go on the one above).
  for (const line of stopped.lines.filter((l) => l !== '' && !l.startsWith(' '))) expect(line, line).toMatch(/^[a-z ]{10} \S/);
  expect(stopped.json.lastErrors).toEqual([]);
  expect(stopped.json.queue).toMatchObject({ queued: 2, waiting_to_retry: 0 });
  expect(stopped.json.interrupted.count).toBe(2);
  expect(stopped.json.interrupted.latest.map((t: { ticketId: number }) => t.ticketId).sort()).toEqual([1, 2]);
  for (const t of stopped.json.interrupted.latest) expect(t.reason).toMatch(REASON);

  // The next worker: ticket 1 now fails for good (a page that is never JSON), ticket 2 syncs.
  fixture.sim.setMalformed(1, 'not-json');
  fixture.sim.setOptions({ latency: 0 });
  const next = await runCli(['work', '--until-idle'], { env: fixture.env, timeoutMs: 60_000 });
  expect(next.code, next.stderr).toBe(1);

  const after = await status();
  expect(after.lines.some((line) => line.startsWith('stopped'))).toBe(false);
  expect(after.json.interrupted).toEqual({ count: 0, latest: [] });
  expect(after.json.lastErrors).toEqual([expect.objectContaining({ ticketId: 1, status: 'failed' })]);
  expect(after.lines).toContain('last errors');

  // Ticket 2's run that finished cleared its interruption: queued again, it is not counted as stopped by a shutdown.
  const { rows } = await fixture.database.pool.query(`select status, interrupted_at from zendesk.ticket_sync where ticket_id = 2`);
  expect(rows).toEqual([{ status: 'synced', interrupted_at: null }]);
  expect((await runCli(['enqueue', '2'], { env: fixture.env })).code).toBe(0);
  const requeued = await status();
  expect(requeued.json.interrupted).toEqual({ count: 0, latest: [] });
  expect(requeued.lines.some((line) => line.startsWith('interrupted'))).toBe(false);
});
