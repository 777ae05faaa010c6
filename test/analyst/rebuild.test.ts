// `convlog rebuild-analytics` derives the per-ticket analyst tables again from the stored events:
// after they are emptied (or wrong), the rebuild gives back exactly what the runs kept, and an
// interrupted rebuild resumes after the last ticket it committed.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { rebuildAnalytics } from '../../src/db/analytics.ts';
import { tryRunLock } from '../../src/db/run-locks.ts';
import { runCli } from '../helpers/cli.ts';
import { syncedDataset, SYNCED, type Dataset } from './dataset.ts';

let data: Dataset;
const TABLES = ['ticket_summaries', 'reply_waits', 'ticket_days', 'ticket_hours'] as const;

/** Every kept row of the three tables, and every event's position, as text. */
async function snapshot(): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const table of TABLES) {
    const { rows } = await data.database.pool.query<{ r: string }>(
      `select (to_jsonb(t) - 'refreshed_at')::text as r from zendesk.${table} t order by 1`,
    );
    result[table] = rows.map((row) => row.r);
  }
  const { rows } = await data.database.pool.query<{ r: string }>(`select reference || ' ' || position as r from zendesk.conversation_events order by 1`);
  result.positions = rows.map((row) => row.r);
  return result;
}

async function spoil(): Promise<void> {
  for (const table of TABLES) await data.database.pool.query(`delete from zendesk.${table}`);
  await data.database.pool.query(`update zendesk.conversation_events set position = position + 1000`);
}

beforeAll(async () => {
  data = await syncedDataset();
}, 120_000);
afterAll(async () => {
  await data?.close();
});

it('gives back what the runs kept, from the stored events alone', async () => {
  const kept = await snapshot();
  const { rows: withEvents } = await data.database.pool.query<{ n: number }>(`select count(distinct ticket_id)::int as n from zendesk.conversation_events`);
  // One summary per ticket with events (some of the simulator's tickets have none).
  expect(kept.ticket_summaries.length).toBe(withEvents[0].n);
  expect(withEvents[0].n).toBeGreaterThan(SYNCED.length / 2);
  expect(kept.reply_waits.length).toBeGreaterThan(SYNCED.length);
  await spoil();
  expect((await snapshot()).ticket_summaries).toEqual([]);

  const requestsBefore = data.sim.requests.length;
  const result = await runCli(['rebuild-analytics', '--batch', '7'], { env: { DATABASE_URL: data.database.url } });
  expect(result.stderr).not.toMatch(/error/i);
  expect(result.code).toBe(0);
  // Every ticket_sync row: the synced ones and the deleted, forbidden and failed tickets.
  expect(result.stdout).toMatch(/^rebuilt the analyst tables of 43 tickets$/m);
  expect(await snapshot()).toEqual(kept);
  // Zendesk (the simulator) was never asked anything during the rebuild.
  expect(data.sim.requests.length).toBe(requestsBefore);
});

it('resumes after the last batch it committed, and --restart starts over', async () => {
  const kept = await snapshot();
  await spoil();
  const stop = new AbortController();
  const first = await rebuildAnalytics(data.database.db, {
    batchSize: 10,
    onProgress: (p) => p.done >= 20 && stop.abort(),
    signal: stop.signal,
  });
  expect(first).toMatchObject({ finished: false, done: 20 });
  // Exactly the first 20 tickets (by id) that have events are back.
  const { rows } = await data.database.pool.query<{ kept: number; expected: number }>(`
    select (select count(*)::int from zendesk.ticket_summaries) as kept,
           (select count(distinct e.ticket_id)::int from zendesk.conversation_events e
             where e.ticket_id <= (select ticket_id from zendesk.ticket_sync order by ticket_id offset 19 limit 1)) as expected`);
  expect(rows[0].kept).toBe(rows[0].expected);

  const second = await runCli(['rebuild-analytics', '--batch', '10'], { env: { DATABASE_URL: data.database.url } });
  expect(second.code).toBe(0);
  expect(second.stdout).toMatch(/of 43 tickets \(resumed after 20 done before\)/);
  expect(await snapshot()).toEqual(kept);

  const again = await rebuildAnalytics(data.database.db, { restart: true });
  expect(again).toMatchObject({ finished: true, done: 43, skipped: 0 });
});

it('refuses a bad --batch in one line and changes nothing', async () => {
  const result = await runCli(['rebuild-analytics', '--batch', 'lots'], { env: { DATABASE_URL: data.database.url } });
  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/--batch must be an integer from 1 to 100000, got "lots"/);
});

it('refuses to run beside another rebuild, which it would only repeat, and changes nothing', async () => {
  // Two at once both took the saved position as an interrupted rebuild's and did the rest twice.
  const other = await tryRunLock(data.database.pool, 'rebuild-analytics');
  expect(other).not.toBeNull();
  const saved = async () => (await data.database.pool.query(`select value::text from convlog.sync_state where key = 'analytics_rebuild'`)).rows;
  const before = await saved();
  try {
    const result = await runCli(['rebuild-analytics'], { env: { DATABASE_URL: data.database.url } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'convlog rebuild-analytics: another rebuild-analytics is running on this database (in another process); nothing was changed: it saves where it is, so run this again only if it stops before the end\n',
    );
    expect(await saved()).toEqual(before);
  } finally {
    await other!.release();
  }
  const after = await runCli(['rebuild-analytics'], { env: { DATABASE_URL: data.database.url } });
  expect(after.code, after.stderr).toBe(0);
});
