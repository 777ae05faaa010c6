// A worker process killed with SIGKILL in the middle of a long ticket: every page it stored
// committed with its cursor, and the next worker (after pg-boss notices the missing heartbeats)
// finishes the ticket from there, with nothing lost or doubled. The test does not sit out the
// 10 s heartbeat nor the retry delay: it dates the orphan's last heartbeat back and drops its
// delay, and the next worker supervises every second, so pg-boss's own supervision still has to
// find the job and hand it out again.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { expectNextWorkerFinishes, expectWholePages, LONG_TICKET_EVENTS, waitForPages } from '../helpers/interrupted-worker.ts';
import { startConvlog } from '../helpers/cli.ts';
import { createFixture, jobStates, type Fixture } from '../helpers/sync-fixture.ts';

const TICKET = 1;
const KILLED = 'convlog-killed-worker';
let fixture: Fixture;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 2, ticketSizes: { [TICKET]: LONG_TICKET_EVENTS, 2: 3 }, latency: 30 }, { queue: [TICKET] });
});
afterAll(async () => {
  await fixture?.close();
});

it('a worker killed mid-ticket leaves a state the next worker finishes, nothing lost or doubled', { timeout: 150_000 }, async () => {
  // Its sessions carry a name of their own, so the test can tell when they are gone.
  const sessions = async () => (await fixture.database.pool.query(`select count(*)::int as n from pg_stat_activity where application_name = $1`, [KILLED])).rows[0].n;
  const worker = startConvlog(['work', '--concurrency', '1'], { env: { ...fixture.env, PGAPPNAME: KILLED } });
  try {
    await waitForPages(fixture, TICKET, 3);
    expect(await sessions()).toBeGreaterThan(0);
  } finally {
    worker.kill('SIGKILL');
  }
  expect(await worker.exited).toMatchObject({ code: null, signal: 'SIGKILL' });
  // A page statement the worker sent before it died still runs and commits in Postgres: read the
  // state once the dead worker's sessions have ended, not while one may still commit a page.
  await vi.waitUntil(async () => (await sessions()) === 0, { timeout: 30_000, interval: 100 });

  // Whole pages only: each page and its cursor committed together.
  const atKill = await expectWholePages(fixture, TICKET, 3);
  expect(atKill.state.status).toBe('syncing');
  const [orphan] = await jobStates(fixture.database);
  expect(orphan).toMatchObject({ ticketId: TICKET, state: 'active', retryCount: 0 });
  await fixture.database.pool.query(
    `update pgboss.job set heartbeat_on = heartbeat_on - interval '1 minute', retry_delay = 0, retry_backoff = false
      where name = 'ticket-sync' and state = 'active'`,
  );

  // Picked up again once its heartbeat lapsed, and resumed from the saved cursor.
  await expectNextWorkerFinishes(fixture, TICKET, atKill, 120_000, { CONVLOG_SUPERVISE_SECONDS: '1' });
});
