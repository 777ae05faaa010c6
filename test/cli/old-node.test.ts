// bin/convlog.js on a Node older than 24 (the system's, run outside npm): one line naming the Node
// the clone brings by its absolute path. Its hint used $PWD, wrong from any folder but the clone.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const clone = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
// A Node older than 24 on this machine, outside the clone (the system's, where there is one).
const old = ['/usr/bin/node', '/usr/local/bin/node'].find((bin) => {
  if (!fs.existsSync(bin)) return false;
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
  return Number(/^v(\d+)/.exec(version)?.[1] ?? 99) < 24;
});

it.skipIf(!old)('on an older Node, names the clone\'s Node by its absolute path, from any folder', () => {
  const run = spawnSync(old!, [`${clone}/bin/convlog.js`, 'status'], { cwd: os.tmpdir(), encoding: 'utf8' });
  expect(run.status).toBe(2);
  expect(run.stderr).toContain(`after "npm ci" the clone has one: ${clone}/node_modules/.bin/node ${clone}/bin/convlog.js COMMAND, from any folder`);
  expect(run.stderr).not.toContain('$PWD');
  // And that path runs it.
  const hinted = spawnSync(`${clone}/node_modules/.bin/node`, [`${clone}/bin/convlog.js`, '--version'], { cwd: os.tmpdir(), encoding: 'utf8' });
  expect(hinted.status, hinted.stderr).toBe(0);
});
