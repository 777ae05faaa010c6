// A command starting while the embedded Postgres is shutting down (a fast shutdown: new
// connections refused with "the database system is shutting down") must not share or adopt that
// server: it waits for it to stop, with one info line, then starts its own (src/db/cluster-owner.ts).
// The shutdown is held open by a session of the test's own whose backend is stopped (SIGSTOP): a
// fast shutdown waits for every backend to end, so the postmaster stays in it until SIGCONT.
import fs from 'node:fs';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { embeddedUrl } from '../../src/db/embedded-server.ts';
import { isAlive } from '../../src/db/postmaster.ts';
import { killAll, startConvlog, type Convlog } from '../helpers/cli.ts';
import { createEmbeddedCluster, type EmbeddedCluster } from '../helpers/embedded-cluster.ts';

let cluster: EmbeddedCluster;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  cluster = await createEmbeddedCluster('convlog-shutting-down-');
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

/** postmaster.pid's status line (8th): "ready", or "stopping" once a shutdown has begun. */
function serverStatus(): string | undefined {
  if (!fs.existsSync(cluster.pidFile)) return undefined;
  return fs.readFileSync(cluster.pidFile, 'utf8').split('\n')[7]?.trim();
}

/** A session of the test's own (never counted as a convlog command's), its backend stopped: a shutdown waits for it. */
async function heldBackend(): Promise<{ backend: number; release: () => void }> {
  const port = Number(fs.readFileSync(cluster.pidFile, 'utf8').split('\n')[3]);
  const client = new pg.Client({ connectionString: embeddedUrl(port, 'postgres') });
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
