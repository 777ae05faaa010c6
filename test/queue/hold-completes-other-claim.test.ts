// holdJob (src/queue/queue-stats.ts) puts a running job back as `created`, its attempt unspent.
// The handler then records the status and returns, and pg-boss completes the job "fenced" on
// (id, retry_count, state = active). Had the held job kept its retry_count, and another worker
// claimed it in between (its delay is only ~1 s past the next probe), that fence would match the
// *other* worker's claim: pg-boss would complete a job still running, an enqueue would queue a
// second run of the ticket, and the running worker's heartbeat would find its claim gone. The hold
// moves retry_count and retry_limit up one, so the old fence matches nothing.
//
// The gap is opened here with a row lock on the ticket's ticket_sync row (as any concurrent
// transaction on it, or a pool with every connection busy at high concurrency, would): recordStatus
// waits, the delay passes, and a second worker whose Zendesk answers takes the job.
import { afterEach, expect, it, vi } from 'vitest';
import type { PgBoss } from 'pg-boss';
import pg from 'pg';
import { freePort } from '../../src/db/embedded.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { createZendeskHttp } from '../../src/zendesk/index.ts';
import { bossFor, createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

let fixture: FixtureWithBoss | undefined;
let bossB: PgBoss | undefined;
const stops: AbortController[] = [];
afterEach(async () => {
  for (const s of stops) s.abort();
  await bossB?.stop({ graceful: false, timeout: 2_000 });
  await fixture?.close();
  fixture = bossB = undefined;
});

const job = async (pool: pg.Pool) =>
  (await pool.query(`select id, state::text as state, retry_count, started_on from pgboss.job where name = 'ticket-sync' and singleton_key = '2' order by created_on`)).rows;

it('a held job that another worker claims is not completed under that worker', { timeout: 120_000 }, async () => {
  // Ticket 2: 300 events in pages of 10, 1 s a request: worker B's run lasts half a minute, so
  // it is still running when the test looks, however slowly A gets to record its hold (with 60
  // events, 6 s: a few seconds' delay there and B had finished). B is stopped, not waited for.
  fixture = await createFixtureWithBoss({ tickets: 2, ticketSizes: { 2: 300 }, latency: 1_000 }, { pageSize: 10 });
  const { pool, db, url } = fixture.database;
  const port = await freePort();
  const unreachable = createZendeskHttp({ baseUrl: `http://127.0.0.1:${port}`, auth: { kind: 'token', email: 'a@example.com', token: 'x' }, requestTimeoutMs: 5_000 });

  await enqueueTickets(fixture.boss, db, [2]);
  // Taken a moment after worker A has found Zendesk unreachable (its probe at start).
  await pool.query(`update pgboss.job set start_after = now() + interval '2 seconds' where name = 'ticket-sync'`);

  // Some other transaction holds ticket 2's status row for a few seconds.
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  await locker.query('begin');
  await locker.query('select 1 from zendesk.ticket_sync where ticket_id = 2 for update');

  // Worker A: its Zendesk cannot be reached, so it holds the ticket.
  const stopA = new AbortController();
  stops.push(stopA);
  const workerA = runWorker(fixture.boss, pool, { ...fixture.deps, http: unreachable }, {
    concurrency: 1, signal: stopA.signal, probeAtStart: true, unreachablePauseMs: { first: 500, max: 1_000 },
  });
  // A took the job and put it back (created, started_on cleared), and now waits on the row lock.
  await vi.waitFor(async () => {
    const rows = await job(pool);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'created', retry_count: 1, started_on: null });
    const held = await pool.query(`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like '%ticket_sync%'`);
    expect(held.rows[0].n).toBeGreaterThan(0);
  }, { timeout: 20_000, interval: 100 });

  // Worker B (another machine, Zendesk reachable) claims the held job once its delay passes.
  bossB = await bossFor(fixture);
  const stopB = new AbortController();
  stops.push(stopB);
  const workerB = runWorker(bossB, pool, fixture.deps, { concurrency: 2, signal: stopB.signal });
  await vi.waitFor(async () => expect((await job(pool))[0]).toMatchObject({ state: 'active', retry_count: 1 }), { timeout: 20_000, interval: 50 });

  // The other transaction ends: A records "queued, waiting for Zendesk" and returns.
  await locker.query('commit');
  await locker.end();
  await vi.waitFor(async () => {
    const { rows } = await pool.query(`select last_error from zendesk.ticket_sync where ticket_id = 2`);
    expect(rows[0].last_error ?? '').toMatch(/waiting for Zendesk/);
  }, { timeout: 10_000, interval: 50 });
  await new Promise((r) => setTimeout(r, 500));

  // B is still syncing ticket 2 (1 s a page): its job must still be active, and a second enqueue
  // must find it ("already queued"), not queue a second run of the same ticket.
  const whileRunning = await job(pool);
  const again = await enqueueTickets(fixture.boss, db, [2]);
  stopA.abort();
  await workerA;
  expect(whileRunning.map((r) => r.state)).toEqual(['active']);
  expect(again).toMatchObject({ queued: 0, alreadyQueued: 1 });
  stopB.abort();
  await workerB;
});
