// Run as root in a folder only root may enter (a `mktemp -d` folder), the embedded Postgres, which
// runs as user "postgres", cannot reach its data: the one line names the chmod that lets it in.
// The demo printed "DATABASE_URL is ignored" and then offered "or set DATABASE_URL" as a way out;
// it now leaves that out, while the commands that DATABASE_URL does serve keep it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const closed = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-closed-'));
fs.chmodSync(closed, 0o700);
afterAll(() => {
  fs.rmSync(closed, { recursive: true, force: true });
});

const asRoot = process.getuid?.() === 0;

it.runIf(asRoot)('the demo does not offer DATABASE_URL, which it ignores; migrate does', async () => {
  const dataDir = path.join(closed, 'data');
  const [demo, migrate] = await Promise.all([
    runCli(['demo', '--tickets', '2'], { env: { CONVLOG_DATA_DIR: dataDir, DATABASE_URL: 'postgres://convlog@127.0.0.1:1/elsewhere' } }),
    runCli(['migrate'], { env: { CONVLOG_DATA_DIR: dataDir } }),
  ]);
  const cannotEnter = `the embedded Postgres runs as user "postgres", which cannot enter ${closed} (above the data directory): run "chmod o+x ${closed}"`;
  expect(demo.code).toBe(2);
  expect(demo.stdout).toContain('(DATABASE_URL is ignored: the demo keeps its simulated tickets in the embedded Postgres)');
  expect(demo.stderr).toBe(`convlog demo: ${cannotEnter}, or choose another CONVLOG_DATA_DIR\n`);
  expect(migrate.code).toBe(2);
  expect(migrate.stderr).toBe(`convlog migrate: ${cannotEnter}, choose another CONVLOG_DATA_DIR, or set DATABASE_URL\n`);
});
