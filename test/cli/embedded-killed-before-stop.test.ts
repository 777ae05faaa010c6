// A command stops the embedded Postgres it started when it ends (src/db/embedded.ts). A server
// killed outright first (kill -9, the OOM killer) has nothing left to stop: the command still ends
// as a failure does, rather than wait for the exit of a process that exited already (with nothing
// else to wait on, Node then ends it: exit 13). db-server, whose server is killed under it, too.
import pg from 'pg';
import fs from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/db/postmaster.ts';
import { endedWithin, killAll, startConvlog, type Convlog } from '../helpers/cli.ts';
import { createEmbeddedCluster, until, type EmbeddedCluster } from '../helpers/embedded-cluster.ts';

let cluster: EmbeddedCluster;

beforeAll(async () => {
  cluster = await createEmbeddedCluster('convlog-killed-');
}, 150_000);

afterEach(async () => {
  await killAll();
  await cluster.stopLeftOver();
});
afterAll(() => cluster?.remove());

/** The backend running a statement containing `marker` on the cluster's server, if any (none while it is not up). */
async function backendRunning(marker: string): Promise<number | undefined> {
  const pid = cluster.postmaster();
  if (!pid || !isAlive(pid)) return undefined;
  const client = new pg.Client({ connectionString: cluster.url('postgres') });
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_activity where query like $1 and pid <> pg_backend_pid()', [`%${marker}%`]);
    return rows[0]?.pid;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => {});
  }
}

describe('an embedded Postgres killed outright under the command that started it', { timeout: 120_000 }, () => {
  it('does not keep the command from ending', async () => {
    const marker = `killed_${process.pid}`;
    const query = startConvlog(['query', `select pg_sleep(600), '${marker}'`], { env: { ...cluster.env, LOG_LEVEL: 'warn' } });
    let backend: number | undefined;
    await until(async () => (backend = await backendRunning(marker)) !== undefined, 'the query to run on the server its command started');
    const postmaster = cluster.postmaster()!;

    // The server's end seen by the command (its child reaped) before its query fails: a backend
    // ends with its postmaster, so it is held until then.
    process.kill(backend!, 'SIGSTOP');
    process.kill(postmaster, 'SIGKILL');
    await until(() => !fs.existsSync(`/proc/${postmaster}`), 'the command to reap its killed server');
    process.kill(backend!, 'SIGKILL');
    const exit = await endedWithin(query, 30_000);
    expect(exit, query.stderr()).not.toBe('running');
    if (exit === 'running') return;
    // Its own line and exit code: not Node's "unsettled top-level await" and exit 13, a command
    // left waiting on nothing (the stop of a server that had exited).
    expect(query.stderr()).not.toMatch(/unsettled top-level await/);
    // And the line work and sync give (ctx.failWhen, openCommandDatabase in src/commands/runtime.ts):
    // the server's end, exit 2, not the dropped connection met first as "an unexpected error", exit 1.
    expect(exit.code, query.stderr()).toBe(2);
    expect(query.stderr()).toMatch(/^convlog query: the embedded Postgres in .+ stopped .*; run the command again$/m);
    expect(query.stderr()).not.toMatch(/unexpected error/);
    expect(isAlive(postmaster)).toBe(false);
  });

  it('ends db-server with its one line, exit 2', async () => {
    const server = await cluster.startServer({ LOG_LEVEL: 'warn' });
    const postmaster = cluster.postmaster()!;

    process.kill(postmaster, 'SIGKILL');
    const exit = await endedWithin(server, 30_000);
    expect(exit, server.stderr()).not.toBe('running');
    if (exit === 'running') return;
    expect(exit.code, server.stderr()).toBe(2);
    expect(server.stderr().trim().split('\n')).toContain(`convlog db-server: the embedded Postgres (pid ${postmaster}) stopped on its own; run convlog db-server again`);
  });

  it('lets the command run again at once, as its line says, wait for the killed server\'s processes to end', async () => {
    const marker = `left_${process.pid}`;
    const query = startConvlog(['query', `select pg_sleep(600), '${marker}'`], { env: { ...cluster.env, LOG_LEVEL: 'warn' } });
    let backend: number | undefined;
    await until(async () => (backend = await backendRunning(marker)) !== undefined, 'the query to run on the server its command started');
    // A backend of the killed server that has not yet noticed: still attached to its shared memory.
    process.kill(backend!, 'SIGSTOP');
    process.kill(cluster.postmaster()!, 'SIGKILL');
    const ended = await endedWithin(query, 30_000);
    expect(ended, query.stderr()).not.toBe('running');

    // Run again at once: Postgres refuses to start beside that backend ("pre-existing shared
    // memory block ... is still in use"), and the command said so and ended, exit 2.
    const again = startConvlog(['status'], { env: { ...cluster.env, LOG_LEVEL: 'info' } });
    try {
      await until(() => /waiting for the processes of the embedded Postgres killed before to end/.test(again.stderr()), 'the command to wait', 30_000);
    } finally {
      process.kill(backend!, 'SIGKILL');
    }
    const exit = await endedWithin(again, 60_000);
    expect(exit, again.stderr()).not.toBe('running');
    if (exit === 'running') return;
    expect(exit.code, again.stderr()).toBe(0);
  });
});
