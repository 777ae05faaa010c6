// A re-read from an earlier date (backfill --since a past date after the position reached later
// changes) shows its own progress: each page line, and the position saved with its cursor, say
// how far this run has read, not the later position of the run before (which would make the next
// `convlog backfill` say "changes up to <later>" while it re-reads from the earlier date).
import { expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { runBackfill, type BackfillDeps } from '../../src/queue/backfill.ts';
import { createZendeskHttp } from '../../src/zendesk/http.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { backfillTestContext, DAY, EMAIL, exportSince, nowSec, savedPosition, TOKEN } from './helpers.ts';

const t = backfillTestContext();

it('an interrupted re-read from an earlier date saves the position its cursor continues from', async () => {
  const sim = await startSimulator({ tickets: 40, rateLimit: 0, exportRateLimit: 0, exportPageSize: 10 });
  t.sims.push(sim);
  const http = createZendeskHttp({ baseUrl: sim.url, auth: { kind: 'token', email: EMAIL, token: TOKEN }, requestTimeoutMs: 5_000 });
  const deps: BackfillDeps = { db: t.database.db, pool: t.database.pool, boss: t.boss, http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger };
  const since = nowSec() - 400 * DAY;

  // The export position reaches the latest change.
  const first = await runBackfill(deps, { since });
  expect(first.pages).toBeGreaterThan(1);

  // Re-read from the same early date; Ctrl-C after the first page.
  const controller = new AbortController();
  const positions: (Date | null)[] = [];
  const stopped = await runBackfill(deps, {
    since,
    signal: controller.signal,
    onPage: (p) => {
      positions.push(p.position);
      controller.abort();
    },
  });
  expect(stopped.interrupted).toBe(true);
  // The latest change on the first page: where the saved cursor continues from.
  const firstPage = (await exportSince(sim, since)).slice(0, 10);
  const pageEnd = Math.max(...firstPage.map((tk) => tk.generated_timestamp)) * 1000;
  const saved = await savedPosition(t.database.pool);
  expect(saved?.cursor).toEqual(expect.any(String));
  // The page line and the saved position say how far this run has read.
  expect(positions[0]!.getTime()).toBeLessThanOrEqual(pageEnd);
  expect(Date.parse(saved!.position!)).toBeLessThanOrEqual(pageEnd);
});
