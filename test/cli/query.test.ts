// `convlog query` as an analyst runs it: the real CLI against a test database.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { killAll, runCli, startConvlog } from '../helpers/cli.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { readAll } from '../helpers/read-all.ts';
import { QueryRejected } from '../../src/errors/convlog-errors.ts';

let database: TestDatabase;
let dir: string;
const query = (args: string[], input?: string) => runCli(['query', ...args], { env: { DATABASE_URL: database.url }, input });

// Commas, quotes, a line break, an empty string and a NULL: everything CSV must quote or tell apart.
const AWKWARD = `select * from (values
  (1, 'a,b', 'say "hi"', E'two\\nlines', ''),
  (22, 'plain', 'x', 'y', null)
) as t(id, comma, quote, newline, empty)
order by id`;

beforeAll(async () => {
  database = await createTestDatabase();
  await database.pool.query(`create table public.notes (id int primary key, body text)`);
  await database.pool.query(`insert into public.notes values (1, 'first'), (2, 'second')`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'convlog-query-'));
});
afterAll(async () => {
  await killAll();
  await database?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function notes(): Promise<unknown[]> {
  return (await database.pool.query('select id, body from public.notes order by id')).rows;
}

describe('convlog query', { timeout: 120_000 }, () => {
  it('prints an aligned table on stdout and the row count on stderr', async () => {
    const result = await query([AWKWARD]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        ' id | comma | quote    | newline | empty',
        '----+-------+----------+---------+-------',
        '  1 | a,b   | say "hi" | two    +|',
        '    |       |          | lines   |',
        ' 22 | plain | x        | y       |',
        '',
      ].join('\n'),
    );
    expect(result.stderr).toBe('(2 rows)\n');
  });

  it('right-aligns numeric and floating-point columns too, as psql does', async () => {
    // README's medians are numeric (round(...)::numeric): they used to be left-aligned like text.
    const result = await query([`select * from (values (1.5::numeric, 0.25::float8, 'a'), (10.125, 12.5, 'bb'), (null, null, null)) as t(n, f, s)`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        ' n      | f    | s',
        '--------+------+----',
        '    1.5 | 0.25 | a',
        ' 10.125 | 12.5 | bb',
        '        |      |',
        '',
      ].join('\n'),
    );
  });

  it('prints a result of no columns as psql does, not as blank lines', async () => {
    const result = await query(['select from generate_series(1, 3)']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('--\n');
    expect(result.stderr).toBe('(3 rows)\n');
  });

  it('--csv quotes commas, quotes and line breaks (RFC 4180) and keeps NULL apart from the empty string', async () => {
    const result = await query([AWKWARD, '--csv']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('id,comma,quote,newline,empty\n1,"a,b","say ""hi""","two\nlines",""\n22,plain,x,y,\n');
    expect(result.stderr).toBe('');
  });

  it('reads the query from standard input (-) or from a file (--file)', async () => {
    const file = path.join(dir, 'notes.sql');
    fs.writeFileSync(file, '-- the notes, newest first\nselect id, body from public.notes order by id desc;\n');
    const [fromStdin, fromFile] = await Promise.all([
      query(['-', '--csv'], 'select body from public.notes order by id'),
      query(['--file', file, '--csv']),
    ]);
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout).toBe('body\nfirst\nsecond\n');
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromFile.stdout).toBe('id,body\n2,second\n1,first\n');
  });

  it('takes a query that opens with a -- comment line as the query, not an option', async () => {
    // As the demo prints its queries; parseArgs read it as an unknown option.
    const result = await query(['-- the notes, oldest first\nselect body from public.notes order by id', '--csv']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('body\nfirst\nsecond\n');
  });

  it('refuses a query with no statement in one line that says what it holds', async () => {
    const [semicolons, comments] = await Promise.all([query(['   ;  ']), query(['/* nothing */ ;'])]);
    expect({ code: semicolons.code, stderr: semicolons.stderr }).toEqual({ code: 2, stderr: 'convlog query: the query holds no statement; nothing was changed\n' });
    expect({ code: comments.code, stderr: comments.stderr }).toEqual({ code: 2, stderr: 'convlog query: the query holds no statement, only comments; nothing was changed\n' });
  });

  it('refuses every write with one line and exit 2, and changes nothing', async () => {
    const writes = [
      ['delete from public.notes', /the query must only read \(select, with, values, table, explain or show\), got "delete…"/],
      ['with gone as (delete from public.notes returning id) select * from gone', /the query must only read, but it writes: cannot execute SELECT in a read-only transaction/],
      ['select * into public.notes_copy from public.notes', /the query must only read, but it writes: cannot execute SELECT INTO in a read-only transaction/],
      ['select 1; delete from public.notes', /the query must be a single statement/],
    ] as const;
    const results = await Promise.all(writes.map(([sql]) => query([sql])));
    results.forEach((result, i) => {
      expect(result.code, writes[i][0]).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.trimEnd().split('\n'), result.stderr).toHaveLength(1);
      expect(result.stderr).toMatch(writes[i][1]);
      expect(result.stderr).toMatch(/^convlog query: .*; nothing was changed(; query only reads: .*)?\n$/);
      // A write says where writes go; several statements are refused for being several.
      const says = expect(result.stderr);
      (i < 3 ? says : says.not).toContain(
        '; query only reads: to change data on purpose, run the statement in psql ("$DATABASE_URL", or the URL "npx convlog db-server" prints for the embedded Postgres)\n',
      );
    });
    expect(await notes()).toEqual([
      { id: 1, body: 'first' },
      { id: 2, body: 'second' },
    ]);
    const copy = await database.pool.query(`select to_regclass('public.notes_copy') as t`);
    expect(copy.rows[0].t).toBeNull();
  });

  it('a bad query or bad arguments are one line, exit 2', async () => {
    const [syntax, unquoted] = await Promise.all([query(['select from from public.notes']), query(['select', '1'])]);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(/^convlog query: the query has a syntax error: syntax error at or near "from" \(at character \d+\); nothing was changed\n$/);
    expect(unquoted.code).toBe(2);
    expect(unquoted.stderr).toMatch(/^convlog query: give the query as one quoted argument, .* \(got 2 arguments\)\n$/);
  });

  it('a database convlog never synced into (no schema zendesk) is named as such, in the one line', async () => {
    const empty = await createTestDatabase();
    try {
      await empty.pool.query('drop schema zendesk cascade');
      const result = await runCli(['query', 'select count(*) from zendesk.conversation_events'], { env: { DATABASE_URL: empty.url } });
      expect(result.code).toBe(2);
      expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/relation "zendesk\.conversation_events" does not exist.*; this database has no convlog tables \(no schema zendesk\): is DATABASE_URL or CONVLOG_DATA_DIR the one convlog synced into\?/);
      // Where the schema exists, a missing table is only that.
      const typo = await query(['select 1 from zendesk.no_such_table']);
      expect(typo.stderr).toMatch(/does not exist/);
      expect(typo.stderr).not.toMatch(/no convlog tables/);
    } finally {
      await empty.close();
    }
  });

  it('a typo in the first word is a syntax error with its position, not a write', async () => {
    const [typo, sqlTypo] = await Promise.all([
      query(['selec 1']),
      runCli(['enqueue', '--sql', '  selec ticket_id from zendesk.ticket_sync'], { env: { DATABASE_URL: database.url } }),
    ]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('convlog query: the query has a syntax error: syntax error at or near "selec" (at character 1); nothing was changed\n');
    expect(sqlTypo.code).toBe(2);
    expect(sqlTypo.stderr).toBe('convlog enqueue: --sql has a syntax error: syntax error at or near "selec" (at character 3); nothing was queued\n');
  });

  it('reads the first word as Postgres does: nested comments and empty statements hide no write', async () => {
    const target = path.join(os.tmpdir(), `convlog-query-copy-${process.pid}.csv`);
    const hidden = [
      `/* /* */ select 1 */ copy (select 1) to '${target}'`,
      `; copy (select 1) to '${target}'`,
      `-- select\n/* select */ delete from public.notes`,
    ];
    const results = await Promise.all(hidden.map((sql) => query(['--', sql])));
    results.forEach((result, i) => {
      expect(result.code, hidden[i]).toBe(2);
      expect(result.stderr, hidden[i]).toMatch(/^convlog query: the query must only read \(select, with, values, table, explain or show\), got "(copy|delete)…"; nothing was changed; query only reads: to change data on purpose, run the statement in psql /);
    });
    expect(fs.existsSync(target)).toBe(false);
    expect(await notes()).toHaveLength(2);
  });

  it('a query running past the statement timeout is cancelled, and its connection is returned', async () => {
    const started = Date.now();
    const error = await readAll(database.pool, 'select pg_sleep(5)', 200).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryRejected);
    expect((error as Error).message).toBe('ran longer than 200 ms and was cancelled: narrow it or add an index');
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(database.pool.totalCount - database.pool.idleCount).toBe(0);
    expect(await readAll(database.pool, 'select 2 as two', 200)).toEqual({ columns: [{ name: 'two', dataTypeID: 23 }], rows: [['2']] });
  });

  it('Ctrl-C during a query cancels it in Postgres: one line, exit 1, nothing printed, the statement gone at once', async () => {
    const marker = `ctrl_c_${Date.now()}`;
    const running = startConvlog(['query', `select pg_sleep(30), '${marker}' as marker`], { env: { DATABASE_URL: database.url, LOG_LEVEL: 'info' } });
    const inFlight = async () =>
      (await database.pool.query(`select 1 from pg_stat_activity where state = 'active' and query like $1 and query not like '%pg_stat_activity%'`, [`%${marker}%`])).rowCount;
    await vi.waitFor(async () => expect(await inFlight()).toBe(1), { timeout: 6_000, interval: 20 });
    const interrupted = Date.now();
    running.kill('SIGINT');
    expect((await running.exited).code, running.stderr()).toBe(1);
    expect(Date.now() - interrupted).toBeLessThan(10_000);
    expect(await inFlight()).toBe(0);
    expect(running.stderr()).toContain('"msg":"stopping: cancelling the query (send again to exit at once)"');
    expect(running.stderr()).toContain('convlog query: the query was cancelled (interrupted); nothing was changed');
    expect(running.stderr()).not.toContain('unexpected');
    expect(running.stdout()).not.toContain(marker);
  });
});
