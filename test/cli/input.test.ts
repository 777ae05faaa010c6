// What a person can get wrong on the command line: flags given twice, a --file that is no file,
// values that would flood or drive the terminal, a port or host that cannot be listened on, a
// mistyped command. Each is a short error (one line, at most one more for the usage), exit 2, no
// "(an unexpected error…)", and nothing queued, purged or scheduled.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';

let database: TestDatabase;
let dir: string;

// Credentials for commands that need them; nothing here gets as far as a request.
const ZENDESK = { ZENDESK_BASE_URL: 'http://127.0.0.1:2', ZENDESK_EMAIL: 'agent@example.com', ZENDESK_API_TOKEN: 'unused-token' };
const SECRET = 'a-webhook-secret-of-32-characters!';
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env: { DATABASE_URL: database.url, ...ZENDESK, ...env } });

/** stderr's lines; the error is the first. */
const lines = (stderr: string) => stderr.trimEnd().split('\n');

beforeAll(async () => {
  database = await createTestDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-input-'));
  // Tickets 2 and 40 are synced, so a purge would have something to remove.
  await database.pool.query(`insert into zendesk.ticket_sync (ticket_id, status) values (2, 'synced'), (40, 'synced')`);
});
afterAll(async () => {
  await database?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function ticketRows(): Promise<number[]> {
  const { rows } = await database.pool.query<{ ticket_id: string }>('select ticket_id from zendesk.ticket_sync order by 1');
  return rows.map((r) => Number(r.ticket_id));
}

function expectShortRefusal(result: { code: number | null; stderr: string }, command: string, says: RegExp): void {
  expect(result.code, result.stderr).toBe(2);
  expect(lines(result.stderr)[0]).toMatch(new RegExp(`^convlog ${command}: `));
  expect(lines(result.stderr)[0]).toMatch(says);
  expect(lines(result.stderr).length, result.stderr).toBeLessThanOrEqual(2);
  expect(result.stderr).not.toContain('unexpected error');
}

describe('convlog input', { timeout: 120_000 }, () => {
  it('a flag given twice is refused, naming it, and nothing is queued or purged', async () => {
    const cases = [
      ['enqueue', '--range', '1..5', '--range', '7..9'],
      ['sync', '--file', '-', '--file', '-'],
      ['purge', '--range', '2..2', '--range', '40..40'],
      ['enqueue', '--sql', 'select 1', '--sql', 'select 2'],
      ['webhook', 'create', '--url', 'https://a.example.com/webhooks/zendesk', '--url', 'https://b.example.com/webhooks/zendesk'],
      ['schedule', '--cron', '0 6 * * *', '--cron', '0 7 * * *', '--since', '7d'],
      ['backfill', '--since', '7d', '--since=1d'],
      ['query', '-f', 'a.sql', '--file', 'b.sql'],
    ];
    const results = await Promise.all(cases.map((args) => cli(args)));
    results.forEach((result, i) => {
      const flag = cases[i].includes('-f') ? '--file' : cases[i].find((a) => a.startsWith('--'))!.replace(/=.*/, '');
      expectShortRefusal(result, cases[i][0] === 'webhook' ? `webhook ${cases[i][1]}` : cases[i][0], new RegExp(`: ${flag} was given twice; give it once$`));
    });
    expect(await ticketRows()).toEqual([2, 40]);
  });

  it('a --file of binary data (an image, a spreadsheet) is one line saying so, and nothing is queued', async () => {
    const file = path.join(dir, 'tickets.xlsx');
    fs.writeFileSync(file, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0xe9, 0x0a, 0x31, 0x32]));
    const result = await cli(['enqueue', '--file', file]);
    expectShortRefusal(result, 'enqueue', new RegExp(`^convlog enqueue: ${file.replace(/[.*+?^\${}()|[\]\\]/g, '\\$&')} is not a text file of ids: line 1 holds bytes that are not UTF-8 text \\(a spreadsheet, an image, or text saved as UTF-16\\?\\); save the ids as plain text, one a line; nothing was queued$`));
    expect(await ticketRows()).toEqual([2, 40]);
    // A comment in another encoding is still a comment: "12 # José" saved as Latin-1.
    const latin1 = path.join(dir, 'latin1.txt');
    fs.writeFileSync(latin1, Buffer.concat([Buffer.from('7 # Jos'), Buffer.from([0xe9]), Buffer.from('\n')]));
    // dequeue reads ids as enqueue does, and changes nothing here: ticket 7 was never queued.
    const commented = await cli(['dequeue', '--file', latin1]);
    expect(commented.code, commented.stderr).toBe(0);
    expect(commented.stdout + commented.stderr).not.toMatch(/not a text file|invalid ticket id/);
    expect(await ticketRows()).toEqual([2, 40]);
  });

  it('a --file that is a directory or missing is one line naming the path; purge says nothing was purged', async () => {
    const missing = path.join(dir, 'no-such-ids.txt');
    const [enqueueDir, syncDir, purgeDir, enqueueMissing, purgeMissing] = await Promise.all([
      cli(['enqueue', '--file', dir]),
      cli(['sync', '--file', dir]),
      cli(['purge', '--file', dir]),
      cli(['enqueue', '--file', missing]),
      cli(['purge', '--file', missing]),
    ]);
    expectShortRefusal(enqueueDir, 'enqueue', new RegExp(`cannot read --file ${dir}: it is a directory, not a file of ids; nothing was queued$`));
    expectShortRefusal(syncDir, 'sync', new RegExp(`cannot read --file ${dir}: it is a directory.*; nothing was queued$`));
    expectShortRefusal(purgeDir, 'purge', new RegExp(`cannot read --file ${dir}: it is a directory.*; nothing was purged$`));
    expectShortRefusal(enqueueMissing, 'enqueue', /cannot read --file .*no-such-ids\.txt: no such file; nothing was queued$/);
    expectShortRefusal(purgeMissing, 'purge', /cannot read --file .*no-such-ids\.txt: no such file; nothing was purged$/);
    const badId = await cli(['purge', '2', 'x40']);
    expectShortRefusal(badId, 'purge', /invalid ticket id "x40" \(argument 2\): ids are positive integers; nothing was purged$/);
    expect(await ticketRows()).toEqual([2, 40]);
  });

  it('a quoted value is cut after 40 characters and its control characters are shown escaped', async () => {
    const file = path.join(dir, 'ids.txt');
    fs.writeFileSync(file, `5\n${'9'.repeat(20)}x${'a'.repeat(1_000_000)}\n`);
    const [long, escaped, argument] = await Promise.all([
      cli(['enqueue', '--file', file]),
      runCli(['enqueue', '--file', '-'], { env: { DATABASE_URL: database.url }, input: '6\n\u001b[31mred\u0007\n' }),
      cli(['sync', '7', '\u001b]0;owned\u0007']),
    ]);
    expectShortRefusal(long, 'enqueue', new RegExp(`invalid ticket id "${'9'.repeat(20)}x${'a'.repeat(19)}…" \\(.*ids\\.txt line 2\\)`));
    expect(long.stderr.length).toBeLessThan(500);
    expectShortRefusal(escaped, 'enqueue', /invalid ticket id "\\u001b\[31mred\\u0007" \(stdin line 2\)/);
    expectShortRefusal(argument, 'sync', /invalid ticket id "\\u001b]0;owned\\u0007" \(argument 2\)/);
    for (const result of [long, escaped, argument]) expect(result.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(await ticketRows()).toEqual([2, 40]);
  });

  it('an unknown command, a value starting with a dash and a misused simulator are one or two lines', async () => {
    const [unknown, typo, dash, dashDate, joined, joinedDate, dashOther, simulator, option, verboseAlone] = await Promise.all([
      runCli(['frobnicate']),
      runCli(['enqeue', '5']),
      cli(['backfill', '--since', '-5d']),
      cli(['schedule', '--cron', '0 6 * * *', '--since', '-2024-05-01']),
      cli(['backfill', '--since=-5d']),
      cli(['schedule', '--cron', '0 6 * * *', '--since=-2024-05-01']),
      cli(['schedule', '--cron', '-x']),
      runCli(['simulator', '--tickets', 'many']),
      runCli(['--verbos', 'status']),
      runCli(['--verbose']),
    ]);
    expect(verboseAlone.code).toBe(2);
    expect(verboseAlone.stderr).toBe('convlog: --verbose goes with a command, e.g. convlog --verbose status (convlog --help lists the commands)\n');
    expect(option.code).toBe(2);
    expect(option.stderr).toBe('convlog: unknown option "--verbos"; did you mean --verbose? (convlog --help lists the commands and global options)\n');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('convlog: unknown command "frobnicate" (convlog --help lists the commands)\n');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('convlog: unknown command "enqeue"; did you mean enqueue? (convlog --help lists the commands)\n');
    // Not "write --since=-5d", which only leads to "invalid --since": no duration takes a minus.
    // Either spelling gets the same hint.
    const durationHint = 'a duration is written without a minus, as a time before now: --since 5d means 5 days ago';
    const dateHint = 'a date is written without a minus: --since 2024-05-01';
    expectShortRefusal(dash, 'backfill', new RegExp(`: --since needs a value, and "-5d" is read as an option: ${durationHint}$`));
    expectShortRefusal(dashDate, 'schedule', new RegExp(`: --since needs a value, and "-2024-05-01" is read as an option: ${dateHint}$`));
    expectShortRefusal(joined, 'backfill', new RegExp(`: invalid --since "-5d": ${durationHint}$`));
    expectShortRefusal(joinedDate, 'schedule', new RegExp(`: invalid --since "-2024-05-01": ${dateHint}$`));
    // A value that is neither keeps the way to give it.
    expectShortRefusal(dashOther, 'schedule', /--cron needs a value, and "-x" is read as an option: write --cron=-x to give a value starting with a dash$/);
    expectShortRefusal(simulator, 'simulator', /tickets must be a number \(got "many"\)/);
    expect(lines(simulator.stderr)[1]).toBe('usage: convlog simulator [options] (convlog simulator --help lists the options)');
  });

  it('schedule refuses a 6-field cron expression (seconds) as it does 4 fields, and schedules nothing', async () => {
    const [six, four] = await Promise.all([
      cli(['schedule', '--cron', '* * * * * *', '--since', '7d']),
      cli(['schedule', '--cron', '* * * *', '--since', '7d']),
    ]);
    expectShortRefusal(six, 'schedule', /invalid --cron "\* \* \* \* \* \*": expected 5 fields \(minute hour day month weekday\), got 6/);
    expectShortRefusal(four, 'schedule', /invalid --cron "\* \* \* \*": expected 5 fields \(minute hour day month weekday\), got 4/);
    const { rows } = await database.pool.query(`select to_regclass('pgboss.schedule') as t`);
    if (rows[0].t) expect((await database.pool.query('select count(*)::int as n from pgboss.schedule')).rows[0].n).toBe(0);
  });

  it('webhook create refuses an empty --name before asking Zendesk', async () => {
    const [empty, blank] = await Promise.all([
      cli(['webhook', 'create', '--url', 'https://convlog.example.com/webhooks/zendesk', '--name', '']),
      cli(['webhook', 'create', '--url', 'https://convlog.example.com/webhooks/zendesk', '--name', '  ']),
    ]);
    expectShortRefusal(empty, 'webhook create', /^convlog webhook create: --name must not be empty/);
    expectShortRefusal(blank, 'webhook create', /^convlog webhook create: --name must not be empty/);
  });

  it('webhook create refuses a plain-http --url, which Zendesk never calls, before asking Zendesk', async () => {
    const result = await cli(['webhook', 'create', '--url', 'http://convlog.example.com/webhooks/zendesk']);
    expectShortRefusal(result, 'webhook create', /^convlog webhook create: --url must be an https URL, got "http:\/\/convlog\.example\.com\/webhooks\/zendesk": Zendesk calls webhooks over https only/);
  });

  it('a port in use or a host that cannot be listened on names the flag or variable that set it', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, resolve));
    const port = String((busy.address() as net.AddressInfo).port);
    try {
      const longHost = `${'9'.repeat(10_000)}.1.1.1`;
      const [servePort, serveEnvPort, serveHost, serveLongHost, health, healthEnv] = await Promise.all([
        cli(['serve', '--port', port], { CONVLOG_WEBHOOK_SECRET: SECRET }),
        cli(['serve'], { CONVLOG_WEBHOOK_SECRET: SECRET, CONVLOG_SERVE_PORT: port }),
        cli(['serve', '--port', '0'], { CONVLOG_WEBHOOK_SECRET: SECRET, CONVLOG_SERVE_HOST: '999.1.1.1' }),
        cli(['serve', '--port', '0', '--verbose'], { CONVLOG_WEBHOOK_SECRET: SECRET, CONVLOG_SERVE_HOST: longHost }),
        cli(['work', '--health-port', port]),
        cli(['work'], { CONVLOG_HEALTH_PORT: port }),
      ]);
      expectShortRefusal(servePort, 'serve', new RegExp(`^convlog serve: cannot listen on port ${port}: the port is in use \\(choose another port with --port\\)$`));
      expectShortRefusal(serveEnvPort, 'serve', /the port is in use \(choose another port with CONVLOG_SERVE_PORT\)$/);
      expectShortRefusal(serveHost, 'serve', /cannot listen on 999\.1\.1\.1 port 0: .*\(check CONVLOG_SERVE_HOST\)$/);
      // Shortened as CLI input is (--verbose: the CLI cuts no message then), and named as the host.
      const nines = '9'.repeat(40);
      expect(serveLongHost.code).toBe(2);
      // Its debug and info lines come first (the one that records the Zendesk account, say).
      expect(lines(serveLongHost.stderr).find((line) => line.startsWith('convlog serve:'))).toBe(`convlog serve: cannot listen on ${nines}… port 0: "${nines}…" is not an address of this machine (check CONVLOG_SERVE_HOST)`);
      expectShortRefusal(health, 'work', /the port is in use \(choose another port with --health-port\)$/);
      expectShortRefusal(healthEnv, 'work', /the port is in use \(choose another port with CONVLOG_HEALTH_PORT\)$/);
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
    }
  });
});
