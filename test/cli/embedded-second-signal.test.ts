// A second Ctrl-C ("send again to exit at once") while a command is starting the embedded
// Postgres exits at once (process.exit). The server runs in a process group of its own,
// so unless the command's 'exit' hook stops it, it keeps running after the command, until a later
// command adopts it (test/cli/embedded-orphan.test.ts). With other convlog commands using it, the
// hooks of every command count their use marks (stopAtExit, src/db/cluster-handoff.ts): the
// server outlives a command exiting at once while another still runs, and not the last of them.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_DATABASE } from '../../src/db/embedded.ts';
import { isAlive } from '../../src/db/postmaster.ts';
import { DOUBLE_DELIVERY_MS } from '../../src/cli.ts';
import { killAll, startConvlog, type Convlog } from '../helpers/cli.ts';
import { createEmbeddedCluster, until, type EmbeddedCluster } from '../helpers/embedded-cluster.ts';

let cluster: EmbeddedCluster;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  // Created once (initdb), so that the runs below only start it.
  cluster = await createEmbeddedCluster('convlog-second-signal-');
  expect(cluster.postmaster()).toBeUndefined();
}, 150_000);

afterEach(async () => {
  await killAll();
  await cluster.stopLeftOver();
});
afterAll(() => cluster?.remove());

describe('embedded Postgres and a second Ctrl-C', { timeout: 120_000 }, () => {
  // status starts it as every command does (src/db/embedded.ts); db-server as src/db/serve-embedded.ts.
  // A second signal ends the process as that signal does: 130 for SIGINT, 143 for SIGTERM.
  it.each([
    ['status', 'SIGINT', 130],
    ['db-server', 'SIGTERM', 143],
  ] as const)('%s stops the embedded Postgres it was starting when a second %s exits at once', async (command, signal, code) => {
    // info: the first signal's "send again" line is the cue for the second.
    const proc = startConvlog([command], { env: { ...cluster.env, LOG_LEVEL: 'info' } });
    const started = Date.now();
    while (!fs.existsSync(cluster.pidFile)) {
      if (Date.now() - started > 60_000) throw new Error(`no postmaster.pid: ${proc.stderr()}`);
      await pause(2);
    }
    // The server is starting; the command is inside pg.start(). Held there (the postmaster
    // stopped) until the second signal: the pause below would otherwise let a fast start finish
    // and the first signal end the command gracefully, the second then meeting a process exiting.
    let postmaster: number | undefined;
    while (!(postmaster = cluster.postmaster())) await pause(2);
    process.kill(postmaster, 'SIGSTOP');
    try {
      // The signal twice, the second once the first is handled: two sent at once to a process not
      // yet scheduled (a busy machine) arrive as one, as the kernel keeps one pending signal of a kind.
      proc.kill(signal);
      const sent = Date.now();
      while (!/send again to exit at once/.test(proc.stderr() + proc.stdout())) {
        if (Date.now() - sent > 30_000) throw new Error(`the first ${signal} was not acknowledged: ${proc.stderr()}`);
        await pause(2);
      }
      // A second stop, not the first delivered twice (DOUBLE_DELIVERY_MS, src/cli.ts).
      await pause(DOUBLE_DELIVERY_MS + 100);
      proc.kill(signal);
      const exit = await proc.exited;
      expect(exit.code, proc.stderr()).toBe(code);
    } finally {
      // The stop the exit hook sent waits, pending, until the postmaster runs again.
      process.kill(postmaster, 'SIGCONT');
    }
    // Give a stopping server time to go.
    await pause(3_000);
    const pid = cluster.postmaster();
    expect(pid !== undefined && isAlive(pid), `postmaster ${pid} still running after convlog exited`).toBe(false);
  });
});


/** A session of the test's own on the server (psql-like: never counted as a convlog command's). */
async function connect(database = 'postgres'): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: cluster.url(database) });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** The backend running a statement containing `marker`, if any (none while the server is not up). */
async function backendRunning(marker: string): Promise<number | undefined> {
  const pid = cluster.postmaster();
  if (!pid || !isAlive(pid)) return undefined;
  let client: pg.Client | undefined;
  try {
    client = await connect();
    const { rows } = await client.query<{ pid: number }>('select pid from pg_stat_activity where query like $1 and pid <> pg_backend_pid()', [`%${marker}%`]);
    return rows[0]?.pid;
  } catch {
    return undefined;
  } finally {
    await client?.end().catch(() => {});
  }
}

/**
 * Ends the backend of a command that exited at once: its statement may never have been cancelled
 * (the cancel goes out after the first Ctrl-C, asynchronously), and it would run until its timeout.
 */
async function endBackend(pid: number): Promise<void> {
  const client = await connect();
  try {
    await client.query('select pg_terminate_backend($1)', [pid]);
  } finally {
    await client.end();
  }
  await until(() => backendGone(pid), `backend ${pid} to end`);
}

/** Whether backend `pid` is still on the server (a command gone leaves its backend a moment after SIGCONT). */
async function backendGone(pid: number): Promise<boolean> {
  const client = await connect();
  try {
    const { rows } = await client.query('select 1 from pg_stat_activity where pid = $1', [pid]);
    return rows.length === 0;
  } finally {
    await client.end();
  }
}

const LOCK = 7_300_001;

/** Keeps a convlog process a while after its exit hooks have run (test/helpers/exit-linger.mjs). */
const EXIT_LINGER = fileURLToPath(new URL('../helpers/exit-linger.mjs', import.meta.url));

/** Whether a process's use mark (pg-owner/use-<pid>.json) says it uses the server. */
function isUser(mark: string): boolean {
  try {
    return JSON.parse(fs.readFileSync(mark, 'utf8')).exiting !== true;
  } catch {
    return false;
  }
}

/**
 * `convlog query` running on the server, once its statement runs there: `sleep` sleeps (its
 * backend to be held with SIGSTOP, so the command is still stopping when a second Ctrl-C comes),
 * `lock` waits for the test's advisory lock (and ends, its row printed, once that is released).
 */
async function runningQuery(name: string, kind: 'sleep' | 'lock', env: Record<string, string> = {}): Promise<{ command: Convlog; backend: number }> {
  const marker = `${name}_${process.pid}`;
  const sql = kind === 'sleep' ? `select pg_sleep(600), '${marker}'` : `select pg_advisory_xact_lock_shared(${LOCK}) is null as got, '${marker}' as who`;
  const command = startConvlog(['query', sql], { env: { ...cluster.env, LOG_LEVEL: 'info', ...env } });
  let backend: number | undefined;
  await until(async () => (backend = await backendRunning(marker)) !== undefined || command.process.exitCode !== null, `the ${name} query to run`);
  expect(backend, command.stderr()).toBeDefined();
  return { command, backend: backend! };
}

/** The first Ctrl-C, acknowledged: the command is stopping, its backend held so that it stays so. */
async function stopping(command: Convlog): Promise<void> {
  command.kill('SIGINT');
  await until(() => /send again to exit at once/.test(command.stderr()), 'the first SIGINT to be acknowledged', 30_000);
  // The next is a second stop, not the first delivered twice (DOUBLE_DELIVERY_MS, src/cli.ts).
  await pause(DOUBLE_DELIVERY_MS + 100);
}

/**
 * A second Ctrl-C to this query alone, its backend held (SIGSTOP) so that the command is still
 * stopping when it comes: it exits at once (130); its backend is then ended, as its cancel may
 * never have gone out.
 */
async function exitAtOnce(query: { command: Convlog; backend: number }): Promise<void> {
  process.kill(query.backend, 'SIGSTOP');
  try {
    await stopping(query.command);
    query.command.kill('SIGINT');
    expect((await query.command.exited).code, query.command.stderr()).toBe(130);
  } finally {
    process.kill(query.backend, 'SIGCONT');
  }
  await endBackend(query.backend);
}

describe('a second Ctrl-C while several commands share the embedded Postgres', { timeout: 150_000 }, () => {
  it('to every command in the same tick (one foreground process group): the server is stopped', async () => {
    const owner = await runningQuery('owner', 'sleep');
    const postmaster = cluster.postmaster()!;
    const user = await runningQuery('user', 'sleep');
    const backends = [owner.backend, user.backend];
    for (const backend of backends) process.kill(backend, 'SIGSTOP');
    try {
      await Promise.all([stopping(owner.command), stopping(user.command)]);
      // Both hooks run at once, each seeing the other's mark until the other removes it.
      owner.command.kill('SIGINT');
      user.command.kill('SIGINT');
      expect((await owner.command.exited).code, owner.command.stderr()).toBe(130);
      expect((await user.command.exited).code, user.command.stderr()).toBe(130);
    } finally {
      for (const backend of backends) process.kill(backend, 'SIGCONT');
    }
    await until(() => !isAlive(postmaster), 'the server to be stopped, both commands gone', 30_000).catch(() => {});
    expect(isAlive(postmaster), `postmaster ${postmaster} still running after every command using it exited`).toBe(false);
  });

  it('to the owner only: the server is left running for the command sharing it, whose query completes, and which stops it when it ends', async () => {
    const owner = await runningQuery('owner', 'sleep');
    const postmaster = cluster.postmaster()!;
    const lock = await connect(EMBEDDED_DATABASE);
    await lock.query('select pg_advisory_lock($1)', [LOCK]);
    const user = await runningQuery('user', 'lock');
    await exitAtOnce(owner);
    expect(isAlive(postmaster), 'the owner exiting at once stopped the server under the command sharing it').toBe(true);
    expect(user.command.process.exitCode, user.command.stderr()).toBeNull();

    await lock.end();
    const ended = await user.command.exited;
    expect(ended.code, user.command.stderr()).toBe(0);
    expect(user.command.stdout()).toContain(`user_${process.pid}`);
    expect(isAlive(postmaster), 'the last command to end left the server running').toBe(false);
  });

  it("to a command sharing a db-server's server: the server keeps running for db-server, which stops it when it ends", async () => {
    // db-server marks itself, then opens the cluster again in the same process to migrate: that
    // second use ending took the one mark away, and the sharer's hook, finding no other, stopped it.
    const server = await cluster.startServer();
    const postmaster = cluster.postmaster()!;
    const user = await runningQuery('user', 'sleep');
    await exitAtOnce(user);
    expect(isAlive(postmaster), "a command sharing db-server's server stopped it under db-server").toBe(true);
    expect(server.process.exitCode, server.stderr()).toBeNull();

    server.kill('SIGTERM');
    expect((await server.exited).code, server.stderr()).toBe(0);
    expect(isAlive(postmaster), 'db-server, the last to end, left the server running').toBe(false);
  });

  it("to a command sharing db-server's server, still exiting when db-server ends: db-server, the last to end, stops it", async () => {
    // The sharer's exit hook has run (the server left to db-server) but its process, lingering, is
    // not yet gone: its session, open until then, must not keep the server up after db-server.
    const server = await cluster.startServer();
    const postmaster = cluster.postmaster()!;
    const user = await runningQuery('user', 'sleep', { NODE_OPTIONS: `--import ${EXIT_LINGER}`, EXIT_LINGER_MS: '15000' });
    const mark = path.join(`${path.dirname(cluster.pidFile)}-owner`, `use-${user.command.pid}.json`);
    process.kill(user.backend, 'SIGSTOP');
    try {
      await stopping(user.command);
      user.command.kill('SIGINT');
      await until(() => !isUser(mark), "the sharer's exit hook to run");
    } finally {
      process.kill(user.backend, 'SIGCONT');
    }
    server.kill('SIGTERM');
    expect((await server.exited).code, server.stderr()).toBe(0);
    expect(isAlive(user.command.pid), 'the sharer was gone before db-server ended').toBe(true);
    expect(isAlive(postmaster), `db-server left the server running: ${server.stderr()}`).toBe(false);
    expect((await user.command.exited).code, user.command.stderr()).toBe(130);
  });

  it('to a command sharing the server only: the server keeps running for its owner, which stops it when it ends', async () => {
    const owner = await runningQuery('owner', 'sleep');
    const postmaster = cluster.postmaster()!;
    const user = await runningQuery('user', 'sleep');
    await exitAtOnce(user);
    expect(isAlive(postmaster), 'a command sharing the server stopped it under its owner').toBe(true);
    expect(await backendGone(owner.backend), "the owner's query ended with the other command").toBe(false);
    expect(owner.command.process.exitCode, owner.command.stderr()).toBeNull();

    owner.command.kill('SIGINT');
    await owner.command.exited;
    expect(owner.command.stderr()).toContain('convlog query: the query was cancelled (interrupted); nothing was changed');
    expect(isAlive(postmaster), 'the last command to end left the server running').toBe(false);
  });
});
