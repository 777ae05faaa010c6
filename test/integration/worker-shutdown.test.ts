// SIGTERM (a deploy, Ctrl-C) during a long ticket: `work` stops within seconds with exit 0,
// the pages it stored keep their cursor, and the next run resumes from there.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { expectNextWorkerFinishes, expectWholePages, LONG_TICKET_EVENTS, waitForPages } from '../helpers/interrupted-worker.ts';
import { startConvlog } from '../helpers/cli.ts';
import { createFixture, jobStates, type Fixture } from '../helpers/sync-fixture.ts';

const TICKET = 1;
let fixture: Fixture;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 1, ticketSizes: { [TICKET]: LONG_TICKET_EVENTS }, latency: 30 }, { queue: [TICKET] });
});
afterAll(async () => {
  await fixture?.close();
});

it('SIGTERM during a long ticket exits 0 within 30 s; the next run resumes from the saved cursor', { timeout: 120_000 }, async () => {
  const worker = startConvlog(['work'], { env: fixture.env });
  await waitForPages(fixture, TICKET, 3);
  const signalled = Date.now();
  worker.kill('SIGTERM');
  const exit = await Promise.race([
    worker.exited,
    new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 30_000)),
  ]);
  if (exit === 'still running') worker.kill('SIGKILL');
  expect(exit, worker.stderr()).toMatchObject({ code: 0, signal: null });
  expect(Date.now() - signalled).toBeLessThan(30_000);

  // Stopped between two pages: the ticket waits for the next worker, its cursor saved.
  const stopped = await expectWholePages(fixture, TICKET, 3);
  // What ticket_sync says counts this run's pages ("after page 0" read as a page of the ticket).
  expect(stopped.state).toMatchObject({
    status: 'queued',
    last_error: expect.stringMatching(/^interrupted by shutdown after this run stored \d+ pages?; the next run resumes from the saved cursor$/),
  });
  // Back in the queue as it was, due at once, its attempt unspent: a shutdown is no failure.
  const { rows: [job] } = await fixture.database.pool.query(
    `select state::text, start_after <= now() as due, retry_count - coalesce((data->>'holds')::int, 0) as spent from pgboss.job where name = 'ticket-sync'`,
  );
  expect(job).toEqual({ state: 'created', due: true, spent: 0 });

  await expectNextWorkerFinishes(fixture, TICKET, stopped, 90_000);
});
