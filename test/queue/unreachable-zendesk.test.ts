// A worker whose Zendesk cannot be reached (nothing listens on its port) holds its tickets: no
// attempt is used up, their status says they wait for Zendesk, the worker says so once, and it
// syncs them as soon as Zendesk listens on that port.
import { freePort } from '../../src/db/embedded.ts';
import { afterEach, expect, it, vi } from 'vitest';
import pino from 'pino';
import { enqueueTickets } from '../../src/queue/enqueue.ts';
import { runWorker } from '../../src/queue/worker.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createZendeskHttp } from '../../src/zendesk/index.ts';
import { createFixtureWithBoss, range, type FixtureWithBoss } from '../helpers/sync-fixture.ts';

const TICKETS = range(1, 4);
let fixture: FixtureWithBoss | undefined;
let zendesk: Simulator | undefined;

afterEach(async () => {
  await zendesk?.close();
  await fixture?.close();
  zendesk = fixture = undefined;
});

it.each([
  ['found by the probe at start (work)', true],
  ['found by the tickets themselves (sync)', false],
])('holds tickets while Zendesk refuses connections (%s), spends no retry, and syncs them once it listens', { timeout: 120_000 }, async (_, probeAtStart) => {
  fixture = await createFixtureWithBoss({ tickets: 4 });
  const port = await freePort();
  const lines: { level: number; msg: string }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const http = createZendeskHttp({ baseUrl: `http://127.0.0.1:${port}`, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs: 5_000 });
  const deps = { ...fixture.deps, http, log };
  const { pool } = fixture.database;
  await enqueueTickets(fixture.boss, fixture.database.db, TICKETS);

  const stop = new AbortController();
  const working = runWorker(fixture.boss, pool, deps, {
    concurrency: 2,
    signal: stop.signal,
    probeAtStart,
    unreachablePauseMs: { first: 500, max: 2_000 },
    stopWhen: async () => (await pool.query(`select count(*)::int as n from zendesk.ticket_sync where status = 'synced'`)).rows[0].n === TICKETS.length,
  });
  try {
    // Every ticket comes to wait (one taken before the gate closed first spends its own
    // request retries, seconds on a loaded machine), and several probes go by meanwhile.
    await vi.waitFor(
      async () => {
        const waiting = await pool.query(`select ticket_id::int as id, status, last_error from zendesk.ticket_sync order by ticket_id`);
        expect(waiting.rows).toHaveLength(TICKETS.length);
        for (const row of waiting.rows) {
          expect(row).toMatchObject({ status: 'queued', last_error: expect.stringMatching(/^waiting for Zendesk: cannot reach Zendesk at .*connection was refused/) });
        }
      },
      { timeout: 45_000, interval: 250 },
    );
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const jobs = await pool.query(`select state::text, retry_limit - retry_count as attempts_left from pgboss.job where name = 'ticket-sync'`);
    expect(jobs.rows).toHaveLength(TICKETS.length);
    for (const job of jobs.rows) expect(job).toMatchObject({ state: expect.stringMatching(/^(created|active)$/), attempts_left: 8 });
    const unreachable = lines.filter((l) => /cannot reach Zendesk/.test(l.msg) && l.level >= 50);
    expect(unreachable).toHaveLength(1);

    zendesk = await startSimulator({ port, tickets: 4, rateLimit: 0, exportRateLimit: 0 });
    await working;
  } finally {
    stop.abort();
  }
  const done = await pool.query(`select status, count(*)::int as n from zendesk.ticket_sync group by status`);
  expect(done.rows).toEqual([{ status: 'synced', n: TICKETS.length }]);
  await vi.waitFor(async () => {
    const finished = await pool.query(`select state::text, retry_limit - retry_count as attempts_left from pgboss.job where name = 'ticket-sync'`);
    expect(finished.rows).toEqual(TICKETS.map(() => ({ state: 'completed', attempts_left: 8 })));
  });
  expect(lines.some((l) => l.msg === 'Zendesk answers again; taking tickets')).toBe(true);
});
