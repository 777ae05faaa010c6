// Two commands ending together (src/db/cluster-handoff.ts, lastOut): the one holding the claim to
// look counts the other, whose mark is still there, and leaves the server running; the other, its
// mark gone a moment later, finds the claim held. It waits for that look and tries again, so that
// the server, used by no command, is stopped. The test process holds the claim to look as another
// command ending would (claimIfFree), while a `query` sharing the server ends.
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOOK_WAIT_MS } from '../../src/db/cluster-handoff.ts';
import { claimIfFree } from '../../src/db/cluster-owner.ts';
import { EMBEDDED_DATABASE } from '../../src/db/embedded.ts';
import { isAlive } from '../../src/db/postmaster.ts';
import { killAll, startConvlog, type Convlog } from '../helpers/cli.ts';
import { createEmbeddedCluster, until, type EmbeddedCluster } from '../helpers/embedded-cluster.ts';

let cluster: EmbeddedCluster;
let release: (() => void) | undefined;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const LOCK = 7_300_002;

beforeAll(async () => {
  cluster = await createEmbeddedCluster('convlog-last-out-');
}, 150_000);

afterEach(async () => {
  release?.();
  release = undefined;
  await killAll();
  await cluster.stopLeftOver();
});
afterAll(() => cluster?.remove());

/** A session of the test's own (not named `convlog/<pid>`: never counted as a command's). */
async function connect(database = 'postgres'): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: cluster.url(database) });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/**
 * A `query` sharing the server, its owner (a db-server) ended and the server left to it: it waits
 * for the test's advisory lock, and ends, as the last command using the server, once `lock` ends.
 */
async function lastUser(): Promise<{ query: Convlog; lock: pg.Client; mark: string; postmaster: number }> {
  const server = await cluster.startServer({ LOG_LEVEL: 'info' });
  const postmaster = cluster.postmaster()!;
  const lock = await connect(EMBEDDED_DATABASE);
  await lock.query('select pg_advisory_lock($1)', [LOCK]);
  const query = startConvlog(['query', `select pg_advisory_xact_lock_shared(${LOCK}) is null as got`], { env: cluster.env });
  await until(async () => {
    const { rows } = await lock.query<{ n: number }>("select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted");
    return rows[0].n > 0 || query.process.exitCode !== null;
  }, 'the query to wait for the lock');
  server.kill('SIGTERM');
  expect((await server.exited).code, server.stderr()).toBe(0);
  expect(server.stderr()).toContain('left running for 1 other convlog command');
  const mark = path.join(`${path.dirname(cluster.pidFile)}-owner`, `use-${query.pid}.json`);
  expect(fs.existsSync(mark), 'the query keeps a use mark').toBe(true);
  return { query, lock, mark, postmaster };
}

/** The claim, taken by the test process as another convlog process would take it. */
function hold(looking: boolean, postmaster?: number): void {
  const claim = claimIfFree(path.dirname(cluster.pidFile), { looking });
  if (claim.kind === 'held') throw new Error(`the claim is held by process ${claim.owner.pid}`);
  if (postmaster) claim.ownership.running(postmaster);
  release = claim.ownership.release;
}

describe('the last two convlog commands ending together', { timeout: 120_000 }, () => {
  it("one whose mark the other's look counted waits for that look, then stops the server", async () => {
    const { query, lock, mark, postmaster } = await lastUser();
    // Another command ending: it holds the claim to look, and counts the query's mark as a user.
    hold(true);
    await lock.end();
    // Its mark gone, the query has tried the claim (in the same tick) and found the look holding it.
    await until(() => !fs.existsSync(mark), 'the query to end and remove its mark');
    await pause(500);
    // That look, having counted the query, leaves the server running and gives up the claim.
    release!();
    release = undefined;
    expect((await query.exited).code, query.stderr()).toBe(0);
    await until(() => !isAlive(postmaster), 'the server to stop', 15_000).catch(() => {});
    expect(isAlive(postmaster), `the server was left running with no convlog command using it: ${query.stderr()}`).toBe(false);
  });

  it('a look that does not end is waited for a bounded time: the command ends, leaving the server to it', async () => {
    const { query, lock, mark, postmaster } = await lastUser();
    hold(true);
    await lock.end();
    await until(() => !fs.existsSync(mark), 'the query to end and remove its mark');
    const markGone = Date.now();
    expect((await query.exited).code, query.stderr()).toBe(0);
    expect(Date.now() - markGone).toBeGreaterThanOrEqual(LOOK_WAIT_MS - 500);
    expect(Date.now() - markGone).toBeLessThan(LOOK_WAIT_MS + 5_000);
    expect(isAlive(postmaster)).toBe(true);
  });

  it('a live owner holding the claim is not waited for: the command ends at once, leaving the server to it', async () => {
    const { query, lock, mark, postmaster } = await lastUser();
    // A command that runs the server (db-server taking it over): it stops it when it ends.
    hold(false, postmaster);
    await lock.end();
    await until(() => !fs.existsSync(mark), 'the query to end and remove its mark');
    const markGone = Date.now();
    expect((await query.exited).code, query.stderr()).toBe(0);
    expect(Date.now() - markGone, 'the command waited on a live owner').toBeLessThan(LOOK_WAIT_MS / 2);
    expect(isAlive(postmaster)).toBe(true);
  });
});
