// Scenario 4: SIGTERM while pages are in flight (500 ms per response). The worker must exit 0
// within 30 s, each page must be in Postgres whole or not at all (ticket_sync agrees with the
// events stored, and the saved cursor points right after the last stored event), and the next
// run must resume from that cursor instead of reading the ticket again.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { decodeLogCursor } from '../../src/simulator/cursor.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killAll, runProgram, startConvlog } from '../helpers/cli.ts';
import { convlogEnv, exact, range, verify } from './harness.ts';
import { counts, report } from './summary.ts';
import { counted } from '../../src/text.ts';

const TICKETS = range(1, 6);
const SIZES: Record<number, number> = { 1: 1000, 2: 1000, 3: 950, 4: 12, 5: 0, 6: 130 };

let sim: Simulator;
let db: TestDatabase;

beforeAll(async () => {
  sim = await startSimulator({ tickets: TICKETS.length, ticketSizes: SIZES, rateLimit: 0, latency: 500, seed: 41 });
  db = await createTestDatabase();
});

afterAll(async () => {
  await killAll();
  await sim?.close();
  await db?.close();
});

interface Row {
  ticket_id: number;
  status: string;
  after_cursor: string | null;
  pages_synced: number;
  events_last_run: number;
  stored: number;
}

const rowsOf = async () =>
  (
    await db.pool.query<Row>(
      `select t.ticket_id::int as ticket_id, t.status::text as status, t.after_cursor, t.pages_synced, t.events_last_run,
              (select count(*)::int from zendesk.conversation_events e where e.ticket_id = t.ticket_id) as stored
         from zendesk.ticket_sync t order by t.ticket_id`,
    )
  ).rows;

describe('SIGTERM during a page', () => {
  it('exits 0 within 30 s with every page whole, and the next run resumes from the cursor', async () => {
    const started = Date.now();
    const env = convlogEnv(db.url, sim, { CONVLOG_CONCURRENCY: '6' });
    const enqueued = await runProgram(['enqueue', '--range', `1..${TICKETS.length}`], { env });
    expect(enqueued.code, enqueued.stderr).toBe(0);

    const worker = startConvlog(['work'], { env });
    // A few pages in, and then in the middle of the next responses (each takes 500 ms).
    await vi.waitUntil(async () => (await rowsOf()).filter((r) => r.ticket_id <= 3 && r.pages_synced >= 3).length === 3, { message: 'three pages of the big tickets', timeout: 90_000, interval: 50 });
    await sleep(250);
    const inFlight = sim.requests.length;
    const signalledAt = Date.now();
    worker.kill('SIGTERM');
    const exit = await worker.exited;
    const exitMs = exit.at - signalledAt;
    const afterStop = await rowsOf();

    // Whole pages only: the counters the page transaction writes agree with the rows it wrote,
    // and the cursor saved with them points right after the last event stored.
    const problems: string[] = [];
    for (const r of afterStop) {
      const served = SIZES[r.ticket_id];
      if (r.stored !== r.events_last_run) problems.push(`ticket ${r.ticket_id}: ${r.stored} events stored but the pages stored hold ${r.events_last_run}`);
      const fullPages = Math.ceil(r.stored / 100);
      if (r.stored > 0 && r.pages_synced !== fullPages) problems.push(`ticket ${r.ticket_id}: ${r.pages_synced} pages for ${r.stored} events`);
      if (r.stored > 0 && r.stored < served && r.stored % 100 !== 0) problems.push(`ticket ${r.ticket_id}: a partial page (${r.stored} events)`);
      const cursor = r.after_cursor ? decodeLogCursor(r.after_cursor) : null;
      if (r.stored > 0 && cursor?.index !== r.stored - 1) problems.push(`ticket ${r.ticket_id}: cursor at event ${cursor?.index} but ${r.stored} events stored`);
    }
    const interrupted = afterStop.filter((r) => r.stored < SIZES[r.ticket_id]);
    const savedCursor = new Map(interrupted.map((r) => [r.ticket_id, r.after_cursor]));

    sim.setOptions({ latency: 20 });
    const resumed = await runProgram(['work', '--until-idle'], { env: env, timeoutMs: 180_000 });
    const verdict = await verify(db.pool, sim, TICKETS);
    // The resumed run asked for each interrupted ticket from its saved cursor, never from the start.
    for (const [ticketId, cursor] of savedCursor) {
      // A request sorted newest first asks only whether an event was added behind the cursor (src/db/resumed-read.ts): no read.
      const later = sim.requests.filter((q) => q.ticketId === ticketId && q.at > signalledAt && q.kind === 'conversation_log' && q.query.sort === undefined);
      if (later.some((q) => q.query['page[after]'] === undefined)) problems.push(`ticket ${ticketId}: read again from its first page`);
      if (later.length === 0 || later[0].query['page[after]'] !== (cursor ?? undefined)) problems.push(`ticket ${ticketId}: not resumed at the cursor saved`);
    }
    const ok = exit.code === 0 && exitMs < 30_000 && problems.length === 0 && resumed.code === 0 && exact(verdict);
    report({
      scenario: '4 SIGTERM mid-page',
      injected: `SIGTERM with ${TICKETS.length} tickets in flight, responses taking 500 ms (${inFlight} answered before)`,
      checked: `exit ${exit.code} ${(exitMs / 1000).toFixed(1)} s after SIGTERM; ${counted(interrupted.length, 'ticket')} interrupted at whole pages, cursor = last event stored; next run resumed from the cursor (exit ${resumed.code}); exact copy`,
      ...counts(verdict),
      seconds: (Date.now() - started) / 1000,
      result: ok ? 'pass' : 'FAIL',
    });
    if (!ok) console.log(afterStop, problems, worker.stderr().slice(-3000), resumed.stderr.slice(-3000));

    expect(exit.code, worker.stderr()).toBe(0);
    expect(exitMs).toBeLessThan(30_000);
    expect(interrupted.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(verdict.problems).toEqual([]);
    expect(verdict.stored).toBe(verdict.expected);
  });
});
