// Query results as a small plain-text table, the way psql prints them: numbers right-aligned,
// everything else left-aligned, NULL as an empty cell.
import { eastAsianWidth } from 'get-east-asian-width';
import { counted, grouped, printable } from '../text.ts';

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
  // No column ("select", "select from t"): psql's "--" over the count, not a blank line a row.
  if (names.length === 0) return ['--', `(${counted(rows.length, 'row')})`];
  const columns = names.map((name) => printable(name));
  const cells = rows.map((row) => columns.map((_, i) => cellLines(row[i])));
  // A loop, not Math.max(...cells): one argument per row overflows the call stack past ~120k rows.
  const widths = columns.map(displayWidth);
  for (const row of cells) row.forEach((lines, i) => lines.forEach((text) => (widths[i] = Math.max(widths[i], displayWidth(text)))));
  // psql's marks: "+" after a line of a value that goes on below, so a continuation is not read as a row.
  const line = (values: readonly string[], right: readonly boolean[], goesOn: readonly boolean[] = []) =>
    values
      .map((text, i) => {
        const fill = ' '.repeat(widths[i] - displayWidth(text));
        return ` ${right[i] ? fill + text : text + fill}${goesOn[i] ? '+' : ' '}`;
      })
      .join('|')
      .trimEnd();
  const out = [line(columns, []), widths.map((w) => '-'.repeat(w + 2)).join('+')];
  for (const row of cells) {
    const height = row.reduce((most, lines) => Math.max(most, lines.length), 1);
    for (let j = 0; j < height; j++) out.push(line(row.map((lines) => lines[j] ?? ''), numericColumns, row.map((lines) => j < lines.length - 1)));
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
  if (typeof value === 'number') return [grouped(value)];
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text.split('\n').map((line) => printable(line));
}

const graphemes = new Intl.Segmenter();
// A cluster of accents, joiners and other invisible code points alone (at the start of a value) takes no column.
const INVISIBLE = /^[\p{Mark}\p{Default_Ignorable_Code_Point}]+$/u;
const EMOJI = /^\p{RGI_Emoji}$/v;

/**
 * The columns `text` takes in a terminal, which its UTF-16 length is not: a character with its
 * combining accents is one column, CJK characters and emoji two.
 */
function displayWidth(text: string): number {
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let width = 0;
  for (const { segment } of graphemes.segment(text)) {
    if (INVISIBLE.test(segment)) continue;
    width += EMOJI.test(segment) ? 2 : eastAsianWidth(segment.codePointAt(0)!);
  }
  return width;
}
