// A database or login whose default transaction isolation is serializable (a DBA's choice for
// people's transactions) made convlog's statements, written for read committed, fail by the
// hundred: 651 "could not serialize access" for 400 simulator tickets, and a sync still crawling
// through retries after two minutes. Every connection of convlog's pools (its own, the looks',
// pg-boss's) now runs at read committed whatever the default.
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
