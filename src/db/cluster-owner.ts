// Who owns the embedded Postgres under CONVLOG_DATA_DIR: the one convlog process that stops it
// when it ends. Every other command finds that owner alive and shares the server, leaving it up.
// An owner killed outright (SIGKILL, the OOM killer, a crash) cannot stop its server: the next
// command finds the owner dead and adopts the server (adopt, src/db/cluster-handoff.ts), or it
// would run until the machine restarts.
//
// The records are files beside the cluster's folder, `pg-owner/<n>.json`, the latest (highest n)
// in force. A claim creates the next number exclusively (a hard link of a complete file, so no
// one reads half a record): of two commands finding the same dead owner, one link succeeds.
// Numbers are never reused (a release rewrites its record as released), so a claim that stalled
// cannot land on a number freed meanwhile.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseUnavailable, Interrupted } from '../errors/convlog-errors.ts';
import { errorMessage } from '../errors/messages.ts';
import type { Logger } from '../log.ts';
import { pause } from '../timing.ts';
import { heldShutdown, isAlive, livePostmaster, startTime, type Postmaster } from './postmaster.ts';

export interface OwnerRecord {
  pid: number;
  /** The process's start time (clock ticks after boot, /proc), against a pid reused; null without /proc. */
  started: string | null;
  /** The postmaster it runs; absent while it is starting one. */
  postmaster?: number;
  released?: boolean;
  /** Names this claim among all: a record is rewritten only by the claim that wrote it. */
  claim?: string;
  /**
   * The owner keeps a use mark (markUse, src/db/cluster-handoff.ts) while it runs the server: a
   * command sharing it that exits at once may count marks alone. False for an owner whose mark
   * could not be written, and absent from an older convlog's record.
   */
  marked?: boolean;
  /**
   * Held by a command ending, for as long as it looks whether the server is still used (lastOut,
   * src/db/cluster-handoff.ts): a moment, never a run. Another command ending waits for it.
   */
  looking?: boolean;
}

/** This process's right to run the cluster, and its duty to stop it. */
export interface Ownership {
  /** The dead owner (or undefined: no record, an unreadable one, or an older convlog's none) this claim replaced. */
  previous: OwnerRecord | undefined;
  /** Records the postmaster this process now runs. */
  running(postmaster: number): void;
  /** Gives the claim up: the server is stopped, or was never started. */
  release(): void;
}

export type ClusterClaim =
  /** A live owner runs it: use it, never stop it. */
  | { kind: 'shared'; postmaster: Postmaster; owner: OwnerRecord }
  /** Its owner is gone: this process now stops it when it ends. */
  | { kind: 'orphan'; postmaster: Postmaster; ownership: Ownership }
  /** Nothing runs: this process starts it. */
  | { kind: 'none'; ownership: Ownership };

/** How long a command waits for another that is starting the server (initdb on a first run included). */
const STARTING_WAIT_MS = 120_000;
/** How long a command waits for a server shutting down to exit (a fast shutdown waits for every session's backend). */
const STOPPING_WAIT_MS = 120_000;

/** The owner record folder of the cluster in `databaseDir` (`<data dir>/pg`): beside it. */
export function ownerDir(databaseDir: string): string {
  return `${databaseDir}-owner`;
}

/**
 * Claims the cluster in `databaseDir` unless a live owner holds it. A live owner still starting
 * it is waited for, so that a command never uses a server before its owner has it up. A server
 * shutting down is neither shared nor adopted: it refuses every new connection, and its owner (or
 * a command's exit) is stopping it. It is waited for, saying so once in `log`, and the cluster is
 * then claimed as it stands: none running (this command starts it), or one another command has
 * started meanwhile. An abort of `signal` (the command's stop: one Ctrl-C) ends either wait with
 * Interrupted, claiming nothing; a command with nothing to wait for goes on as it would.
 */
export async function claimCluster(databaseDir: string, { marked, log, signal }: { marked: boolean; log?: Logger; signal?: AbortSignal }): Promise<ClusterClaim> {
  let deadline = Date.now() + STARTING_WAIT_MS;
  let said = false;
  for (;;) {
    const stopping = livePostmaster(databaseDir);
    if (stopping?.stopping) {
      if (!said) log?.info({ postgresPid: stopping.pid }, `the embedded Postgres in ${databaseDir} is shutting down (postgres process ${stopping.pid}): waiting for it to stop, to start it again`);
      said = true;
      await untilStopped(databaseDir, stopping.pid, signal);
      deadline = Date.now() + STARTING_WAIT_MS;
      continue;
    }
    let claim: ReturnType<typeof tryClaim>;
    try {
      claim = tryClaim(databaseDir, marked);
    } catch (error) {
      throw new DatabaseUnavailable(`cannot record which convlog process runs the embedded Postgres, in ${ownerDir(databaseDir)}: ${errorMessage(error)}`, { cause: error });
    }
    if ('ownership' in claim) return claimed(databaseDir, claim.ownership);
    const postmaster = livePostmaster(databaseDir);
    if (postmaster && claim.owner.postmaster === postmaster.pid) return { kind: 'shared', postmaster, owner: claim.owner };
    if (Date.now() > deadline) {
      throw new DatabaseUnavailable(
        `the embedded Postgres in ${databaseDir} is being started by convlog process ${claim.owner.pid}, which has not had it up for ${STARTING_WAIT_MS / 1000} s`,
      );
    }
    await pauseBeforeLookingAgain(databaseDir, signal);
  }
}

/**
 * Waits while postmaster `pid` is shutting down the cluster: it exits once its sessions have
 * ended. Only while postmaster.pid says `stopping`: a server started since under the same pid
 * (reused) is a new one, for claimCluster to look at afresh.
 */
async function untilStopped(databaseDir: string, pid: number, signal: AbortSignal | undefined): Promise<void> {
  const deadline = Date.now() + STOPPING_WAIT_MS;
  for (let now = livePostmaster(databaseDir); now?.pid === pid && now.stopping; now = livePostmaster(databaseDir)) {
    if (Date.now() > deadline) {
      throw new DatabaseUnavailable(
        `the embedded Postgres in ${databaseDir} (postgres process ${pid}) has been shutting down for ${STOPPING_WAIT_MS / 1000} s and has not stopped: ${heldShutdown(pid)}; then run the command again`,
      );
    }
    await pauseBeforeLookingAgain(databaseDir, signal);
  }
}

/** The pause between two looks at the cluster, which the command's stop cuts short. */
async function pauseBeforeLookingAgain(databaseDir: string, signal: AbortSignal | undefined): Promise<void> {
  if (!(await pause(100, signal))) {
    throw new Interrupted(`interrupted while waiting for the embedded Postgres in ${databaseDir}; nothing was changed`);
  }
}

/**
 * Asks a server this process did not start for a fast shutdown (SIGINT, as for one convlog
 * started). Only while postmaster.pid still names it and /proc confirms it: a pid of a server
 * gone may be another process's now.
 */
export function stopPostmaster(databaseDir: string, pid: number): void {
  const now = livePostmaster(databaseDir);
  if (now?.pid !== pid || !now.confirmed) return;
  try {
    process.kill(pid, 'SIGINT');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return;
    throw new DatabaseUnavailable(`could not stop the embedded Postgres (pid ${pid}) in ${databaseDir}: ${errorMessage(error)}`, { cause: error });
  }
}

/**
 * A claim without waiting, for a command ending (`looking`, src/db/cluster-handoff.ts) or
 * db-server taking over: `held` names the live process holding the cluster, starting it or looking.
 */
export function claimIfFree(databaseDir: string, { looking = false } = {}): Exclude<ClusterClaim, { kind: 'shared' }> | { kind: 'held'; owner: OwnerRecord } {
  const claim = tryClaim(databaseDir, false, looking);
  return 'ownership' in claim ? claimed(databaseDir, claim.ownership) : { kind: 'held', owner: claim.owner };
}

/** The cluster this process now holds: a server left running to adopt, or none to start. */
function claimed(databaseDir: string, ownership: Ownership): Exclude<ClusterClaim, { kind: 'shared' }> {
  const postmaster = livePostmaster(databaseDir);
  return postmaster ? { kind: 'orphan', postmaster, ownership } : { kind: 'none', ownership };
}

/** Synchronous from reading the latest record to linking the next, so claims in one process never interleave. */
function tryClaim(databaseDir: string, marked: boolean, looking = false): { owner: OwnerRecord } | { ownership: Ownership } {
  const dir = ownerDir(databaseDir);
  fs.mkdirSync(dir, { recursive: true });
  for (;;) {
    const latest = latestRecord(dir);
    if (latest === 'vanished') continue;
    if (latest.record && holds(latest.record, databaseDir)) return { owner: latest.record };
    const n = latest.n + 1;
    const mine: OwnerRecord = { pid: process.pid, started: startTime(process.pid), claim: randomUUID(), marked, ...(looking ? { looking } : {}) };
    const tmp = path.join(dir, `.${process.pid}.tmp`);
    fs.writeFileSync(tmp, JSON.stringify(mine));
    try {
      fs.linkSync(tmp, recordFile(dir, n));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue; // another claim took n first
      throw error;
    } finally {
      fs.rmSync(tmp, { force: true });
    }
    // A claim that read an old latest may link a number a later claim's cleanup removed.
    if (numbers(dir).some((m) => m > n)) {
      fs.rmSync(recordFile(dir, n), { force: true });
      continue;
    }
    for (const m of numbers(dir)) if (m < n) fs.rmSync(recordFile(dir, m), { force: true });
    return { ownership: ownership(dir, n, mine, latest.record) };
  }
}

function ownership(dir: string, n: number, mine: OwnerRecord, previous: OwnerRecord | undefined): Ownership {
  let record = mine;
  const rewrite = (next: OwnerRecord) => {
    record = next;
    // The data folder deleted and created again starts the numbers afresh: record n may be another
    // owner's now, whose claim this process must not overwrite (the next command would adopt its
    // server and stop it under it).
    let current: OwnerRecord | undefined;
    try {
      current = parseRecord(fs.readFileSync(recordFile(dir, n), 'utf8'));
    } catch {
      current = undefined;
    }
    if (current?.claim !== mine.claim) return;
    const tmp = path.join(dir, `.${process.pid}.tmp`);
    fs.writeFileSync(tmp, JSON.stringify(record));
    fs.renameSync(tmp, recordFile(dir, n));
  };
  let released = false;
  return {
    previous,
    running: (postmaster) => rewrite({ ...record, postmaster }),
    release: () => {
      if (released) return;
      released = true;
      try {
        rewrite({ ...record, released: true });
      } catch {
        // The data directory gone (deleted to start over): a record that cannot be written is no claim.
      }
    },
  };
}

/** Whether the owner on record still runs the cluster, or is starting it. */
function holds(record: OwnerRecord, databaseDir: string): boolean {
  if (record.released || !ownerAlive(record)) return false;
  // An owner alive whose server has ended (killed under it) runs nothing: the next start is anyone's.
  return record.postmaster === undefined || livePostmaster(databaseDir)?.pid === record.postmaster;
}

export function ownerAlive(record: Pick<OwnerRecord, 'pid' | 'started'>): boolean {
  if (!isAlive(record.pid)) return false;
  const now = startTime(record.pid);
  // Unknown on either side (no /proc, or it hides the process): the pid alone decides.
  return now === null || record.started === null || now === record.started;
}

function latestRecord(dir: string): { n: number; record: OwnerRecord | undefined } | 'vanished' {
  const n = Math.max(0, ...numbers(dir));
  if (n === 0) return { n, record: undefined };
  let text: string;
  try {
    text = fs.readFileSync(recordFile(dir, n), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'vanished'; // a stale claim withdrawn
    return { n, record: undefined };
  }
  return { n, record: parseRecord(text) };
}

/** A record as written, or undefined: one unreadable is treated as an owner gone. */
function parseRecord(text: string): OwnerRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = value as Partial<OwnerRecord> | null;
  if (!r || typeof r !== 'object' || !Number.isInteger(r.pid) || r.pid! <= 0) return undefined;
  if (r.started !== null && typeof r.started !== 'string') return undefined;
  if (r.postmaster !== undefined && !Number.isInteger(r.postmaster)) return undefined;
  return { pid: r.pid!, started: r.started, postmaster: r.postmaster, released: r.released === true, claim: typeof r.claim === 'string' ? r.claim : undefined, marked: r.marked === true, looking: r.looking === true };
}

function numbers(dir: string): number[] {
  return fs
    .readdirSync(dir)
    .map((name) => /^(\d+)\.json$/.exec(name))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]));
}

function recordFile(dir: string, n: number): string {
  return path.join(dir, `${n}.json`);
}
