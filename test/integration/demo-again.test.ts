// The demo's closing lines say how to run it again. "npm run demo again" was printed after a run
// with --tickets or CONVLOG_DATA_DIR too, where a plain `npm run demo` syncs another count of
// tickets or into another folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-demo-again-'));
fs.chmodSync(dir, 0o755); // the embedded Postgres runs as user "postgres" when tests run as root
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const demo = (tickets: number) =>
  runCli(['demo', '--tickets', String(tickets)], { cwd: dir, env: { CONVLOG_DATA_DIR: path.join(dir, 'data') }, timeoutMs: 150_000 });

it('names the command that repeats this run', { timeout: 300_000 }, async () => {
  const run = await demo(3);
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toMatch(/^ {2}CONVLOG_DATA_DIR=data npm run demo -- --tickets 3 {3}runs it again: already synced tickets cost one request each$/m);
  expect(run.stdout).not.toMatch(/^ {2}npm run demo /m);
});
