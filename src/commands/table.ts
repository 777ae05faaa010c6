// Query results as a small plain-text table, the way psql prints them: numbers right-aligned,
// everything else left-aligned, NULL as an empty cell.
import { counted, printable } from '../ids.ts';

/**
 * Rows keyed by column name (node-postgres's default rows). `numericColumns` as for formatRows;
 * without it, a column of JS numbers is one.
 */
export function formatTable(columns: readonly string[], rows: readonly Record<string, unknown>[], numericColumns?: readonly boolean[]): string[] {
  const numeric = numericColumns ?? columns.map((column) => rows.length > 0 && rows.every((row) => isNumber(row[column])));
  return formatRows(columns, rows.map((row) => columns.map((column) => row[column])), numeric);
}

/**
 * Rows as arrays, read by position: a query may name two columns alike ("select 1 as x, 2 as x").
 * `numericColumns` says which columns hold numbers, since convlog query gets every value as the
 * text Postgres sends.
 */
export function formatRows(names: readonly string[], rows: readonly (readonly unknown[])[], numericColumns: readonly boolean[]): string[] {
  const columns = names.map((name) => printable(name));
  const cells = rows.map((row) => columns.map((_, i) => cellLines(row[i])));
  // A loop, not Math.max(...cells): one argument per row overflows the call stack past ~120k rows.
  const widths = columns.map((column) => column.length);
  for (const row of cells) row.forEach((lines, i) => lines.forEach((text) => (widths[i] = Math.max(widths[i], text.length))));
  // psql's marks: "+" after a line of a value that goes on below, so a continuation is not read as a row.
  const line = (values: readonly string[], goesOn: readonly boolean[] = []) =>
    values
      .map((text, i) => {
        const fill = ' '.repeat(widths[i] - text.length);
        return ` ${numericColumns[i] ? fill + text : text + fill}${goesOn[i] ? '+' : ' '}`;
      })
      .join('|')
      .trimEnd();
  const out = [line(columns.map((c, i) => c.padEnd(widths[i]))), widths.map((w) => '-'.repeat(w + 2)).join('+')];
  for (const row of cells) {
    const height = row.reduce((most, lines) => Math.max(most, lines.length), 1);
    for (let j = 0; j < height; j++) out.push(line(row.map((lines) => lines[j] ?? ''), row.map((lines) => j < lines.length - 1)));
  }
  out.push(`(${counted(rows.length, 'row')})`);
  return out;
}

function isNumber(value: unknown): boolean {
  return typeof value === 'number' || typeof value === 'bigint' || value === null;
}

/**
 * A value's lines: one per line break, as psql prints them, with its spaces kept (EXPLAIN indents
 * each node of its plan). Customers write the synced text: a control character in it is shown
 * escaped (`\u001b`), never sent for the terminal to act on.
 */
function cellLines(value: unknown): string[] {
  if (value === null || value === undefined) return [''];
  if (value instanceof Date) return [value.toISOString()];
  if (typeof value === 'number') return [value.toLocaleString('en')];
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.split('\n').map((line) => printable(line));
}
