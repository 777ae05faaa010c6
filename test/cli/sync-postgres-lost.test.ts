// `sync` waits at someone's terminal: when Postgres stops answering its look at its own tickets
// (a network dropping packets, a frozen server), the look is bounded at 10 s as the worker's
// looks at the queue are, and its end is the command's: one line, exit 2, as `work --until-idle`
// gives when it gives up on Postgres. Through the real command line, its Postgres reached through
// a proxy the test silences (nothing answers and nothing closes).
import { afterEach, expect, it, vi } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killAll, startConvlog, type Exit } from '../helpers/cli.ts';
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

it('ends in one line, exit 2, once Postgres stops answering its look at its tickets', { timeout: 120_000 }, async () => {
  database = await createTestDatabase();
  // Slow answers: the sync is still busy with its tickets when Postgres goes silent.
  sim = await startSimulator({ tickets: 40, rateLimit: 0, latency: 400, seed: 7 });
  const direct = new URL(database.url);
  proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const viaProxy = new URL(database.url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);

  const sync = startConvlog(['sync', '--range', '1..40', '--concurrency', '2'], { env: cliEnvFor(viaProxy.toString(), sim.url) });
  await vi.waitUntil(async () => (await database!.pool.query(`select count(*)::int as n from zendesk.conversation_events`)).rows[0].n > 0, {
    timeout: 30_000,
    interval: 100,
  });
  proxy.silence();
  const silencedAt = Date.now();

  const exit = await Promise.race([sync.exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 60_000))]);
  expect(exit, sync.stderr().slice(-3000)).not.toBe('running');
  const { code, at } = exit as Exit;
  expect(code, sync.stderr().slice(-3000)).toBe(2);
  // Not before a look has waited its whole limit.
  expect(at - silencedAt).toBeGreaterThanOrEqual(10_000);
  const errors = sync.stderr().split('\n').filter((line) => line.startsWith('convlog sync:'));
  expect(errors, sync.stderr().slice(-3000)).toEqual([
    expect.stringMatching(
      /^convlog sync: cannot connect to Postgres at 127\.0\.0\.1:\d+\/\S+: no answer in time \(.*\) \(check DATABASE_URL\); sync gave up after \d+ s without an answer; the tickets still queued are the next run's$/,
    ),
  ]);
});
