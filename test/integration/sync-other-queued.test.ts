// `convlog sync IDS` runs a worker, and a worker takes whatever is queued: tickets an interrupted
// run, a backfill or `enqueue` left there. What it says must cover them: how many other tickets
// it worked and how they ended, and that its event and request totals include them. Once its own
// tickets are done it takes no more, but lets those in flight finish rather than cut them off.
import { afterEach, describe, expect, it } from 'vitest';
import { ticketStates } from '../../src/db/sync-again.ts';
import { runCli } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

describe('convlog sync with other tickets already queued', { timeout: 120_000 }, () => {
  it('names the other queued tickets it worked, and finishes the one in flight when its own is done', async () => {
    // Ticket 7 is long (50 pages, each answered after 40 ms), ticket 9 was deleted in Zendesk;
    // both are queued before `sync 5`. Its own ticket goes first (a sync's priority), and its
    // other two slots take them at the same time.
    fixture = await createFixture({ tickets: 10, ticketSizes: { 5: 20, 7: 5_000 }, deleted: [9], latency: 40 }, { queue: [7, 9] });
    const result = await runCli(['sync', '5', '--concurrency', '3'], { env: fixture.env });
    expect(result.code, result.stderr).toBe(0);

    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^synced 1, not_found 0, forbidden 0, failed 0 \| [\d,]+ events read with \d+ requests, the 2 other queued tickets below included$/);
    expect(lines[1]).toBe('also worked 2 other queued tickets it took while these were pending: synced 1, not_found 1');
    expect(lines).toHaveLength(2);

    // Ticket 7 was not interrupted when ticket 5 was done: it is synced, every event stored.
    const states = await ticketStates(fixture.database.db, [5, 7, 9]);
    const byId = new Map(states.map((s) => [s.ticketId, s]));
    expect(byId.get(7)).toMatchObject({ status: 'synced', eventsSynced: 5_000 });
    expect(byId.get(9)?.status).toBe('not_found');
    const events = Number(/\| ([\d,]+) events/.exec(lines[0])![1].replaceAll(',', ''));
    expect(events).toBe(5_000 + fixture.sim.eventCount(5));
  });

  it('prints the one summary line it always did when nothing else was queued', async () => {
    fixture = await createFixture({ tickets: 5, ticketSizes: { 2: 20 } }, { queue: [] });
    const result = await runCli(['sync', '2'], { env: fixture.env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('synced 1, not_found 0, forbidden 0, failed 0 | 20 events read with 1 request\n');
  });
});
