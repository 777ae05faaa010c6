// Input the first hour meets, each refused or read as the README says: one line, exit 2 for a
// mistake, nothing secret printed, a global option taken before the command as after it.
import { describe, expect, inject, it } from 'vitest';
import { runCli, runProgram } from '../helpers/cli.ts';

const ZENDESK = { ZENDESK_BASE_URL: 'http://127.0.0.1:2', ZENDESK_EMAIL: 'agent@example.com', ZENDESK_API_TOKEN: 'unused-token' };

describe('DATABASE_URL', () => {
  // In a real process: the failure it stands for left a promise that never settled, and Node
  // exited 13 after about 11 s with no convlog line at all.
  it.each(['99999', 'abc', '', '5432&port=abc'])('a ?port=%s in its query string is one line, exit 2, as a bad port before the path is', async (port) => {
    const admin = new URL(inject('pgAdminUrl'));
    const url = `postgres://${admin.username}@${admin.hostname}:${admin.port}/postgres?port=${port}`;
    const result = await runProgram(['status'], { env: { DATABASE_URL: url }, timeoutMs: 40_000 });
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^convlog status: .*DATABASE_URL has "port=.*" in its query string: a port is from 1 to 65535/);
  });

  it('an sslmode Postgres does not know is named, not taken for "use SSL"', async () => {
    // Before: "The server does not support SSL connections (check DATABASE_URL)".
    const result = await runCli(['status'], { env: { DATABASE_URL: 'postgres://analyst@127.0.0.1:1/support?sslmode=bogus' } });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/^convlog status: .*DATABASE_URL has "sslmode=bogus" in its query string: sslmode is one of disable, allow, prefer, require, verify-ca, verify-full, no-verify/);
  });

  it('db-server never prints a password given as ?password= or ?sslpassword=', async () => {
    const result = await runCli(['db-server'], {
      env: { DATABASE_URL: 'postgres://analyst@db.example.com:6543/support?sslmode=disable&password=hunter2secret&sslpassword=keyphrase99' },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('DATABASE_URL already names a Postgres server');
    expect(result.stdout).toContain('password=***');
    expect(result.stdout + result.stderr).not.toMatch(/hunter2secret|keyphrase99/);
  });
});

it('--verbose, listed among the global options, is taken before the command too', async () => {
  const help = await runCli(['--help']);
  expect(help.stdout + help.stderr).toMatch(/global options: --verbose/);
  const result = await runCli(['--verbose', 'grant-readonly', '--print']);
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).toMatch(/GRANT/i);
  const helpOfSync = await runCli(['--verbose', 'help', 'sync']);
  expect(helpOfSync.code).toBe(0);
  expect(helpOfSync.stdout).toMatch(/^usage: convlog sync /);
});

it('a bad CONVLOG_HEALTH_PORT is reported with the other bad variables, in one line', async () => {
  const result = await runCli(['work', '--until-idle'], {
    env: { DATABASE_URL: 'postgres://convlog@127.0.0.1:1/none', ...ZENDESK, CONVLOG_RATE_LIMIT: 'abc', CONVLOG_HEALTH_PORT: 'abc' },
  });
  expect(result.code).toBe(2);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toContain('CONVLOG_RATE_LIMIT');
  expect(lines[0]).toContain('CONVLOG_HEALTH_PORT must be a port from 0 to 65535, got "abc"');
});

it('a mistyped option is answered with the one meant; a value starting with a dash with where it goes', async () => {
  const typo = await runCli(['sync', '--concurency', '3', '1']);
  expect(typo.code).toBe(2);
  expect(typo.stderr.split('\n')[0]).toBe("convlog sync: Unknown option '--concurency'; did you mean --concurrency? (convlog sync --help lists the options)");
  // The nearest, not the first within reach: --ful is one edit from --full, two from --file, listed first.
  const near = await runCli(['sync', '1', '2', '--ful']);
  expect(near.code).toBe(2);
  expect(near.stderr.split('\n')[0]).toBe("convlog sync: Unknown option '--ful'; did you mean --full? (convlog sync --help lists the options)");
  // So for commands: purve is one edit from purge, two from serve, listed first.
  const command = await runCli(['purve']);
  expect(command.code).toBe(2);
  expect(command.stderr).toBe('convlog: unknown command "purve"; did you mean purge? (convlog --help lists the commands)\n');
  const dash = await runCli(['enqueue', '-5']);
  expect(dash.code).toBe(2);
  // Ids are never negative: sent after --, -5 would only be refused again, as a ticket id.
  expect(dash.stderr.split('\n')[0]).toBe('convlog enqueue: invalid ticket id "-5": ids are positive integers; nothing was queued');
  const dequeue = await runCli(['dequeue', '7', '-12']);
  expect(dequeue.code).toBe(2);
  expect(dequeue.stderr.split('\n')[0]).toBe('convlog dequeue: invalid ticket id "-12": ids are positive integers; nothing was dequeued');
  const purge = await runCli(['purge', '-3']);
  expect(purge.stderr.split('\n')[0]).toBe('convlog purge: invalid ticket id "-3": ids are positive integers; nothing was purged');
  // A command that takes no ticket ids keeps the hint: grant-readonly's role may start with a dash.
  const role = await runCli(['grant-readonly', '-5']);
  expect(role.stderr.split('\n')[0]).toBe(`convlog grant-readonly: Unknown option '-5'; an argument starting with "-" goes at the end, after --, as in -- "-5"`);
});

it('a one-letter option is answered with the one option it begins, and a flag without its value says so', async () => {
  const letter = await runCli(['query', '-c', 'select 1']);
  expect(letter.code).toBe(2);
  expect(letter.stderr.split('\n')[0]).toBe("convlog query: Unknown option '-c'; did you mean --csv? (convlog query --help lists the options)");
  // -f begins --file and --full: both are named.
  const two = await runCli(['sync', '-f', 'ids.txt']);
  expect(two.stderr.split('\n')[0]).toBe("convlog sync: Unknown option '-f'; did you mean --file or --full? (convlog sync --help lists the options)");
  // A command taking ticket ids: no id starts with a dash, so "after --" would be no help.
  const unknown = await runCli(['sync', '--bogus', '1']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr.split('\n')[0]).toBe("convlog sync: Unknown option '--bogus' (convlog sync --help lists the options); nothing was queued");
  // --version is a global option that goes alone.
  const version = await runCli(['status', '--version']);
  expect({ code: version.code, first: version.stderr.split('\n')[0] }).toEqual({ code: 2, first: 'convlog status: --version goes alone, not with a command: convlog --version' });
  const missing = await runCli(['enqueue', '--sql']);
  expect(missing.code).toBe(2);
  expect(missing.stderr.split('\n')[0]).toBe('convlog enqueue: --sql needs a value (convlog enqueue --help shows what it takes)');
});

it('query refuses a statement that does not read before it opens any database', async () => {
  // A server that is not there: the refusal comes first, as it needs none (on the embedded
  // default, it came only after seconds of starting Postgres).
  const result = await runCli(['query', 'delete from zendesk.tickets'], { env: { DATABASE_URL: 'postgres://convlog@127.0.0.1:1/nowhere' } });
  expect(result.code).toBe(2);
  expect(result.stderr.trimEnd().split('\n')).toEqual([
    'convlog query: the query must only read (select, with, values, table, explain or show), got "delete…"; nothing was changed; ' +
      'query only reads: to change data on purpose, run the statement in psql ("$DATABASE_URL", or the URL "npx convlog db-server" prints for the embedded Postgres)',
  ]);
});

it('sync with no ticket ids says so first, before any problem of the environment', async () => {
  const result = await runCli(['sync'], { env: { ZENDESK_SUBDOMAIN: undefined, ZENDESK_BASE_URL: undefined, ZENDESK_EMAIL: undefined, ZENDESK_API_TOKEN: undefined } });
  expect(result.code).toBe(2);
  expect(result.stderr.split('\n')[0]).toBe('convlog sync: no ticket ids given: pass ids, --file PATH (or - for stdin), or --range A..B');
});
