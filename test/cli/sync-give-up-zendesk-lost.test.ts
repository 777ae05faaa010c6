// A `sync` that loses Zendesk halfway (a network outage, a proxy gone) holds its tickets and
// probes, as `work` does; someone waits for it, so it gives up after --give-up-after seconds (600
// by default): one error line, exit 1, the tickets left queued with no retry spent. It waited
// without end before. Through the real command line, with a proxy in front of the simulator cut.
import { afterEach, expect, it, vi } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killAll, runCli, startConvlog } from '../helpers/cli.ts';
import { cliEnvFor } from '../helpers/sync-fixture.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

let database: TestDatabase | undefined;
let sim: Simulator | undefined;
let proxy: TcpProxy | undefined;

afterEach(async () => {
  await killAll();
  await proxy?.cut();
  await sim?.close();
  await database?.close();
  database = sim = proxy = undefined;
});

it('gives up on a Zendesk lost halfway after --give-up-after, exit 1, the rest of its tickets queued and none failed', { timeout: 120_000 }, async () => {
  database = await createTestDatabase();
  sim = await startSimulator({ tickets: 30, rateLimit: 0, latency: 200 });
  proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(sim.url).port) });
  const env = { ...cliEnvFor(database.url, `http://127.0.0.1:${proxy.port}`), LOG_LEVEL: 'info' };

  const child = startConvlog(['sync', '--range', '1..30', '--concurrency', '2', '--give-up-after', '2'], { env });
  await vi.waitUntil(() => /"msg":"ticket synced"/.test(child.stderr()), { timeout: 60_000, interval: 20 });
  await proxy.cut();
  const exit = await child.exited;

  expect(exit.code, child.stderr().slice(-3000)).toBe(1);
  expect(exit.at - child.startedAt).toBeLessThan(90_000);
  // The first line names the deadline, and the last says it was reached.
  expect(child.stderr()).toMatch(/no ticket is taken until it answers .*; sync waits up to 2 s for it \(--give-up-after\), then exits 1/);
  expect(child.stderr()).toMatch(/sync gives up: Zendesk could not be reached for \d+ s \(cannot reach Zendesk at http:\/\/127\.0\.0\.1:\d+.*\); the tickets stay queued/);
  expect(child.stdout()).toMatch(/^synced \d+, not_found 0, forbidden 0, failed 0, unfinished \d+ \(interrupted; they stay queued, behind what a later sync queues\)/m);
  const { rows } = await database.pool.query<{ status: string; n: number }>(`select status, count(*)::int as n from zendesk.ticket_sync group by status`);
  const byStatus = Object.fromEntries(rows.map((r) => [r.status, r.n]));
  expect(byStatus.failed).toBeUndefined();
  expect(byStatus.queued).toBeGreaterThan(0);
  // A held ticket's attempt is given back (its limit raised with its count): 8 left, as queued.
  const left = await database.pool.query(`select distinct state::text, retry_limit - retry_count as attempts_left from pgboss.job where name = 'ticket-sync' and state <> 'completed'`);
  expect(left.rows).toEqual([{ state: 'created', attempts_left: 8 }]);
});

it('refuses a --give-up-after that is not a number of seconds, before queuing anything', async () => {
  const run = await runCli(['sync', '1', '--give-up-after', 'soon'], { env: { DATABASE_URL: 'postgres://convlog@127.0.0.1:1/nowhere', ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: 'a@example.com', ZENDESK_API_TOKEN: 'token-123' } });
  expect(run.code).toBe(2);
  expect(run.stderr.trim().split('\n')[0]).toBe('convlog sync: --give-up-after must be an integer from 1 to 86400, got "soon"');
});
