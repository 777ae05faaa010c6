// Node's compile cache defaults to a folder of the shared temporary folder, named by the user's
// uid: another local user can create it first and fill it with code of their own, which convlog
// would then run (its entries are checked by a checksum only). convlog keeps it in the user's own
// cache folder (bin/convlog.js).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runProgram } from '../helpers/cli.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-compile-cache-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

it("keeps the compile cache in the user's cache folder, not the shared temporary folder", { timeout: 60_000 }, async () => {
  const home = path.join(root, 'home');
  const shared = path.join(root, 'tmp');
  fs.mkdirSync(home);
  fs.mkdirSync(shared);
  const result = await runProgram(['--version'], { env: { HOME: home, TMPDIR: shared, XDG_CACHE_HOME: undefined, NODE_COMPILE_CACHE: undefined } });
  expect(result.code, result.stderr).toBe(0);
  expect(fs.readdirSync(shared)).toEqual([]);
  const cache = path.join(home, '.cache', 'convlog', 'compile-cache');
  expect(fs.readdirSync(cache).length).toBeGreaterThan(0);
});

it('follows XDG_CACHE_HOME', { timeout: 60_000 }, async () => {
  const xdg = path.join(root, 'xdg');
  const result = await runProgram(['--version'], { env: { HOME: path.join(root, 'nowhere'), XDG_CACHE_HOME: xdg, NODE_COMPILE_CACHE: undefined } });
  expect(result.code, result.stderr).toBe(0);
  expect(fs.readdirSync(path.join(xdg, 'convlog', 'compile-cache')).length).toBeGreaterThan(0);
});
