// `convlog status` counts a ticket longer than a page as due a full read when no run read it from
// its first event in the last CONVLOG_FULL_RESYNC_DAYS, or none ever did: a sync interrupted and
// then resumed from its saved cursor leaves last_full_read_at null. It said of such a ticket, a
// minute after it synced, "not read from their first event for 30 days".
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 2, ticketSizes: { 1: 150, 2: 150 }, seed: 1 }, { queue: [] });
});
afterAll(async () => {
  await fixture?.close();
});

const fullReadsLine = (stdout: string) => stdout.split('\n').find((line) => line.startsWith('full reads'));

it('says "never in one run" of a ticket only ever resumed from a cursor, and "for 30 days" of one read long ago', { timeout: 60_000 }, async () => {
  const sync = await runCli(['sync', '1', '2'], { env: fixture.env, timeoutMs: 30_000 });
  expect(sync.stdout, sync.stderr).toMatch(/^synced 2,/);
  // What a run resumed from its saved cursor leaves behind: synced just now, never read whole.
  await fixture.database.pool.query('update zendesk.ticket_sync set last_full_read_at = null where ticket_id = 1');

  const never = await runCli(['status'], { env: fixture.env, timeoutMs: 30_000 });
  expect(fullReadsLine(never.stdout), never.stderr).toBe(
    'full reads 1 ticket longer than a page never read from their first event in one run, only resumed from a saved cursor (backfills queue them within 10% of the conversation-log budget)',
  );

  await fixture.database.pool.query("update zendesk.ticket_sync set last_full_read_at = now() - interval '40 days' where ticket_id = 2");
  const both = await runCli(['status'], { env: fixture.env, timeoutMs: 30_000 });
  expect(fullReadsLine(both.stdout)).toBe(
    'full reads 2 tickets longer than a page due a read from their first event: 1 not so read for 30 days, 1 never in one run, only resumed from a saved cursor (backfills queue them within 10% of the conversation-log budget)',
  );
  const json = await runCli(['status', '--json'], { env: fixture.env, timeoutMs: 30_000 });
  expect(JSON.parse(json.stdout).fullReadsOverdue).toEqual({ days: 30, percent: 10, tickets: 2, neverReadWhole: 1 });
});
