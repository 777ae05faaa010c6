// A database or login whose default transaction isolation is serializable (a DBA's choice for
// people's transactions) made convlog's statements, written for read committed, fail by the
// hundred: 651 "could not serialize access" for 400 simulator tickets, and a sync still crawling
// through retries after two minutes. Every connection of convlog's pools (its own, the looks',
// pg-boss's) now runs at read committed whatever the default. So with a statement_timeout and a
// lock_timeout meant for people's queries: with a second's limit, `dequeue --all` of 300,000
// tickets failed as "an unexpected error".
import pg from 'pg';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { connect } from '../../src/db/connection.ts';
import { openLookPool } from '../../src/db/look-pool.ts';
import { silentLogger } from '../../src/log.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { runCli } from '../helpers/cli.ts';
import { adminQuery, createEmptyDatabase } from '../helpers/database.ts';
import { cliEnvFor } from '../helpers/sync-fixture.ts';

let empty: { url: string; drop(): Promise<void> };
let sim: Simulator;

beforeAll(async () => {
  empty = await createEmptyDatabase();
  await adminQuery(inject('pgAdminUrl'), `alter database ${new URL(empty.url).pathname.slice(1)} set default_transaction_isolation = 'serializable'`);
  sim = await startSimulator({ tickets: 120, rateLimit: 0 });
});

afterAll(async () => {
  await sim?.close();
  await empty?.drop();
});

it("runs convlog's own and its looks' connections at read committed", async () => {
  const plain = new pg.Client({ connectionString: empty.url });
  await plain.connect();
  expect((await plain.query('show transaction_isolation')).rows[0].transaction_isolation).toBe('serializable');
  await plain.end();
  const database = await connect(empty.url, silentLogger, 2);
  const looks = openLookPool(database.pool, 5_000);
  try {
    expect((await database.pool.query('show transaction_isolation')).rows[0].transaction_isolation).toBe('read committed');
    expect((await looks.pool.query('show transaction_isolation')).rows[0].transaction_isolation).toBe('read committed');
  } finally {
    await looks.close();
    await database.close();
  }
});

it('syncs many tickets at once without a serialization failure', { timeout: 120_000 }, async () => {
  const run = await runCli(['sync', '--range', '1..120', '--concurrency', '8'], { env: cliEnvFor(empty.url, sim.url), timeoutMs: 110_000 });
  expect(run.code, run.stderr.slice(-2000)).toBe(0);
  expect(run.stdout).toMatch(/^synced 120, not_found 0, forbidden 0, failed 0 /m);
  expect(run.stderr).not.toContain('could not serialize');
});

it('does the work a statement_timeout or lock_timeout of the database would cancel: a large dequeue, a long ticket', { timeout: 120_000 }, async () => {
  const limited = await createEmptyDatabase();
  const big = await startSimulator({ tickets: 1, rateLimit: 0, ticketSizes: { 1: 20_000 } });
  try {
    const name = new URL(limited.url).pathname.slice(1);
    await adminQuery(inject('pgAdminUrl'), `alter database ${name} set statement_timeout = '100ms'`);
    await adminQuery(inject('pgAdminUrl'), `alter database ${name} set lock_timeout = '100ms'`);
    const plain = new pg.Client({ connectionString: limited.url });
    await plain.connect();
    expect((await plain.query('show statement_timeout')).rows[0].statement_timeout).toBe('100ms');
    await plain.end();
    const env = cliEnvFor(limited.url, big.url);

    // Each of enqueue's batches is one statement; dequeue --all is one.
    const enqueue = await runCli(['enqueue', '--range', '2..150001'], { env, timeoutMs: 60_000 });
    expect(enqueue.code, enqueue.stderr.slice(-2000)).toBe(0);
    const dequeue = await runCli(['dequeue', '--all'], { env, timeoutMs: 60_000 });
    expect(dequeue.code, dequeue.stderr.slice(-2000)).toBe(0);
    expect(dequeue.stdout).toMatch(/150,000/);

    // 20,000 events: the run's end (the ticket's upkeep) is one statement over all of them.
    const sync = await runCli(['sync', '1'], { env, timeoutMs: 90_000 });
    expect(sync.code, sync.stderr.slice(-2000)).toBe(0);
    expect(sync.stdout).toMatch(/^synced 1, not_found 0, forbidden 0, failed 0 .*\b20,000 events\b/m);
    expect(sync.stderr).not.toContain('statement timeout');
  } finally {
    await big.close();
    await limited.drop();
  }
});

it('migrates and syncs on a database whose transaction_timeout and idle timeouts are meant for people', { timeout: 120_000 }, async () => {
  const limited = await createEmptyDatabase();
  const small = await startSimulator({ tickets: 3, rateLimit: 0 });
  try {
    const name = new URL(limited.url).pathname.slice(1);
    const plain = new pg.Client({ connectionString: limited.url });
    await plain.connect();
    // transaction_timeout is Postgres 17's: a server of your own (TEST_DATABASE_URL) may be older.
    const has17 = (await plain.query(`select current_setting('transaction_timeout', true) is not null as has`)).rows[0].has as boolean;
    await plain.end();
    if (has17) await adminQuery(inject('pgAdminUrl'), `alter database ${name} set transaction_timeout = '150ms'`);
    await adminQuery(inject('pgAdminUrl'), `alter database ${name} set idle_in_transaction_session_timeout = '50ms'`);
    await adminQuery(inject('pgAdminUrl'), `alter database ${name} set idle_session_timeout = '200ms'`);
    const env = cliEnvFor(limited.url, small.url);
    const migrate = await runCli(['migrate'], { env, timeoutMs: 60_000 });
    expect(migrate.code, migrate.stderr.slice(-2000)).toBe(0);
    const sync = await runCli(['sync', '1', '2', '3'], { env, timeoutMs: 60_000 });
    expect(sync.code, sync.stderr.slice(-2000)).toBe(0);
    expect(sync.stdout).toMatch(/^synced 3, not_found 0, forbidden 0, failed 0 /m);
  } finally {
    await small.close();
    await limited.drop();
  }
});
