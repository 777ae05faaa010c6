// The embedded Postgres kept up on purpose, for psql and BI tools (`convlog db-server`), on a
// port the person may choose. It is the same cluster every command uses under CONVLOG_DATA_DIR:
// commands run meanwhile find it and its live owner and share it (src/db/cluster-owner.ts), and
// a db-server that finds another command running it shares it the same way, until it is stopped.
import net from 'node:net';
import path from 'node:path';
import { DatabaseUnavailable } from '../errors/convlog-errors.ts';
import type { Logger } from '../log.ts';
import { claimIfFree, stopPostmaster, type OwnerRecord, type Ownership } from './cluster-owner.ts';
import { livePostmaster, whenEnded, type Postmaster } from './postmaster.ts';
import { prepareDataDir } from './data-dir.ts';
import { adopt, lastOut, leave, letGo, stopAtExit, stopSharedAtExit, type LeaveOutcome } from './cluster-handoff.ts';
import { markAndClaim, type UseMark } from './use-marks.ts';
import { commandUrl, freePort, loginAt } from './embedded.ts';
import { embeddedServer, stopServer } from './embedded-server.ts';
import { initialiseAndStart } from './start-cluster.ts';
import { assertSharedLogin, clusterPassword } from './cluster-password.ts';

export interface ServedCluster {
  port: number;
  /** The postmaster's pid, from postmaster.pid. */
  pid: number;
  /**
   * How this process came to serve it: started it; took over one its owner left running (killed
   * outright); or shares one another live convlog process runs, keeping it up as one more user.
   */
  how: { kind: 'started' } | { kind: 'adopted' } | { kind: 'shared'; owner: OwnerRecord };
  /** Resolves if the server ends without stop() (killed, crashed). */
  ended: Promise<void>;
  /**
   * Stops the server and waits until it has exited, for a bounded time (`stopping` past it); `left`
   * when other convlog commands still use it (src/db/cluster-handoff.ts): it is then left running
   * for them, the last of them to end stops it.
   */
  stop(): Promise<LeaveOutcome>;
}

/** The cluster's directory under a data directory, as src/db/embedded.ts lays it out. */
function clusterDir(dataDir: string): string {
  return path.join(dataDir, 'pg');
}

/**
 * Starts the cluster under `dataDir` on 127.0.0.1:`port` (a free one if undefined), creating it on
 * first use exactly as the other commands would (same user and password); or takes over one its
 * owner left running; or shares one a live convlog process runs, as any command would, keeping its
 * use mark until stop(): that owner ending leaves the server running for it. `signal` (the
 * command's stop) ends a wait for a server another command is starting or stopping.
 */
export async function serveEmbeddedPostgres(dataDir: string, port: number | undefined, log: Logger, signal?: AbortSignal): Promise<ServedCluster> {
  const databaseDir = clusterDir(dataDir);
  prepareDataDir(dataDir);
  // A use mark as every command keeps (src/db/embedded.ts), which a command sharing the server
  // and exiting at once counts (stopAtExit, src/db/cluster-handoff.ts).
  const { mark, claim } = await markAndClaim(databaseDir, log, signal);
  const password = clusterPassword(dataDir);
  const adminUrl = (at: number) => commandUrl(at, 'postgres', password);
  if (claim.kind === 'shared') {
    const { postmaster, owner } = claim;
    // db-server prints that server's URL: with a password it takes.
    await assertSharedLogin(adminUrl(postmaster.port), dataDir, owner.pid).catch((error: unknown) => {
      mark.remove();
      throw error;
    });
    const leaveShared = shareUntilStopped({ databaseDir, dataDir, adminUrl, mark, log }, owner, postmaster);
    return served(postmaster.port, postmaster.pid, { kind: 'shared', owner }, leaveShared, log);
  }
  const leaving = { databaseDir, dataDir, adminUrl, mark, log };
  if (claim.kind === 'orphan') {
    const { pid, port: at } = claim.postmaster;
    const adopted = await adopt(claim, { databaseDir, dataDir, log, mark, login: loginAt(at, password) });
    return served(at, pid, { kind: 'adopted' }, () => leave({ ...leaving, port: at, postmaster: pid, ownership: claim.ownership, ...adopted }), log);
  }

  const { ownership } = claim;
  try {
    const at = port ?? (await freePort());
    await assertPortFree(at);
    const pg = await embeddedServer({ databaseDir, port: at, log, password });
    // Until stop(), the process's exit stops the server too (a second Ctrl-C exits at once), unless
    // another convlog command is marked as its user.
    const { unhook, postmaster } = await initialiseAndStart(pg, { databaseDir, dataDir, log, ownership, mark, login: loginAt(at, password) }, (reason) => `${databaseDir} on port ${at}: ${reason}`);
    return served(at, postmaster.pid, { kind: 'started' }, () =>
      leave({
        ...leaving,
        port: at,
        postmaster: postmaster.pid,
        ownership,
        unhook: () => {
          unhook();
          letGo(pg);
        },
        stop: () => {
          unhook();
          void stopServer(pg);
        },
      }), log);
  } catch (error) {
    ownership.release();
    mark.remove();
    throw error;
  }
}

/** How often a db-server sharing the server looks whether its owner has left it to db-server. */
const TAKE_OVER_MS = 500;

/**
 * A db-server sharing the server another command runs, until stopped; returns how it leaves it.
 * That owner ending leaves the server running for db-server (its use mark) with no owner, and each
 * command after it would adopt it, saying its owner had ended without stopping it: db-server takes
 * the claim over instead, as soon as it is free, and from then on leaves the server as its owner.
 * Until then it ends as any command sharing the server does (src/db/embedded.ts): the last one out stops it.
 */
function shareUntilStopped(
  l: { databaseDir: string; dataDir: string; adminUrl: (port: number) => string; mark: UseMark; log: Logger },
  owner: OwnerRecord,
  postmaster: Postmaster,
): () => Promise<LeaveOutcome> {
  let unhook = stopSharedAtExit(l.databaseDir, l.mark, owner, postmaster.pid);
  let owned: Ownership | undefined;
  const takeOver = setInterval(() => {
    const free = claimIfFree(l.databaseDir);
    if (free.kind === 'held') return;
    clearInterval(takeOver);
    // Gone, shutting down, or another server: not one to keep up (db-server's watch says so if it ended).
    if (free.kind === 'none' || free.postmaster.pid !== postmaster.pid || free.postmaster.stopping) return free.ownership.release();
    free.ownership.running(postmaster.pid);
    owned = free.ownership;
    unhook();
    unhook = stopAtExit(l.databaseDir, l.mark, () => stopPostmaster(l.databaseDir, postmaster.pid), { release: owned.release });
    l.log.debug({ ownerPid: owner.pid, postgresPid: postmaster.pid }, 'the command that ran the embedded Postgres ended: db-server runs it now');
  }, TAKE_OVER_MS);
  takeOver.unref();
  return async () => {
    clearInterval(takeOver);
    if (owned) {
      const stop = () => {
        unhook();
        stopPostmaster(l.databaseDir, postmaster.pid);
      };
      return leave({ ...l, port: postmaster.port, postmaster: postmaster.pid, ownership: owned, unhook, stop });
    }
    l.mark.remove();
    await lastOut(l.databaseDir, l.adminUrl, l.log);
    unhook();
    const after = livePostmaster(l.databaseDir);
    return after?.pid !== postmaster.pid ? 'stopped' : after.stopping ? 'stopping' : 'left';
  };
}

function served(port: number, pid: number, how: ServedCluster['how'], leaveServer: () => Promise<LeaveOutcome>, log: Logger): ServedCluster {
  let stopping = false;
  // Kept alive by this watch: db-server waits on nothing else when it runs a server it adopted or shares.
  const watch = whenEnded(pid, { intervalMs: 200, keepAlive: true });
  const ended = watch.ended.then(() => {
    if (!stopping) log.debug({ pid }, 'embedded Postgres ended on its own');
  });
  return {
    port,
    pid,
    how,
    ended,
    async stop() {
      stopping = true;
      const outcome = await leaveServer();
      if (outcome === 'stopped') await ended;
      else watch.cancel();
      return outcome;
    },
  };
}

/** Postgres says only "could not bind" in a log; this names the port and what to do. */
function assertPortFree(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') reject(new DatabaseUnavailable(`port ${port} is in use on 127.0.0.1: pick another with --port, or leave --port out for a free one`));
      else if (error.code === 'EACCES') reject(new DatabaseUnavailable(`port ${port} needs privileges: pick one above 1023 with --port`));
      else reject(error);
    });
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve()));
  });
}
