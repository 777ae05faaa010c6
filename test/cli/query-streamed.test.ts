// `convlog query` on results larger than memory should hold: CSV goes out a fetch at a time, the
// time limit holds for each fetch, a reader that goes away stops the query, and a table too large
// to align is refused in one line.
import { Readable, Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli.ts';
import { ROWS_PER_FETCH, streamReadOnly, type RowSink } from '../../src/db/run-read-only.ts';
import { QueryRejected } from '../../src/errors/convlog-errors.ts';
import { TABLE_TEXT_LIMIT } from '../../src/commands/query.ts';
import { runCli, textSink } from '../helpers/cli.ts';
import { readAll } from '../helpers/read-all.ts';
import { useTestDatabase } from '../helpers/database.ts';

const database = useTestDatabase();

/** `convlog query` in this process, its stdout `stdout`: for what runCli's collected text cannot show. */
function queryTo(stdout: Writable, args: string[], options: { signal?: AbortSignal; stderr?: Writable } = {}): { code: Promise<number>; stderr: () => string } {
  const stderr = textSink();
  const io = {
    stdout,
    stderr: options.stderr ?? stderr.stream,
    stdin: Readable.from([]),
    env: { DATABASE_URL: database.url, LOG_LEVEL: 'error' },
    signal: options.signal,
  };
  return { code: main(['query', ...args], io), stderr: stderr.text };
}

describe('convlog query on large results', { timeout: 120_000 }, () => {
  it('writes CSV a fetch at a time: the first rows are out while the query still runs', async () => {
    const stdout = textSink();
    const stop = new AbortController();
    // The row after the first fetch takes 60 s: a query printed only once it ended shows nothing.
    const sql = `select g, case when g > ${ROWS_PER_FETCH} then pg_sleep(60)::text end as slow from generate_series(1, ${ROWS_PER_FETCH + 1}) g`;
    const run = queryTo(stdout.stream, ['--csv', sql], { signal: stop.signal });
    await vi.waitFor(() => expect(stdout.text().split('\n').length).toBe(ROWS_PER_FETCH + 2), { timeout: 30_000, interval: 50 });
    expect(stdout.text().startsWith(`g,slow\n1,\n2,\n`)).toBe(true);
    expect(stdout.text().endsWith(`\n${ROWS_PER_FETCH},\n`)).toBe(true);
    stop.abort();
    expect(await run.code).toBe(1);
    expect(run.stderr()).toContain('the query was cancelled (interrupted); nothing was changed');
  });

  it('counts the rows of a CSV going to a file for a person at a terminal, and says how many at the end', async () => {
    const csv = textSink();
    const said = textSink();
    const terminal = Object.assign(said.stream, { isTTY: true });
    // The second batch comes 0.4 s after the first: long enough for the count to show.
    const sql = `select g, case when g = ${ROWS_PER_FETCH + 1} then pg_sleep(0.4)::text end as slow from generate_series(1, ${ROWS_PER_FETCH * 2 + 1}) g`;
    expect(await queryTo(csv.stream, ['--csv', sql], { stderr: terminal }).code, said.text()).toBe(0);
    expect(csv.text().split('\n')).toHaveLength(ROWS_PER_FETCH * 2 + 3);
    expect(said.text()).toContain(`${(ROWS_PER_FETCH * 2).toLocaleString('en')} rows written…`);
    expect(said.text().endsWith(`(${ROWS_PER_FETCH * 2 + 1} rows)\n`)).toBe(true);
  });

  it('gives every row once and in order across fetches', async () => {
    const rows = ROWS_PER_FETCH * 2 + 345;
    const result = await runCli(['query', '--csv', `select g, 'v,' || g as v from generate_series(1, ${rows}) g order by g`], { env: { DATABASE_URL: database.url } });
    expect(result.code, result.stderr).toBe(0);
    const expected = ['g,v', ...Array.from({ length: rows }, (_, i) => `${i + 1},"v,${i + 1}"`)].join('\n');
    expect(result.stdout).toBe(`${expected}\n`);
  });

  it('holds the time limit to each fetch: an export longer than the limit goes on while each fetch is quick', async () => {
    // Each fetch of 2 rows sleeps 0.5 s; the 12 rows take 3 s, past the limit of 2 s.
    const slow = 'select g, pg_sleep(0.25) from generate_series(1, 12) g';
    const all = await readAll(database.pool, slow, 2_000, { rowsPerFetch: 2 });
    expect(all.rows.map((row) => row[0])).toEqual(Array.from({ length: 12 }, (_, i) => String(i + 1)));
    // One fetch of all 12 is one statement of 3 s: cancelled.
    const error = await readAll(database.pool, slow, 2_000, { rowsPerFetch: 12 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryRejected);
    expect((error as Error).message).toBe('ran longer than 2 s and was cancelled: narrow it or add an index');
  });

  it('says in one line that Postgres ended a query whose reader stopped taking rows past the limit', async () => {
    const stalled: RowSink = { columns: () => {}, rows: () => new Promise((resolve) => setTimeout(resolve, 2_500)) };
    const error = await streamReadOnly(database.pool, 'select g from generate_series(1, 5) g', 1_000, stalled, { rowsPerFetch: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueryRejected);
    expect((error as Error).message).toBe(
      'was ended by Postgres: its next rows were not asked for within 1 s (the rows printed before are not all of them); write them to a file, or narrow the query',
    );
    // The session Postgres ended is not handed out again.
    expect((await database.pool.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('stops when the reader of stdout has gone (| head), without reading the rest', async () => {
    const closed = new Writable({ write: (_chunk, _encoding, done) => done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })) });
    // As bin/convlog.js does for process.stdout: a reader that left is no crash.
    closed.on('error', () => {});
    // Row 1,001, in the second fetch, divides by zero: reading on would fail the command.
    const run = queryTo(closed, ['--csv', `select g, 1 / (g - ${ROWS_PER_FETCH + 1}) as q from generate_series(1, 5000) g`]);
    expect(await run.code, run.stderr()).toBe(0);
    expect(run.stderr()).toBe('');
  });

  it('refuses in one line a table past what it aligns, and prints none of it', async () => {
    const megabyte = 1_000_000;
    const rows = TABLE_TEXT_LIMIT / megabyte + 1;
    const result = await runCli(['query', `select repeat('x', ${megabyte}) as big from generate_series(1, ${rows})`], { env: { DATABASE_URL: database.url } });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `convlog query: the query returned more than ${TABLE_TEXT_LIMIT / megabyte} MB of text within its first ${rows} rows, too much to align as a table: use --csv, which writes the rows as they come, or narrow the query; nothing was changed\n`,
    );
  });
});
