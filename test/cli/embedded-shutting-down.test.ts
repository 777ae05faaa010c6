// A command starting while the embedded Postgres is shutting down (a fast shutdown: new
// connections refused with "the database system is shutting down") must not share or adopt that
// server: it waits for it to stop, with one info line, then starts its own (src/db/cluster-owner.ts);
// one Ctrl-C ends that wait, and a service (work, serve, db-server) so stopped exits 0. A command
// ending (lastOut, src/db/cluster-handoff.ts), and an owner or adopter ending (leave), does not
// wait without bound for a shutdown that cannot finish.
// The shutdown is held open by a session of the test's own whose backend is stopped (SIGSTOP): a
// fast shutdown waits for every backend to end, so the postmaster stays in it until SIGCONT.
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ownerDir } from '../../src/db/cluster-owner.ts';
import { isAlive } from '../../src/db/postmaster.ts';
import { endedWithin, killAll, startConvlog, type Convlog, type Exit } from '../helpers/cli.ts';
import { createEmbeddedCluster, until, type EmbeddedCluster } from '../helpers/embedded-cluster.ts';

let cluster: EmbeddedCluster;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The one warning of a command that told postmaster `pid` to stop and gave up waiting for it. */
const heldShutdownWarning = (pid: number) =>
  new RegExp(`"level":40,.*"msg":"the embedded Postgres \\(postgres process ${pid}\\) has not stopped 10 s after this command told it to; not waiting longer: .*kill -QUIT ${pid}"`);

beforeAll(async () => {
  cluster = await createEmbeddedCluster('convlog-shutting-down-');
}, 150_000);

afterEach(async () => {
  await killAll();
  await cluster.stopLeftOver();
});
afterAll(() => cluster?.remove());

/** postmaster.pid's status line (8th): "ready", or "stopping" once a shutdown has begun. */
function serverStatus(): string | undefined {
  if (!fs.existsSync(cluster.pidFile)) return undefined;
  return fs.readFileSync(cluster.pidFile, 'utf8').split('\n')[7]?.trim();
}

/** A session of the test's own (never counted as a convlog command's), its backend stopped: a shutdown waits for it. */
async function heldBackend(): Promise<{ backend: number; release: () => void }> {
  const client = new pg.Client({ connectionString: cluster.url('postgres') });
  client.on('error', () => {});
  await client.connect();
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  const backend = rows[0].pid;
  process.kill(backend, 'SIGSTOP');
  return { backend, release: () => process.kill(backend, 'SIGCONT') };
}

const WAIT_LINE = /"msg":"the embedded Postgres in [^"]+ is shutting down \(postgres process \d+\): waiting for it to stop, to start it again"/;

/** How each case brings the server up, and then has it shut down. */
interface Setup {
  up(): Promise<{ owner?: Convlog; postmaster: number }>;
  stop(up: { owner?: Convlog; postmaster: number }): void;
}

const SETUPS: [string, Setup][] = [
  // Its owner (db-server), the last to end, stopping it: a starting command would share it.
  ['its owner, ending, stops it', {
    up: async () => {
      const owner = await cluster.startServer();
      return { owner, postmaster: cluster.postmaster()! };
    },
    stop: ({ owner }) => owner!.kill('SIGTERM'),
  }],
  // A server its owner left running, told to stop as an exit hook does (stopAtExit, having given
  // up the claim): a starting command would adopt it.
  ['a stop sent at exit, its owner gone', {
    up: async () => ({ postmaster: (await cluster.leaveOrphan()).postmaster }),
    stop: ({ postmaster }) => process.kill(postmaster, 'SIGINT'),
  }],
];

describe('a command starting while the embedded Postgres shuts down', { timeout: 150_000 }, () => {
  it.each(SETUPS)('%s: the command waits for it to stop and starts its own', async (_, setup) => {
    const up = await setup.up();
    const held = await heldBackend();
    let status: Convlog;
    try {
      setup.stop(up);
      await until(() => serverStatus() === 'stopping', () => 'the server to be shutting down');
      status = startConvlog(['status'], { env: { ...cluster.env, LOG_LEVEL: 'info' } });
      await until(() => WAIT_LINE.test(status.stderr()) || status.process.exitCode !== null, () => `status to wait or end: ${status.stderr()}`);
      expect(status.process.exitCode, status.stderr()).toBeNull();
    } finally {
      held.release();
    }
    const exit = await status.exited;
    expect(exit.code, status.stderr()).toBe(0);
    expect(status.stdout()).toMatch(/^tickets /m);
    expect(status.stderr().match(new RegExp(WAIT_LINE.source, 'g')), status.stderr()).toHaveLength(1);
    expect(status.stderr(), 'a warning or an error').not.toMatch(/"level":(40|50)/);
    expect(isAlive(up.postmaster)).toBe(false);
    // status started a server of its own and, the last to end, stopped it.
    const after = cluster.postmaster();
    expect(after !== undefined && isAlive(after), 'status left its server running').toBe(false);
    if (up.owner) expect((await up.owner.exited).code, up.owner.stderr()).toBe(0);
  });
});

describe('a command waiting for the embedded Postgres to shut down', { timeout: 150_000 }, () => {
  // A command ends as a stop while it starts ends it: `status` as `sync` (Interrupted, exit 1, one
  // line), `work` as a worker stopped before any ticket (exit 0: a service stopped is no failure).
  // `serve` and `db-server`, services too, as `work`.
  const STOPPED: [string, string[], Record<string, string>, number, RegExp][] = [
    ['status', ['status'], {}, 1, /^convlog status: interrupted while waiting for the embedded Postgres in \S+; nothing was changed$/m],
    ['work', ['work'], { ZENDESK_SUBDOMAIN: 'example', ZENDESK_EMAIL: 'agent@example.com', ZENDESK_API_TOKEN: 'token' }, 0, /"msg":"worker stopped before taking any ticket"/],
    ['serve', ['serve', '--port', '0'], { CONVLOG_WEBHOOK_SECRET: 'a-secret-of-the-test' }, 0, /"msg":"serve stopped before listening"/],
    ['db-server', ['db-server'], {}, 0, /"msg":"db-server stopped before the embedded Postgres was up"/],
  ];
  it.each(STOPPED)('one Ctrl-C ends the wait of %s: it stops without starting a server of its own', async (_, args, more, code, said) => {
    const owner = await cluster.startServer();
    const held = await heldBackend();
    let command: Convlog;
    let exit: Exit | 'running' = 'running';
    try {
      owner.kill('SIGTERM');
      await until(() => serverStatus() === 'stopping', () => 'the shutdown');
      command = startConvlog(args, { env: { ...cluster.env, ...more, LOG_LEVEL: 'info' } });
      await until(() => WAIT_LINE.test(command.stderr()) || command.process.exitCode !== null, () => command.stderr());
      command.kill('SIGINT');
      // A stop asked for: nothing is in flight, so the command should end within moments.
      exit = await endedWithin(command, 10_000);
    } finally {
      held.release();
    }
    const after = await command!.exited;
    expect(exit, `still waiting 10 s after one Ctrl-C; then exit ${after.code}, stdout:\n${command!.stdout()}\nstderr:\n${command!.stderr()}`).not.toBe('running');
    expect((exit as Exit).code, command!.stderr()).toBe(code);
    expect(command!.stderr()).toMatch(said);
    expect(command!.stdout(), 'the command ran in full after Ctrl-C').not.toMatch(/^tickets /m);
    expect(command!.stderr(), 'the command started a server').not.toMatch(/embedded Postgres started|worker started|serve: listening/);
    expect(command!.stderr().match(/"level":(40|50)|^convlog /gm) ?? [], `${code === 0 ? 'a service stopped: no error, one line' : 'one line'}:\n${command!.stderr()}`).toHaveLength(code === 0 ? 0 : 1);
    // Its use mark goes with it: an owner ending later would count it a user and leave its server up.
    const marks = fs.readdirSync(ownerDir(path.join(cluster.dataDir, 'pg'))).filter((name) => name.startsWith('use-') && name !== `use-${owner.pid}.json`);
    expect(marks, 'use mark left').toEqual([]);
    await owner.exited;
  });

  it('a command ending while a stop cannot finish does not wait for it without bound', async () => {
    // A query shares db-server's server; db-server is then killed outright (the server an orphan),
    // and the server is told to stop, as a command's exit hook does. The query's session is cut;
    // the query ends, and its last look (lastOut) used to adopt the stopping server, tell it to stop
    // again and wait for it without bound.
    const owner = await cluster.startServer();
    const postmaster = cluster.postmaster()!;
    const query = startConvlog(['query', 'select pg_sleep(600)'], { env: { ...cluster.env, LOG_LEVEL: 'debug' } });
    await pause(4_000);
    owner.kill('SIGKILL');
    await owner.exited;
    const held = await heldBackend();
    let exit: Exit | 'running' = 'running';
    try {
      process.kill(postmaster, 'SIGINT');
      await until(() => serverStatus() === 'stopping', () => 'the shutdown');
      exit = await endedWithin(query, 20_000);
    } finally {
      held.release();
    }
    const after = await query.exited;
    expect(exit, `query still running 20 s after its session was cut (then exit ${after.code}):\n${query.stderr()}`).not.toBe('running');
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
    let exit: Exit | 'running' = 'running';
    try {
      exit = await endedWithin(query, 30_000);
      expect(isAlive(postmaster), 'the shutdown ended with a backend stopped').toBe(true);
    } finally {
      held.release();
    }
    const after = await query.exited;
    expect(exit, `query still running 30 s after it began (then exit ${after.code}):\n${query.stderr()}`).not.toBe('running');
    expect((exit as Exit).code, query.stderr()).toBe(0);
    expect(query.stdout()).toMatch(/pg_sleep/);
    const warning = heldShutdownWarning(postmaster);
    expect(query.stderr()).toMatch(warning);
    await until(() => !isAlive(postmaster), () => `postgres process ${postmaster} to end once its backend is released`);
  });
});

describe('an owner or adopter stopping the embedded Postgres as it ends', { timeout: 150_000 }, () => {
  // It is the last user (the test's own held session is no convlog command's): `leave` tells the
  // server to stop, and the held backend keeps that fast shutdown from ending. As lastOut above,
  // it waits at most 10 s, says what holds the shutdown, and leaves the server to finish it.
  const ENDINGS: [string, () => Promise<{ command: Convlog; postmaster: number }>, RegExp][] = [
    ['db-server that started it, stopped with SIGTERM', async () => {
      const command = await cluster.startServer({ LOG_LEVEL: 'info' });
      const postmaster = cluster.postmaster()!;
      await heldBackend().then((held) => releases.push(held.release));
      command.kill('SIGTERM');
      return { command, postmaster };
    }, /^embedded Postgres still shutting down: db-server waits no longer \(the warning above says what holds it\)$/m],
    ['a query that adopted it, ending', async () => {
      const { postmaster } = await cluster.leaveOrphan();
      const command = startConvlog(['query', 'select pg_sleep(3)'], { env: { ...cluster.env, LOG_LEVEL: 'info' } });
      await until(() => /adopting the embedded Postgres/.test(command.stderr()) || command.process.exitCode !== null, () => command.stderr());
      await heldBackend().then((held) => releases.push(held.release));
      return { command, postmaster };
    }, /pg_sleep/],
  ];
  const releases: (() => void)[] = [];
  afterEach(() => {
    for (const release of releases.splice(0)) release();
  });

  it.each(ENDINGS)('%s: it waits a bounded time for the shutdown, and says what holds it', async (_, end, said) => {
    const { command, postmaster } = await end();
    let exit: Exit | 'running' = 'running';
    try {
      exit = await endedWithin(command, 30_000);
      expect(isAlive(postmaster), 'the shutdown ended with a backend stopped').toBe(true);
    } finally {
      for (const release of releases.splice(0)) release();
    }
    const after = await command.exited;
    expect(exit, `still running 30 s after its stop began (then exit ${after.code}):\n${command.stderr()}`).not.toBe('running');
    expect((exit as Exit).code, command.stderr()).toBe(0);
    const warning = heldShutdownWarning(postmaster);
    expect(command.stderr().match(new RegExp(warning.source, 'gm')), command.stderr()).toHaveLength(1);
    expect(`${command.stdout()}\n${command.stderr()}`).toMatch(said);
    expect(command.stderr(), 'it said the server stopped').not.toMatch(/^embedded Postgres stopped$/m);
    await until(() => !isAlive(postmaster), () => `postgres process ${postmaster} to end once its backend is released`);
  });
});
