// A backfill that fails once a page is done wraps the error in BackfillFailed (its message says the
// pages before are queued). The failure's own class must still decide what happens: refused
// credentials on page 2 stop a scheduled backfill for the next tick (its job not retried) and make
// `convlog backfill` exit 2, as on page 1. A proxy makes the simulator refuse our token from the
// second export request on.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startBackfillWorker } from '../../src/queue/backfill-job.ts';
import { BACKFILL_QUEUE } from '../../src/queue/boss.ts';
import { createZendeskHttp } from '../../src/zendesk/http.ts';
import { localBudget } from '../../src/zendesk/rate-limit.ts';
import { runCli } from '../helpers/cli.ts';
import { cliEnvFor, createFixtureWithBoss, type FixtureWithBoss } from '../helpers/sync-fixture.ts';
import { queuedTicketIds } from './helpers.ts';

const EXPORT = '/api/v2/incremental/tickets/cursor.json';

let fixture: FixtureWithBoss | undefined;
let proxy: http.Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  await fixture?.close();
  proxy = fixture = undefined;
});

/** 40 tickets, 10 an export page, behind a proxy that has the simulator refuse our token from export request `refuseFrom` on. */
async function setup(refuseFrom: number): Promise<{ f: FixtureWithBoss; url: string }> {
  const f = (fixture = await createFixtureWithBoss({ tickets: 40, exportPageSize: 10, accountRateLimit: 0 }));
  let exports = 0;
  proxy = http.createServer((req, res) => {
    void (async () => {
      if (req.url?.startsWith(EXPORT) && ++exports >= refuseFrom) f.sim.setOptions({ apiToken: 'a-token-that-is-not-ours' });
      const answer = await fetch(`${f.sim.url}${req.url}`, { headers: { authorization: req.headers.authorization ?? '' } });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    })();
  });
  await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
  return { f, url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` };
}

/**
 * One scheduled tick worked to its end (or, with `stopAfterPage`, to the worker's stop once that
 * page is stored): what the worker logged and where its job ended up.
 */
async function scheduledTick(f: FixtureWithBoss, url: string, stopAfterPage?: number, { nextTickWaiting = false } = {}) {
  const sink = new PassThrough();
  let text = '';
  sink.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const log = createLogger('info', { destination: sink, pretty: false });
  const zendesk = createZendeskHttp({ baseUrl: url, auth: { kind: 'token', email: 'agent@example.com', token: 'sim-token' }, requestTimeoutMs: 10_000 });
  const config = { ...loadConfig({}), databaseUrl: f.database.url };
  const stopping = new AbortController();
  const worker = await startBackfillWorker(
    { config, database: f.database, boss: f.boss, deps: { http: zendesk }, budgets: { export: localBudget(), account: localBudget() } },
    log,
    stopping.signal,
  );
  try {
    await f.boss.send(BACKFILL_QUEUE, { since: new Date(Date.now() - 40 * 86_400_000).toISOString() });
    if (stopAfterPage !== undefined) {
      await vi.waitUntil(() => text.split('\n').filter((line) => line.includes('"msg":"backfill page"')).length >= stopAfterPage, { timeout: 60_000, interval: 50 });
      // The schedule's next tick, sent while this one runs: the queue keeps it waiting.
      if (nextTickWaiting) expect(await f.boss.send(BACKFILL_QUEUE, {})).not.toBeNull();
      stopping.abort();
    }
    const job = async () =>
      (
        await f.database.pool.query<{ state: string; retry_count: number; holds: number; due: boolean }>(
          `select state::text, retry_count, coalesce((data->>'holds')::int, 0) as holds, start_after <= now() as due from pgboss.job where name = $1 order by created_on limit 1`,
          [BACKFILL_QUEUE],
        )
      ).rows[0];
    // Ended, or held (back in the queue, a shutdown's).
    const ended = await vi.waitUntil(async () => {
      const row = await job();
      return row && (!['created', 'active'].includes(row.state) || (row.state === 'created' && row.holds > 0)) ? row : undefined;
    }, { timeout: 60_000, interval: 100 });
    const lines = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as { msg: string; level: number });
    return { ...ended, messages: lines.map((line) => line.msg), levels: lines.map((line) => line.level) };
  } finally {
    await worker.stop();
  }
}

it.each([1, 2])('a scheduled backfill refused its credentials from export request %i stops for the next tick, its job not retried', { timeout: 120_000 }, async (refuseFrom) => {
  const { f, url } = await setup(refuseFrom);
  const tick = await scheduledTick(f, url);
  expect({ state: tick.state, retries: tick.retry_count, messages: tick.messages }).toEqual({
    state: 'completed',
    retries: 0,
    messages: expect.arrayContaining(['backfill stopped; the next scheduled one continues from the saved position']),
  });
  expect(tick.messages).not.toContain('backfill failed; pg-boss retries it');
  // The page before the refusal is queued.
  expect((await queuedTicketIds(f.database.pool)).length).toBe((refuseFrom - 1) * 10);
});

it('convlog backfill refused its credentials on page 2 exits 2, as on page 1, and says what page 1 left', { timeout: 120_000 }, async () => {
  const { f, url } = await setup(2);
  const run = await runCli(['backfill', '--since', '40d'], { env: { ...cliEnvFor(f.database.url, url), CONVLOG_EXPORT_RATE_LIMIT: '100000' }, timeoutMs: 60_000 });
  expect(run.code, run.stderr).toBe(2);
  expect(run.stderr.trim().split('\n').at(-1)).toMatch(/^convlog backfill: .*401.*\(after 1 page: their 10 tickets are queued and the export position is saved, so "convlog backfill" continues from there\)$/);
  expect((await queuedTicketIds(f.database.pool)).length).toBe(10);
});

it("a worker stopped during a scheduled backfill says so as information, not as the backfill's failure", { timeout: 120_000 }, async () => {
  // Slow pages after the first: the stop comes while the second is on its way.
  const f = (fixture = await createFixtureWithBoss({ tickets: 40, exportPageSize: 10, accountRateLimit: 0, latency: 1_500 }));
  const tick = await scheduledTick(f, f.sim.url, 1);
  expect(tick.messages).toContain('backfill stopped with its worker; the next worker continues it from the saved position');
  expect(tick.messages).not.toContain('backfill failed; pg-boss retries it');
  expect(tick.levels.filter((level) => level >= 40)).toEqual([]);
  // Its job is back in the queue, due at once, its attempt unspent: the next worker continues it.
  expect({ state: tick.state, holds: tick.holds, due: tick.due, spent: tick.retry_count - tick.holds }).toEqual({ state: 'created', holds: 1, due: true, spent: 0 });
});

it("a worker stopped during a scheduled backfill while the next tick waits ends its job, the waiting tick standing for it", { timeout: 120_000 }, async () => {
  const f = (fixture = await createFixtureWithBoss({ tickets: 40, exportPageSize: 10, accountRateLimit: 0, latency: 1_500 }));
  const tick = await scheduledTick(f, f.sim.url, 1, { nextTickWaiting: true });
  expect(tick.messages).toContain('backfill stopped with its worker; the next scheduled one, already waiting, continues from the saved position');
  expect(tick.levels.filter((level) => level >= 40)).toEqual([]);
  expect(tick.state).toBe('completed');
  const { rows } = await f.database.pool.query(`select state::text from pgboss.job where name = $1 order by created_on`, [BACKFILL_QUEUE]);
  expect(rows).toEqual([{ state: 'completed' }, { state: 'created' }]);
});
