// `convlog db-server` as a person runs it: a real Node process (its pid is Node's, so SIGTERM
// reaches convlog itself) keeping the embedded Postgres up under a data directory of its own.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../src/db/embedded.ts';
import { memorySettings } from '../../src/db/embedded-server.ts';
import { BIN, cleanEnv, killAll, runCli, startConvlog } from '../helpers/cli.ts';

let dir: string;
let dataDir: string;
let server: ChildProcess | undefined;
let stdout = '';

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-db-server-'));
  fs.chmodSync(dir, 0o755); // the embedded Postgres runs as another user when tests run as root
  dataDir = path.join(dir, 'data');
});
afterEach(() => killAll());
afterAll(async () => {
  if (server && server.exitCode === null && server.signalCode === null) {
    server.kill('SIGTERM');
    await exited(server);
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Resolves with stdout once `pattern` appears in it; rejects if the process ends first. */
function waitForOutput(child: ChildProcess, pattern: RegExp, stderr: () => string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(stdout);
      if (match) {
        child.stdout?.off('data', check);
        resolve(match);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => reject(new Error(`db-server exited (${code}) before printing its URL: ${stderr()}`)));
    check();
  });
}

async function selectOne(url: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`select 1 as one, to_regclass('zendesk.ticket_sync') is not null as migrated`);
    return rows[0];
  } finally {
    await client.end();
  }
}

describe('convlog db-server', { timeout: 240_000 }, () => {
  it('serves the embedded Postgres, migrated, on --port; other commands share it; SIGTERM stops it with exit 0, saying so', async () => {
    const port = await freePort();
    let stderr = '';
    server = spawn(process.execPath, [BIN, 'db-server', '--port', String(port)], {
      // info: the line a signal logs.
      env: cleanEnv({ CONVLOG_DATA_DIR: dataDir, LOG_LEVEL: 'info' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout?.on('data', (d) => (stdout += d));
    server.stderr?.on('data', (d) => (stderr += d));

    const [, url] = await waitForOutput(server, /^ {2}psql "(postgres:\/\/[^"]+)"$/m, () => stderr);
    // The data folder's own password (src/db/cluster-password.ts), not one every install shares.
    const password = fs.readFileSync(path.join(dataDir, 'pg-password'), 'utf8').trim();
    expect(url).toBe(`postgres://convlog:${password}@127.0.0.1:${port}/convlog`);
    expect(stdout).toContain('listens on 127.0.0.1 only');
    expect(await selectOne(url)).toEqual({ one: 1, migrated: true });

    // Both find the running server through its postmaster.pid; neither may stop it.
    const env = { CONVLOG_DATA_DIR: dataDir, LOG_LEVEL: 'info' };
    const second = startConvlog(['db-server'], { env });
    const queried = await runCli(['query', '--csv', "select count(*) as tickets, (select setting::int * 8 / 1024 from pg_settings where name = 'shared_buffers') as buffers_mb from zendesk.ticket_sync"], { env });
    expect(queried.code, queried.stderr).toBe(0);
    // Started with convlog's settings: shared buffers sized for the machine (memorySettings).
    expect(queried.stdout).toBe(`tickets,buffers_mb\n0,${parseInt(memorySettings(os.totalmem()).shared_buffers)}\n`);
    await vi.waitUntil(() => second.stdout().includes('psql '), { timeout: 60_000, interval: 50 });
    expect(second.stdout().split('\n')[0]).toMatch(new RegExp(`^the embedded Postgres in ${dataDir} is already running \\(postgres pid \\d+\\), started by another convlog process \\(pid ${server.pid}\\): db-server shares it`));
    expect(second.stdout()).toContain(`psql "${url}"`);
    // A second db-server stopped leaves the server to the first.
    second.kill('SIGTERM');
    expect((await second.exited).code, second.stderr()).toBe(0);
    expect(second.stderr()).toContain('embedded Postgres left running');
    expect(await selectOne(url)).toEqual({ one: 1, migrated: true });

    server.kill('SIGTERM');
    expect(await exited(server)).toBe(0);
    expect(stderr).toContain('embedded Postgres stopped');
    // It has no work in flight to finish: the line says what the signal does.
    expect(stderr).toContain('"msg":"stopping: the embedded Postgres stops unless other convlog commands still use it; the data stays (send again to exit at once)"');
    expect(stderr).not.toContain('work in flight');
    expect(fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    await expect(selectOne(url)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('shares a server a short command started, and keeps it up after that command ends, until stopped', async () => {
    const env = { CONVLOG_DATA_DIR: dataDir, LOG_LEVEL: 'info' };
    // `query` starts the server and holds it for a few seconds; db-server starts meanwhile.
    const holder = startConvlog(['query', 'select pg_sleep(4)'], { env });
    await vi.waitUntil(() => fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid')), { timeout: 60_000, interval: 50 });
    const shared = startConvlog(['db-server'], { env });
    await vi.waitUntil(() => shared.stdout().includes('psql '), { timeout: 60_000, interval: 50 });
    expect(shared.stdout()).toMatch(/db-server shares it and keeps it up until stopped/);
    const [, url] = /^ {2}psql "(postgres:\/\/[^"]+)"$/m.exec(shared.stdout())!;

    expect((await holder.exited).code, holder.stderr()).toBe(0);
    expect(holder.stderr()).toContain('the embedded Postgres is left running for 1 other convlog command');
    // The command that started it has ended: the server is db-server's to keep up.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await selectOne(url)).toEqual({ one: 1, migrated: true });
    expect(shared.process.exitCode).toBeNull();
    // db-server runs it now: a command after it shares it, rather than adopting a server whose
    // owner ended without stopping it, and ends leaving it to db-server without a word.
    const after = await runCli(['status'], { env });
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr).not.toMatch(/adopting|left running/);
    expect(await selectOne(url)).toEqual({ one: 1, migrated: true });

    shared.kill('SIGTERM');
    expect((await shared.exited).code, shared.stderr()).toBe(0);
    expect(shared.stderr()).toContain('embedded Postgres stopped');
    expect(fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    await expect(selectOne(url)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a port in use is one line, exit 2, and starts nothing', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const result = await runCli(['db-server', '--port', String(port)], { env: { CONVLOG_DATA_DIR: dataDir } });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(`convlog db-server: port ${port} is in use on 127.0.0.1: pick another with --port, or leave --port out for a free one\n`);
      expect(fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    } finally {
      busy.close();
    }
  });

  it('with DATABASE_URL there is nothing to start: it says so, the password hidden, exit 0', async () => {
    const result = await runCli(['db-server'], { env: { DATABASE_URL: 'postgres://analyst:hunter2@db.example.com:6543/support' } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      'DATABASE_URL already names a Postgres server (postgres://analyst:***@db.example.com:6543/support): ' +
        'connect to it directly, e.g. psql "$DATABASE_URL"; db-server only serves the embedded default\n',
    );
    expect(result.stdout + result.stderr).not.toContain('hunter2');
  });
});
