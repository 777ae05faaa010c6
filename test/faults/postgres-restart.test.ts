// Scenario 2: Postgres restarted (twice) while workers run, on a cluster of this file's own. The
// workers must ride it out by themselves: same processes, no crash, no manual restart, and the
// sync ends exact. A worker started while Postgres is down waits for it, with one warning per
// attempt, and SIGINT ends that wait at once.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createDatabase, startOwnCluster, type OwnCluster } from './cluster.ts';
import { killAll, runProgram, startConvlog } from '../helpers/cli.ts';
import { convlogEnv, exact, jobStates, jsonLines, range, ticketMix, verify } from './harness.ts';
import { counts, report } from './summary.ts';
import { counted } from '../../src/text.ts';

const TICKETS = range(1, 30);
const BIG = [9, 23];

let cluster: OwnCluster;
let sim: Simulator;
let pool: pg.Pool;
let url: string;

beforeAll(async () => {
  cluster = await startOwnCluster();
  url = await createDatabase(cluster, 'convlog_faults');
  sim = await startSimulator({ tickets: TICKETS.length, ticketSizes: ticketMix(TICKETS.length, BIG), rateLimit: 0, latency: 25, seed: 23 });
  // The checker's own pool must survive the restarts too.
  pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  const migrated = await runProgram(['migrate'], { env: convlogEnv(url, sim) });
  expect(migrated.code, migrated.stderr).toBe(0);
});

afterAll(async () => {
  await killAll();
  await pool?.end().catch(() => {});
  await sim?.close();
  await cluster?.destroy();
});

/** A query that answers undefined while Postgres is away. */
async function maybe<T>(query: () => Promise<T>): Promise<T | undefined> {
  try {
    return await query();
  } catch {
    return undefined;
  }
}

const storedEvents = async () => (await pool.query<{ n: number }>('select count(*)::int as n from zendesk.conversation_events')).rows[0].n;
const warningsOf = (stderr: string) => jsonLines(stderr).filter((l) => /Postgres is not reachable/.test(String(l.msg)));

describe('Postgres restarted under running workers', () => {
  it('workers reconnect by themselves and finish with exact counts', async () => {
    const started = Date.now();
    const env = convlogEnv(url, sim, { CONVLOG_CONCURRENCY: '3', LOG_LEVEL: process.env.FAULT_LOG_LEVEL ?? 'warn' });
    const enqueued = await runProgram(['enqueue', '--range', `1..${TICKETS.length}`], { env });
    expect(enqueued.code, enqueued.stderr).toBe(0);

    const workers = [startConvlog(['work'], { env }), startConvlog(['work'], { env })];
    await vi.waitUntil(async () => ((await maybe(storedEvents)) ?? 0) > 0, { message: 'a first page', timeout: 60_000 });
    await vi.waitUntil(async () => ((await maybe(storedEvents)) ?? 0) > 500, { message: 'work under way', timeout: 60_000 });

    // Restart 1: down for 3 s while pages are being written.
    await cluster.stop();
    const firstDownAt = Date.now();
    await sleep(3_000);
    await cluster.start();
    const afterFirst = await vi.waitUntil(async () => maybe(storedEvents), { message: 'progress after the first restart', timeout: 60_000 });
    try {
      await vi.waitUntil(async () => ((await maybe(storedEvents)) ?? 0) > (afterFirst ?? 0), { message: 'progress after the first restart', timeout: 90_000 });
    } catch (error) {
      for (const w of workers) console.log(`--- worker ${w.pid} exit ${w.process.exitCode}\n${w.stderr().slice(-6000)}`);
      console.log(await maybe(() => pool.query(`select state, count(*) from pgboss.job group by 1`)).then((r) => JSON.stringify(r?.rows)));
      throw error;
    }

    // Restart 2: down for 8 s, and a worker started meanwhile must wait for the server.
    await cluster.stop();
    const late = startConvlog(['work', '--until-idle'], { env });
    await vi.waitUntil(() => warningsOf(late.stderr()).length >= 2, { message: 'the late worker to warn that Postgres is down', timeout: 30_000 });
    await sleep(2_000);
    await cluster.start();
    const restartedAt = Date.now();

    await vi.waitUntil(
      async () => {
        const rows = await maybe(() => pool.query<{ n: number }>(`select count(*)::int as n from zendesk.ticket_sync where status = 'synced'`));
        return rows?.rows[0].n === TICKETS.length;
      },
      { message: 'every ticket synced', timeout: 180_000, interval: 500 },
    );
    const lateResult = await Promise.race([late.exited, sleep(60_000).then(() => undefined)]);
    const survivors = workers.filter((w) => w.process.exitCode === null && w.process.signalCode === null).length;
    for (const w of workers) w.kill('SIGTERM');
    const exits = await Promise.all(workers.map((w) => w.exited));

    const verdict = await verify(pool, sim, TICKETS);
    const states = await jobStates(pool);
    const warnings = warningsOf(late.stderr());
    const ok = exact(verdict) && survivors === workers.length && exits.every((e) => e.code === 0) && lateResult?.code === 0;
    report({
      scenario: '2 Postgres restart',
      injected: `2 restarts of Postgres (down 3 s, then 8 s) under 2 running workers; a 3rd worker started while it was down`,
      checked: `${survivors}/2 workers survived (exit ${exits.map((e) => e.code).join(', ')} on SIGTERM); late worker warned ${warnings.length}x then exited ${lateResult?.code}; all synced ${((Date.now() - restartedAt) / 1000).toFixed(0)} s after the restart; exact copy`,
      ...counts(verdict),
      seconds: (Date.now() - started) / 1000,
      result: ok ? 'pass' : 'FAIL',
    });
    if (!ok) {
      for (const w of [...workers, late]) console.log(`--- worker ${w.pid}\n${w.stderr().slice(-3000)}`);
      console.log(verdict.problems.slice(0, 20));
    }
    void firstDownAt;

    expect(survivors, 'workers still running after both restarts').toBe(2);
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
    expect(lateResult?.code, late.stderr()).toBe(0);
    expect(verdict.problems).toEqual([]);
    expect(verdict.stored).toBe(verdict.expected);
    expect((states.created ?? 0) + (states.retry ?? 0) + (states.active ?? 0)).toBe(0);
    // One warning per attempt, naming the server and the next delay, never the password.
    for (const w of warnings) {
      expect(w.err).toMatch(/cannot connect to Postgres at 127\.0\.0\.1:\d+\/convlog_faults: connection refused/);
      expect(typeof w.retryInSeconds).toBe('number');
    }
    expect(late.stderr()).not.toContain('fault-suite-pg');
    for (const w of workers) {
      expect(w.stderr()).not.toMatch(/uncaught|unhandled/i);
      // Every pooled connection was given back: closing did not have to give up on one.
      expect(w.stderr()).not.toContain('did not close');
    }
  });

  it('a worker waits for a database that is down, and SIGINT ends the wait at once', async () => {
    const started = Date.now();
    await cluster.stop();
    try {
      const waiting = startConvlog(['work'], { env: convlogEnv(url, sim) });
      await vi.waitUntil(() => warningsOf(waiting.stderr()).length >= 1, { message: 'a warning', timeout: 30_000 });
      const signalledAt = Date.now();
      waiting.kill('SIGINT');
      const exit = await waiting.exited;
      const ms = exit.at - signalledAt;
      const stderrLines = waiting.stderr().trim().split('\n');
      const ok = exit.code === 0 && ms < 3_000;
      report({
        scenario: '2b Postgres down at start',
        injected: 'work started while Postgres is down, then SIGINT',
        checked: `${counted(warningsOf(waiting.stderr()).length, 'warning')} with next delay; exit ${exit.code} ${ms} ms after SIGINT; ${counted(stderrLines.length, 'stderr line')}`,
        seconds: (Date.now() - started) / 1000,
        result: ok ? 'pass' : 'FAIL',
      });
      expect(exit.code, waiting.stderr()).toBe(0);
      expect(ms).toBeLessThan(3_000);
    } finally {
      await cluster.start();
    }
  });
});
