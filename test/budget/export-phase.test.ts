// The export's budget (CONVLOG_EXPORT_RATE_LIMIT, 10 a minute): its answers carry no rate-limit
// header of its own, only a 429's Retry-After, which says when Zendesk's minute ends. Unused for
// the window, the budget kept a phase of its own and a long backfill met a 429 nearly every minute.
import { describe, expect, it } from 'vitest';
import { sharedBudget, type ResponseFacts } from '../../src/db/shared-budget.ts';
import { exportRateLimitOf } from '../../src/zendesk/incremental-export.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { T0, VirtualClock, VirtualZendesk } from './virtual-time.ts';

const database = useTestDatabase();

const MINUTE = 60_000;

/** What the export's own rateLimitOf reads of an answer with these facts (Retry-After on a 429). */
const exportFacts = (facts: ResponseFacts) =>
  exportRateLimitOf(new Response(null, { status: facts.status, headers: facts.status === 429 ? { 'Retry-After': String(facts.retryAfterMs! / 1000) } : {} }));

describe("the export budget against Zendesk's fixed minute", { timeout: 120_000 }, () => {
  it('a backfill paging the export one request at a time meets at most one 429, and then 10 pages a minute', async () => {
    const clock = new VirtualClock();
    // Zendesk's minute starts 30 s off the budget's own.
    const server = new VirtualZendesk(10, MINUTE, T0 + 30_000);
    const budget = sharedBudget(clock.counting(database.pool), { name: 'export_phase', limitPerWindow: 10, clock });
    // An earlier scheduled backfill read one page at T0 (it creates the row: its window starts then).
    await budget.take();
    await budget.observe(exportFacts(server.arrive(clock.now(), 'convlog')));
    let pages = 0;
    const run = (async () => {
      await clock.sleep(48_000);
      // Now a long backfill: 100 pages, one after another, a second each.
      while (pages < 100) {
        await budget.take();
        await clock.sleep(500);
        const facts = server.arrive(clock.now(), 'convlog');
        await clock.sleep(500);
        const told = exportFacts(facts);
        await budget.observe(told);
        if (facts.status !== 429) pages++;
        else await clock.sleep(told.retryAfterMs!); // fetchWithRetries's own wait after a 429
      }
    })();
    await clock.run(T0 + 20 * MINUTE, () => pages >= 100);
    await run;
    const limited = server.requests.filter((r) => r.status === 429);
    const perWindow = server.perWindow(server.windowOf(T0), server.windowOf(clock.now())).map((w) => `${w.ok.get('convlog') ?? 0}/${w.limited.get('convlog') ?? 0}`);
    // The first 429 is how the budget learns where Zendesk's minute ends; none after it.
    expect(limited.length, `429s from the export; ok/429 per Zendesk minute: ${perWindow.join(' ')}`).toBeLessThanOrEqual(1);
    // And every minute after it is used: its 200s say nothing, so none of its permits may be
    // counted again in the next window as if still unanswered (which halved the pace).
    expect(clock.now() - T0, `ok/429 per Zendesk minute: ${perWindow.join(' ')}`).toBeLessThan(12 * MINUTE);
  });
});
