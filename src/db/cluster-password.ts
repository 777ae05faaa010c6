// The embedded cluster's password. Its one login is a superuser, and a superuser can run programs
// as the server's user (COPY … TO PROGRAM) and read its files: with a password every install
// shared, any local user could connect to the port (127.0.0.1 is every local user's) and read
// the `.env` beside it. So each data folder has a password of its own, made on its first use and
// kept in a file only its user can read (`pg-password`, beside the cluster's folder `pg/`).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { causeWithCode, errorMessage } from '../errors/messages.ts';
import { DatabaseUnavailable } from '../errors/convlog-errors.ts';
import type { Logger } from '../log.ts';
import { probe, quietClient } from './pg-client.ts';

/** A cluster's login: the data folder's password, and the maintenance database's URL with a given password. */
export interface Login {
  password: string;
  url: (password: string) => string;
}

/** The password of clusters made before each had its own: replaced at their first start since. */
export const SHARED_PASSWORD = 'convlog';

/** The file that holds the password of the cluster under `dataDir`. */
export function passwordFile(dataDir: string): string {
  return path.join(dataDir, 'pg-password');
}

/**
 * The password of the cluster under `dataDir`, made now if it has none (24 random bytes, in
 * letters, digits, `-` and `_`, so a URL carries it as it is). Two commands starting together
 * make one: the file is created only if absent, and the loser reads the winner's.
 */
export function clusterPassword(dataDir: string): string {
  const file = passwordFile(dataDir);
  const made = crypto.randomBytes(24).toString('base64url');
  try {
    // Written whole before it is linked in, so that no reader finds it empty.
    const draft = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
    fs.writeFileSync(draft, `${made}\n`, { mode: 0o600, flag: 'wx' });
    try {
      fs.linkSync(draft, file);
      return made;
    } finally {
      fs.rmSync(draft, { force: true });
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw unreadable(file, error);
  }
  try {
    const stored = fs.readFileSync(file, 'utf8').trim();
    if (stored !== '') return stored;
  } catch (error) {
    throw unreadable(file, error);
  }
  throw new DatabaseUnavailable(`${file} is empty: delete it, and the next command gives the embedded Postgres a new password`);
}

function unreadable(file: string, error: unknown): DatabaseUnavailable {
  return new DatabaseUnavailable(`cannot keep the embedded Postgres's password in ${file}: ${errorMessage(error)}`, { cause: error });
}

/**
 * For a cluster made before each had its own password: its login still has SHARED_PASSWORD, so
 * it is given `password` now, by the command that starts or adopts the server, before it records
 * itself as the server's owner (from then on other commands share it, with `password`). A
 * cluster that takes `password` already is left as it is.
 */
export async function retireSharedPassword({ url, password }: Login, dataDir: string, log: Logger): Promise<void> {
  if (await logsIn(url(password))) return;
  const client = quietClient({ connectionString: url(SHARED_PASSWORD), connectionTimeoutMillis: LOGIN_TIMEOUT_MS });
  try {
    await client.connect();
    // ALTER ROLE takes no parameters: the password is quoted as a literal by pg itself.
    await client.query(`alter role current_user password ${client.escapeLiteral(password)}`);
    log.info('the embedded Postgres now has a password of its own (pg-password in its data folder), in place of the one every install shared');
  } catch (error) {
    if (causeWithCode(error, (code) => code === '28P01')) {
      throw new DatabaseUnavailable(
        `the embedded Postgres in ${dataDir} refuses the password in ${passwordFile(dataDir)} (deleted or changed since the cluster was made?): ` +
          `put back the one it was made with, or start over by deleting ${path.join(dataDir, 'pg')}`,
        { cause: error },
      );
    }
    throw error;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * For a command sharing a server another convlog process runs: that process may be of a release
 * before this one, whose server still has SHARED_PASSWORD (it is given its own only when started
 * or adopted, and its running owner still connects with the old one). One line saying so, rather
 * than a refused login that names DATABASE_URL.
 */
export async function assertSharedLogin(url: string, dataDir: string, ownerPid: number): Promise<void> {
  // Any other failure (a server stopping meanwhile) is the command's own connection's to meet and word.
  if (await logsIn(url).catch(() => true)) return;
  throw new DatabaseUnavailable(
    `the embedded Postgres in ${dataDir}, run by convlog process ${ownerPid}, refuses the password in ${passwordFile(dataDir)}: ` +
      'that process is of an earlier release, whose server has the password every install shared; stop it, then run this command again',
  );
}

const LOGIN_TIMEOUT_MS = 10_000;

/** Whether the server takes this URL's login; false only for a refused password. */
async function logsIn(url: string): Promise<boolean> {
  const failure = await probe(url, LOGIN_TIMEOUT_MS);
  if (failure === undefined) return true;
  if (causeWithCode(failure, (code) => code === '28P01')) return false;
  throw failure;
}
