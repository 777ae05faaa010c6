// The embedded cluster's running server, as its postmaster.pid names it. That file outlives its
// server when the machine or container stops under it, and after a restart its pid may be any
// other process's: a pid is taken for the postmaster only when /proc says it is one (its working
// directory is the cluster's folder, or it started when the file says the postmaster did).
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.ts';
import { withinTime } from '../timing.ts';

export interface Postmaster {
  pid: number;
  port: number;
  /** False without /proc: the pid may be another process's, named by a stale file; it is never signalled. */
  confirmed: boolean;
  /**
   * Shutting down, as postmaster.pid's status line says from the moment it takes the stop: it
   * refuses new connections ("the database system is shutting down") until it has exited.
   */
  stopping: boolean;
}

/** Clock ticks per second of /proc's times: USER_HZ, 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;
/** Between the start time the postmaster writes (whole seconds) and the one /proc gives: rounding, and boot-time jitter. */
const START_TOLERANCE_S = 2;

/** The live postmaster of the cluster in `databaseDir`, from its postmaster.pid, or undefined. */
export function livePostmaster(databaseDir: string): Postmaster | undefined {
  const file = pidFile(databaseDir);
  if (!file) return undefined;
  const { pid, port, started, status } = file;
  if (!Number.isInteger(port) || !isAlive(pid)) return undefined;
  const same = isPostmasterOf(pid, databaseDir, started);
  return same === false ? undefined : { pid, port, confirmed: same === true, stopping: status === 'stopping' };
}

/**
 * Removes a postmaster.pid naming a live process /proc shows is not the cluster's postmaster (a
 * file left by a restart, its pid reused): Postgres would take that process for a server still
 * running and refuse to start. Called only by the process that claimed the cluster to start it.
 */
export function removeStalePidFile(databaseDir: string, log: Logger): void {
  const file = pidFile(databaseDir);
  if (!file || !isAlive(file.pid) || isPostmasterOf(file.pid, databaseDir, file.started) !== false) return;
  log.info({ databaseDir, pid: file.pid }, `postmaster.pid names process ${file.pid}, which is not this cluster's Postgres (a file left by a restart): removed`);
  fs.rmSync(path.join(databaseDir, 'postmaster.pid'), { force: true });
}

/**
 * Lines 1, 3, 4 and 8 of postmaster.pid: the pid, the start time (Unix seconds), the port, and the
 * status ("starting", "ready", "stopping"; Postgres pads it with spaces).
 */
function pidFile(databaseDir: string): { pid: number; started: number; port: number; status: string | undefined } | undefined {
  let lines: string[];
  try {
    lines = fs.readFileSync(path.join(databaseDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { pid, started: Number(lines[2]), port: Number(lines[3]), status: lines[7]?.trim() };
}

/** True or false when /proc can tell; undefined without /proc. */
function isPostmasterOf(pid: number, databaseDir: string, started: number): boolean | undefined {
  if (!fs.existsSync('/proc/self/stat')) return undefined;
  try {
    // "<path> (deleted)" for a folder deleted under it: not this cluster's.
    return fs.readlinkSync(`/proc/${pid}/cwd`) === fs.realpathSync(databaseDir);
  } catch {
    // Another user's process (Postgres runs as `postgres` under root) without CAP_SYS_PTRACE, as in a
    // container: its start time is readable by anyone.
  }
  const ticks = startTime(pid);
  const boot = bootTime();
  if (ticks === null || boot === null || !Number.isFinite(started)) return false;
  return Math.abs(boot + Number(ticks) / CLOCK_TICKS - started) <= START_TOLERANCE_S;
}

function bootTime(): number | null {
  try {
    const m = /^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * The fields of /proc/<pid>/stat from the third (the state) on, after the command name, which may
 * hold spaces and parentheses; null without /proc or the process.
 */
function procStat(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** A process's start time, field 22 of /proc/<pid>/stat. */
export function startTime(pid: number): string | null {
  return procStat(pid)?.[19] ?? null;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch (error) {
    // EPERM: alive, but another user's (Postgres runs as `postgres` when we are root).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Exited, not yet reaped by its parent (a server killed under the convlog that started it): signals still reach it. */
function isZombie(pid: number): boolean {
  return procStat(pid)?.[0] === 'Z';
}

/** Whether `pid` exits within `ms`; until then the wait keeps the process alive (the caller waits on nothing else). */
export async function deadWithin(pid: number, ms: number): Promise<boolean> {
  const watch = whenEnded(pid, { intervalMs: 200, keepAlive: true });
  try {
    return (await withinTime(watch.ended.then(() => true), ms)) === true;
  } finally {
    watch.cancel();
  }
}

/**
 * Why a shutdown of postmaster `pid` has not ended, and the way out. Not `kill <pid>`: SIGTERM
 * asks for a smart shutdown, which a server already in a fast one ignores; SIGQUIT ends any at
 * once (the next start recovers from the write-ahead log: nothing committed is lost).
 */
export function heldShutdown(pid: number): string {
  return (
    "a shutdown ends once every session's backend has (a fast one ends them, but not one that is stopped or stuck; a smart one waits for their clients to leave); " +
    `end that session, or end the shutdown at once with kill -QUIT ${pid}`
  );
}

/**
 * `ended` resolves if `pid` exits before `cancel()`, found by a poll or by `checkNow` (true once it has). Its timer keeps no process alive unless
 * `keepAlive` (a command waiting on nothing else): one that has finished is not held up by it.
 */
export function whenEnded(pid: number, { intervalMs = 250, keepAlive = false } = {}): { ended: Promise<void>; cancel: () => void; checkNow: () => boolean } {
  let timer: NodeJS.Timeout | undefined;
  let end = () => {};
  const checkNow = () => {
    if (isAlive(pid)) return false;
    clearInterval(timer);
    end();
    return true;
  };
  const ended = new Promise<void>((resolve) => {
    end = resolve;
    timer = setInterval(checkNow, intervalMs);
    if (!keepAlive) timer.unref();
  });
  return { ended, cancel: () => clearInterval(timer), checkNow };
}
