// When a backfill reads the groups, brands and organizations lists: the first time, when a ticket
// changed since names one without a row, and once they are an hour old; not on a tick that finds
// nothing new (a schedule of "* * * * *" would spend three account-wide requests a minute).
import { expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { runBackfill, type BackfillOptions } from '../../src/queue/backfill.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createZendeskHttp } from '../../src/zendesk/http.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { backfillTestContext, DAY, EMAIL, nowSec, TOKEN } from '../backfill/helpers.ts';

const t = backfillTestContext();

function backfill(sim: Simulator, options: BackfillOptions = {}) {
  const http = createZendeskHttp({ baseUrl: sim.url, auth: { kind: 'token', email: EMAIL, token: TOKEN }, requestTimeoutMs: 5_000 });
  return runBackfill(
    { db: t.database.db, pool: t.database.pool, boss: t.boss, http, budget: localBudget(), accountBudget: localBudget(), log: silentLogger },
    { exportOptions: { retryBaseMs: 5, maxAttempts: 3 }, ...options },
  );
}

const listRequests = (sim: Simulator) => sim.requests.filter((r) => ['groups', 'brands', 'organizations'].includes(r.kind)).length;
const brandRows = async () => (await t.database.pool.query<{ n: number }>('select count(*)::int as n from zendesk.brands')).rows[0].n;

it('reads the lists on the first run, then only when a changed ticket names an id without a row or they are an hour old', async () => {
  const sim = await startSimulator({ tickets: 30, rateLimit: 0, exportRateLimit: 0, accountRateLimit: 0 });
  t.sims.push(sim);
  const first = await backfill(sim, { since: nowSec() - 40 * DAY });
  expect(first.accountLists).toMatchObject({ brands: expect.any(Number) });
  expect(listRequests(sim)).toBe(3);
  const brands = await brandRows();
  expect(brands).toBeGreaterThan(0);

  // Nothing new, then a change naming only stored ids: no list is read.
  sim.resetRequests();
  const quiet = await backfill(sim);
  expect(quiet.accountLists).toEqual({ notDue: { readAt: expect.any(String) } });
  const { rows } = await t.database.pool.query<{ id: number; brand_id: number }>(
    `select id::int, brand_id::float8 as brand_id from zendesk.tickets t
      where exists (select from zendesk.brands b where b.id = t.brand_id)
        and (group_id is null or exists (select from zendesk.groups g where g.id = t.group_id))
        and (organization_id is null or exists (select from zendesk.organizations o where o.id = t.organization_id))
      order by id limit 1`,
  );
  const [{ id, brand_id: brand }] = rows;
  sim.updateTicket(id, { priority: 'urgent' });
  expect((await backfill(sim)).seen).toBe(1);
  expect(listRequests(sim)).toBe(0);

  // A changed ticket names a brand without a row (new since the lists were read): they are read.
  await t.database.pool.query('delete from zendesk.brands where id = $1', [brand]);
  sim.updateTicket(id, { priority: 'low' });
  const named = await backfill(sim);
  expect(named.accountLists).toMatchObject({ brands: 1 });
  expect(listRequests(sim)).toBe(3);
  expect(await brandRows()).toBe(brands);

  // An hour after the last read, a quiet run reads them too.
  sim.resetRequests();
  await t.database.pool.query(
    `update convlog.sync_state set value = jsonb_build_object('readAt', to_jsonb(now() - interval '61 minutes')) where key = 'account_lists'`,
  );
  expect((await backfill(sim)).accountLists).toMatchObject({ groups: expect.any(Number) });
  expect(listRequests(sim)).toBe(3);
});
