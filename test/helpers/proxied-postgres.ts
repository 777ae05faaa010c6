// A test's Postgres reached through a TCP proxy the test cuts or silences (tcp-proxy.ts), a slow
// simulator, and what the tests of convlog giving up on that Postgres expect of how a command ended.
import { afterEach, expect, vi } from 'vitest';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { endedWithin, killAll, startConvlog, type Convlog, type Exit } from './cli.ts';
import { cliEnvFor } from './sync-fixture.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

export interface ProxiedPostgres {
  readonly database: TestDatabase;
  readonly sim: Simulator;
  readonly proxy: TcpProxy;
  /** 40 tickets (unless told) in a simulator that answers slowly, and the environment of a convlog reaching its Postgres through the proxy. */
  env(simulator?: Partial<SimulatorOptions>): Promise<Record<string, string>>;
  /** Resolves once the first events are stored. */
  storing(): Promise<void>;
  /** A worker (--give-up-after 3) through the proxy, busy with 40 queued tickets once this returns. */
  busyWorker(): Promise<Convlog>;
}

/** Call at a test file's top level: each test's database, simulator and proxy end after it, and any convlog left running is killed. */
export function proxiedPostgres(): ProxiedPostgres {
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
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('env() not called yet in this test');
    return value;
  };
  const self: ProxiedPostgres = {
    get database() {
      return started(database);
    },
    get sim() {
      return started(sim);
    },
    get proxy() {
      return started(proxy);
    },
    async env(simulator = { tickets: 40 }) {
      database = await createTestDatabase();
      // Slow answers: the command is still busy with the tickets when Postgres goes.
      sim = await startSimulator({ rateLimit: 0, latency: 400, seed: 7, ...simulator });
      const direct = new URL(database.url);
      proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
      const viaProxy = new URL(database.url);
      viaProxy.hostname = '127.0.0.1';
      viaProxy.port = String(proxy.port);
      return { ...cliEnvFor(viaProxy.toString(), sim.url), CONVLOG_CONCURRENCY: '2' };
    },
    async storing() {
      await vi.waitUntil(async () => (await self.database.pool.query(`select count(*)::int as n from zendesk.conversation_events`)).rows[0].n > 0, {
        timeout: 30_000,
        interval: 100,
      });
    },
    async busyWorker() {
      const env = await self.env();
      const worker = startConvlog(['work', '--until-idle', '--give-up-after', '3', '--concurrency', '2'], { env });
      const enqueue = startConvlog(['enqueue', '--range', '1..40'], { env });
      expect((await enqueue.exited).code, enqueue.stderr()).toBe(0);
      await self.storing();
      return worker;
    },
  };
  return self;
}

/** The one line of stderr that is not a JSON log record. */
export function plainLine(command: Convlog): string {
  const plain = command.stderr().split('\n').filter((line) => line !== '' && !line.startsWith('{'));
  expect(plain, command.stderr().slice(-3000)).toHaveLength(1);
  return plain[0];
}

/** Exit 2 and the one line of a `work --until-idle` that gave up on Postgres. */
export function expectGaveUpOnPostgres(worker: Convlog, exit: Exit): void {
  expect(exit.code, worker.stderr().slice(-3000)).toBe(2);
  expect(plainLine(worker)).toMatch(/^convlog work: cannot connect to Postgres at 127\.0\.0\.1:\d+\/\S+: .*; --until-idle gave up after \d+ s without it \(--give-up-after\)/);
}

/** `sync` ended within `ms`, a minute or more after Postgres went silent at `silencedAt`: exit 2, one line. */
export async function expectSyncGaveUp(sync: Convlog, silencedAt: number, ms: number): Promise<void> {
  const exit = await endedWithin(sync, ms);
  expect(exit, sync.stderr().slice(-3000)).not.toBe('running');
  if (exit === 'running') return;
  expect(exit.code, sync.stderr().slice(-3000)).toBe(2);
  // Not before a minute: a restart or a failover shorter than that is ridden out.
  expect(exit.at - silencedAt).toBeGreaterThanOrEqual(60_000);
  // Its progress lines aside, one line.
  const errors = sync.stderr().split('\n').filter((line) => line.startsWith('convlog sync:'));
  expect(errors, sync.stderr().slice(-3000)).toEqual([
    expect.stringMatching(
      /^convlog sync: cannot connect to Postgres at 127\.0\.0\.1:\d+\/\S+: no answer in time \(.*\) \(check DATABASE_URL\); sync gave up after \d+ s without an answer; the tickets still queued are the next run's$/,
    ),
  ]);
}
