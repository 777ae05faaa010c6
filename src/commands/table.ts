// Query results as a small plain-text table, the way psql prints them: numbers right-aligned,
// everything else left-aligned, NULL as an empty cell.
import { counted } from '../ids.ts';

/**
 * `numericColumns` says which columns hold numbers when the values cannot tell (convlog query prints
 * them as text, as Postgres sends them); without it, a column of JS numbers is one.
 */
export function formatTable(columns: readonly string[], rows: readonly Record<string, unknown>[], numericColumns?: readonly boolean[]): string[] {
  const cells = rows.map((row) => columns.map((column) => cellText(row[column])));
  const numeric = numericColumns ?? columns.map((_, i) => rows.length > 0 && rows.every((row) => isNumber(row[columns[i]])));
  // A loop, not Math.max(...cells): one argument per row overflows the call stack past ~120k rows.
  const widths = columns.map((column) => column.length);
  for (const line of cells) line.forEach((text, i) => (widths[i] = Math.max(widths[i], text.length)));
  const pad = (text: string, i: number) => (numeric[i] ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  const line = (values: string[]) => ` ${values.map(pad).join(' | ')}`.trimEnd();
  return [
    line(columns.map((c, i) => c.padEnd(widths[i]))),
    `${widths.map((w) => '-'.repeat(w + 2)).join('+')}`,
    ...cells.map(line),
    `(${counted(rows.length, 'row')})`,
  ];
}

function isNumber(value: unknown): boolean {
  return typeof value === 'number' || typeof value === 'bigint' || value === null;
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') return value.toLocaleString('en');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\s+/g, ' ');
}
