// Which convlog process started the embedded Postgres. The server runs in a process group of its
// own and is stopped by the process that started it; a process killed outright (kill -9, the
// OOM killer, a crash) stops nothing, and every later command took the server it left for one
// another convlog runs, and left it running for good. The owner's pid, kept beside the cluster,
// tells the two apart: a server whose owner is gone is stopped and started afresh.
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseUnavailable } from '../errors.ts';
import type { Logger } from '../log.ts';

const OWNER_FILE = 'pg-owner.pid';
const STOP_WAIT_MS = 30_000;

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's (Postgres runs as `postgres` when we are root).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Called once this process has started the server: it stops it when it ends. */
export function recordOwner(dataDir: string): void {
  fs.writeFileSync(path.join(dataDir, OWNER_FILE), `${process.pid}\n`);
}

/**
 * True when the running server's owner is known and gone. An owner not recorded (a server an
 * older convlog started) is taken to be alive: a server nobody here started is not ours to stop.
 */
export function ownerGone(dataDir: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(dataDir, OWNER_FILE), 'utf8').trim());
  } catch {
    return false;
  }
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid);
}

/** Stops a server its owner left running (a fast shutdown: no client is its own), and waits for it. */
export async function stopLeftOver(postmasterPid: number, dataDir: string, log: Logger): Promise<void> {
  log.warn({ pid: postmasterPid, dataDir }, 'stopping the embedded Postgres a convlog process left running when it was killed');
  try {
    process.kill(postmasterPid, 'SIGINT');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
  const started = Date.now();
  while (isAlive(postmasterPid)) {
    if (Date.now() - started > STOP_WAIT_MS) {
      throw new DatabaseUnavailable(`the embedded Postgres in ${dataDir} (pid ${postmasterPid}), left running by a convlog process that was killed, did not stop within ${STOP_WAIT_MS / 1000} s; stop it with: kill ${postmasterPid}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
