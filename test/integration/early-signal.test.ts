// Ctrl-C or SIGTERM in the first second or so, while the command's modules load and before
// src/cli.ts has handlers of its own, used to end the process without a word. bin/convlog.js
// keeps it from its first line after the re-exec with heap flags, and src/cli.ts stops the command
// before it starts: one line, and the process ends as that signal ends it. Node's own start
// (before any JavaScript runs, twice with the re-exec) stays uncovered, so each attempt waits a
// little longer after the re-exec until one lands after it.
import fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createEmptyDatabase } from '../helpers/database.ts';
import { startConvlog, type Convlog, type Exit } from '../helpers/cli.ts';
import { cliEnvFor } from '../helpers/sync-fixture.ts';
import pg from 'pg';

let sim: Simulator;
let database: { url: string; drop(): Promise<void> };

beforeAll(async () => {
  sim = await startSimulator({ tickets: 3 });
  // No migrations: anything a started command did would show as a table.
  database = await createEmptyDatabase();
});
afterAll(async () => {
  await sim?.close();
  await database?.drop();
});

/** Whether the process has replaced itself with the heap flags (bin/convlog.js, for sync and work). */
const reExecuted = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--max-old-space-size');
  } catch {
    return false;
  }
};

/** Sends `signal` `delayMs` after the re-exec; the first attempt that says something, or the last. */
async function signalledEarly(args: string[], signal: NodeJS.Signals): Promise<{ run: Convlog; exit: Exit }> {
  let last: { run: Convlog; exit: Exit } | undefined;
  for (const delayMs of [30, 150, 300, 500, 800]) {
    const run = startConvlog(args, { env: { ...cliEnvFor(database.url, sim.url), LOG_LEVEL: 'info' } });
    while (!reExecuted(run.pid) && run.process.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 2));
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    run.kill(signal);
    last = { run, exit: await run.exited };
    if (run.stderr() !== '' || run.stdout() !== '') return last;
  }
  return last!;
}

async function tables(): Promise<number> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>("select count(*)::int as n from pg_tables where schemaname not in ('pg_catalog', 'information_schema')");
    return rows[0].n;
  } finally {
    await client.end();
  }
}

it('Ctrl-C before sync has started says so in one line and ends as SIGINT does, changing nothing', { timeout: 60_000 }, async () => {
  const { run, exit } = await signalledEarly(['sync', '1', '2', '3'], 'SIGINT');
  expect(run.stderr()).toBe('convlog sync: interrupted (SIGINT) before starting; nothing was changed\n');
  expect(run.stdout()).toBe('');
  // As the signal ends a process: a shell shows exit status 130.
  expect(exit).toMatchObject({ code: null, signal: 'SIGINT' });
  expect(await tables()).toBe(0);
});

it('SIGTERM before work has started does the same: one line, and a stop by SIGTERM (a clean stop for systemd)', { timeout: 60_000 }, async () => {
  const { run, exit } = await signalledEarly(['work'], 'SIGTERM');
  expect(run.stderr()).toBe('convlog work: interrupted (SIGTERM) before starting; nothing was changed\n');
  expect(exit).toMatchObject({ code: null, signal: 'SIGTERM' });
  expect(await tables()).toBe(0);
});
