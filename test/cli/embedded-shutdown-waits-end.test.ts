// Waits for a shutdown of the embedded Postgres end: a command starting while it shuts down waits
// for it (claimCluster, src/db/cluster-owner.ts) only until its stop (one Ctrl-C), and a command
// ending (lastOut, src/db/cluster-handoff.ts) does not wait for a stop that cannot finish. The
// shutdown is held open by a session of the test's own whose backend is stopped (SIGSTOP): a fast
// shutdown waits for every backend to end.
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { embeddedUrl } from '../../src/db/embedded-server.ts';
import { ownerDir } from '../../src/db/cluster-owner.ts';
import { isAlive } from '../../src/db/postmaster.ts';
import { killAll, startConvlog, type Convlog } from '../helpers/cli.ts';
import { createEmbeddedCluster, type EmbeddedCluster } from '../helpers/embedded-cluster.ts';

let cluster: EmbeddedCluster;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  cluster = await createEmbeddedCluster('convlog-rb-shutdown-');
}, 150_000);
afterEach(async () => {
  await killAll();
  await cluster.stopLeftOver();
});
afterAll(() => cluster?.remove());

async function until(test: () => boolean, what: () => string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await pause(20);
  }
}
const status = () => (fs.existsSync(cluster.pidFile) ? fs.readFileSync(cluster.pidFile, 'utf8').split('\n')[7]?.trim() : undefined);

/** A session of the test's own, its backend stopped: a fast shutdown waits for it. */
async function heldBackend(): Promise<{ release: () => void }> {
  const port = Number(fs.readFileSync(cluster.pidFile, 'utf8').split('\n')[3]);
  const client = new pg.Client({ connectionString: embeddedUrl(port, 'postgres') });
  client.on('error', () => {});
  await client.connect();
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  process.kill(rows[0].pid, 'SIGSTOP');
  return { release: () => process.kill(rows[0].pid, 'SIGCONT') };
}

const WAIT_LINE = /is shutting down \(postgres process \d+\): waiting for it to stop/;

describe('a command waiting for the embedded Postgres to shut down', { timeout: 150_000 }, () => {
  it('one Ctrl-C ends the wait: the command stops without starting a server of its own', async () => {
    const owner = await cluster.startServer();
    const held = await heldBackend();
    let command: Convlog;
    let exit: Awaited<Convlog['exited']> | undefined;
    try {
      owner.kill('SIGTERM');
      await until(() => status() === 'stopping', () => 'the shutdown');
      command = startConvlog(['status'], { env: { ...cluster.env, LOG_LEVEL: 'info' } });
      await until(() => WAIT_LINE.test(command.stderr()) || command.process.exitCode !== null, () => command.stderr());
      command.kill('SIGINT');
      // A stop asked for: nothing is in flight, so the command should end within moments.
      exit = await Promise.race([command.exited, pause(10_000).then(() => undefined)]);
    } finally {
      held.release();
    }
    const after = await command!.exited;
    expect(exit, `still waiting 10 s after one Ctrl-C; then exit ${after.code}, stdout:\n${command!.stdout()}\nstderr:\n${command!.stderr()}`).toBeDefined();
    // As `sync` stopped while it starts: Interrupted, exit 1, one line.
    expect(exit!.code, command!.stderr()).toBe(1);
    expect(command!.stderr()).toMatch(/^convlog status: interrupted while waiting for the embedded Postgres in \S+; nothing was changed$/m);
    expect(command!.stdout(), 'status ran in full after Ctrl-C').not.toMatch(/^tickets /m);
    // Its use mark goes with it: an owner ending later would count it a user and leave its server up.
    expect(fs.existsSync(path.join(ownerDir(path.join(cluster.dataDir, 'pg')), `use-${command!.pid}.json`)), 'use mark left').toBe(false);
    await owner.exited;
  });

  it('a command ending while a stop cannot finish does not wait for it without bound', async () => {
    // A query shares db-server's server; db-server is then killed outright (the server an orphan),
    // and the server is told to stop, as a command's exit hook does. The query's session is cut;
    // the query ends, and its last look (lastOut) adopts the stopping server and waits for it.
    const owner = await cluster.startServer();
    const postmaster = cluster.postmaster()!;
    const query = startConvlog(['query', 'select pg_sleep(600)'], { env: { ...cluster.env, LOG_LEVEL: 'debug' } });
    await pause(4_000);
    owner.kill('SIGKILL');
    await owner.exited;
    const held = await heldBackend();
    let exit: Awaited<Convlog['exited']> | undefined;
    try {
      process.kill(postmaster, 'SIGINT');
      await until(() => status() === 'stopping', () => 'the shutdown');
      exit = await Promise.race([query.exited, pause(20_000).then(() => undefined)]);
    } finally {
      held.release();
    }
    const after = await query.exited;
    expect(exit, `query still running 20 s after its session was cut (then exit ${after.code}):\n${query.stderr()}`).toBeDefined();
    // It left the stop under way to end, and it does once the backend is released.
    expect(query.stderr()).toMatch(/"postgresPid":\d+,"msg":"the embedded Postgres is already shutting down: not waiting for it"/);
    expect(query.stderr()).not.toMatch(/stopping the embedded Postgres: no other convlog command uses it/);
    await until(() => !isAlive(postmaster), () => `postgres process ${postmaster} to end once its backend is released`);
  });

  it('a command ending that told the server to stop waits a bounded time for it, and says what holds it', async () => {
    // As above, but the server is still up as the query ends: its last look adopts it and tells
    // it to stop, and the held backend keeps that fast shutdown from ending.
    const owner = await cluster.startServer();
    const postmaster = cluster.postmaster()!;
    const query = startConvlog(['query', 'select pg_sleep(5)'], { env: { ...cluster.env, LOG_LEVEL: 'debug' } });
    await until(() => /using the embedded Postgres another convlog process runs/.test(query.stderr()) || query.process.exitCode !== null, () => query.stderr());
    owner.kill('SIGKILL');
    await owner.exited;
    const held = await heldBackend();
    let exit: Awaited<Convlog['exited']> | undefined;
    try {
      exit = await Promise.race([query.exited, pause(30_000).then(() => undefined)]);
      expect(isAlive(postmaster), 'the shutdown ended with a backend stopped').toBe(true);
    } finally {
      held.release();
    }
    const after = await query.exited;
    expect(exit, `query still running 30 s after it began (then exit ${after.code}):\n${query.stderr()}`).toBeDefined();
    expect(exit!.code, query.stderr()).toBe(0);
    expect(query.stdout()).toMatch(/pg_sleep/);
    const warning = new RegExp(`"level":40,.*"msg":"the embedded Postgres \\(postgres process ${postmaster}\\) has not stopped 10 s after this command told it to; not waiting longer: .*kill -QUIT ${postmaster}"`);
    expect(query.stderr()).toMatch(warning);
    await until(() => !isAlive(postmaster), () => `postgres process ${postmaster} to end once its backend is released`);
  });
});
