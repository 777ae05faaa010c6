// The demo's "this run N new events" counted every event first stored since its sync began, so two
// demos on one folder at once each counted the other's. It counts the events of the tickets it ran
// itself. Another process's store is played here by the test: while a demo of 60 tickets runs
// again (nothing new to store), ticket 70, which it does not run, gets events stored meanwhile.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { openDatabase } from '../../src/db/connection.ts';
import { silentLogger } from '../../src/log.ts';
import { runProgram, startConvlog } from '../helpers/cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-demo-own-'));
fs.chmodSync(dir, 0o755); // the embedded Postgres runs as user "postgres" when tests run as root
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});
const env = { CONVLOG_DATA_DIR: path.join(dir, 'data') };
const thisRun = (stdout: string) => Number(/^ {2}this run {3}([\d,]+) new events?/m.exec(stdout)?.[1].replace(/,/g, ''));

it("counts as this run's new events only those of the tickets it ran", { timeout: 300_000 }, async () => {
  const first = await runProgram(['demo', '--tickets', '80'], { cwd: dir, env, timeoutMs: 240_000 });
  expect(first.code, first.stderr).toBe(0);

  const database = await openDatabase(loadConfig({ CONVLOG_DATA_DIR: path.join(dir, 'data', 'demo') }), silentLogger);
  try {
    const { pool } = database;
    const stored = (await pool.query<{ n: number }>('select count(*)::int as n from zendesk.conversation_events')).rows[0].n;
    expect(thisRun(first.stdout)).toBe(stored);
    const other = (await pool.query<{ n: number }>('select count(*)::int as n from zendesk.conversation_events where ticket_id = 70')).rows[0].n;
    expect(other).toBeGreaterThan(0);

    const launched = (await pool.query<{ now: string }>('select now()::text as now')).rows[0].now;
    const again = startConvlog(['demo', '--tickets', '60'], { cwd: dir, env });
    // Once its sync has begun, "another process" stores ticket 70's events.
    for (;;) {
      const { rows } = await pool.query('select 1 from zendesk.ticket_sync where started_at > $1 limit 1', [launched]);
      if (rows.length > 0) break;
      if (again.process.exitCode !== null) throw new Error(`the demo ended before its sync was seen: ${again.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await pool.query('update zendesk.conversation_events set first_synced_at = clock_timestamp() where ticket_id = 70');
    const exit = await again.exited;
    expect(exit.code, again.stderr()).toBe(0);
    expect(thisRun(again.stdout())).toBe(0);
  } finally {
    await database.close();
  }
});
