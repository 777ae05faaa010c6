// One statement typed by a person, run so that it cannot change anything and cannot run forever:
// only a query is accepted, inside a READ ONLY transaction that is always rolled back, with a
// statement timeout. Values come back as the text Postgres prints, so nothing is rounded or
// reformatted on the way (a numeric keeps its digits, a timestamp its zone).
import type pg from 'pg';
import { UsageError } from '../errors.ts';

/** Statements that only read: EXPLAIN and SHOW are what an analyst also reaches for. */
const READING_KEYWORDS = ['(', 'select', 'with', 'values', 'table', 'explain', 'show'];

/**
 * The statement is the person's mistake: its message is a predicate ("must only read, …") for
 * the caller to put after its own subject ("the query", "--sql").
 */
export class QueryRejected extends UsageError {}

export interface ReadOnlyResult {
  columns: { name: string; dataTypeID: number }[];
  /** One array per row, one text value (or null) per column. */
  rows: (string | null)[][];
}

const AS_TEXT: pg.CustomTypesConfig = { getTypeParser: () => (value: string) => value };

export async function runReadOnly(pool: pg.Pool, sql: string, timeoutMs: number): Promise<ReadOnlyResult> {
  if (sql.trim() === '') throw new QueryRejected('is empty');
  // READ ONLY still lets COPY … TO a file and the like through; only queries are asked for.
  const keyword = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*(\(|[a-z]+)/i.exec(sql)?.[1]?.toLowerCase();
  if (!keyword || !READING_KEYWORDS.includes(keyword)) {
    throw new QueryRejected(`must only read (select, with, values, table, explain or show), got "${keyword ?? sql.trim().slice(0, 20)}…"`);
  }
  const ms = Math.max(1, Math.floor(timeoutMs));
  const client = await pool.connect();
  try {
    await client.query('begin read only');
    await client.query(`set local statement_timeout = ${ms}`);
    await client.query(`set local idle_in_transaction_session_timeout = ${ms}`);
    // The extended protocol takes exactly one statement, so "…; commit; delete …" cannot end the
    // read-only transaction.
    const result = await client.query({ text: sql, rowMode: 'array', queryMode: 'extended', types: AS_TEXT } as pg.QueryArrayConfig);
    return {
      columns: result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
      rows: result.rows as (string | null)[][],
    };
  } catch (error) {
    throw explain(error, timeoutMs);
  } finally {
    await client.query('rollback').catch(() => {});
    client.release();
  }
}

function explain(error: unknown, timeoutMs: number): unknown {
  const e = error as { code?: string; message?: string; position?: string };
  if (typeof e?.code !== 'string') return error;
  const message = (e.message ?? 'failed').replace(/\s+/g, ' ');
  const at = e.position ? ` (at character ${e.position})` : '';
  switch (e.code) {
    case '25006': // read_only_sql_transaction
      return new QueryRejected(`must only read, but it writes: ${message}`, { cause: error });
    case '57014': // query_canceled (statement_timeout)
      return new QueryRejected(
        `ran longer than ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`} and was cancelled: narrow it or add an index`,
        { cause: error },
      );
    case '42601': // syntax_error, and "cannot insert multiple commands into a prepared statement"
      if (/multiple commands/i.test(message)) return new QueryRejected('must be a single statement (no ";" between statements)', { cause: error });
      return new QueryRejected(`has a syntax error: ${message}${at}`, { cause: error });
  }
  // Classes 08 (connection), 53 (resources) and 57P (shutdown) are not the statement's fault.
  if (/^(08|53|57P)/.test(e.code)) return error;
  return new QueryRejected(`failed: ${message}${at}`, { cause: error });
}
