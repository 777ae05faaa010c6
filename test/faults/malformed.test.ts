// Scenario 5: pages that are broken from page 2 on, in each of four ways. The ticket fails with a
// last_error naming the ticket, the page cursor and the problem; its first page stays stored;
// the other tickets sync; and once the API answers properly again the ticket recovers from
// its cursor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type MalformedKind, type Simulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killAll, runProgram } from '../helpers/cli.ts';
import { expectedRows } from '../helpers/oracle.ts';
import { convlogEnv, exact, range, verify } from './harness.ts';
import { counts, report } from './summary.ts';

const TICKETS = range(1, 8);
const BROKEN: Record<number, { kind: MalformedKind; problem: RegExp }> = {
  1: { kind: 'missing-events', problem: /events: expected an array of events, got nothing/ },
  2: { kind: 'missing-reference', problem: /events\[0\]\.reference: expected a non-empty string, got nothing/ },
  3: { kind: 'wrong-types', problem: /events: expected an array of events, got an object.*meta\.has_more: expected true or false, got "true"/ },
  4: { kind: 'not-json', problem: /the body is not JSON/ },
};
const BROKEN_IDS = Object.keys(BROKEN).map(Number);
const SIZES: Record<number, number> = { 1: 250, 2: 250, 3: 250, 4: 250, 5: 250, 6: 0, 7: 40, 8: 101 };

let sim: Simulator;
let db: TestDatabase;

beforeAll(async () => {
  sim = await startSimulator({ tickets: TICKETS.length, ticketSizes: SIZES, rateLimit: 0, seed: 53 });
  for (const id of BROKEN_IDS) sim.setMalformed(id, BROKEN[id].kind, { afterEvents: 100 });
  db = await createTestDatabase();
});

afterAll(async () => {
  await killAll();
  await sim?.close();
  await db?.close();
});

describe('malformed pages after page 1', () => {
  it('fail their ticket precisely, keep its first page, spare the others, and recover later', async () => {
    const started = Date.now();
    const env = convlogEnv(db.url, sim);
    const first = await runProgram(['sync', '--range', `1..${TICKETS.length}`], { env: env, timeoutMs: 180_000 });
    const { rows } = await db.pool.query<{ ticket_id: number; status: string; last_error: string | null; after_cursor: string | null; stored: number; refs: string[] }>(
      `select t.ticket_id::int as ticket_id, t.status::text as status, t.last_error, t.after_cursor,
              (select count(*)::int from zendesk.conversation_events e where e.ticket_id = t.ticket_id) as stored,
              (select coalesce(array_agg(e.reference), '{}') from zendesk.conversation_events e where e.ticket_id = t.ticket_id) as refs
         from zendesk.ticket_sync t where t.ticket_id = any($1)`,
      [BROKEN_IDS],
    );
    const problems: string[] = [];
    for (const row of rows) {
      const { kind, problem } = BROKEN[row.ticket_id];
      const error = row.last_error ?? '';
      if (row.status !== 'failed') problems.push(`ticket ${row.ticket_id} (${kind}): status ${row.status}`);
      if (!error.includes(`ticket ${row.ticket_id}`)) problems.push(`ticket ${row.ticket_id}: last_error does not name the ticket: ${error}`);
      if (!row.after_cursor || !error.includes(`page cursor ${row.after_cursor}`)) problems.push(`ticket ${row.ticket_id}: last_error does not name the page cursor: ${error}`);
      if (!problem.test(error)) problems.push(`ticket ${row.ticket_id} (${kind}): last_error does not say what was wrong: ${error}`);
      // Page 1 stays, exactly: the first 100 events the simulator serves.
      const firstPage = sim.events(row.ticket_id).slice(0, 100).map((e) => e.reference).sort();
      if (row.stored !== 100 || JSON.stringify([...row.refs].sort()) !== JSON.stringify(firstPage)) problems.push(`ticket ${row.ticket_id}: ${row.stored} events kept, not page 1`);
      if (!first.stdout.includes(`ticket ${row.ticket_id} failed: ${error}`)) problems.push(`ticket ${row.ticket_id}: the reason is not in sync's output`);
    }
    const others = TICKETS.filter((id) => !BROKEN_IDS.includes(id));
    const othersVerdict = await verify(db.pool, sim, others, { authors: false });
    const savedCursors = new Map(rows.map((r) => [r.ticket_id, r.after_cursor]));
    const lastErrors = rows.map((r) => `${BROKEN[r.ticket_id].kind}: ${r.last_error}`);

    // The API answers properly again: the same tickets sync from where they stopped.
    for (const id of BROKEN_IDS) sim.setMalformed(id, null);
    const recoverFrom = sim.requests.length;
    const second = await runProgram(['sync', ...BROKEN_IDS.map(String)], { env: env, timeoutMs: 120_000 });
    const verdict = await verify(db.pool, sim, TICKETS);
    for (const id of BROKEN_IDS) {
      const firstAsked = sim.requests.slice(recoverFrom).find((q) => q.ticketId === id);
      if (firstAsked?.query['page[after]'] !== savedCursors.get(id)) problems.push(`ticket ${id}: recovery did not resume from the saved cursor`);
    }
    const brokenEvents = BROKEN_IDS.reduce((sum, id) => sum + expectedRows(sim, [id]).events.size, 0);
    const ok = first.code === 1 && problems.length === 0 && exact(othersVerdict) && second.code === 0 && exact(verdict);
    report({
      scenario: '5 malformed pages',
      injected: `pages 2+ of 4 tickets broken: ${BROKEN_IDS.map((id) => BROKEN[id].kind).join(', ')}; then fixed`,
      checked: `sync exit ${first.code}: 4 failed with ticket, cursor and problem in last_error, page 1 (100 events) kept, ${others.length} others synced exact; after the fix sync exit ${second.code}, resumed at the cursors; ${brokenEvents} events of the broken tickets now exact`,
      ...counts(verdict),
      seconds: (Date.now() - started) / 1000,
      result: ok ? 'pass' : 'FAIL',
    });
    console.log(lastErrors.join('\n'));
    if (!ok) console.log(first.stdout, first.stderr.slice(-3000), problems, othersVerdict.problems, verdict.problems);

    expect(first.code, first.stderr).toBe(1);
    expect(rows).toHaveLength(BROKEN_IDS.length);
    expect(problems).toEqual([]);
    expect(othersVerdict.problems).toEqual([]);
    expect(second.code, second.stderr).toBe(0);
    expect(verdict.problems).toEqual([]);
    expect(verdict.stored).toBe(verdict.expected);
  });
});
