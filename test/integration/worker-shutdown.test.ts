// SIGTERM (a deploy, Ctrl-C) during a long ticket: `work` stops within seconds with exit 0,
// the pages it stored keep their cursor, and the next run resumes from there.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runCli } from '../helpers/cli.ts';
import {
  bossFor,
  createFixture,
  expectedCounts,
  expectedRows,
  jobStates,
  logRequests,
  rowCounts,
  spawnCli,
  ticketSync,
  waitFor,
  type Fixture,
} from '../helpers/sync-fixture.ts';

const TICKET = 1;
let fixture: Fixture;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 1, ticketSizes: { 1: 2500 }, latency: 30 });
  const boss = await bossFor(fixture, false);
  await enqueueTickets(boss, fixture.database.db, [TICKET]);
  await boss.stop({ graceful: false, timeout: 2_000 });
});
afterAll(async () => {
  await fixture?.close();
});

it('SIGTERM during a long ticket exits 0 within 30 s; the next run resumes from the saved cursor', { timeout: 120_000 }, async () => {
  const worker = spawnCli(['work'], fixture.env);
  await waitFor('three pages stored', async () => ((await ticketSync(fixture.database, TICKET))?.pages_synced ?? 0) >= 3, 60_000);
  const signalled = Date.now();
  worker.process.kill('SIGTERM');
  const exit = await Promise.race([
    worker.exited,
    new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 30_000)),
  ]);
  if (exit === 'still running') worker.process.kill('SIGKILL');
  expect(exit, worker.stderr()).toEqual({ code: 0, signal: null });
  expect(Date.now() - signalled).toBeLessThan(30_000);

  // Stopped between two pages: the ticket waits for its retry, its cursor saved.
  const stopped = await ticketSync(fixture.database, TICKET);
  const stored = (await rowCounts(fixture.database, [TICKET])).events;
  expect(stored).toBeGreaterThanOrEqual(300);
  expect(stored).toBeLessThan(2500);
  expect(stored).toBe(stopped!.pages_synced * 100);
  expect(stopped).toMatchObject({ status: 'queued', last_error: expect.stringMatching(/interrupted by shutdown/) });
  expect(stopped?.after_cursor).toBeTruthy();
  expect((await jobStates(fixture.database))[0]).toMatchObject({ state: 'retry' });

  fixture.sim.setOptions({ latency: 0 });
  fixture.sim.resetRequests();
  const next = await runCli(['work', '--until-idle'], { env: fixture.env, timeoutMs: 90_000 });
  expect(next.code, next.stderr).toBe(0);

  const requests = logRequests(fixture.sim, TICKET);
  expect(requests[0].query['page[after]']).toBe(stopped!.after_cursor);
  expect(requests.length).toBe(25 - stored / 100);
  expect(await rowCounts(fixture.database)).toEqual(expectedCounts(expectedRows(fixture.sim, [TICKET])));
  expect(await ticketSync(fixture.database, TICKET)).toMatchObject({ status: 'synced', events_synced: 2500, last_error: null });
  expect(await jobStates(fixture.database)).toEqual([expect.objectContaining({ state: 'completed', retryCount: 1 })]);
});
