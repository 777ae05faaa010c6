// `convlog status` names the tickets overdue for a full read and what will read them. With
// CONVLOG_FULL_RESYNC_PERCENT=0 nothing queues them, yet it said "scheduled backfills queue them,
// a share of the budget at a time"; --json did not give the percent.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 1, ticketSizes: { 1: 150 }, seed: 1 }, { queue: [] });
});
afterAll(async () => {
  await fixture?.close();
});

it('says full reads are off at 0 percent, and gives the percent in JSON', { timeout: 60_000 }, async () => {
  const sync = await runCli(['sync', '1'], { env: fixture.env, timeoutMs: 30_000 });
  expect(sync.stdout, sync.stderr).toMatch(/^synced 1,/);
  // Read from its first event 40 days ago: overdue at the default 30 days.
  await fixture.database.pool.query("update zendesk.ticket_sync set last_full_read_at = now() - interval '40 days'");

  const off = await runCli(['status'], { env: { ...fixture.env, CONVLOG_FULL_RESYNC_PERCENT: '0' }, timeoutMs: 30_000 });
  expect(off.stdout, off.stderr).toMatch(
    /^full reads 1 ticket longer than a page not read from their first event for 30 days \(off: CONVLOG_FULL_RESYNC_PERCENT is 0, so nothing queues them; "convlog sync --full IDS" reads some\)$/m,
  );
  const offJson = await runCli(['status', '--json'], { env: { ...fixture.env, CONVLOG_FULL_RESYNC_PERCENT: '0' }, timeoutMs: 30_000 });
  expect(JSON.parse(offJson.stdout).fullReadsOverdue).toEqual({ days: 30, percent: 0, tickets: 1, neverReadWhole: 0 });

  const on = await runCli(['status'], { env: fixture.env, timeoutMs: 30_000 });
  expect(on.stdout).toMatch(/ for 30 days \(backfills queue them within 10% of the conversation-log budget\)$/m);
});
