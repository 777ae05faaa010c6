// The commands as a person or a scheduler runs them (runCli: the CLI's main, in this process) against a test
// database and the simulator. Tests run in order and build on each other's queue.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { expectedCounts, expectedRows } from '../helpers/oracle.ts';
import { createFixture, jobStates, logRequests, range, rowCounts, ticketSync, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;
let dir: string;
const cli = (args: string[], input?: string) => runCli(args, { env: fixture.env, input, timeoutMs: 100_000 });

async function queueRows(): Promise<{ jobs: number; tickets: number }> {
  const { rows } = await fixture.database.pool.query<{ jobs: number; tickets: number }>(
    `select (select count(*)::int from pgboss.job where name = 'ticket-sync') as jobs,
            (select count(*)::int from zendesk.ticket_sync) as tickets`,
  );
  return rows[0];
}

async function queuedTickets(): Promise<number[]> {
  const { rows } = await fixture.database.pool.query<{ id: number }>(
    `select ticket_id::int as id from zendesk.ticket_sync where status = 'queued' order by ticket_id`,
  );
  return rows.map((r) => r.id);
}

beforeAll(async () => {
  // pg-boss's schema exists before the first command (queue: []), so "no rows" can be asserted.
  fixture = await createFixture({ tickets: 60, seed: 1 }, { queue: [] });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-cli-ids-'));
});
afterAll(async () => {
  await fixture?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('convlog enqueue', { timeout: 120_000 }, () => {
  it('an invalid id among valid ones names it and queues nothing (exit 2)', async () => {
    const result = await cli(['enqueue', '1', '2', 'abc', '4', '0']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('invalid ticket id "abc" (argument 3), "0" (argument 5)');
    expect(result.stderr).toContain('nothing was queued');
    expect(await queueRows()).toEqual({ jobs: 0, tickets: 0 });
  });

  it('--file reads ids one a line, with comments, blank lines and commas', async () => {
    const file = path.join(dir, 'ids.txt');
    fs.writeFileSync(file, '# tickets from the escalation report\n1\n2, 3\n\n  4 5\n# done\n6\n7\n8\n9\n10\n');
    const result = await cli(['enqueue', '--file', file]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^queued 10 tickets, 0 already queued \(\d+\.\d s\)\n$/);
    expect(await queuedTickets()).toEqual(range(1, 10));
    const jobs = await jobStates(fixture.database);
    expect(jobs.map((j) => j.ticketId).sort((a, b) => a - b)).toEqual(range(1, 10));
    expect(jobs.every((j) => j.state === 'created' && j.singletonKey === String(j.ticketId))).toBe(true);
  });

  it('--file - reads standard input', async () => {
    const result = await cli(['enqueue', '--file', '-'], '11\n12\n# a comment\n13,14\n');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^queued 4 tickets, 0 already queued/);
    expect(await queuedTickets()).toEqual(range(1, 14));
  });

  it('--file - with only comments and blank lines queues 0 and exits 0, as --sql with no rows does; one bad line queues nothing', async () => {
    // `psql -Atc "select …" | convlog enqueue --file -` on a day the query finds nothing.
    const empty = await cli(['enqueue', '--file', '-'], '# failed tickets of the last day\n\n');
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toMatch(/^queued 0 tickets, 0 already queued: stdin holds no ticket ids \(/);
    const bad = await cli(['enqueue', '--file', '-'], '# ids\n15\n16x\n17\n');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid ticket id "16x" \(stdin line 3\).*nothing was queued/);
    expect(await queuedTickets()).toEqual(range(1, 14));
  });

  it('--range A..B queues the span; ids already queued are reported, not queued twice', async () => {
    const result = await cli(['enqueue', '--range', '1..50']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^queued 36 tickets, 14 already queued/);

    const again = await cli(['enqueue', '3', '7', '7', '49']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^queued 0 tickets, 3 already queued, 1 duplicate id ignored/);
    expect(await queueRows()).toEqual({ jobs: 50, tickets: 50 });
    expect(await queuedTickets()).toEqual(range(1, 50));
  });
});

describe('convlog work --until-idle', { timeout: 120_000 }, () => {
  it('syncs everything queued and exits 0 when the queue drains', async () => {
    const result = await cli(['work', '--until-idle', '--concurrency', '8']);
    expect(result.code, result.stderr).toBe(0);
    expect(await queuedTickets()).toEqual([]);
    const { rows } = await fixture.database.pool.query(`select status, count(*)::int as n from zendesk.ticket_sync group by status`);
    expect(rows).toEqual([{ status: 'synced', n: 50 }]);
    expect(await rowCounts(fixture.database)).toEqual(expectedCounts(expectedRows(fixture.sim, range(1, 50))));
    const jobs = await jobStates(fixture.database);
    expect(jobs).toHaveLength(50);
    expect(jobs.every((j) => j.state === 'completed')).toBe(true);
  });
});

describe('convlog status --json', { timeout: 120_000 }, () => {
  it('reports the queue, tickets by status and rows stored', async () => {
    const result = await cli(['status', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    const counts = await rowCounts(fixture.database);
    expect(report.queue).toMatchObject({ queued: 0, waiting_to_retry: 0, running: 0, completed: 50, dead: 0, failed: 0 });
    expect(report.database).toMatch(/^[\w.-]+:\d+\/\w+$/);
    expect(report.tickets).toEqual({ queued: 0, syncing: 0, synced: 50, not_found: 0, forbidden: 0, failed: 0 });
    // status counts every author; rowCounts those who wrote (enqueue also stores requesters and assignees).
    expect(report.stored).toEqual({ ...counts, authors: report.stored.authors, estimated: [] });
    expect(report.stored.authors).toBeGreaterThanOrEqual(counts.authors);
    expect(report.context).toMatchObject({ withoutRow: 0 });
    expect(report.stored.events).toBe(expectedRows(fixture.sim, range(1, 50)).events.size);
    expect(report.lastErrors).toEqual([]);
    expect(report.oldestUnsynced).toBeNull();
    expect(Date.parse(report.lastSyncedAt)).toBeGreaterThan(Date.now() - 600_000);
  });
});

describe('convlog sync', { timeout: 120_000 }, () => {
  it('queues, works until done, prints a summary and exits 0', async () => {
    fixture.sim.resetRequests();
    const result = await cli(['sync', '51', '52', '53', '54', '55', '56']);
    expect(result.code, result.stderr).toBe(0);
    const events = range(51, 56).reduce((sum, id) => sum + fixture.sim.eventCount(id), 0);
    const requests = logRequests(fixture.sim).length;
    expect(result.stdout).toBe(`synced 6, not_found 0, forbidden 0, failed 0 | ${events.toLocaleString('en')} events read with ${requests} requests\n`);
    expect(await rowCounts(fixture.database)).toEqual(expectedCounts(expectedRows(fixture.sim, range(1, 56))));
  });

  it('a page Zendesk refuses for good fails that ticket with a precise reason; the others are unaffected (exit 1)', async () => {
    const before = await rowCounts(fixture.database, [55]);
    fixture.sim.appendEvents(55, 5);
    fixture.sim.appendEvents(56, 5);
    fixture.sim.setMalformed(55, 'missing-events');
    try {
      const result = await cli(['sync', '54', '55', '56']);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/^synced 2, not_found 0, forbidden 0, failed 1 \|/);
      const reason = 'invalid response from Zendesk (ticket 55, page cursor ';
      expect(result.stdout).toContain(`  ticket 55 failed: ${reason}`);
      expect(result.stdout).toMatch(/events: expected an array of events/);
      const state = await ticketSync(fixture.database, 55);
      expect(state?.status).toBe('failed');
      expect(state?.last_error).toContain(reason);
      expect(state?.last_error).toMatch(/events: expected an array of events/);
      // What was stored for the ticket before stays; the other tickets got their new events.
      expect(await rowCounts(fixture.database, [55])).toEqual(before);
      for (const id of [54, 56]) expect(await ticketSync(fixture.database, id)).toMatchObject({ status: 'synced', last_error: null });
      expect((await rowCounts(fixture.database, [56])).events).toBe(fixture.sim.eventCount(56));
      // A failure no retry can fix completes its job at once: nothing is left queued behind it.
      const live = (await jobStates(fixture.database)).filter((j) => ['created', 'retry', 'active'].includes(j.state));
      expect(live).toEqual([]);
      const { rows } = await fixture.database.pool.query(`select status, count(*)::int as n from zendesk.ticket_sync group by status order by status`);
      expect(rows).toEqual([
        { status: 'failed', n: 1 },
        { status: 'synced', n: 55 },
      ]);
    } finally {
      fixture.sim.setMalformed(55, null);
    }
  });
});
