// The last convlog command using the embedded Postgres stops it (src/db/cluster-handoff.ts): an
// owner ending while another command still has sessions on the server leaves it running for
// them, and the last one to end stops it. A command whose server is killed under it ends at once,
// with one line and exit 2, instead of retrying a server that will not come back.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_DATABASE } from '../../src/db/embedded.ts';
import { MIGRATION_LOCK } from '../../src/db/migrate.ts';
import { isAlive, startTime } from '../../src/db/postmaster.ts';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { killAll, runProgram, startConvlog, type Convlog } from '../helpers/cli.ts';
import { createEmbeddedCluster, until, type EmbeddedCluster } from '../helpers/embedded-cluster.ts';

let cluster: EmbeddedCluster;
let sim: Simulator;
let env: Record<string, string | undefined>;

beforeAll(async () => {
  sim = await startSimulator({ tickets: 3, rateLimit: 0 });
  cluster = await createEmbeddedCluster('convlog-handoff-');
  env = {
    ...cluster.env,
    ZENDESK_BASE_URL: sim.url,
    ZENDESK_EMAIL: 'agent@example.com',
    ZENDESK_API_TOKEN: 'sim-token',
    CONVLOG_RATE_LIMIT: '100000',
    LOG_LEVEL: 'info',
  };
}, 150_000);

afterEach(async () => {
  await killAll();
  await cluster.stopLeftOver();
});
afterAll(async () => {
  await cluster?.remove();
  await sim?.close();
});

/**
 * The lines a command whose server was killed may give: naming the postgres process, or the owner
 * (the db-server) when that had ended already, having seen its server die first.
 */
function stoppedLines(postmaster: number, ownerPid: number): string[] {
  return [`postgres process ${postmaster} ended`, `its owner, convlog process ${ownerPid}, ended`].map(
    (ended) => `convlog work: the embedded Postgres in ${cluster.dataDir} stopped (${ended}); run the command again`,
  );
}

/** A db-server up, and a `work` sharing its server with at least one session open. */
async function workOnServer(workEnv = env) {
  const server = await cluster.startServer(env);
  const postmaster = cluster.postmaster()!;
  const work = startConvlog(['work'], { env: workEnv });
  // Two sessions at least (its queue's and its own): the line counts commands, not connections.
  await until(async () => (await otherSessions()) > 1, 'work to connect');
  return { server, postmaster, work };
}

/** `work`, its server killed under it, ends promptly with exit 2 and the one line of that end. */
async function expectEndedWithOneLine(work: Convlog, postmaster: number, ownerPid: number): Promise<void> {
  await until(() => work.process.exitCode !== null || work.process.signalCode !== null, 'work to end', 20_000);
  expect((await work.exited).code, work.stderr()).toBe(2);
  const lines = work.stderr().trim().split('\n');
  expect(lines, work.stderr()).toHaveLength(1);
  expect(stoppedLines(postmaster, ownerPid)).toContain(lines[0]);
}


/** The client sessions on the server but this one: db-server holds none once up, so they are `work`'s. */
async function otherSessions(): Promise<number> {
  const client = new pg.Client({ connectionString: cluster.url('postgres') });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>("select count(*)::int as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()");
    return rows[0].n;
  } finally {
    await client.end();
  }
}

describe('the embedded Postgres shared by several commands', { timeout: 150_000 }, () => {
  it('db-server stopped under a running work leaves it running for work; a status meanwhile leaves it too; work ending stops it', async () => {
    const { server, postmaster, work } = await workOnServer();

    server.kill('SIGTERM');
    expect((await server.exited).code, server.stderr()).toBe(0);
    expect(server.stderr()).toContain('embedded Postgres left running: other convlog commands still use it, and the last of them to end stops it');
    expect(server.stderr()).toMatch(/"msg":"the embedded Postgres is left running for 1 other convlog command; the last convlog command to end stops it"/);
    expect(isAlive(postmaster)).toBe(true);

    // A short command now finds no live owner: it must not stop the server under work either.
    const status = await runProgram(['status'], { env, timeoutMs: 90_000 });
    expect(status.code, status.stderr).toBe(0);
    expect(isAlive(postmaster)).toBe(true);
    expect(work.process.exitCode).toBeNull();
    expect(await otherSessions()).toBeGreaterThan(0);

    work.kill('SIGTERM');
    const ended = await work.exited;
    expect(ended.code, work.stderr()).toBe(0);
    expect(isAlive(postmaster), 'the last command to end left the server running').toBe(false);
  });

  it('a command still connecting (marked as a user, no session yet) keeps the server up when its owner ends', async () => {
    const server = await cluster.startServer(env);
    const postmaster = cluster.postmaster()!;
    // A process that has found the server and not yet connected: only its mark says it uses it.
    const user = spawn('sleep', ['60']);
    const mark = path.join(`${path.dirname(cluster.pidFile)}-owner`, `use-${user.pid}.json`);
    fs.writeFileSync(mark, JSON.stringify({ pid: user.pid, started: startTime(user.pid!) }));
    try {
      server.kill('SIGTERM');
      expect((await server.exited).code, server.stderr()).toBe(0);
      expect(isAlive(postmaster), 'the owner stopped the server under a command still connecting').toBe(true);
    } finally {
      user.kill('SIGKILL');
      await new Promise((resolve) => user.once('exit', resolve));
    }
    // Its user gone, the next command to end is the last one and stops it.
    const status = await runProgram(['status'], { env, timeoutMs: 90_000 });
    expect(status.code, status.stderr).toBe(0);
    expect(isAlive(postmaster), 'the last command to end left the server running').toBe(false);
  });

  it('a db-server killed outright under a running work: the next status adopts the server and leaves it to work, which stops it', async () => {
    const { server, postmaster, work } = await workOnServer();
    server.kill('SIGKILL');
    await server.exited;

    const status = await runProgram(['status'], { env, timeoutMs: 90_000 });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toContain(`"msg":"adopting the embedded Postgres convlog process ${server.pid} left running when it ended`);
    expect(status.stderr).toMatch(/"msg":"the embedded Postgres is left running for 1 other convlog command; the last convlog command to end stops it"/);
    expect(isAlive(postmaster)).toBe(true);
    expect(work.process.exitCode).toBeNull();

    work.kill('SIGTERM');
    expect((await work.exited).code, work.stderr()).toBe(0);
    expect(isAlive(postmaster), 'the last command to end left the server running').toBe(false);
  });

  it('a command whose server is killed under it ends promptly with one line and exit 2', async () => {
    const { server, postmaster, work } = await workOnServer({ ...env, LOG_LEVEL: 'warn' });

    process.kill(postmaster, 'SIGKILL');
    await expectEndedWithOneLine(work, postmaster, server.pid);
    server.kill('SIGKILL');
  });

  it('so does a command whose server is killed while it opens the database (waiting to migrate)', async () => {
    const server = await cluster.startServer(env);
    const postmaster = cluster.postmaster()!;
    const holder = new pg.Client({ connectionString: cluster.url(EMBEDDED_DATABASE) });
    holder.on('error', () => {});
    await holder.connect();
    // Another process's migration: the command waits for it, as at a release's first start.
    await holder.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const work = startConvlog(['work'], { env: { ...env, LOG_LEVEL: 'warn' } });
    await until(async () => {
      const { rows } = await holder.query<{ n: number }>("select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted");
      return rows[0].n > 0;
    }, 'work to wait for the migration lock');

    process.kill(postmaster, 'SIGKILL');
    await expectEndedWithOneLine(work, postmaster, server.pid);
    server.kill('SIGKILL');
  });
});
