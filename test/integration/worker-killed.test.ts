// A worker process killed with SIGKILL in the middle of a long ticket: every page it stored
// committed with its cursor, and the next worker (after pg-boss notices the missing heartbeats)
// finishes the ticket from there, with nothing lost or doubled.
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
  fixture = await createFixture({ tickets: 2, ticketSizes: { 1: 2500, 2: 3 }, latency: 30 });
  const boss = await bossFor(fixture, false);
  await enqueueTickets(boss, fixture.database.db, [TICKET]);
  await boss.stop({ graceful: false, timeout: 2_000 });
});
afterAll(async () => {
  await fixture?.close();
});

it('a worker killed mid-ticket leaves a state the next worker finishes, nothing lost or doubled', { timeout: 150_000 }, async () => {
  const worker = spawnCli(['work', '--concurrency', '1'], fixture.env);
  try {
    await waitFor('three pages stored', async () => ((await ticketSync(fixture.database, TICKET))?.pages_synced ?? 0) >= 3, 60_000);
  } finally {
    worker.process.kill('SIGKILL');
  }
  expect(await worker.exited).toEqual({ code: null, signal: 'SIGKILL' });

  // Whole pages only: each page and its cursor committed together.
  const atKill = await ticketSync(fixture.database, TICKET);
  const stored = (await rowCounts(fixture.database, [TICKET])).events;
  expect(atKill?.status).toBe('syncing');
  expect(stored).toBe(atKill!.pages_synced * 100);
  expect(stored).toBeLessThan(2500);
  expect(atKill?.after_cursor).toBeTruthy();
  const [orphan] = await jobStates(fixture.database);
  expect(orphan).toMatchObject({ ticketId: TICKET, state: 'active', retryCount: 0 });

  fixture.sim.setOptions({ latency: 0 });
  fixture.sim.resetRequests();
  const next = await runCli(['work', '--until-idle'], { env: fixture.env, timeoutMs: 120_000 });
  expect(next.code, next.stderr).toBe(0);

  // Picked up again once its heartbeat lapsed, and resumed from the saved cursor.
  const jobs = await jobStates(fixture.database);
  expect(jobs).toHaveLength(1);
  expect(jobs[0]).toMatchObject({ ticketId: TICKET, state: 'completed', retryCount: 1 });
  const requests = logRequests(fixture.sim, TICKET);
  expect(requests[0].query['page[after]']).toBe(atKill!.after_cursor);
  expect(requests).toHaveLength(25 - stored / 100);

  expect(await rowCounts(fixture.database)).toEqual(expectedCounts(expectedRows(fixture.sim, [TICKET])));
  expect(await ticketSync(fixture.database, TICKET)).toMatchObject({ status: 'synced', events_synced: 2500, last_error: null });
});
