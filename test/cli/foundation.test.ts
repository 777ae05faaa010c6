import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { adminQuery, createEmptyDatabase } from '../helpers/database.ts';
import { runCli, runProgram } from '../helpers/cli.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-cli-'));
  fs.chmodSync(dir, 0o755); // the embedded Postgres runs as another user when tests run as root
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('convlog migrate', () => {
  it('works against a DATABASE_URL, and a second run changes nothing', async () => {
    const db = await createEmptyDatabase();
    cleanups.push(db.drop);
    const first = await runCli(['migrate'], { env: { DATABASE_URL: db.url } });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/applied \d+ migration/);
    const second = await runCli(['migrate'], { env: { DATABASE_URL: db.url } });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/is up to date/);
  });

  it('starts an embedded Postgres under CONVLOG_DATA_DIR when DATABASE_URL is unset, and keeps it', async () => {
    const cwd = tempDir();
    const first = await runCli(['migrate'], { env: { CONVLOG_DATA_DIR: path.join(cwd, 'data') } });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`^applied \\d+ migrations to the database \\(embedded, data in ${path.join(cwd, 'data')}\\)\n$`));
    expect(fs.existsSync(path.join(cwd, 'data/pg/PG_VERSION'))).toBe(true);
    // stopped when the command exited
    expect(fs.existsSync(path.join(cwd, 'data/pg/postmaster.pid'))).toBe(false);
    const second = await runCli(['migrate'], { env: { CONVLOG_DATA_DIR: path.join(cwd, 'data') } });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(`the database (embedded, data in ${path.join(cwd, 'data')}) is up to date\n`);
    // Named by its folder, not by a port gone once the command ends.
    const status = await runCli(['status'], { env: { CONVLOG_DATA_DIR: path.join(cwd, 'data') } });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`database   embedded, data in ${path.join(cwd, 'data')}\n`);
  });

  it('reads .env from the working directory', async () => {
    const cwd = tempDir();
    fs.writeFileSync(path.join(cwd, '.env'), 'CONVLOG_RATE_LIMIT=abc\n');
    const result = await runCli(['migrate'], { cwd });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'convlog migrate: CONVLOG_RATE_LIMIT must be a positive integer, got "abc" (see .env.example)',
    );
  });
});

describe('bad input', () => {
  it('an unreachable DATABASE_URL is one line naming host, port and cause, exit 2', async () => {
    const result = await runCli(['migrate'], { env: { DATABASE_URL: 'postgres://u:hunter2@127.0.0.1:1/nowhere' } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('127.0.0.1:1/nowhere');
    expect(result.stderr).toContain('connection refused');
    expect(result.stderr).not.toContain('hunter2');
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  });

  it('a wrong password or database name says so', async () => {
    const db = await createEmptyDatabase();
    cleanups.push(db.drop);
    const missing = new URL(db.url);
    missing.pathname = '/does_not_exist';
    const badPassword = new URL(db.url);
    badPassword.password = 'wrong-password';
    const [result, wrong] = await Promise.all([
      runCli(['migrate'], { env: { DATABASE_URL: missing.toString() } }),
      runCli(['migrate'], { env: { DATABASE_URL: badPassword.toString() } }),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('/does_not_exist: database does not exist');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/password authentication failed/);
    expect(wrong.stderr).not.toContain('wrong-password');
  });

  it('a URL without a database says so: Postgres looked for one named as the user', async () => {
    // A login of its own, so that no database bears its name.
    const role = `convlog_nodb_${randomBytes(4).toString('hex')}`;
    await adminQuery(inject('pgAdminUrl'), `create role ${role} login password 'nodb-secret'`);
    cleanups.push(() => adminQuery(inject('pgAdminUrl'), `drop role if exists ${role}`));
    const unnamed = new URL(inject('pgAdminUrl'));
    unnamed.username = role;
    unnamed.password = 'nodb-secret';
    unnamed.pathname = '';
    const result = await runCli(['migrate'], { env: { DATABASE_URL: unnamed.toString() } });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `convlog migrate: cannot connect to Postgres at ${unnamed.hostname}:${unnamed.port}/: the URL names no database, so Postgres looked for one named as the user; ` +
        `add the database's name after the port, as in postgres://user:password@host:5432/convlog (database "${role}" does not exist) (check DATABASE_URL)\n`,
    );
  });

  it('a URL without the password the server asks for says so, not what pg says of it', async () => {
    const db = await createEmptyDatabase();
    cleanups.push(db.drop);
    const url = new URL(db.url);
    url.password = '';
    // A process of its own: pg leaves the socket of a SCRAM login it gave up open, and Postgres
    // 15 and later then wait for that half-logged-in session (up to a minute) to drop the database.
    const result = await runProgram(['status'], { env: { DATABASE_URL: url.toString() } });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `convlog status: cannot connect to Postgres at ${url.hostname}:${url.port}${url.pathname}: the server asks for a password and the URL has none, as in postgres://user:password@host:port/database (check DATABASE_URL)\n`,
    );
  });

  it('--verbose adds the stack trace', async () => {
    const result = await runCli(['migrate', '--verbose'], { env: { DATABASE_URL: 'postgres://u:p@127.0.0.1:1/x' } });
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n').length).toBeGreaterThan(2);
  });

  it('an unknown command is one line pointing at --help; an unknown flag prints the usage line; exit 2', async () => {
    const [unknown, flag, none] = await Promise.all([runCli(['frobnicate']), runCli(['migrate', '--frob']), runCli([])]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('convlog: unknown command "frobnicate" (convlog --help lists the commands)\n');
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/Unknown option '--frob'/);
    expect(flag.stderr).toContain('usage: convlog migrate');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('commands:');
  });

  it('help COMMAND prints that command\'s usage, as COMMAND --help does; help with an unknown one says so', async () => {
    const [help, flag, unknown] = await Promise.all([runCli(['help', 'sync']), runCli(['sync', '--help']), runCli(['help', 'statsu'])]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: convlog sync IDS/);
    expect(help.stdout).toBe(flag.stdout);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('convlog: unknown command "statsu"; did you mean status? (convlog --help lists the commands)\n');
  });
});
