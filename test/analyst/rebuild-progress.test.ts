// rebuild-analytics runs beside running workers (docs/operations.md). Its total is counted once,
// before the first batch; each batch took every ticket_sync row past the last one, so tickets that
// workers or enqueue added meanwhile were rebuilt and counted in `done`, never in `total`, and the
// bar went past 100 %. It now stops at the last ticket there was when it started: one added later
// gets its rows from its own sync.
import { beforeAll, expect, it } from 'vitest';
import { rebuildAnalytics } from '../../src/db/analytics.ts';
import { useTestDatabase } from '../helpers/database.ts';

const database = useTestDatabase();
beforeAll(async () => {
  await database.pool.query(`insert into zendesk.ticket_sync (ticket_id, status) select g, 'synced' from generate_series(1, 3) g`);
});

it('never reports more tickets done than its total', async () => {
  const seen: { done: number; total: number }[] = [];
  let added = false;
  const result = await rebuildAnalytics(database.db, {
    batchSize: 1,
    onProgress: (p) => {
      seen.push({ done: p.done, total: p.total });
      if (!added) {
        added = true;
        // `convlog enqueue 10 11` (or a webhook, a backfill) while the rebuild runs.
        void database.pool.query(`insert into zendesk.ticket_sync (ticket_id, status) values (10, 'queued'), (11, 'queued')`);
      }
    },
  });
  await new Promise((r) => setTimeout(r, 100));
  expect(result.finished).toBe(true);
  expect(seen.filter((p) => p.done > p.total)).toEqual([]);
  expect(result).toMatchObject({ done: 3, total: 3 });
});
