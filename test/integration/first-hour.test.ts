// What a newcomer meets in the first hour (issue 17): an unreachable Zendesk, a closed pipe,
// --version, an unquoted cron, a DATABASE_URL with a "#". Real commands (the pipes and --version as child processes).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, runBash, runCli, runProgram } from '../helpers/cli.ts';
import { createFixture, type Fixture } from '../helpers/sync-fixture.ts';
import pkg from '../../package.json' with { type: 'json' };
import { freePort } from '../../src/db/embedded.ts';

let fixture: Fixture;
let closedPort: string;

beforeAll(async () => {
  fixture = await createFixture({ tickets: 3, seed: 1 }, { queue: [] });
  closedPort = `http://127.0.0.1:${await freePort()}`;
});
afterAll(async () => {
  await fixture?.close();
});

async function ticketRows(): Promise<number> {
  const { rows } = await fixture.database.pool.query<{ n: number }>('select count(*)::int as n from zendesk.ticket_sync');
  return rows[0].n;
}

describe('an unreachable Zendesk', { timeout: 60_000 }, () => {
  it.each([
    ['an unresolvable host', 'https://nosuch-convlog.invalid', /^convlog sync: cannot reach Zendesk at https:\/\/nosuch-convlog\.invalid: the host name (does not resolve|could not be looked up)[^\n]*\(check ZENDESK_BASE_URL\)\n$/],
    ['a closed port', '', /^convlog sync: cannot reach Zendesk at http:\/\/127\.0\.0\.1:\d+: the connection was refused \(nothing listens on that port\) \(check ZENDESK_BASE_URL\)\n$/],
  ])('sync against %s exits 2 with one line naming the host, and queues nothing', async (_what, url, expected) => {
    const started = Date.now();
    const result = await runCli(['sync', '1', '2', '3'], { env: { ...fixture.env, ZENDESK_BASE_URL: url || closedPort }, timeoutMs: 30_000 });
    const seconds = (Date.now() - started) / 1000;
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(expected);
    expect(result.stdout).toBe('');
    // The check itself takes well under 5 s (test/zendesk/unreachable.test.ts); a child process
    // on a loaded machine can take 10 s just to start, so this only rules out waiting for
    // timeouts (30 s each) or for queue retries (minutes).
    expect(seconds).toBeLessThan(30);
    expect(await ticketRows()).toBe(0);
  });

  it('work says so at start in an error line, and how long --until-idle waits for it', async () => {
    const result = await runCli(['work', '--until-idle'], { env: { ...fixture.env, ZENDESK_BASE_URL: closedPort }, timeoutMs: 30_000 });
    expect(result.code, result.stderr).toBe(0);
    const line = result.stderr.split('\n').find((l) => l.includes('cannot reach Zendesk'));
    expect(line, result.stderr).toBeDefined();
    const entry = JSON.parse(line!);
    expect(entry.level).toBe(50);
    expect(entry.msg).toMatch(/^cannot reach Zendesk at http:\/\/127\.0\.0\.1:\d+: the connection was refused .*; with --until-idle the worker waits up to 600 s for it \(--give-up-after\), then exits 1 with its tickets still queued$/);
  });
});

describe('a closed pipe', { timeout: 60_000 }, () => {
  it('status | head -1 prints one line and convlog exits 0 with nothing on stderr', async () => {
    const result = await shell(`node "${BIN}" status | head -1; echo "convlog exit \${PIPESTATUS[0]}" >&2`);
    expect(result.stdout).toMatch(/^database {3}[\w.-]+:\d+\/\w+\n$/);
    expect(result.stderr).toBe('convlog exit 0\n');
  });

  it('a reader that is gone before the first line (status --json | true) ends convlog quietly too', async () => {
    const result = await shell(`node "${BIN}" status --json | true; echo "convlog exit \${PIPESTATUS[0]}" >&2`);
    expect(result.stderr).toBe('convlog exit 0\n');
  });
});

describe('small things', { timeout: 30_000 }, () => {
  it('--version and -V print the package version (the program, as a person starts it)', async () => {
    for (const flag of ['--version', '-V']) {
      const result = await runProgram([flag]);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`${pkg.version}\n`);
    }
    // Anything after it is refused, not ignored with exit 0.
    const extra = await runCli(['--version', 'sync']);
    expect(extra.code).toBe(2);
    expect(extra.stdout).toBe('');
    expect(extra.stderr).toBe('convlog: --version takes nothing after it (got "sync"); for a command\'s options: convlog COMMAND --help\n');
  });

  it('an unquoted cron expression (expanded by the shell into file names) gets a hint to quote it', async () => {
    const result = await runCli(['schedule', '--cron', '*/5', 'README.md', 'package.json', 'src', 'test'], { env: fixture.env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Unexpected argument 'README.md'");
    expect(result.stderr).toContain('quote the cron expression, as in --cron "*/5 * * * *"');
  });

  it('a DATABASE_URL whose password holds "#" is refused with a hint to percent-encode it', async () => {
    const result = await runCli(['status'], { env: { DATABASE_URL: 'postgres://convlog:se#cret@127.0.0.1:5432/convlog' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^convlog status: DATABASE_URL contains "#": percent-encode .*# as %23.*\n$/);
    expect(result.stderr).not.toContain('se#cret');
  });
});

/** bash with pipefail off, so that the pipeline's own status is head's and PIPESTATUS tells convlog's. */
function shell(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runBash(script, { env: { ...cleanEnv(fixture.env), PATH: `${process.execPath.replace(/\/node$/, '')}:${process.env.PATH}` } });
}
