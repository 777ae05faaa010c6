// Ctrl-C in a terminal signals the whole foreground process group, not only convlog. On the
// embedded default the Postgres convlog starts must not be in that group: it would take the
// SIGINT for a fast shutdown and cut every connection while convlog still finishes its pages,
// and the command ended in "terminating connection due to administrator command" errors and a
// crash instead of its summary.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { BIN, cleanEnv } from '../helpers/cli.ts';

let sim: Simulator;
let dataDir: string;

beforeAll(async () => {
  sim = await startSimulator({ tickets: 60, latency: 300 });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-ctrl-c-'));
  // The embedded Postgres runs as `postgres` when the tests run as root: it must reach the folder.
  fs.chmodSync(dataDir, 0o755);
});
afterAll(async () => {
  await sim?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/**
 * The command as a shell's foreground job runs it: leading a process group of its own (detached),
 * which a terminal's Ctrl-C signals whole (`interrupt`).
 */
function startGroupLeader(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [BIN, ...args], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (output.stdout += d));
  child.stderr.on('data', (d) => (output.stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    output,
    interrupt: () => process.kill(-child.pid!, 'SIGINT'),
    /** Its exit code, or 'hung' after a minute. */
    exitCode: () => Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]),
    kill: () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    },
  };
}

it('Ctrl-C to the whole process group of `sync` on the embedded default ends in its summary, not in lost connections', { timeout: 120_000 }, async () => {
  const env = cleanEnv({
    CONVLOG_DATA_DIR: dataDir,
    ZENDESK_BASE_URL: sim.url,
    ZENDESK_EMAIL: 'agent@example.com',
    ZENDESK_API_TOKEN: 'token',
    LOG_LEVEL: 'info',
  });
  const child = startGroupLeader(['sync', '--range', '1..60'], env);
  const out = child.output;
  try {
    // Some tickets synced: Postgres is up and pages are in flight.
    for (let i = 0; i < 600 && !/"msg":"ticket synced"/.test(out.stderr); i++) await new Promise((r) => setTimeout(r, 100));
    expect(out.stderr).toMatch(/"msg":"ticket synced"/);
    child.interrupt();
    const code = await child.exitCode();
    // Interrupted is not done: 1 tells a script to run it again.
    expect(code, out.stderr.slice(-3000)).toBe(1);
    expect(out.stdout).toMatch(/unfinished \d+ \(interrupted; they stay queued, behind what a later sync queues\)/);
    expect(out.stderr).toContain('"msg":"stopping: taking no more tickets; a page being stored commits, requests in flight are dropped and their tickets resume from the saved cursor (send again to exit at once)"');
    expect(out.stderr).not.toMatch(/administrator command|shutting down|Failed query|unexpected error/);
  } finally {
    child.kill();
  }
});

it('Ctrl-C to the process group while the embedded cluster is first created does not kill its initdb', { timeout: 120_000 }, async () => {
  // initdb, spawned into the command's group, took the SIGINT and died: the command then failed
  // with "could not start the embedded Postgres … (set DATABASE_URL to use your own server)".
  const fresh = path.join(dataDir, 'fresh');
  const env = cleanEnv({ CONVLOG_DATA_DIR: fresh, LOG_LEVEL: 'info' });
  const child = startGroupLeader(['status'], env);
  const out = child.output;
  try {
    for (let i = 0; i < 600 && !/creating the embedded Postgres cluster/.test(out.stderr); i++) await new Promise((r) => setTimeout(r, 20));
    expect(out.stderr).toContain('creating the embedded Postgres cluster (first run only)');
    // initdb takes seconds: a little later it is surely running, and the server not yet started.
    await new Promise((r) => setTimeout(r, 300));
    expect(out.stderr).not.toContain('database migrated');
    child.interrupt();
    const code = await child.exitCode();
    // status reads only: its stop leaves it to finish, on the cluster now created whole.
    expect(code, out.stderr.slice(-3000)).toBe(0);
    expect(out.stderr).not.toContain('could not start the embedded Postgres');
    expect(out.stdout).toContain(`database   embedded, data in ${fresh}`);
    expect(fs.existsSync(path.join(fresh, 'pg', 'PG_VERSION'))).toBe(true);
  } finally {
    child.kill();
  }
});
