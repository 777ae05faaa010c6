// A malformed ticket in an export page fails that page with one line naming the ticket and the
// field; the page's tickets are neither queued nor stored, the position stays before it, and the
// next run continues from there. A proxy in front of the simulator breaks one ticket of page 2.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BackfillFailed } from '../../src/errors/convlog-errors.ts';
import { silentLogger } from '../../src/log.ts';
import { startBoss } from '../../src/queue/boss.ts';
import { runBackfill } from '../../src/queue/backfill.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createZendeskHttp } from '../../src/zendesk/http.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { useTestDatabase } from '../helpers/database.ts';
import { DAY, EMAIL, exportSince, nowSec, queuedTicketIds, savedPosition, sorted, TOKEN } from '../backfill/helpers.ts';

let boss: PgBoss;
let sim: Simulator;
let proxy: http.Server;
let proxyUrl: string;
/** While set, the first ticket of every export page requested with a cursor is broken. */
let breakPage2 = true;
let broken: number | undefined;

const database = useTestDatabase();
beforeAll(async () => {
  boss = await startBoss(database, silentLogger);
  sim = await startSimulator({ tickets: 40, rateLimit: 0, exportRateLimit: 0, accountRateLimit: 0, exportPageSize: 10 });
  proxy = http.createServer((req, res) => {
    void (async () => {
      const answer = await fetch(`${sim.url}${req.url}`, { headers: { authorization: req.headers.authorization ?? '' } });
      let body = await answer.text();
      if (breakPage2 && answer.status === 200 && req.url?.includes('/incremental/tickets/cursor.json') && req.url.includes('cursor=')) {
        const page = JSON.parse(body) as { tickets: { id: number; via: unknown }[] };
        broken = page.tickets[0].id;
        page.tickets[0].via = { channel: { not: 'a string' } };
        body = JSON.stringify(page);
      }
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(body);
    })();
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => proxy?.close(() => resolve()));
  await sim?.close();
  await boss?.stop({ graceful: false, timeout: 1_000 });
});

const backfill = (options: { since?: number } = {}) =>
  runBackfill(
    {
      db: database.db,
      pool: database.pool,
      boss,
      http: createZendeskHttp({ baseUrl: proxyUrl, auth: { kind: 'token', email: EMAIL, token: TOKEN }, requestTimeoutMs: 5_000 }),
      budget: localBudget(),
      accountBudget: localBudget(),
      log: silentLogger,
    },
    { ...options, exportOptions: { pageSize: 10, retryBaseMs: 1, maxAttempts: 2 } },
  );

async function storedIds(): Promise<number[]> {
  const { rows } = await database.pool.query<{ id: number }>('select id::int from zendesk.tickets order by id');
  return rows.map((r) => r.id);
}

it('fails the page naming ticket and field, keeps the position before it, and the next run continues', async () => {
  const since = nowSec() - 40 * DAY;
  const all = (await exportSince(sim, since)).map((t) => t.id);
  expect(all.length).toBeGreaterThan(20);

  const error = await backfill({ since }).then(
    () => new Error('expected the backfill to fail'),
    (e: unknown) => e as Error,
  );
  expect(error).toBeInstanceOf(BackfillFailed);
  expect(error.message).toContain(`ticket ${broken}`);
  expect(error.message).toMatch(/via\.channel/);
  expect(error.message.split('\n')).toHaveLength(1);
  // Page 1 only: queued, stored, and its position saved.
  expect(await queuedTicketIds(database.pool)).toEqual(sorted(all.slice(0, 10)));
  expect(await storedIds()).toEqual(sorted(all.slice(0, 10)));
  const position = await savedPosition(database.pool);
  expect(position?.cursor).toEqual(expect.any(String));

  breakPage2 = false;
  const resumed = await backfill();
  expect(resumed).toMatchObject({ seen: all.length - 10, interrupted: false });
  expect(await storedIds()).toEqual(sorted(all));
  expect(await queuedTicketIds(database.pool)).toEqual(sorted(all));
});
