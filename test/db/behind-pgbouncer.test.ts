// Convlog behind PgBouncer, which a proxy that treats start-ups and cancel keys as PgBouncer does
// stands in for. The looks' connection: PgBouncer refuses a start-up parameter it does not keep
// track of, so their time limits must not be start-up parameters, and under transaction pooling a
// session's settings stay with a server connection other clients then get, so they must not be
// session settings either. A person's query stopped with Ctrl-C: the process id a client is told
// is PgBouncer's, not a backend's, so only a cancel request with the client's key stops it.
import { afterEach, expect, it } from 'vitest';
import pg from 'pg';
import { openLookPool, type LookPool } from '../../src/db/look-pool.ts';
import { readAll } from '../helpers/read-all.ts';
import { Interrupted } from '../../src/errors/convlog-errors.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { runCli } from '../helpers/cli.ts';
import { cliEnvFor } from '../helpers/sync-fixture.ts';
import { startStartupCheckingProxy, type StartupCheckingProxy } from '../helpers/startup-checking-proxy.ts';

let database: TestDatabase | undefined;
let proxy: StartupCheckingProxy | undefined;
let sim: Simulator | undefined;
let look: LookPool | undefined;
let viaProxyPool: pg.Pool | undefined;
afterEach(async () => {
  await look?.close();
  await viaProxyPool?.end();
  await proxy?.close();
  await sim?.close();
  await database?.close();
  database = proxy = sim = look = viaProxyPool = undefined;
});

/** The test database's URL, through a new proxy that refuses start-ups as PgBouncer does. */
async function throughProxy(): Promise<string> {
  database = await createTestDatabase();
  const direct = new URL(database.url);
  proxy = await startStartupCheckingProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  const viaProxy = new URL(database.url);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  return viaProxy.toString();
}

it('logs in through PgBouncer, and the server still bounds its statements and its waits for a lock', async () => {
  viaProxyPool = new pg.Pool({ connectionString: await throughProxy() });
  look = openLookPool(viaProxyPool, 5_000, 300);
  const limits = `select current_setting('statement_timeout') as statement, current_setting('idle_in_transaction_session_timeout') as idle`;
  expect((await look.pool.query(limits)).rows).toEqual([{ statement: '5s', idle: '5s' }]);
  expect(proxy!.refused).toEqual([]);
  // Waiting behind a lock the test holds: the server ends the wait at 300 ms, long before 5 s.
  const holder = await database!.pool.connect();
  try {
    await holder.query('begin');
    await holder.query('lock table zendesk.ticket_sync in access exclusive mode');
    const started = Date.now();
    await expect(look.pool.query('select count(*) from zendesk.ticket_sync')).rejects.toMatchObject({ code: '55P03' });
    expect(Date.now() - started).toBeLessThan(3_000);
  } finally {
    await holder.query('rollback');
    holder.release();
  }
  // The connection is usable again, through drizzle as through pg.
  expect((await look.db.execute('select 1 as one')).rows).toEqual([{ one: 1 }]);
});

it('leaves the connection it looks on without settings of its own (under transaction pooling they would reach other clients)', async () => {
  database = await createTestDatabase();
  look = openLookPool(database.pool, 5_000, 300);
  await look.pool.query('select 1');
  const connection = await look.pool.connect();
  try {
    const { rows } = await connection.query(`select current_setting('statement_timeout') as statement, current_setting('lock_timeout') as lock`);
    expect(rows).toEqual([{ statement: '0', lock: '0' }]);
  } finally {
    connection.release();
  }
});

it('syncs tickets through PgBouncer (convlog sync, against the simulator)', { timeout: 90_000 }, async () => {
  const url = await throughProxy();
  sim = await startSimulator({ tickets: 3, rateLimit: 0, seed: 7 });
  const result = await runCli(['sync', '1', '2', '3'], { env: cliEnvFor(url, sim.url), timeoutMs: 80_000 });
  expect(result.code, result.stderr).toBe(0);
  expect(proxy!.refused).toEqual([]);
  const { rows } = await database!.pool.query(`select ticket_id::int as id, status from zendesk.ticket_sync order by ticket_id`);
  expect(rows).toEqual([1, 2, 3].map((id) => ({ id, status: 'synced' })));
});

it("cancels a person's query (query, enqueue --sql) stopped with Ctrl-C", { timeout: 60_000 }, async () => {
  viaProxyPool = new pg.Pool({ connectionString: await throughProxy() });
  const stop = new AbortController();
  const started = Date.now();
  const running = readAll(viaProxyPool, 'select pg_sleep(20)', 30_000, { signal: stop.signal });
  const sleeping = async () =>
    (await database!.pool.query(`select 1 from pg_stat_activity where datname = current_database() and state = 'active' and query = 'select pg_sleep(20)'`)).rowCount;
  await expect.poll(sleeping, { timeout: 10_000, interval: 50 }).toBe(1);
  stop.abort();
  await expect(running).rejects.toBeInstanceOf(Interrupted);
  expect(Date.now() - started).toBeLessThan(10_000);
  await expect.poll(sleeping, { timeout: 2_000, interval: 50 }).toBe(0);
});
