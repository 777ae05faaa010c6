// A data directory whose embedded Postgres cluster is created once (initdb), for tests that start
// and stop that server through convlog commands, and the means to watch it and clean up after.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { isAlive } from '../../src/db/embedded.ts';
import { runProgram } from './cli.ts';

export interface EmbeddedCluster {
  dataDir: string;
  /** The environment that points a command at it. */
  env: Record<string, string | undefined>;
  pidFile: string;
  /** The postmaster's pid, from postmaster.pid; undefined while there is none. */
  postmaster(): number | undefined;
  /** Stops a server a failing run left behind, so the next case (and the machine) start clean. */
  stopLeftOver(): Promise<void>;
  /** Stops any server left and deletes the directory. */
  remove(): Promise<void>;
}

export async function createEmbeddedCluster(prefix: string): Promise<EmbeddedCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755); // the embedded Postgres runs as another user when tests run as root
  const dataDir = path.join(dir, 'data');
  const env = { CONVLOG_DATA_DIR: dataDir, DATABASE_URL: undefined };
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  const postmaster = () => (fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) : undefined);
  const stopLeftOver = async () => {
    const pid = postmaster();
    if (!pid || !isAlive(pid)) return;
    process.kill(pid, 'SIGINT');
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  };
  const first = await runProgram(['status'], { env, timeoutMs: 120_000 });
  expect(first.code, first.stderr).toBe(0);
  return {
    dataDir,
    env,
    pidFile,
    postmaster,
    stopLeftOver,
    remove: async () => {
      await stopLeftOver();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
