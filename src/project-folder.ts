// Where convlog's `.env` and its default data folder are: the project folder. src/config.ts reads
// the environment from there.
import fs from 'node:fs';
import path from 'node:path';

/**
 * The folder that holds `.env` and the default `.convlog`. `from` itself whenever it holds a
 * `.env` or a `.convlog` folder: where convlog always looked, so nobody who keeps them in the
 * folder they run from is moved. Otherwise the nearest folder above `from` whose package.json is
 * named convlog, a clone of this repository: from a clone's docs/, `npx convlog status` read no
 * .env and opened a new, empty database in docs/.convlog. A package.json that merely depends on
 * convlog is passed by: `npm install convlog` in a home folder leaves one there, and a monorepo's
 * root has one above workspaces that keep their own .env. `from` itself when there is none.
 */
export function projectFolder(from: string = process.cwd()): string {
  const start = path.resolve(from);
  if (holdsOwnSettings(start)) return start;
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (isConvlogClone(path.join(dir, 'package.json'))) return dir;
    if (dir === path.dirname(dir)) return start;
  }
}

function holdsOwnSettings(dir: string): boolean {
  if (fs.existsSync(path.join(dir, '.env'))) return true;
  try {
    return fs.statSync(path.join(dir, '.convlog')).isDirectory();
  } catch {
    // None, or one convlog cannot look at: not a data folder to keep using.
    return false;
  }
}

function isConvlogClone(packageJson: string): boolean {
  let manifest: unknown;
  try {
    manifest = JSON.parse(fs.readFileSync(packageJson, 'utf8'));
  } catch {
    // None, unreadable or not JSON: not a clone of convlog.
    return false;
  }
  return manifest !== null && typeof manifest === 'object' && (manifest as Record<string, unknown>).name === 'convlog';
}
