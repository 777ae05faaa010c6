// Where convlog's `.env` and its default data folder are: the project folder, found as `npm run`
// finds a package's root. src/config.ts reads the environment from there.
import fs from 'node:fs';
import path from 'node:path';

/**
 * The folder that holds `.env` and the default `.convlog`: the nearest at or above `from` whose
 * package.json is convlog's own or lists convlog among its dependencies, as `npm run` runs a
 * package's scripts from its root whatever folder below it the shell is in; `from` itself when
 * there is none. From a clone's docs/, `npx convlog status` read no .env and opened a new, empty
 * database in docs/.convlog. Another package.json on the way (a workspace of a monorepo that does
 * not use convlog) is passed by.
 */
export function projectFolder(from: string = process.cwd()): string {
  const start = path.resolve(from);
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (usesConvlog(path.join(dir, 'package.json'))) return dir;
    if (dir === path.dirname(dir)) return start;
  }
}

const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];

function usesConvlog(packageJson: string): boolean {
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(fs.readFileSync(packageJson, 'utf8')) as Record<string, unknown>;
  } catch {
    // None, unreadable or not JSON: not a project of ours, and npm would not run from it either.
    return false;
  }
  if (manifest === null || typeof manifest !== 'object') return false;
  return manifest.name === 'convlog' || DEPENDENCY_FIELDS.some((field) => {
    const dependencies = manifest[field];
    return dependencies !== null && typeof dependencies === 'object' && Object.hasOwn(dependencies, 'convlog');
  });
}
