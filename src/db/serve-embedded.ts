// The embedded Postgres kept up on purpose, for psql and BI tools (`convlog db-server`), on a
// port the person may choose. It is the same cluster every command uses under CONVLOG_DATA_DIR:
// commands run meanwhile find it through its postmaster.pid and share it (src/db/embedded.ts).
import net from 'node:net';
import path from 'node:path';
import { DatabaseUnavailable, errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import { prepareDataDir } from './data-dir.ts';
import { embeddedServer, embeddedUrl, initialiseAndStart, isAlive, livePostmaster } from './embedded.ts';

export { livePostmaster };

export interface ServedCluster {
  port: number;
  /** The postmaster's pid, from postmaster.pid. */
  pid: number;
  /** Resolves if the server ends without stop() (killed, crashed). */
  ended: Promise<void>;
  /** Stops the server and waits until it has exited. */
  stop(): Promise<void>;
}

/** The cluster's directory under a data directory, as src/db/embedded.ts lays it out. */
export function clusterDir(dataDir: string): string {
  return path.join(dataDir, 'pg');
}

/**
 * Starts the cluster under `dataDir` on 127.0.0.1:`port`, creating it on first use exactly as the
 * other commands would (same user and password). The caller has checked that none is running.
 */
export async function serveEmbeddedPostgres(dataDir: string, port: number, log: Logger): Promise<ServedCluster> {
  const databaseDir = clusterDir(dataDir);
  prepareDataDir(dataDir);
  await assertPortFree(port);

  // The password the other commands connect with, taken from the one place that defines it.
  const password = decodeURIComponent(new URL(embeddedUrl(port, 'postgres')).password);
  const pg = await embeddedServer({ databaseDir, port, password, log });
  // Until stop(), the process's exit stops the server too (a second Ctrl-C exits at once).
  const unhook = await initialiseAndStart(pg, { databaseDir, dataDir, log }, (reason) => `${databaseDir} on port ${port}: ${reason}`);
  const running = livePostmaster(databaseDir);
  if (!running) {
    await pg.stop();
    unhook();
    throw new DatabaseUnavailable(`the embedded Postgres in ${databaseDir} started but wrote no postmaster.pid`);
  }

  let stopping = false;
  const ended = untilDead(running.pid).then(() => {
    if (!stopping) log.debug({ pid: running.pid }, 'embedded Postgres ended on its own');
  });
  return {
    port,
    pid: running.pid,
    ended,
    async stop() {
      stopping = true;
      unhook();
      // Postgres may have ended already (stopped or killed by someone else); pg.stop() would
      // wait for an exit event that has already passed, so the pid decides.
      await Promise.race([pg.stop(), ended]);
      await ended;
    },
  };
}

function untilDead(pid: number, intervalMs = 200): Promise<void> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (isAlive(pid)) return;
      clearInterval(timer);
      resolve();
    }, intervalMs);
  });
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
