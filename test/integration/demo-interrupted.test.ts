// A demo stopped with Ctrl-C while it syncs says how to finish what it left: the command that
// repeats it, not the advice meant for `sync` alone. Its exit code is 1: the work is not done.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startConvlog } from '../helpers/cli.ts';
import { until } from '../helpers/embedded-cluster.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-demo-interrupted-'));
fs.chmodSync(dir, 0o755); // the embedded Postgres runs as user "postgres" when tests run as root
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

it('stopped while it syncs, it names the command that finishes the tickets left', { timeout: 180_000 }, async () => {
  const demo = startConvlog(['demo', '--tickets', '3000'], { cwd: dir, env: { CONVLOG_DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'info' } });
  try {
    await until(() => demo.stderr().includes('"msg":"ticket synced"') || demo.process.exitCode !== null, 'the demo to sync a ticket', 150_000);
  } finally {
    demo.kill('SIGINT');
  }
  expect((await demo.exited).code, demo.stderr()).toBe(1);
  expect(demo.stdout()).toMatch(/, unfinished \d+ \(interrupted; they stay queued[^)]*; CONVLOG_DATA_DIR=data npm run demo -- --tickets 3000 finishes them\)/);
});
