// Values the environment may hold that pass a naive check and then fail every request, exhaust
// the heap, overflow a timer or spin forever: each is refused at start-up, through the real
// command line, as one line with exit code 2, and nothing is created or changed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_CONCURRENCY } from '../../src/config.ts';
import { runCli, runProgram } from '../helpers/cli.ts';
import { markdownSection, repositoryText } from '../helpers/docs.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-config-limits-'));
fs.chmodSync(root, 0o755); // the embedded Postgres runs as another user when tests run as root
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

// Nothing listens there: a value that wrongly passed validation fails at once, with another line.
const NO_DATABASE = 'postgres://convlog@127.0.0.1:1/nowhere';
const ACCOUNT = { ZENDESK_SUBDOMAIN: 'acme', ZENDESK_EMAIL: 'agent@example.com', ZENDESK_API_TOKEN: 'token-123', DATABASE_URL: NO_DATABASE };

/** The command's stderr as one line, after checking it is exactly one, and exit code 2. */
function oneLine(result: { code: number | null; stdout: string; stderr: string }): string {
  expect(result.code, result.stderr).toBe(2);
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  return lines[0];
}

describe('ZENDESK_BASE_URL', () => {
  it('refuses a user name or password in it without ever printing the password', async () => {
    const [withBoth, passwordOnly] = await Promise.all([
      runCli(['sync', '1'], { env: { ...ACCOUNT, ZENDESK_BASE_URL: 'http://user:hunter2@127.0.0.1:7101' } }),
      runCli(['status'], { env: { DATABASE_URL: NO_DATABASE, ZENDESK_BASE_URL: 'https://:hunter2@acme.example.com/zendesk' } }),
    ]);
    const refusal = 'ZENDESK_BASE_URL must not carry a user name or password: use ZENDESK_EMAIL and ZENDESK_API_TOKEN, or ZENDESK_OAUTH_TOKEN (see .env.example)';
    expect(oneLine(withBoth)).toBe(`convlog sync: ${refusal}`);
    expect(oneLine(passwordOnly)).toBe(`convlog status: ${refusal}`);
    for (const result of [withBoth, passwordOnly]) expect(result.stdout + result.stderr).not.toContain('hunter2');
  });

  it('refuses a port out of range, a query string and a fragment', async () => {
    const [port, query, fragment] = await Promise.all(
      ['http://127.0.0.1:99999', 'https://proxy.example.com/zendesk?token=abcdef', 'https://acme.zendesk.com/#top'].map((url) =>
        runCli(['sync', '1'], { env: { ...ACCOUNT, ZENDESK_BASE_URL: url } }),
      ),
    );
    expect(oneLine(port)).toBe('convlog sync: ZENDESK_BASE_URL has port 99999: a port is from 1 to 65535 (see .env.example)');
    const noQuery = 'convlog sync: ZENDESK_BASE_URL must not have a query string (?...) or fragment (#...): give the root, such as https://acme.zendesk.com (see .env.example)';
    expect(oneLine(query)).toBe(noQuery);
    expect(query.stderr).not.toContain('abcdef');
    expect(oneLine(fragment)).toBe(noQuery);
  });

  it("refuses a port fetch never connects to, which failed every request as a retried \"fetch failed\"", async () => {
    const result = await runCli(['sync', '1'], { env: { ...ACCOUNT, ZENDESK_BASE_URL: 'http://127.0.0.1:6000' } });
    expect(oneLine(result)).toBe(
      "convlog sync: ZENDESK_BASE_URL has port 6000, one Node's fetch never connects to (a port of another protocol, blocked by the Fetch standard): use another port (see .env.example)",
    );
  });
});

describe('CONVLOG_SERVE_PORT', () => {
  it('refuses a port fetch never connects to: serve would listen there, and webhook test would say nothing answered', async () => {
    const env = { DATABASE_URL: NO_DATABASE, CONVLOG_WEBHOOK_SECRET: 'secret-12345678' };
    const [serve, test] = await Promise.all([
      runCli(['serve'], { env: { ...env, CONVLOG_SERVE_PORT: '6000' } }),
      runCli(['webhook', 'test'], { env: { ...env, CONVLOG_SERVE_PORT: '10080' } }),
    ]);
    const reason = "one Node's fetch never connects to (a port of another protocol, blocked by the Fetch standard): use another port (see .env.example)";
    expect(oneLine(serve)).toBe(`convlog serve: CONVLOG_SERVE_PORT is port 6000, ${reason}`);
    expect(oneLine(test)).toBe(`convlog webhook test: CONVLOG_SERVE_PORT is port 10080, ${reason}`);
  });

  it('serve --port refuses what CONVLOG_SERVE_PORT refuses, and each port flag takes 0 where its variable does', async () => {
    const env = { DATABASE_URL: NO_DATABASE, CONVLOG_WEBHOOK_SECRET: 'secret-12345678' };
    const [serve, dbServer, health] = await Promise.all([
      runCli(['serve', '--port', '6000'], { env }),
      runCli(['db-server', '--port', '0'], { env }),
      // --health-port 0 passes (CONVLOG_HEALTH_PORT=0 is any free port): the flag checked after it is what refuses.
      runCli(['work', '--health-port', '0', '--concurrency', '0'], { env: ACCOUNT }),
    ]);
    expect(serve.stderr.split('\n')[0]).toBe(
      "convlog serve: --port is port 6000, one Node's fetch never connects to (a port of another protocol, blocked by the Fetch standard): use another port",
    );
    expect(serve.code).toBe(2);
    expect(dbServer.stderr.split('\n')[0]).toBe('convlog db-server: --port must be an integer from 1 to 65535, got "0"');
    expect(health.stderr.split('\n')[0]).toMatch(/^convlog work: --concurrency must be an integer from 1 to \d+, got "0"$/);
  });
});

describe('flags and settings both wrong', () => {
  it('names the flag first: it is on the line just typed, and a missing setting would hide it until set', async () => {
    // No Zendesk settings at all, and a bad --concurrency.
    const env = { DATABASE_URL: NO_DATABASE, ZENDESK_BASE_URL: undefined, ZENDESK_SUBDOMAIN: undefined, ZENDESK_EMAIL: undefined, ZENDESK_API_TOKEN: undefined };
    const [work, sync] = await Promise.all([runCli(['work', '--concurrency', '0'], { env }), runCli(['sync', '5', '--concurrency', '0'], { env })]);
    for (const [name, result] of [['work', work], ['sync', sync]] as const) {
      expect(result.code, result.stderr).toBe(2);
      // With the usage line after it, as for any mistyped flag.
      expect(result.stderr.split('\n')[0]).toMatch(new RegExp(`^convlog ${name}: --concurrency must be an integer from 1 to \\d+, got "0"$`));
    }
  });
});

describe('numeric limits', () => {
  it('caps CONVLOG_CONCURRENCY where --concurrency is capped', async () => {
    const [variable, flag] = await Promise.all([
      runCli(['work', '--until-idle'], { env: { ...ACCOUNT, CONVLOG_CONCURRENCY: '100000' } }),
      runCli(['work', '--until-idle', '--concurrency', String(MAX_CONCURRENCY + 1)], { env: ACCOUNT }),
    ]);
    expect(oneLine(variable)).toBe(`convlog work: CONVLOG_CONCURRENCY must be at most ${MAX_CONCURRENCY}, got "100000" (see .env.example)`);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain(`--concurrency must be an integer from 1 to ${MAX_CONCURRENCY}, got "${MAX_CONCURRENCY + 1}"`);
  });

  it('refuses a request timeout a timer cannot hold, and other values past their range, in one line', async () => {
    const [timeout, all] = await Promise.all([
      runCli(['sync', '1'], { env: { ...ACCOUNT, CONVLOG_REQUEST_TIMEOUT: '3000000' } }),
      runCli(['status'], {
        env: {
          DATABASE_URL: NO_DATABASE,
          CONVLOG_RATE_LIMIT: '99999999999999999999',
          CONVLOG_ACCOUNT_RATE_LIMIT: '3000000000',
          CONVLOG_FULL_RESYNC_DAYS: '100000000',
          CONVLOG_FULL_RESYNC_PERCENT: '101',
        },
      }),
    ]);
    expect(oneLine(timeout)).toBe('convlog sync: CONVLOG_REQUEST_TIMEOUT must be at most 3600 seconds, got "3000000" (see .env.example)');
    expect(oneLine(all)).toBe(
      'convlog status: CONVLOG_RATE_LIMIT must be at most 1000000, got "99999999999999999999"; ' +
        'CONVLOG_ACCOUNT_RATE_LIMIT must be at most 1000000, got "3000000000"; ' +
        'CONVLOG_FULL_RESYNC_DAYS must be at most 3650 days, got "100000000"; ' +
        'CONVLOG_FULL_RESYNC_PERCENT must be a percentage from 0 to 100, got "101" (see .env.example)',
    );
  });
});

describe('long values', () => {
  it('a bad value is quoted as CLI input is, escaped and cut after 40 characters, so every problem fits the line; secrets never appear', async () => {
    const long = `\u001b[31m${'7'.repeat(10_000)}`;
    const env = {
      DATABASE_URL: 'postgres://convlog:hunter2#x@127.0.0.1:1/nowhere',
      CONVLOG_RATE_LIMIT: long,
      CONVLOG_CONCURRENCY: '0',
      LOG_LEVEL: 'x'.repeat(10_000),
      ZENDESK_API_TOKEN: `token-${'t'.repeat(10_000)}`,
      CONVLOG_WEBHOOK_SECRET: 'hunter3',
    };
    // --verbose: the CLI cuts no message then, so the shortening is the value's own.
    const [plain, verbose] = await Promise.all([runCli(['status'], { env }), runCli(['status', '--verbose'], { env })]);
    const expected =
      'convlog status: DATABASE_URL contains "#": percent-encode special characters in the user name or password ' +
      '(# as %23, @ as %40, : as %3A, / as %2F, ? as %3F, % as %25); ' +
      `CONVLOG_RATE_LIMIT must be a positive integer, got "\\u001b[31m${'7'.repeat(35)}…"; ` +
      'CONVLOG_CONCURRENCY must be a positive integer, got "0"; ' +
      `LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "${'x'.repeat(40)}…"; ` +
      'CONVLOG_WEBHOOK_SECRET has a secret shorter than 8 characters (see .env.example)';
    expect(oneLine(plain)).toBe(expected);
    expect(verbose.code).toBe(2);
    expect(verbose.stderr.split('\n')[0]).toBe(expected);
    for (const result of [plain, verbose]) {
      for (const secret of ['hunter2', 'hunter3', 'token-']) expect(result.stdout + result.stderr).not.toContain(secret);
    }
  });

  it('CONVLOG_DATA_DIR too long to be a path is shown cut after 200 characters, and the reason stays in the line', async () => {
    const dataDir = path.join(root, 'd'.repeat(10_000));
    const result = await runCli(['status', '--verbose'], { env: { CONVLOG_DATA_DIR: dataDir } });
    const shown = `${dataDir.slice(0, 200)}…`;
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(`convlog status: CONVLOG_DATA_DIR (${shown}) cannot be used: cannot look at ${shown}: the path is too long`);
  });
});

describe('DATABASE_URL', () => {
  it('names a port out of range instead of hinting at percent-encoding', async () => {
    const result = await runCli(['status'], { env: { DATABASE_URL: 'postgres://convlog:secret@127.0.0.1:99999/convlog' } });
    expect(oneLine(result)).toBe('convlog status: DATABASE_URL has port 99999: a port is from 1 to 65535 (see .env.example)');
  });

  it('sslmode=require prints no node-postgres security warning', async () => {
    // A process of its own: the warning is printed once per process, by Node, on its stderr.
    const result = await runProgram(['migrate'], { env: { DATABASE_URL: `${NO_DATABASE}?sslmode=require` } });
    expect(result.stderr).not.toContain('SECURITY WARNING');
    expect(oneLine(result)).toBe('convlog migrate: cannot connect to Postgres at 127.0.0.1:1/nowhere: connection refused (is Postgres running there?) (check DATABASE_URL)');
  });
});

describe('CONVLOG_DATA_DIR', () => {
  it('refuses a regular file, and leaves it as it was', async () => {
    const file = path.join(root, 'a-file');
    fs.writeFileSync(file, 'kept');
    const [itself, below] = await Promise.all([
      runCli(['status'], { env: { CONVLOG_DATA_DIR: file } }),
      runCli(['status'], { env: { CONVLOG_DATA_DIR: path.join(file, 'data') } }),
    ]);
    expect(oneLine(itself)).toBe(`convlog status: CONVLOG_DATA_DIR (${file}) cannot be used: it is a file, not a folder`);
    expect(oneLine(below)).toBe(`convlog status: CONVLOG_DATA_DIR (${path.join(file, 'data')}) cannot be used: ${file} is a file, not a folder`);
    expect(fs.readFileSync(file, 'utf8')).toBe('kept');
  });

  it('is checked when the embedded Postgres starts, after the variables, as README says', async () => {
    const file = path.join(root, 'a-file-too');
    fs.writeFileSync(file, 'kept');
    const [both, folderOnly] = await Promise.all([
      runCli(['status'], { env: { CONVLOG_DATA_DIR: file, CONVLOG_RATE_LIMIT: '0' } }),
      runCli(['status'], { env: { CONVLOG_DATA_DIR: file } }),
    ]);
    expect(oneLine(both)).toBe('convlog status: CONVLOG_RATE_LIMIT must be a positive integer, got "0" (see .env.example)');
    expect(oneLine(folderOnly)).toBe(`convlog status: CONVLOG_DATA_DIR (${file}) cannot be used: it is a file, not a folder`);
    const readme = markdownSection(repositoryText('README.md'), '## Configuration').replace(/\s+/g, ' ');
    expect(readme).toContain('The `CONVLOG_DATA_DIR` folder itself is checked (and created) only when the embedded Postgres starts, after the variables');
    expect(readme).not.toContain('Every problem is reported at once');
  });

  it('refuses a folder under /proc at once, instead of retrying mkdir forever', async () => {
    // A process of its own: the endless mkdir blocks the event loop, so only SIGKILL ends it.
    const result = await runProgram(['status'], { env: { CONVLOG_DATA_DIR: '/proc/convlog-nope/data' }, timeoutMs: 30_000 });
    expect(oneLine(result)).toBe('convlog status: CONVLOG_DATA_DIR (/proc/convlog-nope/data) cannot be used: cannot create /proc/convlog-nope: this file system does not allow creating it');
    expect(result.ms).toBeLessThan(20_000);
  });

  it('a cluster that exits at start-up is reported with the reason Postgres gave', async () => {
    // A cluster of a version this Postgres cannot open; run as root, Postgres (as "postgres")
    // cannot even read it. Either way it exits before it is ready, and says why.
    const dataDir = path.join(root, 'old-cluster');
    fs.mkdirSync(path.join(dataDir, 'pg'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dataDir, 'pg', 'PG_VERSION'), '9\n');
    fs.writeFileSync(path.join(dataDir, 'pg', 'postgresql.conf'), '');
    const result = await runCli(['status'], { env: { CONVLOG_DATA_DIR: dataDir } });
    const line = oneLine(result);
    expect(line).toMatch(new RegExp(`^convlog status: could not start the embedded Postgres in ${path.join(dataDir, 'pg')}: .+ \\(set DATABASE_URL to use your own server\\)$`));
    expect(line).toMatch(/database files are incompatible with server|could not access the server configuration file/);
    expect(line).not.toContain('undefined');
  });

  it('LOG_LEVEL=trace shows the embedded Postgres\'s own log, as that message says it does', async () => {
    const dataDir = path.join(root, 'old-cluster-traced');
    fs.mkdirSync(path.join(dataDir, 'pg'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(dataDir, 'pg', 'PG_VERSION'), '9\n');
    fs.writeFileSync(path.join(dataDir, 'pg', 'postgresql.conf'), '');
    const result = await runCli(['status'], { env: { CONVLOG_DATA_DIR: dataDir, LOG_LEVEL: 'trace' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/"level":10,.*"msg":"embedded postgres"/);
  });
});
