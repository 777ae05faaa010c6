// Scenario 3: an API that fails 8% of requests with 500/503/504, cuts off 5% of bodies and
// leaves 3% unanswered past the client's 1 s timeout. Every ticket must still converge.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killAll, runProgram } from '../helpers/cli.ts';
import { convlogEnv, exact, jobStates, range, ticketMix, verify } from './harness.ts';
import { counts, report } from './summary.ts';

const TICKETS = range(1, 60);
const FAULTS = { failRate: 0.08, truncateRate: 0.05, hangRate: 0.03 };

let sim: Simulator;
let db: TestDatabase;

beforeAll(async () => {
  sim = await startSimulator({ tickets: TICKETS.length, ticketSizes: ticketMix(TICKETS.length, [13, 41], { 20: 1000, 50: 1000 }), rateLimit: 0, latency: 10, seed: 9, ...FAULTS });
  db = await createTestDatabase();
});

afterAll(async () => {
  await killAll();
  await sim?.close();
  await db?.close();
});

describe('a flaky API', () => {
  it('5xx, cut-off bodies and hanging responses: every ticket still converges', async () => {
    const started = Date.now();
    const env = convlogEnv(db.url, sim, { CONVLOG_REQUEST_TIMEOUT: '1', CONVLOG_CONCURRENCY: '6' });
    const result = await runProgram(['sync', '--range', `1..${TICKETS.length}`], { env: env, timeoutMs: 240_000 });
    const verdict = await verify(db.pool, sim, TICKETS);
    const served = sim.requests.filter((r) => r.kind === 'conversation_log');
    const failed = served.filter((r) => r.status >= 500).length;
    // Hanging requests are never answered, so never listed: they are what the client gave up on.
    const { rows } = await db.pool.query<{ requests: number }>('select coalesce(sum(requests_last_run), 0)::int as requests from zendesk.ticket_sync');
    const pages = TICKETS.reduce((sum, id) => sum + Math.max(1, Math.ceil(sim.eventCount(id) / 100)), 0);
    // Every request the sync sent is counted in ticket_sync; the simulator lists only those it answered.
    const sent = rows[0].requests;
    const hung = sent - served.length;
    const truncated = sent - pages - failed - hung;
    const ok = result.code === 0 && exact(verdict);
    report({
      scenario: '3 flaky API',
      injected: `failRate ${FAULTS.failRate}, truncateRate ${FAULTS.truncateRate}, hangRate ${FAULTS.hangRate}, client timeout 1 s: ${failed} answered 5xx, ${truncated} cut-off bodies, ${hung} hung past the timeout`,
      checked: `sync exit ${result.code} in ${(result.ms / 1000).toFixed(1)} s; ${sent} requests for ${pages} pages; every ticket synced; exact copy`,
      ...counts(verdict),
      seconds: (Date.now() - started) / 1000,
      result: ok ? 'pass' : 'FAIL',
    });
    if (!ok) console.log(result.stdout, result.stderr.slice(-4000), verdict.problems);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`synced ${TICKETS.length}, not_found 0, forbidden 0, failed 0`));
    expect(verdict.problems).toEqual([]);
    expect(verdict.stored).toBe(verdict.expected);
    expect(failed).toBeGreaterThan(0);
    expect(hung).toBeGreaterThan(0);
    expect(truncated).toBeGreaterThan(0);
    const states = await jobStates(db.pool);
    expect((states.created ?? 0) + (states.retry ?? 0) + (states.active ?? 0)).toBe(0);
    // No credential in anything printed, even for failed requests.
    expect(result.stderr + result.stdout).not.toContain('fault-suite-token');
  });
});
