// `convlog grant-readonly` on the embedded default: the server it granted in stops with the
// command, so the address it names (a free port of that run) is gone when the user reads it.
// It says how to reach the server for the CREATE ROLE it suggests: `convlog db-server`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

let dataDir: string;

beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-grant-embedded-'));
  // The embedded Postgres runs as `postgres` when the tests run as root: it must reach the folder.
  fs.chmodSync(dataDir, 0o755);
});
afterAll(() => {
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

it('on the embedded default it points at db-server for the login it suggests', { timeout: 90_000 }, async () => {
  const result = await runCli(['grant-readonly'], { env: { CONVLOG_DATA_DIR: dataDir }, timeoutMs: 60_000 });
  expect(result.code, result.stderr).toBe(0);
  const lines = result.stdout.trim().split('\n');
  expect(lines[0]).toMatch(/^convlog_readonly may now read schema zendesk in the embedded Postgres \(data in .+\): SELECT/);
  expect(lines).toContain('  CREATE ROLE metabase LOGIN PASSWORD \'<a new password>\' IN ROLE convlog_readonly;');
  expect(lines.at(-1)).toBe('the embedded Postgres stops with this command: run "npx convlog db-server" for a URL to run that with psql (or a BI tool to use)');
});
