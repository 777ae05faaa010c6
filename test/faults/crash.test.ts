// Scenario 1: worker processes SIGKILLed at random moments, again and again, in the middle of a
// multi-ticket sync. Then one clean `work --until-idle` finishes the job. Nothing may be lost
// or stored twice, the jobs the killed workers held must come back within a minute, and the
// clean worker must wait for them (not exit early, not hang).
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { type Convlog, killAll, runProgram, startConvlog } from '../helpers/cli.ts';
import { convlogEnv, exact, jobStates, range, ticketMix, verify } from './harness.ts';
import { counts, report } from './summary.ts';
import { counted } from '../../src/text.ts';

const TICKETS = range(1, 50);
const BIG = [6, 12, 17, 23, 29, 38, 44];
const KILLS = 6;
const WORKERS = 2;
const CONCURRENCY = '2';
const LATENCY_MS = 50;

let sim: Simulator;
let db: TestDatabase;

beforeAll(async () => {
  sim = await startSimulator({ tickets: TICKETS.length, ticketSizes: ticketMix(TICKETS.length, BIG), rateLimit: 0, latency: LATENCY_MS, seed: 11 });
  db = await createTestDatabase();
});

afterAll(async () => {
  await killAll();
  await sim?.close();
  await db?.close();
});

/** A small seeded PRNG, so a failing run can be replayed with FAULT_SEED. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Orphan {
  jobId: string;
  ticketId: number;
  /** pg-boss's retry_count when its worker was killed: 0 the first time a job is orphaned. */
  retryCount: number;
  killedAt: number;
  pickedUpAfterMs?: number;
  /** Held by a worker that was not killed (its heartbeat went on): not an orphan. */
  survivor?: boolean;
}

// pg-boss treats an orphan like a failed attempt: it notices the lost heartbeat within
// HEARTBEAT + SUPERVISE (10 s + 10 s), then waits the retry backoff of SYNC_QUEUE_OPTIONS,
// at most retryDelay * 2^(retryCount + 1) (10 s, 20 s, 40 s, ... up to retryDelayMax).
const DETECTION_MS = 20_000;
const backoffMaxMs = (retryCount: number) => Math.min(300, 5 * 2 ** (retryCount + 1)) * 1000;
/** Starting a replacement worker on a busy two-core machine, and a free slot. */
const SLACK_MS = 20_000;

describe('SIGKILL during a multi-ticket sync', () => {
  it('loses nothing, duplicates nothing, and picks up orphaned jobs within a minute', async () => {
    const started = Date.now();
    const seed = Number(process.env.FAULT_SEED ?? Date.now() % 100_000);
    const random = rng(seed);
    // info: the kill loop reads "worker started" from the workers' logs.
    const env = convlogEnv(db.url, sim, { CONVLOG_CONCURRENCY: CONCURRENCY, LOG_LEVEL: 'info' });
    const storedEvents = async () => (await db.pool.query<{ n: number }>('select count(*)::int as n from zendesk.conversation_events')).rows[0].n;

    const enqueued = await runProgram(['enqueue', '--range', `1..${TICKETS.length}`], { env });
    expect(enqueued.code, enqueued.stderr).toBe(0);

    const workers: Convlog[] = range(1, WORKERS).map(() => startConvlog(['work'], { env }));
    const orphans: Orphan[] = [];
    const killLog: string[] = [];
    const activeJobs = async () =>
      (
        await db.pool.query<{ id: string; ticket_id: number; retry_count: number }>(
          `select id::text, (data->>'ticketId')::int as ticket_id, retry_count from pgboss.job where name = 'ticket-sync' and state = 'active'`,
        )
      ).rows;

    // Watches every job that was active at a kill. The survivor's jobs keep their heartbeat and
    // are set aside; the victim's are picked up when they run again (started after the kill) or
    // are finished.
    let watching = true;
    const watch = (async () => {
      for (;;) {
        const pending = orphans.filter((o) => o.pickedUpAfterMs === undefined && !o.survivor);
        if (pending.length === 0 && !watching) return;
        if (pending.length > 0) {
          const { rows } = await db.pool.query<{ id: string; state: string; started_on: Date | null; heartbeat_on: Date | null }>(
            `select id::text, state::text, started_on, heartbeat_on from pgboss.job where id = any($1::uuid[])`,
            [pending.map((o) => o.jobId)],
          );
          const byId = new Map(rows.map((r) => [r.id, r]));
          for (const o of pending) {
            const row = byId.get(o.jobId);
            const startedBefore = row?.started_on && row.started_on.getTime() <= o.killedAt;
            if (row?.state === 'active' && startedBefore && row.heartbeat_on && row.heartbeat_on.getTime() > o.killedAt + 500) o.survivor = true;
            else if (!row || row.state === 'completed' || (row.state === 'active' && !startedBefore)) o.pickedUpAfterMs = Date.now() - o.killedAt;
          }
        }
        await sleep(250);
      }
    })();

    const isWorking = (w: Convlog) => w.stderr().includes('"worker started"');
    const orphan = (jobs: { id: string; ticket_id: number; retry_count: number }[], killedAt: number) => {
      // A job still waiting to be noticed from an earlier kill is the same orphan, not a new one.
      const waiting = new Set(orphans.filter((o) => o.pickedUpAfterMs === undefined && !o.survivor).map((o) => o.jobId));
      for (const job of jobs) if (!waiting.has(job.id)) orphans.push({ jobId: job.id, ticketId: job.ticket_id, retryCount: job.retry_count, killedAt });
    };
    // Kills are paced by progress, not by the clock, so that on a fast machine or a slow one they
    // land in the middle of the work: kill k once k/(KILLS + 2) of the events are stored.
    const total = TICKETS.reduce((sum, id) => sum + sim.eventCount(id), 0);
    const reached = (k: number) => async () => (await storedEvents()) >= Math.floor((total * k) / (KILLS + 2));
    for (let kill = 1; kill <= KILLS; kill++) {
      let victim: Convlog;
      if (kill === 3) {
        // One worker dies while starting (migrating, starting pg-boss) rather than working.
        victim = workers.splice(workers.length - 1, 1)[0];
        await sleep(Math.round(random() * 1500));
      } else {
        // Kill a worker that is working: started, and with the sync that far along.
        victim = workers.splice(Math.floor(random() * workers.length), 1)[0];
        await vi.waitUntil(() => isWorking(victim) || victim.process.exitCode !== null, { message: 'the victim to start', timeout: 90_000, interval: 100 });
        await vi.waitUntil(reached(kill), { message: `${kill}/${KILLS + 2} of the events stored`, timeout: 180_000, interval: 50 });
        await sleep(Math.round(random() * 1000));
      }
      const active = await activeJobs();
      const working = isWorking(victim);
      victim.kill('SIGKILL');
      const killedAt = Date.now();
      await victim.exited;
      orphan(active, killedAt);
      killLog.push(`kill ${kill} at ${((killedAt - started) / 1000).toFixed(1)} s (${working ? 'working' : 'starting'}): ${counted(active.length, 'job')} active, ${await storedEvents()} events stored`);
      workers.push(startConvlog(['work'], { env }));
    }
    // The last workers die too: the clean run starts with orphans still marked active.
    await vi.waitUntil(reached(KILLS + 1), { message: 'most events stored', timeout: 180_000, interval: 50 });
    const lastActive = await activeJobs();
    for (const w of workers) w.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    const lastKillAt = Date.now();
    orphan(lastActive, lastKillAt);
    const leftActive = lastActive.length;
    const storedAtLastKill = await storedEvents();

    const clean = await runProgram(['work', '--until-idle', '--concurrency', '4'], { env: env, timeoutMs: 240_000 });
    watching = false;
    await Promise.race([watch, sleep(5_000)]);
    const verdict = await verify(db.pool, sim, TICKETS);
    const states = await jobStates(db.pool);
    const real = orphans.filter((o) => !o.survivor);
    const slowest = Math.max(0, ...real.map((o) => o.pickedUpAfterMs ?? Infinity));
    const firstTime = real.filter((o) => o.retryCount === 0);
    const slowestFirst = Math.max(0, ...firstTime.map((o) => o.pickedUpAfterMs ?? Infinity));
    const late = real.filter((o) => (o.pickedUpAfterMs ?? Infinity) >= DETECTION_MS + backoffMaxMs(o.retryCount) + SLACK_MS);
    const cleanBound = DETECTION_MS + Math.max(0, ...lastActive.map((j) => backoffMaxMs(j.retry_count))) + 90_000;
    const ok =
      clean.code === 0 && exact(verdict) && slowestFirst < 60_000 && late.length === 0 && clean.ms < cleanBound && storedAtLastKill < verdict.expected && real.length >= 3;
    report({
      scenario: '1 SIGKILL workers',
      injected: `${KILLS} SIGKILLs of ${WORKERS} workers (seed ${seed}), then the last ones too; ${real.length} jobs orphaned (${real.length - firstTime.length} of them again); latency ${LATENCY_MS} ms`,
      checked: `clean work --until-idle exit ${clean.code} after ${(clean.ms / 1000).toFixed(1)} s; orphans back after at most ${(slowestFirst / 1000).toFixed(1)} s (first time), ${(slowest / 1000).toFixed(1)} s (any); every ticket synced; events, attachments, thumbnails, authors = simulator`,
      ...counts(verdict),
      seconds: (Date.now() - started) / 1000,
      result: ok ? 'pass' : 'FAIL',
    });
    console.log(killLog.join('\n'));
    console.log(`at the last kill: ${storedAtLastKill} events stored, ${counted(leftActive, 'job')} left active; after: ${JSON.stringify(states)}`);
    console.log(`orphans (ticket/retry count/back after s): ${real.map((o) => `${o.ticketId}/${o.retryCount}/${((o.pickedUpAfterMs ?? NaN) / 1000).toFixed(0)}`).join(' ')}`);
    if (!ok) console.log(clean.stderr.slice(-4000), verdict.problems.slice(0, 20));

    expect(clean.code, clean.stderr).toBe(0);
    expect(verdict.problems).toEqual([]);
    expect(verdict.stored).toBe(verdict.expected);
    expect(states.active ?? 0).toBe(0);
    expect((states.created ?? 0) + (states.retry ?? 0)).toBe(0);
    // The kills hit work in flight, and left some for the clean run.
    expect(storedAtLastKill).toBeLessThan(verdict.expected);
    expect(killLog.filter((k) => k.includes('(working)')).length).toBeGreaterThanOrEqual(KILLS - 1);
    expect(real.length).toBeGreaterThanOrEqual(3);
    // A job orphaned for the first time runs again within a minute; one orphaned again and
    // again waits pg-boss's growing retry backoff on top (a crash loop slows down), never more.
    for (const o of firstTime) expect(o.pickedUpAfterMs, `job of ticket ${o.ticketId}`).toBeLessThan(60_000);
    expect(late.map((o) => `ticket ${o.ticketId} (retry ${o.retryCount}): ${o.pickedUpAfterMs} ms`)).toEqual([]);
    // Waited for the orphans the last kill left (their heartbeat must lapse first), but did not hang.
    if (leftActive > 0) expect(clean.ms).toBeGreaterThan(10_000);
    expect(clean.ms).toBeLessThan(cleanBound);
  });

  it('a ticket whose worker dies on its last allowed attempt ends `failed` with the reason, not `syncing` for ever', async () => {
    const started = Date.now();
    const ticketId = BIG[0];
    const env = convlogEnv(db.url, sim, { CONVLOG_CONCURRENCY: '1' });
    const enqueued = await runProgram(['enqueue', String(ticketId), '--full'], { env });
    expect(enqueued.code, enqueued.stderr).toBe(0);
    // As if the job had been orphaned retryLimit times already: this attempt is its last.
    await db.pool.query(`update pgboss.job set retry_limit = retry_count where name = 'ticket-sync' and singleton_key = $1 and state = 'created'`, [String(ticketId)]);
    const worker = startConvlog(['work'], { env });
    await vi.waitUntil(
      async () => {
        const { rows } = await db.pool.query<{ pages: number }>(`select pages_synced as pages from zendesk.ticket_sync where ticket_id = $1 and status = 'syncing'`, [ticketId]);
        return rows[0]?.pages >= 2;
      },
      { message: 'the ticket to be under way', timeout: 90_000, interval: 100 },
    );
    worker.kill('SIGKILL');
    await worker.exited;

    const clean = await runProgram(['work', '--until-idle'], { env: env, timeoutMs: 180_000 });
    const { rows } = await db.pool.query<{ status: string; last_error: string | null }>('select status::text as status, last_error from zendesk.ticket_sync where ticket_id = $1', [ticketId]);
    // Nothing was lost: queued again, it syncs.
    const again = await runProgram(['sync', String(ticketId)], { env: env, timeoutMs: 180_000 });
    const verdict = await verify(db.pool, sim, TICKETS);
    const ok = clean.code === 1 && rows[0]?.status === 'failed' && again.code === 0 && exact(verdict);
    report({
      scenario: '1b SIGKILL on the last attempt',
      injected: `ticket ${ticketId} SIGKILLed mid-sync on its last allowed attempt (pg-boss dead-letters it)`,
      checked: `work --until-idle exit ${clean.code} after ${(clean.ms / 1000).toFixed(1)} s; ticket ${rows[0]?.status}: "${(rows[0]?.last_error ?? '').slice(0, 60)}…"; synced again: exit ${again.code}, exact copy`,
      ...counts(verdict),
      seconds: (Date.now() - started) / 1000,
      result: ok ? 'pass' : 'FAIL',
    });
    if (!ok) console.log(clean.stderr.slice(-3000), again.stdout, again.stderr.slice(-2000));
    expect(clean.code, clean.stderr).toBe(1);
    expect(rows[0]?.status).toBe('failed');
    expect(rows[0]?.last_error).toMatch(/gave up after \d+ attempts? that never finished \(last: job heartbeat timeout\).*convlog enqueue \d+/);
    expect(again.code, again.stderr).toBe(0);
    expect(verdict.problems).toEqual([]);
  });
});
