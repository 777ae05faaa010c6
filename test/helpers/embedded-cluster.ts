// A data directory whose embedded Postgres cluster is created once (initdb), for tests that start
// and stop that server through convlog commands (or leave it to no owner, as a kill -9 does), and
// the means to watch it and clean up after.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { clusterPassword } from '../../src/db/cluster-password.ts';
import { embeddedUrl } from '../../src/db/embedded-server.ts';
import { isAlive } from '../../src/db/postmaster.ts';
import { runProgram, startConvlog, type Convlog } from './cli.ts';

export interface EmbeddedCluster {
  dataDir: string;
  /** The environment that points a command at it. */
  env: Record<string, string | undefined>;
  pidFile: string;
  /** The postmaster's pid, from postmaster.pid; undefined while there is none. */
  postmaster(): number | undefined;
  /** A URL of `database` on the running server, with the data folder's password, for a session of the test's own. */
  url(database: string): string;
  /** Starts `convlog db-server` and returns once it is up (its pid is the server's owner). */
  startServer(env?: Record<string, string | undefined>): Promise<Convlog>;
  /** A server its owner left running: a db-server brought up, then SIGKILLed. */
  leaveOrphan(): Promise<{ postmaster: number; killedPid: number }>;
  /** Stops a server a failing run left behind, so the next case (and the machine) start clean. */
  stopLeftOver(): Promise<void>;
  /** Stops any server left and deletes the directory. */
  remove(): Promise<void>;
}

/** Polls `test` every 20 ms until it holds; past `ms`, fails naming `what` (a function: worded as it stands then). */
export async function until(test: () => boolean | Promise<boolean>, what: string | (() => string), ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function createEmbeddedCluster(prefix: string): Promise<EmbeddedCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755); // the embedded Postgres runs as another user when tests run as root
  const dataDir = path.join(dir, 'data');
  const env = { CONVLOG_DATA_DIR: dataDir, DATABASE_URL: undefined };
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  const postmaster = () => (fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) : undefined);
  const url = (database: string) => embeddedUrl(Number(fs.readFileSync(pidFile, 'utf8').split('\n')[3]), database, clusterPassword(dataDir));
  const stopLeftOver = async () => {
    const pid = postmaster();
    if (!pid || !isAlive(pid)) return;
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  };
  const startServer = async (more: Record<string, string | undefined> = {}) => {
    const server = startConvlog(['db-server'], { env: { ...env, ...more } });
    const started = Date.now();
    while (!/psql /.test(server.stdout())) {
      if (server.process.exitCode !== null || server.process.signalCode !== null || Date.now() - started > 60_000) throw new Error(`db-server did not come up: ${server.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return server;
  };
  const leaveOrphan = async () => {
    const owner = await startServer();
    const pid = postmaster();
    owner.kill('SIGKILL');
    await owner.exited;
    expect(pid !== undefined && isAlive(pid), 'the killed db-server took its server with it').toBe(true);
    return { postmaster: pid!, killedPid: owner.pid };
  };
  const first = await runProgram(['status'], { env, timeoutMs: 120_000 });
  expect(first.code, first.stderr).toBe(0);
  return {
    dataDir,
    env,
    pidFile,
    postmaster,
    url,
    startServer,
    leaveOrphan,
    stopLeftOver,
    remove: async () => {
      await stopLeftOver();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
