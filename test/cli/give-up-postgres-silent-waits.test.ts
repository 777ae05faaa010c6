// What a run waits for besides its looks is bounded as they are when Postgres goes silent: the
// tickets in flight of a `work --until-idle` told to stop, and the ticket rows a `sync` reads beside
// its worker. Each goes on looking at Postgres meanwhile and gives up as the run would have before
// (work-give-up-postgres-lost.test.ts): one line, exit 2. Through the real command line, its
// Postgres reached through a proxy the test silences (nothing answers and nothing closes).
import { expect, it, vi } from 'vitest';
import { endedWithin, startConvlog } from '../helpers/cli.ts';
import { jsonLines } from '../faults/harness.ts';
import { expectGaveUpOnPostgres, expectSyncGaveUp, proxiedPostgres } from '../helpers/proxied-postgres.ts';

const lost = proxiedPostgres();

// A stop waits for the tickets in flight to store their page, or to record that they were
// interrupted: on a silent connection neither ever ends, and a scheduler's single SIGTERM (timeout
// --foreground) would leave the run waiting for ever.
it('ends work --until-idle told to stop while Postgres is silent, once --give-up-after has passed: exit 2, one line', { timeout: 120_000 }, async () => {
  const worker = await lost.busyWorker();
  lost.proxy.silence();
  const silencedAt = Date.now();
  worker.kill('SIGTERM');

  const exit = await endedWithin(worker, 60_000);
  expect(exit, worker.stderr().slice(-3000)).not.toBe('running');
  if (exit === 'running') return;
  expectGaveUpOnPostgres(worker, exit);
  expect(exit.at - silencedAt).toBeGreaterThanOrEqual(3_000);
  const left = jsonLines(worker.stderr()).filter((line) => String(line.msg).startsWith('stopped without waiting any longer'));
  // Its jobs in flight, those whose handlers had not ended by then, are handed back if Postgres answers in time.
  expect(left, worker.stderr().slice(-3000)).toEqual([expect.objectContaining({ inFlight: expect.any(Number), handedBack: 0 })]);
});

// The worker done, `sync` still waits for the rows of its tickets (readRowsOfQueued), held back
// here by the account-wide limit: Postgres goes silent as their request is sent again, and the
// statement that stores its answer, on a connection the run used a moment before, would never end.
it('ends sync in one line, exit 2, when Postgres goes silent while it still reads its tickets\' rows, its tickets done', { timeout: 200_000 }, async () => {
  // One account-wide request a 20 s window: the credential check spends it, and show_many, refused
  // (429), is sent again once the next window begins.
  const env = await lost.env({ tickets: 1, ticketSizes: { 1: 3 }, accountRateLimit: 1, window: 20 });
  const sync = startConvlog(['sync', '1'], { env });
  const one = async (sql: string) => (await lost.database.pool.query(sql)).rows[0];
  await vi.waitUntil(async () => (await one(`select status::text from zendesk.ticket_sync where ticket_id = 1`))?.status === 'synced', { timeout: 60_000, interval: 100 });
  // Its look has found it done twice in a row: the worker has ended its run.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect((await one(`select count(*)::int as n from zendesk.tickets where id = 1`)).n, 'the ticket rows still being read').toBe(0);
  // The request sent again takes a permit first, and is then answered 5 s later.
  lost.sim.setOptions({ latency: 5_000 });
  const taken = async () => Number((await one(`select total_taken from convlog.rate_budgets where name = 'account'`)).total_taken);
  const before = await taken();
  await vi.waitUntil(async () => (await taken()) > before, { timeout: 30_000, interval: 50 });
  lost.proxy.silence();
  await expectSyncGaveUp(sync, Date.now(), 150_000);
});
