// A backfill that reads again an export page listing a ticket whose deletion is already recorded
// (purged) puts none of the people only that ticket named back into zendesk.authors: the page's
// side-loaded users are left out for its deleted tickets, as a read by id leaves out the tickets it skips.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { runBackfill } from '../../src/queue/backfill.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { purgeTicket } from '../../src/db/purge.ts';
import { createZendeskHttp } from '../../src/zendesk/http.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { backfillTestContext, DAY, EMAIL, nowSec, TOKEN } from './helpers.ts';

const t = backfillTestContext();

describe('an export page read again after a deleted ticket was purged', () => {
  it('does not bring back authors only the purged ticket named', async () => {
    const sim = await startSimulator({ tickets: 30, rateLimit: 0, exportRateLimit: 0, accountRateLimit: 0, deleted: [7] });
    t.sims.push(sim);
    const http = createZendeskHttp({ baseUrl: sim.url, auth: { kind: 'token', email: EMAIL, token: TOKEN }, requestTimeoutMs: 5_000 });
    const run = () =>
      runBackfill(
        { db: t.database.db, pool: t.database.pool, boss: t.boss, http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger },
        { since: nowSec() - 40 * DAY, exportOptions: { retryBaseMs: 5, maxAttempts: 3 } },
      );
    const ticket7 = sim.ticket(7) as { requester_id: number; submitter_id: number };
    const key = `support:${ticket7.requester_id}`;
    // nothing else names this requester (the simulator gives each ticket its own end user)
    const others = [...Array(30).keys()].map((i) => i + 1).filter((id) => id !== 7).map((id) => sim.ticket(id) as { requester_id: number; submitter_id: number; assignee_id: number | null });
    expect(others.some((o) => [o.requester_id, o.submitter_id, o.assignee_id].includes(ticket7.requester_id))).toBe(false);

    const first = await run();
    expect(first.deleted).toBe(1);
    const count = async () => (await t.database.pool.query('select count(*)::int as n from zendesk.authors where author_key = $1', [key])).rows[0].n as number;
    expect(await count()).toBe(0); // the purge removed them

    const again = await run(); // backfill --since the same date, as docs/tickets.md describes
    expect(again.deleted).toBe(0);
    expect(again.deletedBefore).toBe(1);
    // The side-loaded requester of the purged ticket stays out.
    expect(await count()).toBe(0);
  });

  it('a 404 purge first, then the next backfill from the saved position reads the deletion: the requester stays out', async () => {
    const sim = await startSimulator({ tickets: 30, rateLimit: 0, exportRateLimit: 0, accountRateLimit: 0 });
    t.sims.push(sim);
    const http = createZendeskHttp({ baseUrl: sim.url, auth: { kind: 'token', email: EMAIL, token: TOKEN }, requestTimeoutMs: 5_000 });
    const deps = { db: t.database.db, pool: t.database.pool, boss: t.boss, http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger };
    const key = `support:${(sim.ticket(7) as { requester_id: number }).requester_id}`;
    const count = async () => (await t.database.pool.query('select count(*)::int as n from zendesk.authors where author_key = $1', [key])).rows[0].n as number;
    await runBackfill(deps, { since: nowSec() - 40 * DAY });
    expect(await count()).toBe(1); // side-loaded with ticket 7's live row

    sim.deleteTicket(7);
    // What the worker does when ticket 7's sync meets Zendesk's 404 (a deletion webhook queued it).
    await purgeTicket(t.database.db, 7, { how: '404' });
    expect(await count()).toBe(0);

    const next = await runBackfill(deps, {}); // the scheduled backfill, from the saved cursor
    expect(next.seen).toBeGreaterThanOrEqual(1);
    expect(next.deletedBefore).toBe(1); // the deletion was recorded already by the 404
    // The requester only ticket 7 named stays out.
    expect(await count()).toBe(0);
  });
});
