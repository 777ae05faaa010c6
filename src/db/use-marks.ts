// The marks every convlog command keeps in pg-owner/ while it uses the embedded Postgres: what a
// command exiting at once, which cannot count sessions, goes by (cluster-handoff.ts's stopAtExit),
// and what keeps an owner ending from stopping the server under a command still connecting.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.ts';
import { claimCluster, ownerAlive, ownerDir, type ClusterClaim } from './cluster-owner.ts';
import { startTime } from './postmaster.ts';

/** A use mark, `pg-owner/use-<pid>.json`; `written` false when it could not be, and is then no mark. */
export interface UseMark {
  written: boolean;
  remove(): void;
  /**
   * At an exit that cannot wait: this process uses the server no more, whatever its other uses,
   * and its sessions, still open until it is gone, are not another command's (otherSessions).
   */
  exiting(): void;
}

/**
 * Marks this process as a user of the server from before it looks for one until it ends: a
 * command sharing the server has no session yet while it connects and migrates (seconds on a
 * first run), and an owner ending meanwhile would count none and stop the server under it; and a
 * command exiting at once counts marks alone (stopAtExit). A mark that cannot be written is no
 * mark: sessions still count. A process exiting at once rewrites its mark as exiting rather than
 * removing it: a command ending meanwhile must not count its sessions, open for the moment it
 * takes to go, as a user's (it leaves the server to that command, which would then leave it to none).
 */
export function markUse(databaseDir: string): UseMark {
  const file = path.join(ownerDir(databaseDir), `use-${process.pid}.json`);
  // One file a process, counted: db-server serves the cluster and opens it again to migrate, and
  // that second use ending must not take away the mark the first still needs.
  const held = marksHeld.get(file) ?? 0;
  if (held === 0) {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, JSON.stringify({ pid: process.pid, started: startTime(process.pid) }));
    } catch {
      return { written: false, remove: () => {}, exiting: () => {} };
    }
  }
  marksHeld.set(file, held + 1);
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    const left = (marksHeld.get(file) ?? 1) - 1;
    if (left > 0) return void marksHeld.set(file, left);
    marksHeld.delete(file);
    fs.rmSync(file, { force: true });
  };
  const exiting = () => {
    removed = true;
    marksHeld.delete(file);
    // Renamed into place whole: a mark read half-written counts its process's sessions.
    const tmp = `${file}.exiting`;
    try {
      fs.writeFileSync(tmp, JSON.stringify({ pid: process.pid, started: startTime(process.pid), exiting: true }));
      fs.renameSync(tmp, file);
    } catch {
      fs.rmSync(file, { force: true }); // its sessions then count until it is gone, as before marks said more
    }
  };
  return { written: true, remove, exiting };
}

/**
 * markUse, then claimCluster: marked before looking, so an owner ending while this command
 * connects leaves the server to it. A claim that fails (or that `signal` interrupts while it
 * waits) takes its mark away with it.
 */
export async function markAndClaim(databaseDir: string, log: Logger, signal?: AbortSignal): Promise<{ mark: UseMark; claim: ClusterClaim }> {
  const mark = markUse(databaseDir);
  try {
    return { mark, claim: await claimCluster(databaseDir, { marked: mark.written, log, signal }) };
  } catch (error) {
    mark.remove();
    throw error;
  }
}

/** This process's uses of each mark file (markUse). */
const marksHeld = new Map<string, number>();

/** Other live processes marked as users (markUse); the marks of processes gone are removed. */
export function otherUsers(databaseDir: string): number {
  return liveMarks(databaseDir).filter((mark) => !mark.exiting).length;
}

/** The marks of other live processes (markUse), users or exiting; the marks of processes gone are removed. */
export function liveMarks(databaseDir: string): { pid: number; exiting?: boolean }[] {
  const dir = ownerDir(databaseDir);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((name) => /^use-\d+\.json$/.test(name));
  } catch {
    return [];
  }
  const live: { pid: number; exiting?: boolean }[] = [];
  for (const name of names) {
    try {
      const mark = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as { pid: number; started: string | null; exiting?: boolean };
      if (mark.pid === process.pid) continue;
      if (ownerAlive(mark)) live.push(mark);
      else fs.rmSync(path.join(dir, name), { force: true });
    } catch {
      // Being written or removed: its process counts by its session, if any.
    }
  }
  return live;
}
