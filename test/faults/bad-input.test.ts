// Scenario 6: bad input at every edge a person or a script can reach: ids, flags, dates, cron
// expressions, SQL, environment values, wrong credentials, a database that is down or refuses
// us. Each is one line on stderr (plus, for a misused command, its usage line), exit 2, no
// stack trace, no secret, and nothing queued or written.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { killAll, runProgram } from '../helpers/cli.ts';
import { convlogEnv, TOKEN } from './harness.ts';
import { report } from './summary.ts';

interface Case {
  name: string;
  args: string[];
  env?: Record<string, string | undefined>;
  input?: string;
  /** What the error line must say. */
  says: RegExp;
}

const SECRET_DB_PASSWORD = 'pg-secret-4411';
let sim: Simulator;
let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  sim = await startSimulator({ tickets: 10, rateLimit: 0, seed: 61, apiToken: TOKEN });
  db = await createTestDatabase();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-bad-input-'));
  // Something to lose: two tickets synced, one waiting in the queue.
  const env = convlogEnv(db.url, sim);
  const synced = await runProgram(['sync', '1', '3'], { env });
  expect(synced.code, synced.stderr).toBe(0);
  const queued = await runProgram(['enqueue', '4'], { env });
  expect(queued.code, queued.stderr).toBe(0);
});

afterAll(async () => {
  await killAll();
  await sim?.close();
  await db?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Every row of the tables a command could change, reduced to one checksum per table. */
async function snapshot(): Promise<Record<string, string>> {
  const { rows: tables } = await db.pool.query<{ name: string }>(
    `select table_schema || '.' || table_name as name from information_schema.tables
      where table_type = 'BASE TABLE' and (table_schema in ('zendesk', 'convlog') or (table_schema = 'pgboss' and table_name in ('job', 'schedule')))
      order by 1`,
  );
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const { rows } = await db.pool.query<{ n: number; sum: string | null }>(`select count(*)::int as n, md5(string_agg(t::text, '|' order by t::text)) as sum from ${name} t`);
    out[name] = `${rows[0].n} rows ${rows[0].sum ?? ''}`;
  }
  return out;
}

/** The error line, and any other line that is neither the command's usage nor sync's progress. */
function linesOf(stderr: string) {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '' && !/^sync: \d+\/\d+ tickets?/.test(l));
  return { first: lines[0] ?? '', extra: lines.slice(1).filter((l) => !l.startsWith('usage: ')) };
}

const down = 'postgres://convlog:nothing@127.0.0.1:1/convlog';

function cases(): Case[] {
  const env = convlogEnv(db.url, sim);
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  const wrongPassword = new URL(db.url);
  wrongPassword.password = SECRET_DB_PASSWORD;
  const noSuchDatabase = new URL(db.url);
  noSuchDatabase.pathname = '/no_such_database';
  return [
    // ids
    { name: 'letters', args: ['enqueue', '5', 'abc'], says: /invalid ticket id "abc" \(argument 2\).*nothing was queued/ },
    { name: 'zero', args: ['enqueue', '0'], says: /invalid ticket id "0"/ },
    { name: 'negative', args: ['enqueue', '--', '-5'], says: /invalid ticket id "-5"/ },
    { name: 'fraction', args: ['enqueue', '1.5'], says: /invalid ticket id "1\.5"/ },
    { name: 'exponent', args: ['enqueue', '1e3'], says: /invalid ticket id "1e3"/ },
    { name: '17 digits', args: ['enqueue', '12345678901234567'], says: /invalid ticket id "12345678901234567"/ },
    { name: 'no ids', args: ['enqueue'], says: /no ticket ids given/ },
    { name: 'SQL in an id', args: ['enqueue', "5; drop table zendesk.conversation_events"], says: /invalid ticket id "5;"/ },
    { name: 'quote in an id', args: ['sync', "5' or '1'='1"], env, says: /invalid ticket id "5'"/ },
    { name: 'range reversed', args: ['enqueue', '--range', '9..2'], says: /invalid --range "9\.\.2"/ },
    { name: 'range not numbers', args: ['enqueue', '--range', '1..x'], says: /invalid --range "1\.\.x"/ },
    { name: 'range too wide', args: ['enqueue', '--range', '1..20000001'], says: /spans more than 10,000,000 tickets/ },
    { name: 'missing file', args: ['enqueue', '--file', path.join(dir, 'nope.txt')], says: /cannot read --file .*nope\.txt/ },
    { name: 'bad line in file', args: ['enqueue', '--file', file('ids.txt', '5\n6\n# comment\n7x\n')], says: /invalid ticket id "7x" \(.*ids\.txt line 4\)/ },
    { name: 'bad line on stdin', args: ['enqueue', '--file', '-'], input: '5\n6, seven\n', says: /invalid ticket id "seven" \(stdin line 2\)/ },
    { name: 'one bad among many', args: ['enqueue', '--file', file('many.txt', `${Array.from({ length: 5000 }, (_, i) => i + 1).join('\n')}\n0\n`)], says: /invalid ticket id "0" \(.*many\.txt line 5001\)/ },
    // flags
    { name: 'unknown flag', args: ['enqueue', '5', '--frobnicate'], says: /Unknown option '--frobnicate'/ },
    { name: 'value on a boolean flag', args: ['enqueue', '5', '--full=yes'], says: /--full.*does not take an argument/ },
    { name: 'concurrency 0', args: ['work', '--concurrency', '0'], env, says: /--concurrency must be an integer from 1 to 256, got "0"/ },
    { name: 'concurrency words', args: ['work', '--concurrency', 'many'], env, says: /--concurrency must be an integer from 1 to 256, got "many"/ },
    { name: 'concurrency 300', args: ['sync', '5', '--concurrency', '300'], env, says: /--concurrency must be an integer from 1 to 256, got "300"/ },
    { name: 'status argument', args: ['status', 'now'], says: /Unexpected argument 'now'|positional/i },
    { name: 'missing flag value', args: ['enqueue', '--range'], says: /--range needs a value/ },
    // dates, cron expressions, SQL (backfill, schedule and enqueue --sql)
    { name: 'date in words', args: ['backfill', '--since', 'yesterday'], env, says: /since/ },
    { name: 'impossible date', args: ['backfill', '--since', '2025-13-45'], env, says: /since/ },
    { name: 'empty date', args: ['backfill', '--since', ''], env, says: /since/ },
    { name: 'cron with 61 minutes', args: ['schedule', '--cron', '61 * * * *', '--since', '7d'], says: /cron/i },
    { name: 'cron in words', args: ['schedule', '--cron', 'every day', '--since', '7d'], says: /cron/i },
    { name: 'schedule without cron', args: ['schedule'], says: /--cron EXPR is required/ },
    { name: 'unknown time zone', args: ['schedule', '--cron', '*/15 * * * *', '--since', '7d', '--tz', 'Mars/Olympus'], says: /invalid --tz "Mars\/Olympus"/ },
    { name: 'SQL that writes', args: ['enqueue', '--sql', 'delete from zendesk.authors returning 1'], says: /sql|read/i },
    { name: 'SQL that drops', args: ['enqueue', '--sql', 'drop table zendesk.conversation_events'], says: /sql|read|select/i },
    { name: 'SQL of two statements', args: ['enqueue', '--sql', 'select 5; delete from zendesk.ticket_sync'], says: /sql|statement|select/i },
    { name: 'SQL that returns text', args: ['enqueue', '--sql', "select 'abc' as id"], says: /abc|id/i },
    { name: 'SQL with a typo', args: ['enqueue', '--sql', 'select id from zendesk.no_such_table'], says: /no_such_table|does not exist/ },
    // environment
    { name: 'rate limit words', args: ['enqueue', '5'], env: { CONVLOG_RATE_LIMIT: 'fast' }, says: /CONVLOG_RATE_LIMIT must be a positive integer, got "fast"/ },
    { name: 'concurrency env 0', args: ['work'], env: { ...env, CONVLOG_CONCURRENCY: '0' }, says: /CONVLOG_CONCURRENCY must be a positive integer, got "0"/ },
    { name: 'negative timeout', args: ['sync', '5'], env: { ...env, CONVLOG_REQUEST_TIMEOUT: '-1' }, says: /CONVLOG_REQUEST_TIMEOUT must be a positive integer/ },
    { name: 'redact flag', args: ['work'], env: { ...env, CONVLOG_REDACT_SYSTEM_METADATA: 'maybe' }, says: /CONVLOG_REDACT_SYSTEM_METADATA must be true or false/ },
    { name: 'not a postgres URL', args: ['enqueue', '5'], env: { DATABASE_URL: `mysql://root:${SECRET_DB_PASSWORD}@localhost/x` }, says: /DATABASE_URL must be a postgres:\/\/ URL/ },
    { name: 'not an http base URL', args: ['sync', '5'], env: { ...env, ZENDESK_BASE_URL: 'ftp://zendesk.example.com' }, says: /ZENDESK_BASE_URL must be an http\(s\) URL/ },
    { name: 'host as subdomain', args: ['work'], env: { ...env, ZENDESK_BASE_URL: undefined, ZENDESK_SUBDOMAIN: 'acme.zendesk.com' }, says: /ZENDESK_SUBDOMAIN must be the account name only/ },
    { name: 'no token', args: ['work'], env: { ...env, ZENDESK_API_TOKEN: undefined }, says: /ZENDESK_API_TOKEN is missing/ },
    { name: 'no credentials', args: ['sync', '5'], env: { ...env, ZENDESK_API_TOKEN: '', ZENDESK_EMAIL: '' }, says: /credentials are missing/ },
    // the database refuses us or is not there
    { name: 'enqueue, database down', args: ['enqueue', '5'], env: { DATABASE_URL: down }, says: /cannot connect to Postgres at 127\.0\.0\.1:1\/convlog: connection refused/ },
    { name: 'sync, database down', args: ['sync', '5'], env: { ...env, DATABASE_URL: down }, says: /cannot connect to Postgres at 127\.0\.0\.1:1\/convlog: connection refused/ },
    { name: 'status, database down', args: ['status'], env: { DATABASE_URL: down }, says: /cannot connect to Postgres at 127\.0\.0\.1:1\/convlog: connection refused/ },
    { name: 'work, wrong password', args: ['work'], env: { ...env, DATABASE_URL: wrongPassword.toString() }, says: /password authentication failed/ },
    { name: 'work, no such database', args: ['work'], env: { ...env, DATABASE_URL: noSuchDatabase.toString() }, says: /database does not exist/ },
  ].map((c) => ({ ...c, env: c.env ?? { DATABASE_URL: db.url } }));
}

describe('bad input', () => {
  it('is one line on stderr, exit 2, and changes nothing', async () => {
    const started = Date.now();
    const before = await snapshot();
    const all = cases();
    const failures: string[] = [];
    const examples: string[] = [];
    // Three at a time: each is a process start, and nothing they do may change the database.
    for (let i = 0; i < all.length; i += 3) {
      await Promise.all(
        all.slice(i, i + 3).map(async (c) => {
          const result = await runProgram(c.args, { env: c.env, input: c.input, timeoutMs: 60_000 });
          const { first, extra } = linesOf(result.stderr);
          const problems = [
            result.code !== 2 && `exit ${result.code}`,
            !first.startsWith(`convlog ${c.args[0]}: `) && `first line "${first}"`,
            !c.says.test(first) && `does not say ${c.says}`,
            extra.length > 0 && `more lines: ${extra.slice(0, 3).join(' / ')}`,
            /\bat .*\.ts:\d+/.test(result.stderr) && 'a stack trace',
            (result.stderr.includes(TOKEN) || result.stderr.includes(SECRET_DB_PASSWORD)) && 'a secret',
            result.stdout.trim() !== '' && `stdout "${result.stdout.trim().slice(0, 80)}"`,
          ].filter(Boolean);
          if (problems.length > 0) failures.push(`${c.name} (convlog ${c.args.join(' ').slice(0, 60)}): ${problems.join('; ')}\n    stderr: ${result.stderr.trim().slice(0, 300)}`);
          examples.push(`${c.name.padEnd(24)} ${first.slice(0, 150)}`);
        }),
      );
    }
    const after = await snapshot();
    const changed = Object.keys({ ...before, ...after }).filter((t) => before[t] !== after[t]);
    const ok = failures.length === 0 && changed.length === 0;
    report({
      scenario: '6 bad input',
      injected: `${all.length} bad inputs: ids, files, stdin, flags, dates, cron, SQL, environment, database down / wrong password / missing`,
      checked: `${all.length - failures.length}/${all.length} exit 2 with one line, no stack, no secret; tables changed: ${changed.length === 0 ? 'none' : changed.join(', ')}`,
      seconds: (Date.now() - started) / 1000,
      result: ok ? 'pass' : 'FAIL',
    });
    console.log(examples.sort().join('\n'));
    expect(failures).toEqual([]);
    expect(changed).toEqual([]);
  });

  // The first logger is built before loadConfig checks LOG_LEVEL; an unknown level must not crash it.
  it('LOG_LEVEL=loud is one line and exit 2', async () => {
    const result = await runProgram(['status'], { env: { DATABASE_URL: db.url, LOG_LEVEL: 'loud' } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(/^convlog status: LOG_LEVEL must be one of [^\n]*$/);
  });

  it('wrong credentials (401): one line, exit 2, nothing queued or written, and the queued ticket kept', async () => {
    const started = Date.now();
    const before = await snapshot();
    const results = await Promise.all([
      runProgram(['sync', '5', '6'], { env: convlogEnv(db.url, sim, { ZENDESK_API_TOKEN: 'wrong-token-9917' }) }),
      runProgram(['work', '--until-idle'], { env: convlogEnv(db.url, sim, { ZENDESK_API_TOKEN: undefined, ZENDESK_EMAIL: undefined, ZENDESK_OAUTH_TOKEN: 'wrong-oauth-5521' }) }),
    ]);
    const after = await snapshot();
    const data = ['zendesk.conversation_events', 'zendesk.authors', 'zendesk.attachments', 'zendesk.attachment_thumbnails'];
    const changed = data.filter((t) => before[t] !== after[t]);
    const { rows } = await db.pool.query<{ ticket_id: number; status: string | null; job: string | null }>(
      `select w.ticket as ticket_id,
              (select t.status::text from zendesk.ticket_sync t where t.ticket_id = w.ticket) as status,
              (select j.state::text from pgboss.job j where j.name = 'ticket-sync' and j.singleton_key = w.ticket::text and j.state < 'completed' limit 1) as job
         from unnest(array[4, 5, 6]) as w(ticket) order by 1`,
    );
    const lines = results.map((r) => linesOf(r.stderr));
    // Ticket 4 was queued before: it waits for the right credentials. Tickets 5 and 6 were never queued.
    const expectedRows = [
      { ticket_id: 4, status: 'queued', job: expect.any(String) },
      { ticket_id: 5, status: null, job: null },
      { ticket_id: 6, status: null, job: null },
    ];
    const ok =
      results.every((r) => r.code === 2) &&
      lines.every((l) => /refused the credentials/.test(l.first) && l.extra.length === 0) &&
      /nothing was queued/.test(lines[0].first) &&
      changed.length === 0 &&
      rows[0].status === 'queued' && rows[0].job !== null && rows.slice(1).every((r) => r.status === null && r.job === null);
    report({
      scenario: '6b wrong credentials',
      injected: 'sync with a wrong API token; work with a wrong OAuth token (simulator answers 401)',
      checked: `exit ${results.map((r) => r.code).join(', ')}; one line each; no secret; event/author/attachment rows written: ${changed.length}; sync queued nothing; ticket 4 still queued (${rows[0].job})`,
      seconds: (Date.now() - started) / 1000,
      result: ok ? 'pass' : 'FAIL',
    });
    console.log(lines.map((l) => l.first).join('\n'));
    for (const r of results) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).not.toMatch(/wrong-token-9917|wrong-oauth-5521/);
      expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    }
    for (const l of lines) {
      expect(l.first).toMatch(/Zendesk at 127\.0\.0\.1:\d+ refused the credentials \(401/);
      expect(l.extra).toEqual([]);
    }
    expect(lines[0].first).toMatch(/nothing was queued$/);
    expect(changed).toEqual([]);
    expect(rows).toEqual(expectedRows);
  });
});
