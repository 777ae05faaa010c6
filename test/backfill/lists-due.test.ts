// When the groups, brands and organizations lists are read again: not for a group or brand a
// read showed gone (a ticket keeps naming a deleted one), and, once due, at the next run when this
// one did not read them (stopped, or the read failed).
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { runBackfill, type BackfillOptions } from '../../src/queue/backfill.ts';
import { DELETED_GROUP_ID, startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createZendeskHttp } from '../../src/zendesk/http.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { backfillTestContext, DAY, EMAIL, nowSec, TOKEN } from './helpers.ts';

const t = backfillTestContext();
const BRAND_2 = 361_000_000_002; // a brand: the export side-loads groups and organizations, never brands

async function setup(): Promise<{ sim: Simulator; run: (o?: BackfillOptions) => ReturnType<typeof runBackfill> }> {
  const sim = await startSimulator({ tickets: 40, rateLimit: 0, exportRateLimit: 0, accountRateLimit: 0 });
  t.sims.push(sim);
  const http = createZendeskHttp({ baseUrl: sim.url, auth: { kind: 'token', email: EMAIL, token: TOKEN }, requestTimeoutMs: 5_000 });
  const deps = { db: t.database.db, pool: t.database.pool, boss: t.boss, http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger };
  return { sim, run: (o = {}) => runBackfill(deps, { exportOptions: { retryBaseMs: 5, maxAttempts: 2 }, ...o }) };
}

const listRequests = (sim: Simulator) => sim.requests.filter((r) => /\/api\/v2\/(groups|brands|organizations)/.test(r.path)).length;

describe('the account lists, due', () => {
  it('a ticket that keeps naming a deleted group does not have the lists read again at each run that sees it change', async () => {
    const { sim, run } = await setup();
    const id = [...Array(40).keys()].map((i) => i + 1).find((i) => (sim.ticket(i) as { group_id: number | null }).group_id === DELETED_GROUP_ID)!;
    expect(id).toBeDefined();
    const first = await run({ since: nowSec() - 40 * DAY });
    expect(first.accountLists).toHaveProperty('groups');
    for (let tick = 0; tick < 3; tick++) {
      await new Promise((r) => setTimeout(r, 1100)); // a new second: the change is newer than the lists' read
      sim.resetRequests();
      sim.appendEvents(id, 1); // a customer writes again on a ticket whose group was deleted long ago
      const next = await run();
      expect(next.seen).toBe(1);
      // The first read found the group gone: another would not find it either.
      expect(next.accountLists, `tick ${tick}: ${listRequests(sim)} list requests`).toHaveProperty('notDue');
    }
  });

  it('lists due because a changed ticket names a new brand: a run interrupted before their read leaves them due for the next', async () => {
    const { sim, run } = await setup();
    await run({ since: nowSec() - 40 * DAY });
    // Brand 2 is "new since" the lists' read, as far as convlog knows: its row is not there.
    await t.database.pool.query('delete from zendesk.brands where id = $1', [BRAND_2]);
    await new Promise((r) => setTimeout(r, 1100));
    sim.updateTicket(1, { brand_id: BRAND_2 });

    const stop = new AbortController();
    const interrupted = await run({ signal: stop.signal, onPage: (p) => p.pages >= 1 && stop.abort() });
    expect(interrupted.interrupted).toBe(true);
    expect(interrupted.accountLists).toBeNull();

    sim.resetRequests();
    const next = await run();
    const named = (await t.database.pool.query('select count(*)::int as n from zendesk.brands where id = $1', [BRAND_2])).rows[0].n;
    // The next run sees no change naming the brand, and the last read is under an hour old: due all the same.
    expect({ accountLists: next.accountLists, listRequests: listRequests(sim), brandRow: named }).toMatchObject({ brandRow: 1 });
  });

  it('the same after a failed read of the lists: the next backfill tries again', async () => {
    const { sim, run } = await setup();
    await run({ since: nowSec() - 40 * DAY });
    await t.database.pool.query('delete from zendesk.brands where id = $1', [BRAND_2]);
    await new Promise((r) => setTimeout(r, 1100));
    sim.updateTicket(1, { brand_id: BRAND_2 });
    const failed = await run({ onPage: () => sim.setOptions({ failRate: 1 }) });
    sim.setOptions({ failRate: 0 });
    expect(failed.accountLists).toHaveProperty('error');
    const next = await run();
    const named = (await t.database.pool.query('select count(*)::int as n from zendesk.brands where id = $1', [BRAND_2])).rows[0].n;
    expect({ accountLists: next.accountLists, brandRow: named }).toMatchObject({ brandRow: 1 });
  });
});
