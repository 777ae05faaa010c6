// The folder the embedded Postgres keeps its data in (CONVLOG_DATA_DIR): created and checked
// before the server starts, so that a folder it cannot use is one line naming it and why.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, FolderClosedToPostgres, SET_DATABASE_URL } from '../errors/convlog-errors.ts';
import { errorMessage } from '../errors/messages.ts';
import { printable } from '../text.ts';

/**
 * Creates `dataDir` (and the folders above it) and checks that files can be written there, or
 * throws one ConfigError naming the folder and why: `CONVLOG_DATA_DIR (/proc/x) cannot be used:
 * ...`. Node's own recursive mkdir is not used: where a folder exists but cannot hold a new one
 * (under /proc, say), it retries forever in one synchronous call, at full CPU and deaf to signals.
 * Postgres runs as the `postgres` user when we are root: the folder is made 0755 and every folder
 * above it must let that user pass.
 */
export function prepareDataDir(dataDir: string): void {
  // Paths shown shortened: a value too long to be a path would otherwise push the reason out of the line.
  const shown = (file: string) => printable(file, MAX_PATH_SHOWN);
  const refuse = (reason: string) => new ConfigError(`CONVLOG_DATA_DIR (${shown(dataDir)}) cannot be used: ${reason}`);
  const absolute = path.resolve(dataDir);
  // The folders to create, deepest last: walk up to the first that exists.
  const missing: string[] = [];
  const look = (file: string, how: typeof fs.statSync) => {
    try {
      return how(file);
    } catch (error) {
      // Not there, or a file above it: the walk up finds out which.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw refuse(`cannot look at ${shown(file)}: ${fileErrorReason(error)}`);
    }
  };
  for (let d = absolute; ; d = path.dirname(d)) {
    const stat = look(d, fs.statSync);
    if (stat) {
      if (!stat.isDirectory()) throw refuse(`${d === absolute ? 'it' : shown(d)} is a file, not a folder`);
      break;
    }
    if (look(d, fs.lstatSync)?.isSymbolicLink()) throw refuse(`${shown(d)} is a symbolic link to a folder that does not exist`);
    missing.unshift(d);
    if (d === path.dirname(d)) break;
  }
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
    } catch (error) {
      // Created meanwhile by another process: fine if it is a folder.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && look(d, fs.statSync)?.isDirectory()) continue;
      throw refuse(`cannot create ${shown(d)}: ${fileErrorReason(error)}`);
    }
  }
  const probe = path.join(absolute, `.convlog-write-check-${process.pid}`);
  try {
    fs.writeFileSync(probe, '');
    fs.rmSync(probe);
  } catch (error) {
    throw refuse(`cannot write in it: ${fileErrorReason(error)}`);
  }
  if (process.getuid?.() === 0) {
    try {
      fs.chmodSync(absolute, 0o755);
    } catch (error) {
      throw refuse(`cannot make it readable by the "postgres" user the embedded Postgres runs as: ${fileErrorReason(error)}`);
    }
    assertSearchable(absolute, 'above the data directory', 'choose another CONVLOG_DATA_DIR');
  }
}

/** The characters of a path a message shows, as for a --file path. */
const MAX_PATH_SHOWN = 200;

const FILE_REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a part of the path is a file, not a folder',
  ENOENT: 'this file system does not allow creating it',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the path is too long',
  EEXIST: 'a file of that name exists',
};

function fileErrorReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return (code && FILE_REASONS[code]) || errorMessage(error);
}

/**
 * Postgres runs as the `postgres` user when we are root: every folder above `file` must let it
 * pass, or it fails with a bare EACCES. Says which folder, and `remedy`, instead.
 */
export function assertSearchable(file: string, where: string, remedy: string): void {
  for (let d = path.dirname(file); ; d = path.dirname(d)) {
    if ((fs.statSync(d).mode & 0o001) === 0) throw new FolderClosedToPostgres(d, where, [remedy, SET_DATABASE_URL]);
    if (d === path.dirname(d)) return;
  }
}
