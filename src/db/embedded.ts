// The zero-setup default: a Postgres cluster under CONVLOG_DATA_DIR, started on demand and stopped
// when the last convlog command using it ends (src/db/cluster-handoff.ts). Another convlog process
// shares it while its owner lives (src/db/cluster-owner.ts), and adopts it once that owner is gone.
import net from 'node:net';
import path from 'node:path';
import { adopt, APPLICATION_NAME, lastOut, leave, letGo, stopSharedAtExit } from './cluster-handoff.ts';
import { markAndClaim } from './use-marks.ts';
import { isAlive, whenEnded, type Postmaster } from './postmaster.ts';
import { prepareDataDir } from './data-dir.ts';
import type { Logger } from '../log.ts';
import { embeddedServer, embeddedUrl, stopServer, type EmbeddedServer } from './embedded-server.ts';
import { initialiseAndStart } from './start-cluster.ts';
import { assertSharedLogin, clusterPassword, type Login } from './cluster-password.ts';
import { probe } from './pg-client.ts';
import { withinTime } from '../timing.ts';

export const EMBEDDED_DATABASE = 'convlog';

export interface EmbeddedCluster {
  /** Connection URL of the `postgres` maintenance database; swap the path for others. */
  adminUrl: string;
  url: (database: string) => string;
  /**
   * This command is done with the cluster: it is stopped unless other convlog commands still use
   * it (src/db/cluster-handoff.ts), whoever started it; then the last of them to end stops it.
   */
  stop(): Promise<void>;
  /** True when another convlog process (a `db-server`) runs it: it outlives this command. */
  shared: boolean;
  /** Resolves with one line saying why, should the server end under this command before stop(). */
  gone: Promise<string>;
  /** Looks at once (a connection lost): true when the server has ended, `gone` then resolving. */
  checkGone(): boolean;
}

/** `signal` (the command's stop) ends a wait for a server another command is starting or stopping. */
export async function startEmbeddedPostgres(dataDir: string, log: Logger, signal?: AbortSignal): Promise<EmbeddedCluster> {
  const databaseDir = path.join(dataDir, 'pg');
  prepareDataDir(dataDir);
  const password = clusterPassword(dataDir);
  const adminUrl = (port: number) => commandUrl(port, 'postgres', password);
  // Marked before looking, so an owner ending while this command connects leaves the server to it;
  // kept until this command ends, whichever its part (stopAtExit).
  const { mark, claim } = await markAndClaim(databaseDir, log, signal);
  if (claim.kind === 'shared') {
    const { postmaster, owner } = claim;
    log.debug({ port: postmaster.port, ownerPid: owner.pid }, 'using the embedded Postgres another convlog process runs');
    await assertSharedLogin(adminUrl(postmaster.port), dataDir, owner.pid).catch((error: unknown) => {
      mark.remove();
      throw error;
    });
    const ended = () =>
      isAlive(owner.pid)
        ? `the embedded Postgres in ${dataDir} stopped (postgres process ${postmaster.pid} ended); run the command again`
        : `the embedded Postgres in ${dataDir} stopped (its owner, convlog process ${owner.pid}, ended); run the command again`;
    const unhook = stopSharedAtExit(databaseDir, mark, owner, postmaster.pid);
    const stop = async () => {
      mark.remove();
      await lastOut(databaseDir, adminUrl, log);
      unhook();
    };
    return cluster(postmaster, password, ended, stop, true);
  }
  const underThis = (pid: number) => () => `the embedded Postgres in ${dataDir} (postgres process ${pid}) stopped under this command; run the command again`;
  if (claim.kind === 'orphan') {
    const { postmaster, ownership } = claim;
    const adopted = await adopt(claim, { databaseDir, dataDir, log, mark, login: loginAt(postmaster.port, password) });
    const stop = () => leave({ databaseDir, dataDir, port: postmaster.port, postmaster: postmaster.pid, adminUrl, ownership, log, mark, ...adopted }).then(() => {});
    return cluster(postmaster, password, underThis(postmaster.pid), stop, false);
  }

  const { ownership } = claim;
  let port: number;
  let pg: EmbeddedServer;
  let started: Awaited<ReturnType<typeof initialiseAndStart>>;
  try {
    port = await freePort();
    pg = await embeddedServer({ databaseDir, port, log, password });
    started = await initialiseAndStart(pg, { databaseDir, dataDir, log, ownership, mark, login: loginAt(port, password) }, (reason) => `${databaseDir}: ${reason} (set DATABASE_URL to use your own server)`);
  } catch (error) {
    ownership.release();
    mark.remove();
    throw error;
  }
  log.debug({ port, dataDir }, 'embedded Postgres started');
  const unhook = () => {
    started.unhook();
    letGo(pg);
  };
  const stop = () => {
    started.unhook();
    void stopServer(pg);
  };
  const leaving = () => leave({ databaseDir, dataDir, port, postmaster: started.postmaster.pid, adminUrl, ownership, log, mark, unhook, stop }).then(() => {});
  return cluster(started.postmaster, password, underThis(started.postmaster.pid), leaving, false);
}

/** The login of the server on `port`, as a command connects. */
export function loginAt(port: number, password: string): Login {
  return { password, url: (given) => commandUrl(port, 'postgres', given) };
}

/** The URL a command connects with: its sessions named for src/db/cluster-handoff.ts. */
export function commandUrl(port: number, database: string, password: string): string {
  return `${embeddedUrl(port, database, password)}?application_name=${encodeURIComponent(APPLICATION_NAME)}`;
}

function cluster(postmaster: Postmaster, password: string, why: () => string, stopIt: () => Promise<void>, shared: boolean): EmbeddedCluster {
  const url = (database: string) => commandUrl(postmaster.port, database, password);
  const watch = whenEnded(postmaster.pid);
  let ended = false;
  void watch.ended.then(() => (ended = true));
  let stopped = false;
  return {
    adminUrl: url('postgres'),
    url,
    shared,
    gone: watch.ended.then(why),
    checkGone: () => ended || (!stopped && watch.checkNow()),
    stop: async () => {
      // A server killed under this command ends its connections a moment before its pid is gone
      // (longer on a busy machine), and a command that failed on one closes at once: its end is
      // still the one line to give, so a server that no longer answers is given that moment.
      if (!watch.checkNow() && (await probe(url('postgres'), ANSWER_MS)) !== undefined) await withinTime(watch.ended, END_SEEN_MS);
      stopped = true;
      watch.cancel();
      await stopIt();
    },
  };
}

/** How long a command closing waits for the pid of a server that no longer answers to be gone. */
const END_SEEN_MS = 3_000;

/** How long that server has to take a connection and answer `select 1`. */
const ANSWER_MS = 2_000;

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
