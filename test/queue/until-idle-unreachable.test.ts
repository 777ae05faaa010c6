// `work --until-idle` from cron must end: a worker that cannot reach Zendesk holds its tickets
// (no retry spent), and under untilIdle it gives up once Zendesk has been unreachable for the
// give-up time, leaving every ticket queued for the next run. A service (no untilIdle) keeps going.
import { afterEach, expect, it } from 'vitest';
import { freePort } from '../../src/db/embedded.ts';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { silentLogger } from '../../src/log.ts';
import { createZendeskHttp } from '../../src/zendesk/index.ts';
import { createFixtureWithBoss, range, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

const TICKETS = range(1, 3);
let fixture: FixtureWithBoss | undefined;

afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

it('gives up under untilIdle once Zendesk has been unreachable for the give-up time and no ticket is in flight, the tickets still queued with no retry spent', { timeout: 60_000 }, async () => {
  fixture = await createFixtureWithBoss({ tickets: 3 });
  // Nothing listens there. On a loaded machine the workers take tickets before the start-up probe
  // has its answer, and a give-up time this short comes while one is in flight: the worker must
  // let it end held, not stop it and spend one of its attempts (state retry).
  const port = await freePort();
  const http = createZendeskHttp({ baseUrl: `http://127.0.0.1:${port}`, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs: 5_000 });
  const { pool } = fixture.database;
  await enqueueTickets(fixture.boss, fixture.database.db, TICKETS);

  const started = Date.now();
  const summary = await runWorker(fixture.boss, pool, { ...fixture.deps, http, log: silentLogger }, {
    concurrency: 2,
    signal: new AbortController().signal,
    probeAtStart: true,
    untilIdle: true,
    giveUpUnreachableMs: 300,
    unreachablePauseMs: { first: 500, max: 1_000 },
  });
  const seconds = (Date.now() - started) / 1000;

  expect(summary.gaveUp?.reason).toMatch(/^waiting for Zendesk: cannot reach Zendesk at .*connection was refused/);
  expect(summary.gaveUp?.ms).toBeGreaterThanOrEqual(300);
  expect(seconds).toBeLessThan(45);
  expect(summary).toMatchObject({ synced: 0, failed: 0 });
  const jobs = await pool.query(`select state::text, retry_limit - retry_count as attempts_left from pgboss.job where name = 'ticket-sync' order by data->>'ticketId'`);
  expect(jobs.rows).toEqual(TICKETS.map(() => ({ state: 'created', attempts_left: 8 })));
});

it('keeps waiting without untilIdle: a service outlives an outage', { timeout: 60_000 }, async () => {
  fixture = await createFixtureWithBoss({ tickets: 3 });
  const port = await freePort();
  const http = createZendeskHttp({ baseUrl: `http://127.0.0.1:${port}`, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs: 5_000 });
  await enqueueTickets(fixture.boss, fixture.database.db, TICKETS);
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), 6_000);
  const summary = await runWorker(fixture.boss, fixture.database.pool, { ...fixture.deps, http, log: silentLogger }, {
    concurrency: 2,
    signal: stop.signal,
    probeAtStart: true,
    giveUpUnreachableMs: 1_000,
    unreachablePauseMs: { first: 500, max: 1_000 },
  });
  clearTimeout(timer);
  expect(summary.gaveUp).toBeUndefined();
});
