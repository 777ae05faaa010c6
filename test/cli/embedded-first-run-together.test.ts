// Three commands started together on a data directory no command has used: one creates and
// starts the embedded Postgres, the others wait for it and share it, and one of them creates the
// database while another is creating it too. Each ends with its own answer, and the last to end
// stops the server (src/db/cluster-handoff.ts). Before, the owner, ending first, stopped the server
// under commands still connecting (no session yet), and two creating the database at once got
// "duplicate key value violates unique constraint" (src/db/connection.ts, ensureDatabase).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { isAlive } from '../../src/db/postmaster.ts';
import { runProgram } from '../helpers/cli.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-together-'));
fs.chmodSync(dir, 0o755); // the embedded Postgres runs as another user when tests run as root
const dataDir = path.join(dir, 'data');
const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');

afterAll(() => {
  const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) : undefined;
  if (pid && isAlive(pid)) process.kill(pid, 'SIGINT');
  fs.rmSync(dir, { recursive: true, force: true });
});

it('status, query and enqueue started together on a first run each answer, and leave no server running', { timeout: 180_000 }, async () => {
  const env = { CONVLOG_DATA_DIR: dataDir, DATABASE_URL: undefined };
  const [status, query, enqueue] = await Promise.all([
    runProgram(['status'], { env, timeoutMs: 150_000 }),
    runProgram(['query', 'select 41 + 1 as answer'], { env, timeoutMs: 150_000 }),
    runProgram(['enqueue', '5'], { env, timeoutMs: 150_000 }),
  ]);
  expect(status.code, status.stderr).toBe(0);
  expect(status.stdout).toMatch(/^tickets /m);
  expect(query.code, query.stderr).toBe(0);
  expect(query.stdout).toMatch(/\b42\b/);
  expect(enqueue.code, enqueue.stderr).toBe(0);
  // A server shut down cleanly removes its postmaster.pid.
  const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) : undefined;
  expect(pid !== undefined && isAlive(pid), 'the last command to end left the server running').toBe(false);
});
