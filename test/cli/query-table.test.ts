// `convlog query`'s table (src/commands/table.ts) on results psql prints without trouble: many
// rows, plans, text written by customers, wide characters, repeated column names.
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { useTestDatabase } from '../helpers/database.ts';

const query = (args: string[]) => runCli(['query', ...args], { env: { DATABASE_URL: database.url } });

const database = useTestDatabase();

describe('convlog query table', { timeout: 120_000 }, () => {
  it('prints 200,000 rows (widths were one argument per row, past the call stack)', async () => {
    const result = await query(['select g from generate_series(1, 200000) g']);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual([' g', '--------', '      1']);
    expect(lines.at(-2)).toBe(' 200000');
    expect(lines).toHaveLength(200_000 + 3);
    expect(result.stderr).toBe('(200000 rows)\n');
  });

  it('shows each value under its own column when names repeat, as psql does', async () => {
    // Repeated names were renamed "x (2)", which a real column of that name then overwrote.
    const result = await query(['select 1 as "x (2)", 2 as x, 3 as x']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe([' x (2) | x | x', '-------+---+---', '     1 | 2 | 3', ''].join('\n'));
  });

  it("keeps EXPLAIN's indentation, and prints a value with line breaks on several lines, as psql does", async () => {
    const [plan, yaml] = await Promise.all([
      query(['explain (costs off) select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where c.oid = 1259']),
      query([`select 'a' as before, E'Plan:\\n  Node Type: "Result"' as plan, 1 as after`]),
    ]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toBe(
      [
        ' QUERY PLAN',
        '---------------------------------------------------------',
        ' Nested Loop',
        '   Join Filter: (c.relnamespace = n.oid)',
        '   ->  Index Scan using pg_class_oid_index on pg_class c',
        "         Index Cond: (oid = '1259'::oid)",
        '   ->  Seq Scan on pg_namespace n',
        '',
      ].join('\n'),
    );
    // "+" marks a line that goes on below, so the next line is not read as a row of its own.
    expect(yaml.code, yaml.stderr).toBe(0);
    expect(yaml.stdout).toBe(
      [
        ' before | plan                  | after',
        '--------+-----------------------+-------',
        ' a      | Plan:                +|     1',
        '        |   Node Type: "Result" |',
        '',
      ].join('\n'),
    );
  });

  it('shows control characters escaped, never sent to the terminal raw; --csv keeps the exact value', async () => {
    // Customers write the synced text: an ESC in it would colour, move or retitle the terminal.
    const sql = `select E'a\\u001b[31mRED' as "e\u001b", E'tab\\there\\r' as t, E'\\u202eevil' as bidi`;
    const [table, csv] = await Promise.all([query([sql]), query([sql, '--csv'])]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toBe(
      [
        ' e\\u001b        | t           | bidi',
        '----------------+-------------+------------',
        ' a\\u001b[31mRED | tab\\there\\r | \\u202eevil',
        '',
      ].join('\n'),
    );
    expect(csv.stdout).toBe('e\u001b,t,bidi\na\u001b[31mRED,"tab\there\r",\u202eevil\n');
  });

  it('aligns wide (CJK) and combining characters by the columns they take, as psql does', async () => {
    // Widths were counted in UTF-16 units: 日本語 takes 6 columns in 3 units, é (e and U+0301) 1 in 2.
    const result = await query([`select * from (values ('日本語テキスト', E'e\\u0301', 1), ('x', 'e', 22)) as t(j, c, n)`]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      [
        ' j              | c | n',
        '----------------+---+----',
        ' 日本語テキスト | e\u0301 |  1',
        ' x              | e | 22',
        '',
      ].join('\n'),
    );
  });
});
