// A table's rows sent as ONE jsonb array parameter and read back with jsonb_to_recordset, the way
// the page statement (store-page.ts) and the ticket-context statements (tickets.ts) write them:
// a handful of parameters per statement, however many rows, instead of thousands. The rows go as
// JSON of drizzle's row types and are read by their own camelCase property names. The column
// lists come from the drizzle schema, so a column added there is written by every statement built
// here too.
import { getTableColumns, type Column } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';

/** A column a row brings: its property in the row (`key`), its name in Postgres, its SQL type. */
export interface InputColumn {
  key: string;
  name: string;
  type: string;
}

/** Columns a row brings (those with a database default, bookkeeping times, are set by the statement). */
export function inputColumns(table: PgTable, skip: string[] = []): InputColumn[] {
  return Object.entries(getTableColumns(table) as Record<string, Column>)
    // Generated columns are Postgres's to fill.
    .filter(([key, column]) => !column.hasDefault && !column.generated && !skip.includes(key))
    .map(([key, column]) => ({ key, name: column.name, type: column.getSQLType() }));
}

/** An identifier as SQL writes it: a row's camelCase key or a column's name, kept as it is. */
export const quoted = (name: string) => `"${name}"`;

/** `jsonb_to_recordset($n) as r(...)`, reading the rows' own (camelCase) property names. */
export function recordset(param: string, columns: InputColumn[]): string {
  return `jsonb_to_recordset(${param}::jsonb) as r(${columns.map((c) => `${quoted(c.key)} ${c.type}`).join(', ')})`;
}

/** `(a, b) is distinct from (excluded.a, excluded.b)`: only then is a stored row touched. */
export function differs(table: string, names: string[]): string {
  return `(${names.map((n) => `${table}.${quoted(n)}`).join(', ')}) is distinct from (${names.map((n) => `excluded.${quoted(n)}`).join(', ')})`;
}

/** `insert ... select from jsonb_to_recordset($n)`, in key order so that writers lock alike. */
export function insertRows(table: PgTable, tableName: string, param: string, key: InputColumn, where = 'true'): { columns: InputColumn[]; sql: string } {
  const columns = inputColumns(table);
  return {
    columns,
    sql: `insert into zendesk.${tableName} as t (${columns.map((c) => quoted(c.name)).join(', ')})
    select ${columns.map((c) => `r.${quoted(c.key)}`).join(', ')} from ${recordset(param, columns)} where ${where} order by r.${quoted(key.key)}`,
  };
}

/** The SET list of an upsert taking every incoming column but the key from `excluded`. */
export const setAll = (columns: InputColumn[], keyName: string) =>
  columns.filter((c) => c.name !== keyName).map((c) => `${quoted(c.name)} = excluded.${quoted(c.name)}`);
