// Syncing from the export against a Zendesk whose saved cursors are snapshots (the simulator's
// --snapshot-cursors): they never return events appended after they were given, and Zendesk does
// not document that its own do. A ticket longer than a page resumes from its cursor; the comments
// added since still arrive, because the export's row of the ticket says it changed after its
// newest stored event, and the log's newest event is not stored.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 1, ticketSizes: { 1: 150 }, snapshotCursors: true });
});
afterAll(async () => {
  await fixture?.close();
});

const stored = async () =>
  (await fixture.database.pool.query<{ reference: string }>('select reference from zendesk.conversation_events where ticket_id = 1')).rows.map((r) => r.reference);

/** A backfill, then a worker until the queue is empty: what a schedule and `work` do. */
async function backfillAndWork(args: string[] = []): Promise<string> {
  const env = { ...fixture.env, LOG_LEVEL: 'info' };
  const backfill = await runCli(['backfill', ...args], { env });
  expect(backfill.code, backfill.stderr).toBe(0);
  const work = await runCli(['work', '--until-idle'], { env, timeoutMs: 90_000 });
  expect(work.code, work.stderr).toBe(0);
  return work.stderr;
}

it('stores the comments appended since the last sync, though the saved cursor returns none of them', { timeout: 180_000 }, async () => {
  await backfillAndWork(['--since', '2020-01-01']);
  expect(await stored()).toHaveLength(150);

  const appended = fixture.sim.appendEvents(1, 2);
  const log = await backfillAndWork();
  expect(await stored()).toHaveLength(152);
  expect(await stored()).toEqual(expect.arrayContaining(appended.map((e) => e.reference)));
  expect(log).toContain("the ticket changed after its newest stored event, and the log's newest event is not in what the saved cursor returned; reading the ticket again from its first event");
});
