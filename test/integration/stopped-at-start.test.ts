// Ctrl-C or SIGTERM while a command is still starting (the embedded Postgres coming up, the
// migrations, the credential check) stops it before its worker takes a ticket. It used to be
// lost: the worker listened for the stop only from its start on, so `sync` and the demo synced
// every ticket and exited 0, and `work` ran on until a second signal.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';

let fixture: Fixture;
let dataDir: string;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 5, seed: 1 }, { queue: [] });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-stopped-at-start-'));
  // The embedded Postgres runs as `postgres` when the tests run as root: it must reach the folder.
  fs.chmodSync(dataDir, 0o755);
});
afterAll(async () => {
  await fixture?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

async function syncedTickets(): Promise<number> {
  const { rows } = await fixture.database.pool.query<{ n: number }>("select count(*)::int as n from zendesk.ticket_sync where status = 'synced'");
  return rows[0].n;
}

it('sync stopped while it starts queues nothing, says so in one line and exits 1', { timeout: 60_000 }, async () => {
  const result = await runCli(['sync', '--range', '1..5'], { env: fixture.env, signal: AbortSignal.abort(), timeoutMs: 30_000 });
  expect(result.code, result.stderr).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^convlog sync: interrupted while starting; nothing was queued\n$/);
  const { rows: marked } = await fixture.database.pool.query('select ticket_id from zendesk.ticket_sync');
  expect(marked).toEqual([]);
  // The ticket rows it reads by id beside the worker are stopped too: an interruption, not a warning.
  expect(result.stderr).not.toMatch(/could not read the queued tickets|operation was aborted/);
  expect(await syncedTickets()).toBe(0);
  // Its worker takes no job only to hand it back: no run of any ticket started.
  const { rows } = await fixture.database.pool.query<{ n: number }>('select coalesce(sum(attempts), 0)::int as n from zendesk.ticket_sync');
  expect(rows[0].n).toBe(0);
});

it('work on the embedded default, stopped while its Postgres starts, exits 0 instead of running on', { timeout: 90_000 }, async () => {
  // With DATABASE_URL, work notices a stop while it waits for Postgres; the embedded default
  // starts its server whatever happens, and then the worker must still see the stop.
  const env = { ...fixture.env, DATABASE_URL: undefined, CONVLOG_DATA_DIR: dataDir };
  const result = await runCli(['work'], { env, signal: AbortSignal.abort(), timeoutMs: 30_000 });
  expect(result.code, result.stderr).toBe(0);
});

it('work stopped while it waits for the migration lock takes no ticket and never says it started', { timeout: 60_000 }, async () => {
  expect((await runCli(['enqueue', '--range', '1..5'], { env: fixture.env })).code).toBe(0);
  // Another process migrating holds the lock: work is past its wait for Postgres, not yet working.
  const holder = await fixture.database.pool.connect();
  try {
    await holder.query('select pg_advisory_lock(7204315001)');
    const stop = new AbortController();
    const run = runCli(['work'], { env: { ...fixture.env, LOG_LEVEL: 'info' }, signal: stop.signal, timeoutMs: 30_000 });
    for (let tries = 0; ; tries++) {
      const { rows } = await holder.query(`select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like '%pg_advisory_lock%' and pid <> pg_backend_pid()`);
      if (rows.length > 0) break;
      if (tries > 200) throw new Error('work never waited for the migration lock');
      await new Promise((r) => setTimeout(r, 50));
    }
    stop.abort();
    await holder.query('select pg_advisory_unlock(7204315001)');
    const result = await run;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/worker started/);
    expect(result.stderr).toMatch(/stopped before taking any ticket/);
  } finally {
    holder.release();
  }
  const { rows } = await fixture.database.pool.query<{ n: number }>('select coalesce(sum(attempts), 0)::int as n from zendesk.ticket_sync');
  expect(rows[0].n).toBe(0);
});

it('work stopped before Postgres answered its start-up probe says it stopped, exit 0', { timeout: 60_000 }, async () => {
  const result = await runCli(['work'], { env: { ...fixture.env, LOG_LEVEL: 'info' }, signal: AbortSignal.abort(), timeoutMs: 30_000 });
  expect(result.code, result.stderr).toBe(0);
  expect(result.stderr).toMatch(/worker stopped before taking any ticket/);
});
